"""Closed months: once a month's report is made, the month never moves.

The first `svc report monthly --month M` of a month that has ended closes the month: it
keeps the whole office's figures in `summaries/report-M.yaml` (committed, in a git store),
with who made them, when, and their sha256. From then on:

- every report of M, from any later commit, is made from those kept figures, so it is the
  same bytes (json, csv, table) whatever is recorded afterwards; if the records now give
  other figures (a clone that recorded into M before it synced, a hand edit), the report
  says so in a warning line and still prints the figures as closed;
- an event dated into M (`--at`, or a clock set back with SVC_NOW) is refused, naming the
  month: it is recorded now instead (nothing entered is lost: it counts in the month it is
  recorded in, and its text can say when it happened).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from svc import schema as s
from svc.errors import RecordError, RefusedError, SvcError
from svc.retention import SUMMARY_DIR, month_of
from svc.store import Actor, Store
from svc.timeutil import stamp

KIND = "monthly-report"
CLOSING_SPEC = s.mapping({
    "summary": s.enum((KIND,), True),
    "month": s.text(True),
    "made_at": s.time(True),
    "made_by": s.text(True),
    "sha256": s.text(True),
    "figures": s.text(True),  # the report's JSON document, exactly as `--format json` prints it
})
KEYS = tuple(CLOSING_SPEC.fields)

WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "refused": "{month} 已结账（{made} 已出月报，{path}），不能再记入该月的事项：请按现在的时间记录（不加 --at，"
                   "或 --at 不早于 {next}），并在内容里写明实际发生时间",
        "drift": "{month} 已于 {made} 结账（{path}）；现在的记录算出的数字与结账时不同（结账后有改动：合并的副本或手工修改，"
                 "见 svc check）。报告按结账时的数字输出",
        "unreadable": "{month} 已结账，报告按结账时的数字输出；现在的记录无法与之核对：{reason}",
        "damaged": "结账记录的数字与其 sha256 不符（被手工修改？）；用 git 恢复",
        "partial": "{month} 未结账：有 {count} 个记录无法读取，以下报告不含它们；修好后（见 svc check）再出报告，"
                   "第一份完整的报告才结账",
    },
    "en": {
        "refused": "{month} is closed (its monthly report was made {made}, {path}); nothing can be dated into it: "
                   "record it now (without --at, or --at from {next}) and say in its text when it happened",
        "drift": "{month} was closed {made} ({path}); the records now give other figures (changed after it was "
                 "closed: a merged clone or a hand edit; see svc check). The report shows the figures as closed",
        "unreadable": "{month} is closed and the report shows its figures as closed; the records cannot be "
                      "compared with them now: {reason}",
        "damaged": "the closed month's figures do not match their sha256 (edited by hand?); restore it with git",
        "partial": "{month} is not closed: {count} record(s) could not be read and this report leaves them out; "
                   "repair them (see svc check) and report again: the first complete report closes the month",
    },
}


def words(lang: str, key: str, **values: Any) -> str:
    return WORDS.get(lang, WORDS["zh"])[key].format(**values)


def closing_path(root: Path, month: str) -> Path:
    return root / SUMMARY_DIR / f"report-{month}.yaml"


@dataclass(frozen=True)
class Closing:
    month: str
    made_at: str
    made_by: str
    figures: dict[str, Any]
    path: Path


def read_closing(store: Store, month: str) -> Closing | None:
    """The kept figures of a closed month, or None while the month is open."""
    path = closing_path(store.root, month)
    if not path.exists():
        return None
    from svc import yamlio
    from svc.model import plain

    shown = store.shown(path)
    node = yamlio.load_file(path, shown)
    problems = s.check_root(node, CLOSING_SPEC, shown)
    if problems:
        raise RecordError(problems[0].path, problems[0].line, problems[0].message)
    raw = plain(node)
    if raw["month"] != month:
        raise RecordError(shown, s.line_of(node, "month"), f"month {raw['month']!r} does not match the file name")
    text = raw["figures"]
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != raw["sha256"]:
        raise RecordError(shown, s.line_of(node, "sha256"), words(store.config.lang, "damaged"))
    try:
        figures = json.loads(text)
    except ValueError:
        raise RecordError(shown, s.line_of(node, "figures"), "figures is not the report's JSON document") from None
    return Closing(month, raw["made_at"], raw["made_by"], figures, path)


def close_month(store: Store, month: str, figures: dict[str, Any], actor: Actor, now: dt.datetime) -> Closing:
    """Keep the whole office's figures of an ended month and commit them (call under the lock)."""
    from svc import render, yamlio
    from svc.actions import message
    from svc.store import ordered_node

    text = render.to_json(figures) + "\n"
    node = {"summary": KIND, "month": month, "made_at": stamp(now), "made_by": actor.id,
            "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(), "figures": text}
    path = closing_path(store.root, month)
    overall = figures["overall"]
    subject = (f"report monthly {month}: month closed ({overall['opened']['total']} opened, "
               f"{overall['closed']['total']} closed)")
    store.write({path: yamlio.dumps(ordered_node(node, KEYS))},
                message(subject, actor, stamp(now), "report-close", []), actor, stamp(now))
    return Closing(month, stamp(now), actor.id, json.loads(text), path)


def branch_view(whole: dict[str, Any], branch: str, name: str) -> dict[str, Any]:
    """The report of one branch from the whole office's figures, as `report.figures` with
    `branch` gives it: that branch alone, even with nothing in the month."""
    from svc.report import Scope

    found = next((b for b in whole["branches"] if b["branch"] == branch), None)
    scope = found if found is not None else {"branch": branch, "name": name, **Scope(overall=False).as_json()}
    return {**whole, "branch": branch, "overall": None, "branches": [scope]}


def monthly(store: Store, month: str, branch: str | None, actor: Actor, now: dt.datetime,
            unreadable: list[Any] | None = None) -> tuple[dict[str, Any], list[str]]:
    """The report of an ended month, and the warnings to print with it. The first making
    closes the month (see the module's notes); every later one prints the kept figures.
    Only a complete report closes: given `unreadable`, a month not yet closed with records
    that cannot be read gets the report of the rest (those records are added to the list,
    for the caller to name, and the month stays open); without it, that is refused."""
    from svc import render, report

    lang = store.config.lang
    warnings: list[str] = []
    kept = read_closing(store, month)
    if kept is None:
        with store.locked():
            kept = read_closing(store, month)  # another svc may have closed it meanwhile
            if kept is None:
                missing: list[Any] = []
                figures = report.monthly(store, month, None, missing if unreadable is not None else None)
                if missing:
                    assert unreadable is not None
                    unreadable.extend(missing)
                    warnings.append(words(lang, "partial", month=month, count=len(missing)))
                    if branch is None:
                        return figures, warnings
                    return branch_view(figures, branch, store.config.branches[branch].name), warnings
                kept = close_month(store, month, figures, actor, now)
    else:
        made = kept.made_at[:10]
        try:
            current = report.monthly(store, month)
        except SvcError as exc:
            warnings.append(words(lang, "unreadable", month=month, reason=exc))
        else:
            if render.to_json(current) != render.to_json(kept.figures):
                warnings.append(words(lang, "drift", month=month, made=made, path=store.shown(kept.path)))
    if branch is None:
        return kept.figures, warnings
    return branch_view(kept.figures, branch, store.config.branches[branch].name), warnings


def refuse_closed(store: Store, moment: dt.datetime, what: str) -> None:
    """Refuse an event dated into a closed month (one stat: the month's closing file)."""
    month = month_of(moment, store.config.tz)
    path = closing_path(store.root, month)
    if not path.exists():
        return
    kept = read_closing(store, month)
    assert kept is not None
    from svc.retention import cut_off

    raise RefusedError(words(store.config.lang, "refused", month=month, made=kept.made_at[:10],
                             path=store.shown(path), next=cut_off(month).isoformat()) + f" ({what} {stamp(moment)})")

"""The two-year rule for patrol records (每月底汇总由服务处归档保存，保存期两年).

A patrol record's clock starts at the cut-off of its month (the month's end, in office
time) and runs for the policy's months: a record from February 2024 may be disposed of
from 2026-03-01. A record is never disposable while its month has no summary, while it
is dated in the future, while a hold is on it, or while an open case links it. Disposal
removes exactly the disposable records and writes each into the disposal register
(销毁清册), which is never disposed of itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable

from svc import schema as s
from svc.model import ReplayError, View
from svc.projects import add_months

MINIMUM_MONTHS = 24  # the regulation: two years; an office may keep longer, never shorter
SUMMARY_DIR = "summaries"
REGISTER_PATH = "registers/disposal.yaml"


def month_of(moment: dt.datetime, tz: dt.tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m")


def cut_off(month: str) -> dt.date:
    """The first day after the month: when its records' retention clock starts."""
    year, mon = (int(p) for p in month.split("-"))
    return add_months(dt.date(year, mon, 1), 1)


def disposable_on(month: str, months: int) -> dt.date:
    return add_months(cut_off(month), months)


def sha256(text: str) -> str:
    import hashlib  # here: only sealing needs it

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- holds ------------------------------------------------------------------------------------

HOLD_SPEC = s.mapping(
    {
        "id": s.text(True),
        "status": s.enum(("active", "released"), True),
        "records": s.seq(s.text(), True),
        "reason": s.text(True),
        "case": s.text(),
        "history": s.seq(s.keyed(s.Spec("any")), True),
    }
)
HOLD_EVENTS: dict[str, dict[str, s.Spec]] = {
    "hold": {"records": s.seq(s.text(), True), "reason": s.text(True), "case": s.text()},
    "release": {"reason": s.text(True)},
}
HOLD_KEYS = tuple(HOLD_SPEC.fields)


def check_hold_node(node: Any, path: str) -> list[s.Problem]:
    return s.check_record(node, HOLD_SPEC, HOLD_EVENTS, path)


def replay_hold(history: list[dict[str, Any]]) -> str:
    if not history or history[0].get("action") != "hold":
        raise ReplayError(0, "the first event of a hold must be 'hold'")
    status = "active"
    for i, event in enumerate(history[1:], start=1):
        if event["action"] != "release" or status != "active":
            raise ReplayError(i, f"'{event['action']}' on a {status} hold")
        status = "released"
    return status


class Hold(View):

    @property
    def active(self) -> bool:
        return self.fields["status"] == "active"

    @property
    def records(self) -> list[str]:
        return self.fields["records"]


# --- the register ---------------------------------------------------------------------------

ENTRY_SPEC = s.mapping(
    {
        "record": s.text(True),
        "kind": s.text(True),
        "period": s.text(True),
        "required_retention_months": s.integer(True, 0),
        "cut_off": s.date(True),
        "disposable_on": s.date(True),
        "kept_days": s.integer(True, 0),
        "sha256": s.text(True),
        "approved_by": s.text(True),
        "disposed_by": s.text(True),
        "disposed_at": s.time(True),
    }
)
REGISTER_SPEC = s.mapping({"register": s.text(True), "entries": s.seq(ENTRY_SPEC)})


def check_register_node(node: Any, path: str) -> list[s.Problem]:
    return s.check_root(node, REGISTER_SPEC, path)


# --- the plan ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    id: str
    period: str
    disposable_on: dt.date
    reasons: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "period": self.period, "disposable_on": self.disposable_on.isoformat()}
        if self.reasons:
            out["reason"] = "; ".join(self.reasons)
            out["reasons"] = list(self.reasons)
        return out


@dataclass
class Plan:
    disposable: list[Item] = field(default_factory=list)
    blocked: list[Item] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"disposable": [i.as_json() for i in self.disposable], "blocked": [i.as_json() for i in self.blocked]}


@dataclass(frozen=True)
class Facts:
    """What the plan needs to know about the rest of the store."""

    summarized: frozenset[str]  # months (YYYY-MM) with a summary
    holds: dict[str, list[str]]  # record id -> reasons of the active holds on it
    open_links: dict[str, list[str]]  # record id -> open cases that link it


def plan(records: Iterable[tuple[str, dt.datetime]], facts: Facts, months: int, now: dt.datetime,
         tz: dt.tzinfo) -> Plan:
    """Which records may be disposed of at `now`, and why each other one may not."""
    out = Plan()
    today = now.astimezone(tz).date()
    for record_id, when in sorted(records, key=lambda r: (r[1], r[0])):
        period = month_of(when, tz)
        due = disposable_on(period, months)
        reasons: list[str] = []
        if when > now:
            reasons.append("dated in the future")
        if period not in facts.summarized:
            reasons.append(f"month {period} has no summary (svc patrol summary --month {period})")
        for hold in facts.holds.get(record_id, []):
            reasons.append(f"held: {hold}")
        for case_id in facts.open_links.get(record_id, []):
            reasons.append(f"linked from open case {case_id}")
        if today < due:
            reasons.append(f"retention runs until {due} ({months} months from the {period} cut-off)")
        item = Item(record_id, period, due, tuple(reasons))
        (out.blocked if reasons else out.disposable).append(item)
    return out

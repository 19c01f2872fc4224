"""Merging two clones' versions of one record (the git merge driver `svc merge-file`).

Both sides only ever append events, so a merge keeps the history both share and unites
the two tails by event identity: commands (runs of events with the same time and user)
are interleaved by time, ties broken by content. A command that cannot stand with the
other side's (two clerks closed the case, or recorded the same follow-up round) is not
lost but kept as a note saying what it recorded, and reported. The rule: "ours" stands —
in `svc sync`'s rebase that is the change already shared through the remote, so
published history is never rewritten (the server's append-only check holds). The state
fields are recomputed.

A record's identity is the record, not its first event: two versions of one path that
were made apart (no common ancestor: each clone added the file) and differ in their
first event or in any intake fact are two records given one ID, and are never folded
into one: the merge fails (git keeps both sides) and `svc sync` renumbers the one not yet
published before it rebases (see svc/sync.py).

A day's duty log (`duty/...`) merges by the union of both sides' events in time order,
each side's own order kept and every seal left as it was written: the seals form one
chain per clone, which `svc check` verifies (svc/duty.py).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Callable

from svc import duty, yamlio
from svc.errors import RecordError
from svc.model import CASE_KEYS, ReplayError, plain, replay
from svc.patrols import PATROL_KEYS, replay_patrol
from svc.projects import PROJECT_KEYS, replay_project
from svc.retention import HOLD_KEYS, check_register_node, replay_hold
from svc.store import KINDS as STORE_KINDS
from svc.store import put_fields

Event = dict[str, Any]


@dataclass(frozen=True)
class Kind:
    replay: Callable[[list[Event]], Any]
    state: Callable[[Any], dict[str, Any]]
    order: tuple[str, ...]


KINDS: dict[str, Kind] = {
    "cases": Kind(replay, lambda s: s.as_fields(), CASE_KEYS),
    "projects": Kind(replay_project, lambda s: s.as_fields(), PROJECT_KEYS),
    "patrols": Kind(replay_patrol, lambda findings: {"findings": findings or None}, PATROL_KEYS),
    "holds": Kind(replay_hold, lambda status: {"status": status}, HOLD_KEYS),
}


_SCHEMA = {kind.folder: kind.check for kind in STORE_KINDS}


def _identity(item: Any) -> str:
    return json.dumps(item, ensure_ascii=False, sort_keys=True)


def _runs(events: list[Event]) -> list[list[Event]]:
    """Runs of events made by one command: same time, same user."""
    out: list[list[Event]] = []
    for ev in events:
        if out and out[-1][0]["at"] == ev["at"] and out[-1][0]["by"] == ev["by"]:
            out[-1].append(ev)
        else:
            out.append([ev])
    return out


def _widened(run: list[Event], others: list[list[Event]]) -> list[Event]:
    """The longer run of the same moment on the other side that holds all of `run`, if any:
    an earlier merge put two clones' commands of one user and one second next to each other."""
    for other in others:
        if other != run and (other[0]["at"], other[0]["by"]) == (run[0]["at"], run[0]["by"]) and _within(run, other):
            return other
    return run


def _within(small: list[Event], big: list[Event]) -> bool:
    """`small` is a subsequence of `big`."""
    rest = iter(big)
    return all(any(ev == other for other in rest) for ev in small)


def _common_prefix(a: list[Event], b: list[Event]) -> int:
    n = 0
    while n < len(a) and n < len(b) and a[n] == b[n]:
        n += 1
    return n


def merge_history(ours: list[Event], theirs: list[Event], kind: Kind) -> tuple[list[Event], list[str]]:
    """The united history and a line for each change that could not be applied."""
    shared = _common_prefix(ours, theirs)
    history = list(ours[:shared])
    # each side's commands in its own order; between the sides, the earlier first (ties broken
    # by content), so either clone computes the same history; a command both hold is one
    ours_runs, theirs_runs = _runs(ours[shared:]), _runs(theirs[shared:])
    sides = ([_widened(r, theirs_runs) for r in ours_runs], [_widened(r, ours_runs) for r in theirs_runs])
    tails: list[list[Event]] = []
    done: set[str] = set()
    at = [0, 0]
    while True:
        heads = []
        for side, runs in enumerate(sides):
            while at[side] < len(runs) and _identity(runs[at[side]]) in done:
                at[side] += 1
            if at[side] < len(runs):
                heads.append(runs[at[side]])
        if not heads:
            break
        run = min(heads, key=lambda g: (dt.datetime.fromisoformat(g[0]["at"]), _identity(g)))
        done.add(_identity(run))
        tails.append(run)
    kept = {_identity(ev) for ev in history} | {_identity(ev) for group in tails for ev in group}
    ours_ids = {_identity(r) for r in sides[0]}
    conflicts: list[str] = []
    for n, group in enumerate(tails):
        # Ours (in svc sync's rebase: what is already published) always stands; one of
        # theirs is applied only if every later run of ours still applies after it.
        later_ours = [ev for g in tails[n + 1:] if _identity(g) in ours_ids for ev in g]
        try:
            kind.replay(history + group)
            if _identity(group) not in ours_ids:
                kind.replay(history + group + later_ours)
        except ReplayError as exc:
            actions = ", ".join(ev["action"] for ev in group)
            text = (f"merge: not applied ({actions} by {group[0]['by']} at {group[0]['at']}): {exc.message}; "
                    f"the change already shared stands. It recorded: {_said(group)}")
            conflicts.append(text)
            note = {"at": group[0]["at"], "by": group[0]["by"], "action": "note", "text": text}
            if _identity(note) not in kept:  # an earlier merge already left this note
                history.append(note)
            continue
        history.extend(group)
    return history, conflicts


def _said(group: list[Event]) -> str:
    """What a change that was not applied said (its outcome, resolution, text), so none of it is lost."""
    parts = []
    for ev in group:
        details = ", ".join(f"{k}: {v if isinstance(v, str) else _identity(v)}" for k, v in ev.items()
                            if k not in ("at", "by", "action") and v is not None)
        parts.append(f"{ev['action']} ({details})" if details else ev["action"])
    return "; ".join(parts)


# What the driver says when it stops a merge (in the store's language, `lang:` in svc.yaml).
REFUSALS: dict[str, dict[str, str]] = {
    "zh": {
        "two-records": "两条不同的记录使用了同一编号 {id}（{one}；{two}）：两个副本使用了同一台号；svc sync 会把尚未"
                       "推送的一条改编号（svc setup --desk 为每个副本设置各自的台号）",
        "handovers": "两个副本在这一天都有交接班，合并后一条旧格式的接班确认会指向另一次交接班；"
                     "不合并，请在同一副本上完成当天的交接班",
    },
    "en": {
        "two-records": "two different records have the ID {id} ({one}; {two}): two clones use the same desk "
                       "letter; svc sync renumbers the one not yet shared (svc setup --desk gives each clone its "
                       "own letter)",
        "handovers": "both clones recorded handovers on this day, and uniting them would make an acceptance "
                     "(written before svc named a handover by its seal) name another handover; hand the desk over "
                     "on one clone per day",
    },
}


def refusal(lang: str, key: str, **values: object) -> str:
    return REFUSALS.get(lang, REFUSALS["en"])[key].format(**values)


def merge_texts(base: str, ours: str, theirs: str, path: str, lang: str = "en") -> tuple[str, list[str]]:
    """The merged file text and the conflicts resolved (raises RecordError if unreadable)."""
    folder = path.split("/")[0]
    ours_node = yamlio.loads(ours, f"{path} (ours)")
    theirs_node = yamlio.loads(theirs, f"{path} (theirs)")
    if folder == "registers":
        for node in (ours_node, theirs_node):  # whole numbers back to numbers: entries are written unchanged
            check_register_node(node, path)
        return _merge_register(ours_node, theirs_node), []
    if _is_month_closing(path):
        return _merge_closing(ours, path)
    if folder == duty.FOLDER:
        return merge_duty(ours_node, theirs_node, path, lang), []
    kind = KINDS.get(folder)
    if kind is None or not isinstance(ours_node, dict) or not isinstance(theirs_node, dict):
        raise RecordError(path, None, "not a record svc knows how to merge")
    for node in (ours_node, theirs_node):  # the schema types the few numeric fields (round: 1 stays 1)
        _SCHEMA[folder](node, path)
    facts = [k for k in kind.order if k != "history"]
    ours_history, theirs_history = plain(ours_node["history"]), plain(theirs_node["history"])
    if ours_history and theirs_history and ours_history[0] != theirs_history[0]:
        # not one record with two tails but two records given one ID: folding one into the
        # other would lose a customer's case, so the merge stops and says why
        first, second = sorted((ours_history[0], theirs_history[0]), key=_identity)
        raise RecordError(path, None, f"two different records have the ID {plain(ours_node.get('id'))} (made at "
                                      f"{first['at']} by {first['by']} and at {second['at']} by {second['by']}): "
                                      "two clones use the same desk letter; give each its own (svc setup --desk B)")
    base_node = yamlio.loads(base, f"{path} (base)") if base.strip() else None
    if not isinstance(base_node, dict) and not same_record(ours_node, theirs_node, kind):
        # made apart (each clone added the file) with other intake: two customers' cases
        raise RecordError(path, None, refusal(lang, "two-records", id=plain(ours_node.get("id")),
                                              one=describe(ours_node), two=describe(theirs_node)))
    history, conflicts = merge_history(ours_history, theirs_history, kind)
    for key in facts:  # facts both sides never change (intake); state is recomputed below
        if key in ours_node or key in theirs_node:
            if plain(ours_node.get(key)) != plain(theirs_node.get(key)) and key not in kind.state(kind.replay(history)):
                conflicts.append(f"merge: {key} differs between the clones; kept {plain(ours_node.get(key))!r}")
    ours_node["history"] = history
    put_fields(ours_node, kind.state(kind.replay(history)), kind.order)
    return yamlio.dumps(ours_node), conflicts


def _is_month_closing(path: str) -> bool:
    return path.startswith("summaries/report-") and path.endswith(".yaml")


def _merge_closing(ours: str, path: str) -> tuple[str, list[str]]:
    """A month closed on two clones (svc/closing.py): the closing already shared stands (in
    svc sync's rebase, ours); its figures are derived, so nothing entered is lost, and a
    report that now differs from them says so."""
    if not ours.strip():
        raise RecordError(path, None, "empty on one side; restore it with git")
    return ours, ["merge: the month was closed on both clones; the closing already shared stands"]


def _merge_register(ours: Any, theirs: Any) -> str:
    """The disposal register: the union of both sides' entries, oldest first."""
    entries = {(_identity(e)): e for e in plain(ours.get("entries") or []) + plain(theirs.get("entries") or [])}
    ours["entries"] = sorted(entries.values(), key=lambda e: (e["disposed_at"], e["record"], _identity(e)))
    return yamlio.dumps(ours)


# --- one record or two under one ID ----------------------------------------------------------

def identity_facts(node: Any, kind: Kind) -> dict[str, Any]:
    """What a record was made with: its first event and every field its history does not
    give (a case's kind, opened_at, customer, intake...)."""
    history = plain(node.get("history") or [])
    try:
        derived = set(kind.state(kind.replay(history)))
    except ReplayError:
        derived = set()
    facts = {k: plain(node.get(k)) for k in kind.order if k != "history" and k not in derived}
    facts["history[1]"] = history[0] if history else None
    return facts


def same_record(ours: Any, theirs: Any, kind: Kind) -> bool:
    return identity_facts(ours, kind) == identity_facts(theirs, kind)


def describe(node: Any) -> str:
    """A record in a few words, to tell two under one ID apart: what it is, who made it when.
    No customer's name: a note on one customer's case may be printed in a letter to them."""
    history = plain(node.get("history") or [])
    first = history[0] if history else {}
    what = plain(node.get("kind")) or first.get("action") or "record"
    return f"{what} made at {first.get('at')} by {first.get('by')}"


# --- the duty log ----------------------------------------------------------------------------

def merge_duty(ours: Any, theirs: Any, path: str, lang: str = "en") -> str:
    """One day's duty log from two clones: every event of both, in time order (each side's
    own order kept, ties broken by content so either clone computes the same file), and no
    seal rewritten: each clone's events stay a chain (svc/duty.py checks per-clone chains)."""
    from svc import schema as s

    for node, side in ((ours, "ours"), (theirs, "theirs")):
        problems = s.check_root(node, duty.DAY_SPEC, f"{path} ({side})")
        if problems:
            raise RecordError(problems[0].path, problems[0].line, problems[0].message)
    if plain(ours["date"]) != plain(theirs["date"]):
        raise RecordError(path, None, f"the two sides are logs of different days ({ours['date']}, {theirs['date']})")
    mine, other = plain(ours["history"]), plain(theirs["history"])
    shared = _common_prefix(mine, other)
    seen = {_identity(ev) for ev in mine}
    tails = (mine[shared:], [ev for ev in other[shared:] if _identity(ev) not in seen])
    united = list(mine[:shared])
    at = [0, 0]
    while at[0] < len(tails[0]) or at[1] < len(tails[1]):
        heads = [(side, tails[side][at[side]]) for side in (0, 1) if at[side] < len(tails[side])]
        side, event = min(heads, key=lambda h: (dt.datetime.fromisoformat(h[1]["at"]), _identity(h[1])))
        united.append(event)
        at[side] += 1
    if united == mine:
        return yamlio.dumps(ours)
    _same_handovers(mine, other, united, path, lang)
    ours["history"] = united
    return yamlio.dumps(ours)


def _same_handovers(mine: list[Event], other: list[Event], united: list[Event], path: str, lang: str) -> None:
    """An acceptance written before acceptances named their handover's seal names it by its
    number in the day: the merge may not make it name another one."""
    def targets(history: list[Event]) -> dict[str, str | None]:
        given: list[Any] = []
        out: dict[str, str | None] = {}
        for ev in history:
            if ev["action"] == "handover":
                given.append(duty.Handover(len(given) + 1, ev["at"], ev["by"], ev.get("to") or "", "", None, [],
                                           None, ev.get("seal")))
            elif ev["action"] == "accept":
                target = duty.accepted_handover(ev, given)
                out[_identity(ev)] = target.seal if target is not None else None
        return out

    now = targets(united)
    for side in (mine, other):
        for accept, handover in targets(side).items():
            if now.get(accept) != handover:
                raise RecordError(path, None, refusal(lang, "handovers"))

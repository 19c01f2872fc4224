"""Merging two clones' versions of one record (the git merge driver `svc merge-file`).

Both sides only ever append events, so a merge keeps the history both share and unites
the two tails by event identity: commands (runs of events with the same time and user)
are interleaved by time, ties broken by content, so either clone computes the same file.
Each command is replayed on what comes before it; one that no longer applies (two clerks
closed the case, or recorded the same follow-up round) is not lost but kept as a note
saying so — the earlier change wins — and reported. The state fields are recomputed.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Callable

from svc import yamlio
from svc.errors import RecordError
from svc.model import CASE_KEYS, ReplayError, plain, replay
from svc.patrols import PATROL_KEYS, replay_patrol
from svc.projects import PROJECT_KEYS, replay_project
from svc.retention import HOLD_KEYS, replay_hold
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


def _identity(item: Any) -> str:
    return json.dumps(item, ensure_ascii=False, sort_keys=True)


def _groups(events: list[Event]) -> list[list[Event]]:
    """Runs of events made by one command: same time, same user."""
    out: list[list[Event]] = []
    for ev in events:
        if out and out[-1][0]["at"] == ev["at"] and out[-1][0]["by"] == ev["by"]:
            out[-1].append(ev)
        else:
            out.append([ev])
    return out


def _common_prefix(a: list[Event], b: list[Event]) -> int:
    n = 0
    while n < len(a) and n < len(b) and a[n] == b[n]:
        n += 1
    return n


def merge_history(ours: list[Event], theirs: list[Event], kind: Kind) -> tuple[list[Event], list[str]]:
    """The united history and a line for each change that could not be applied."""
    shared = _common_prefix(ours, theirs)
    history = list(ours[:shared])
    seen: set[str] = set()
    tails: list[list[Event]] = []
    for group in _groups(ours[shared:]) + _groups(theirs[shared:]):
        key = _identity(group)
        if key not in seen:
            seen.add(key)
            tails.append(group)
    tails.sort(key=lambda g: (dt.datetime.fromisoformat(g[0]["at"]), _identity(g)))
    conflicts: list[str] = []
    for group in tails:
        try:
            kind.replay(history + group)
        except ReplayError as exc:
            actions = ", ".join(ev["action"] for ev in group)
            text = (f"merge: not applied ({actions} by {group[0]['by']} at {group[0]['at']}): {exc.message}; "
                    "the earlier change stands")
            conflicts.append(text)
            history.append({"at": group[0]["at"], "by": group[0]["by"], "action": "note", "text": text})
            continue
        history.extend(group)
    return history, conflicts


def merge_texts(base: str, ours: str, theirs: str, path: str) -> tuple[str, list[str]]:
    """The merged file text and the conflicts resolved (raises RecordError if unreadable)."""
    folder = path.split("/")[0]
    ours_node = yamlio.loads(ours, f"{path} (ours)")
    theirs_node = yamlio.loads(theirs, f"{path} (theirs)")
    if folder == "registers":
        return _merge_register(ours_node, theirs_node), []
    kind = KINDS.get(folder)
    if kind is None or not isinstance(ours_node, dict) or not isinstance(theirs_node, dict):
        raise RecordError(path, None, "not a record svc knows how to merge")
    facts = [k for k in kind.order if k != "history"]
    history, conflicts = merge_history(plain(ours_node["history"]), plain(theirs_node["history"]), kind)
    for key in facts:  # facts both sides never change (intake); state is recomputed below
        if key in ours_node or key in theirs_node:
            if plain(ours_node.get(key)) != plain(theirs_node.get(key)) and key not in kind.state(kind.replay(history)):
                conflicts.append(f"merge: {key} differs between the clones; kept {plain(ours_node.get(key))!r}")
    ours_node["history"] = history
    put_fields(ours_node, kind.state(kind.replay(history)), kind.order)
    return yamlio.dumps(ours_node), conflicts


def _merge_register(ours: Any, theirs: Any) -> str:
    """The disposal register: the union of both sides' entries, oldest first."""
    entries = {(_identity(e)): e for e in plain(ours.get("entries") or []) + plain(theirs.get("entries") or [])}
    ours["entries"] = sorted(entries.values(), key=lambda e: (e["disposed_at"], e["record"]))
    return yamlio.dumps(ours)

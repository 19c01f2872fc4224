"""The front desk's duty log (值班日志) and shift handover (交接班).

One file per office day, `duty/YYYY/MM/YYYY-MM-DD.yaml`, holding that day's events in
the order they happened:

    entry     something the desk handled (text)
    handover  the outgoing person hands the desk to `to`: the equipment check, a note, and
              every open item being handed over (case, what is due, when)
    accept    the incoming person confirms handover number `handover` (their own
              equipment check and note); `handover_seal` names it for good, since a
              merge of two clones' logs may put another handover before it
    sign      the supervisor's daily signature (covers every entry before it)

No page is torn out and no entry is altered (不得撕页, 记录不得涂改): the file is only
ever appended to. Each event carries a `seal`, the first 16 hex digits of the SHA-256 of
the previous event's seal and this event's own fields, so an event edited by hand, or
removed from before the last, breaks the chain and `svc check` says which. The last event
removed leaves a shorter chain that still holds: in a git store `svc check` also reads the
history of `duty/` (as it does for patrol records) and reports that too. The seal shows a
hand edit; it is not a signature against a forger who recomputes it - git's history is the
record.

Two clones that write the same day's log are merged by svc's merge driver (svc/merge.py):
both sides' events in time order, no seal rewritten (published events never change). So a
merged day holds one chain per clone: an event's seal links it to the event before it or,
where a merge interleaved two clones' events, to an earlier event of its own clone (or to
none, when that clone began the day). An edited event still matches no link, and an event
removed from before another of its clone's still breaks that one's. An event inserted with a
seal computed to link to an earlier one looks like another clone's chain: against a forger
who computes seals, git's history is the record, as said above.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from svc import schema as s
from svc.deadlines import MINUTES, RULES
from svc.errors import NotFoundError, RecordError, RefusedError
from svc.model import plain
from svc.patrols import MANAGER_ROLES

if TYPE_CHECKING:
    from svc.store import Store

FOLDER = "duty"
ACTIONS = ("entry", "handover", "accept", "sign")
# Important unfinished work may not be handed over (重要的工作未完成不得交接): a deadline
# counted in minutes (the 3-minute callback, the engineer in 20) cannot wait for the next shift.
URGENT_RULES = tuple(name for name, rule in RULES.items() if rule.unit == MINUTES)
SHIFT = dt.timedelta(hours=12)  # how far back such a task still belongs to the shift handing over

ITEM_SPEC = s.mapping({"id": s.text(True), "what": s.text(True), "due": s.time(), "rule": s.text()})
EVENT_SPEC = s.mapping({
    "at": s.time(True),
    "by": s.text(True),
    "action": s.enum(ACTIONS, True),
    "text": s.text(),
    "to": s.text(),
    "equipment": s.text(),
    "note": s.text(),
    "items": s.seq(ITEM_SPEC),
    "handover": s.integer(False, 1),
    "handover_seal": s.text(),
    "seal": s.text(True),
})
DAY_SPEC = s.mapping({"date": s.date(True), "history": s.seq(EVENT_SPEC, True)})
DAY_KEYS = ("date", "history")


def day_path(root: Path, day: dt.date) -> Path:
    return root / FOLDER / f"{day:%Y}" / f"{day:%m}" / f"{day.isoformat()}.yaml"


def day_files(root: Path) -> list[Path]:
    base = root / FOLDER
    return sorted(base.glob("*/*/*.yaml")) if base.is_dir() else []


def seal(previous: str | None, event: dict[str, Any]) -> str:
    """The event's link in the day's chain: its own fields (not its seal) and the seal before it."""
    fields = {k: v for k, v in event.items() if k != "seal"}
    text = json.dumps([previous or "", fields], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    import hashlib  # here: showing a log never needs it

    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def sealed(history: list[dict[str, Any]], event: dict[str, Any]) -> dict[str, Any]:
    """`event` with its seal, to be appended to `history`."""
    previous = history[-1].get("seal") if history else None
    return {**event, "seal": seal(previous, event)}


@dataclass
class Handover:
    number: int  # 1, 2, ... in the day's file
    at: str
    by: str
    to: str
    equipment: str
    note: str | None
    items: list[dict[str, Any]]
    accepted: dict[str, Any] | None  # the accept event, when the incoming person confirmed
    seal: str | None = None  # the handover event's seal: what an acceptance names it by


def accepted_handover(event: dict[str, Any], given: list[Any]) -> Any:
    """The handover (of those `given` before it) an acceptance confirms: by the handover's
    seal, which stays true when a merge of two clones' logs puts another clone's handover
    before it; by its number in the day for an acceptance written before seals were named."""
    if event.get("handover_seal"):
        return next((h for h in given if h.seal == event["handover_seal"]), None)
    number = int(event.get("handover") or 0)
    return given[number - 1] if 1 <= number <= len(given) else None


def handovers(history: list[dict[str, Any]]) -> list[Handover]:
    out: list[Handover] = []
    for event in history:
        if event.get("action") == "handover":
            out.append(Handover(len(out) + 1, event["at"], event["by"], event["to"], event.get("equipment") or "",
                                event.get("note"), list(event.get("items") or []), None, event.get("seal")))
        elif event.get("action") == "accept":
            target = accepted_handover(event, out)
            if target is not None:
                target.accepted = event
    return out


def check_day(history: list[Any], day: dt.date, tz: dt.tzinfo, users: Any) -> list[tuple[int | None, str]]:
    """What is wrong with a day's events: (event index or None, message)."""
    found: list[tuple[int | None, str]] = []
    previous_seal: str | None = None
    previous_at: dt.datetime | None = None
    given: list[Handover] = []
    earlier: list[str | None] = [None]  # the links a merged day's event may have: none, or an earlier seal
    for i, event in enumerate(history):
        expected = seal(previous_seal, event)
        if event.get("seal") != expected and not _linked_earlier(event, earlier):
            found.append((i, f"history[{i + 1}] was altered, or an event before it removed (its seal does not "
                             "match); the duty log is append-only (不得撕页, 记录不得涂改)"))
        previous_seal = event.get("seal")
        earlier.append(previous_seal)
        at = dt.datetime.fromisoformat(event["at"])
        local = at.astimezone(tz).date()
        # entries and handovers happen on the day; a signature or an acceptance may come later
        if local != day and (event["action"] in ("entry", "handover") or local < day):
            found.append((i, f"history[{i + 1}] at {event['at']} is not on {day.isoformat()} (office time)"))
        if previous_at is not None and at < previous_at:
            found.append((i, f"history[{i + 1}] is earlier than the event before it"))
        previous_at = at
        action = event["action"]
        needed = {"entry": ("text",), "handover": ("to", "equipment"), "accept": ("handover",), "sign": ()}[action]
        for key in needed:
            if not event.get(key):
                found.append((i, f"history[{i + 1}]: {action} needs {key}"))
        if users:
            for key in ("by", "to") if action == "handover" else ("by",):
                if event.get(key) and event.get(key) not in users:
                    found.append((i, f"history[{i + 1}].{key}: unknown user {event.get(key)!r}"))
        if action == "handover":
            given.append(Handover(len(given) + 1, event["at"], event["by"], event.get("to") or "", "", None, [], None,
                                  event.get("seal")))
        elif action == "accept" and event.get("handover"):
            number = int(event["handover"])
            target = accepted_handover(event, given)
            if target is None:
                found.append((i, f"history[{i + 1}] accepts handover {number}, which is not before it"))
            elif event["by"] != target.to:
                found.append((i, f"history[{i + 1}]: handover {number} was to {target.to}, not {event['by']}"))
            elif target.accepted is not None:
                found.append((i, f"history[{i + 1}]: handover {number} was already accepted"))
            else:
                target.accepted = event
        elif action == "sign" and users and event["by"] in users and users[event["by"]].role not in MANAGER_ROLES:
            found.append((i, f"history[{i + 1}]: the duty log is signed by a supervisor "
                             f"({', '.join(MANAGER_ROLES)}), not {event['by']}"))
    return found


def _linked_earlier(event: dict[str, Any], earlier: list[str | None]) -> bool:
    """The event's seal links it to an earlier event (or to none): the chain of its own
    clone in a day merged from two clones. Tried only when the plain link fails."""
    return event.get("seal") in {seal(link, event) for link in earlier}


def pending_for(history: list[dict[str, Any]], user: str) -> list[Handover]:
    return [h for h in handovers(history) if h.to == user and h.accepted is None]


def unsigned(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries after the day's last signature (or all, if never signed)."""
    last = max((i for i, e in enumerate(history) if e["action"] == "sign"), default=-1)
    return history[last + 1:]  # after the last signature: no signature among them


def need_manager(role: str | None, user: str) -> None:
    if role not in MANAGER_ROLES:
        raise RefusedError(f"the duty log is signed by a supervisor ({', '.join(MANAGER_ROLES)}); "
                           f"{user} is {role or 'not a known user'}")


def read_day(store: Store, day: dt.date, precise: bool = False) -> tuple[Path, Any]:
    """The day's file and its content (None when the day has no log yet); a file that
    breaks the schema is an error here (svc check lists every problem)."""
    from svc import yamlio

    path = day_path(store.root, day)
    if not path.exists():
        return path, None
    shown = store.shown(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RecordError(shown, None, "not UTF-8 text") from None
    node = yamlio.loads(text, shown) if precise else yamlio.loads_fast(text, shown)
    problems = s.check_root(node, DAY_SPEC, shown)
    if problems:
        first = problems[0]
        raise RecordError(first.path, first.line, first.message)
    return path, node


def history_of(store: Store, day: dt.date) -> list[dict[str, Any]]:
    _, node = read_day(store, day)
    if node is None:
        raise NotFoundError(f"no duty log for {day.isoformat()}")
    return plain(node["history"])


__all__ = ["DAY_KEYS", "DAY_SPEC", "FOLDER", "Handover", "accepted_handover", "check_day", "day_files", "day_path", "handovers",
           "history_of", "pending_for", "read_day", "seal", "sealed", "unsigned"]

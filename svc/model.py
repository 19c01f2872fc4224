"""Record types, enums, the case file schema, and replay.

A case file holds intake facts (customer, summary, ...), a few *state* fields
(status, level, ...) and an append-only `history:`. The state fields are never edited
on their own: they are what `replay(history)` gives, and `svc check` verifies that.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from svc import schema as s

KINDS = ("complaint", "repair", "visit", "inquiry", "staff-complaint", "crew-complaint")
REAL_NAME_KINDS = ("staff-complaint", "crew-complaint")
SEVERITIES = ("general", "serious", "major")
LEVELS = ("assistant", "cs-director", "center-director", "legal")
STATUSES = ("open", "closed", "archived")
ROLES = ("assistant", "cs-director", "center-director", "legal", "admin", "supervisor", "inspector", "branch")
DIRECTOR_ROLES = ("cs-director", "center-director", "legal")
OUTCOMES = ("satisfied", "unsatisfied", "not-handled")
REMEDY_TYPES = ("repair", "compensation")
REMEDY_CATEGORIES = (
    "deposit-refund",
    "order-cancellation",
    "quality-claim",
    "delay-compensation",
    "repair-claim",
    "agreement-dispute",
    "environmental-dispute",
    "arbitration-litigation",
)

# The level each severity starts at (DOMAIN.md, "Severity").
SEVERITY_LEVEL = {"general": "assistant", "serious": "cs-director", "major": "center-director"}


def level_rank(level: str) -> int:
    return LEVELS.index(level)


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


# --- the file schema -------------------------------------------------------------


EVENT_FIELDS: dict[str, dict[str, s.Spec]] = {
    "open": {
        "severity": s.enum(SEVERITIES, True),
        "level": s.enum(LEVELS, True),
        "assignee": s.text(),
        "repeat_of": s.seq(s.text()),
        "reason": s.text(),
    },
    "note": {"text": s.text(True)},
    "assign": {"to": s.text(True)},
    "escalate": {
        "from": s.enum(LEVELS, True),
        "to": s.enum(LEVELS, True),
        "severity": s.enum(SEVERITIES),
        "reason": s.text(True),
    },
    "follow-up": {"round": s.integer(True, 1), "outcome": s.enum(OUTCOMES, True), "note": s.text()},
    "urging-notice": {"round": s.integer(True, 1), "to": s.text(), "text": s.text(True)},
    "penalty": {"round": s.integer(True, 1), "text": s.text(True)},
    "close": {"resolution": s.text(True), "satisfaction": s.integer(False, 1, 5)},
    "reopen": {"reason": s.text(True)},
    "archive": {"note": s.text()},
    "remedy": {
        "type": s.enum(REMEDY_TYPES, True),
        "category": s.enum(REMEDY_CATEGORIES),
        "detail": s.text(True),
        "amount": s.text(),
    },
    "link": {"to": s.text(True), "note": s.text()},
    # legal's approval of an outgoing formal letter (发文前须报法务中心批准)
    "approve": {"what": s.text(True), "note": s.text()},
    # an issued (non-draft) letter: its outgoing number and template (发文登记)
    "letter": {"template": s.text(True), "number": s.text(True), "recipient": s.text()},
    # deadlines (svc/deadlines.py): set with the rule, start, due time and why; met
    "deadline": {"rule": s.text(True), "start": s.time(True), "due": s.time(True), "basis": s.text(True)},
    "met": {"rule": s.text(True), "note": s.text()},
    # deferred at the customer's request: the resolution clock stops until the date
    "defer": {"until": s.date(True), "reason": s.text(True)},
    # the complaint handling notice went to the branch; its feedback form came back
    "notify": {"to": s.text(), "note": s.text()},
    "feedback": {"note": s.text()},
    "repaired": {"note": s.text()},
}

REMEDY_SPEC = s.mapping(
    {
        "type": s.enum(REMEDY_TYPES, True),
        "category": s.enum(REMEDY_CATEGORIES),
        "detail": s.text(True),
        "amount": s.text(),
    }
)

CASE_SPEC = s.mapping(
    {
        "id": s.text(True),
        "kind": s.enum(KINDS, True),
        "status": s.enum(STATUSES, True),
        "level": s.enum(LEVELS, True),
        "severity": s.enum(SEVERITIES, True),
        "opened_at": s.time(True),
        "branch": s.text(),
        "channel": s.text(),
        "customer": s.mapping({"name": s.text(), "phone": s.text(), "address": s.text()}),
        "project": s.mapping(
            {
                "id": s.text(),
                "designer": s.text(),
                "site_supervisor": s.text(),
                "foreman": s.text(),
                "start_date": s.date(),
            }
        ),
        "complainant": s.mapping({"name": s.text(), "contact": s.text()}),
        "accused": s.mapping({"name": s.text(), "role": s.text()}),
        "incident": s.mapping({"at": s.text(), "place": s.text(), "people": s.text()}),
        "authority": s.text(),
        "media": s.mapping(
            {"outlet": s.text(True), "column": s.text(), "reporter": s.text(), "reporter_phone": s.text()}
        ),
        "summary": s.text(),
        "assignee": s.text(),
        "followup_round": s.integer(False, 0),
        "repeat_of": s.seq(s.text()),
        "links": s.seq(s.text()),
        "remedies": s.seq(REMEDY_SPEC),
        "resolution": s.text(),
        "satisfaction": s.integer(False, 1, 5),
        "closed_at": s.time(),
        "deferred_until": s.date(),
        "deadlines": s.seq(
            s.mapping({"rule": s.text(True), "start": s.time(True), "due": s.time(True), "basis": s.text(True),
                       "met_at": s.time(), "stopped_at": s.time()})
        ),
        "history": s.seq(s.keyed(s.Spec("any")), True),  # each event is checked by its action below
    }
)
CASE_KEYS = tuple(CASE_SPEC.fields)
# Fields that replay derives from the history; everything else is intake.
STATE_KEYS = (
    "status",
    "level",
    "severity",
    "assignee",
    "followup_round",
    "repeat_of",
    "links",
    "remedies",
    "resolution",
    "satisfaction",
    "closed_at",
    "deferred_until",
    "deadlines",
)
INTAKE_KEYS = tuple(k for k in CASE_KEYS if k not in STATE_KEYS and k not in ("id", "history"))


def check_case_node(node: Any, path: str) -> list[s.Problem]:
    """Every schema problem of a case file (top-level fields and each event)."""
    return s.check_record(node, CASE_SPEC, EVENT_FIELDS, path)


# --- replay ------------------------------------------------------------------------

class ReplayError(Exception):
    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.message = message


@dataclass
class State:
    status: str = "open"
    level: str = "assistant"
    severity: str = "general"
    assignee: str | None = None
    followup_round: int = 0
    repeat_of: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    remedies: list[dict[str, Any]] = field(default_factory=list)
    resolution: str | None = None
    satisfaction: int | None = None
    closed_at: str | None = None
    deferred_until: str | None = None
    deadlines: list[dict[str, Any]] = field(default_factory=list)

    def as_fields(self) -> dict[str, Any]:
        """The state as stored: empty values are left out of the file."""
        return {
            "status": self.status,
            "level": self.level,
            "severity": self.severity,
            "assignee": self.assignee,
            "followup_round": self.followup_round or None,
            "repeat_of": list(self.repeat_of) or None,
            "links": list(self.links) or None,
            "remedies": [dict(r) for r in self.remedies] or None,
            "resolution": self.resolution,
            "satisfaction": self.satisfaction,
            "closed_at": self.closed_at,
            "deferred_until": self.deferred_until,
            "deadlines": [dict(d) for d in self.deadlines] or None,
        }


def replay(history: list[dict[str, Any]]) -> State:
    """Apply the events in order; raise ReplayError at the first impossible one."""
    if not history:
        raise ReplayError(0, "history is empty; the first event must be 'open'")
    state = State()
    previous: dt.datetime | None = None
    for i, event in enumerate(history):
        action = event.get("action")
        at = dt.datetime.fromisoformat(str(event["at"]))
        if previous is not None and at < previous:
            raise ReplayError(i, f"event at {event['at']} is earlier than the event before it")
        previous = at
        if i == 0:
            if action != "open":
                raise ReplayError(0, f"the first event must be 'open', not {action!r}")
            state.severity = event["severity"]
            state.level = event["level"]
            state.assignee = event.get("assignee")
            state.repeat_of = list(event.get("repeat_of") or [])
            continue
        _apply(state, event, i)
    return state


def _apply(state: State, event: dict[str, Any], i: int) -> None:
    action = event["action"]
    if state.status == "archived" and action not in ("note", "link"):
        raise ReplayError(i, f"'{action}' on an archived case")
    if action == "open":
        raise ReplayError(i, "a second 'open' event")
    elif action == "assign":
        state.assignee = event["to"]
    elif action == "escalate":
        if event["from"] != state.level:
            raise ReplayError(i, f"escalate from {event['from']} but the case is at {state.level}")
        if level_rank(event["to"]) <= level_rank(state.level):
            raise ReplayError(i, f"escalate from {state.level} to {event['to']} does not go up")
        state.level = event["to"]
        if event.get("severity"):
            if severity_rank(event["severity"]) < severity_rank(state.severity):
                raise ReplayError(i, f"severity lowered from {state.severity} to {event['severity']}")
            state.severity = event["severity"]
    elif action == "follow-up":
        if state.status != "open":
            raise ReplayError(i, f"follow-up on a {state.status} case")
        if int(event["round"]) != state.followup_round + 1:
            raise ReplayError(i, f"follow-up round {event['round']} after round {state.followup_round}")
        state.followup_round = int(event["round"])
    elif action == "close":
        if state.status != "open":
            raise ReplayError(i, f"close on a {state.status} case")
        state.status = "closed"
        state.resolution = event["resolution"]
        state.satisfaction = event.get("satisfaction")
        state.closed_at = str(event["at"])
        for deadline in state.deadlines:  # closing stops what was not met; reopening starts afresh
            if not deadline.get("met_at") and not deadline.get("stopped_at"):
                deadline["stopped_at"] = str(event["at"])
    elif action == "reopen":
        if state.status != "closed":
            raise ReplayError(i, f"reopen on a {state.status} case")
        state.status = "open"
        state.resolution = None
        state.satisfaction = None
        state.closed_at = None
    elif action == "archive":
        if state.status != "closed":
            raise ReplayError(i, f"archive of a {state.status} case (close it first)")
        state.status = "archived"
    elif action == "remedy":
        other = [r for r in state.remedies if r["type"] != event["type"]]
        if other:
            raise ReplayError(i, f"{event['type']} remedy on a case that already has a {other[0]['type']} remedy")
        state.remedies.append({k: event[k] for k in ("type", "category", "detail", "amount") if event.get(k)})
    elif action == "link":
        if event["to"] not in state.links:
            state.links.append(event["to"])
    elif action == "deadline":
        entry = {k: event[k] for k in ("rule", "start", "due", "basis")}
        state.deadlines = [d for d in state.deadlines if d["rule"] != event["rule"]] + [entry]
    elif action == "met":
        open_ones = [d for d in state.deadlines
                     if d["rule"] == event["rule"] and not d.get("met_at") and not d.get("stopped_at")]
        if not open_ones:
            raise ReplayError(i, f"met {event['rule']}, but the case has no open deadline of that rule")
        open_ones[0]["met_at"] = str(event["at"])
    elif action in ("defer", "notify", "repaired"):
        if state.status != "open":
            raise ReplayError(i, f"'{action}' on a {state.status} case")
        if action == "defer":
            state.deferred_until = str(event["until"])
    # note, urging-notice, penalty: recorded facts that change no state


# --- the typed view -------------------------------------------------------------------

def plain(node: Any) -> Any:
    """A loaded node as plain dicts, lists and scalars (for JSON and rules)."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    return node


@dataclass
class View:
    """A validated record as plain Python values. `fields` holds every stored key."""

    fields: dict[str, Any]

    @property
    def id(self) -> str:
        return self.fields["id"]


# What the repeat rule needs of a case (workflow.repeat_ids; the index keeps it by phone):
# (id, kind, opened_at, status, closed_at) as written
Holder = tuple[str, str, str, str, str | None]


def holder_of(fields: Any) -> Holder:
    """From a case's fields, or an index row with the same keys."""
    return (fields["id"], fields["kind"], fields["opened_at"], fields["status"], fields.get("closed_at"))


class Case(View):
    """A validated case."""

    @property
    def kind(self) -> str:
        return self.fields["kind"]

    @property
    def status(self) -> str:
        return self.fields["status"]

    @property
    def level(self) -> str:
        return self.fields["level"]

    @property
    def severity(self) -> str:
        return self.fields["severity"]

    @property
    def branch(self) -> str | None:
        return self.fields.get("branch")

    @property
    def opened_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.fields["opened_at"])

    @property
    def closed_at(self) -> dt.datetime | None:
        value = self.fields.get("closed_at")
        return dt.datetime.fromisoformat(value) if value else None

    @property
    def history(self) -> list[dict[str, Any]]:
        return self.fields["history"]

    @property
    def followup_round(self) -> int:
        return int(self.fields.get("followup_round") or 0)

    @property
    def phone(self) -> str | None:
        return (self.fields.get("customer") or {}).get("phone")

    @property
    def last_event_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.history[-1]["at"])

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)

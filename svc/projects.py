"""Renovation projects and their return-visit schedule (DOMAIN.md, "回访时间").

A project file holds the contract facts, a `status`, the visits done so far, and an
append-only history. The visit schedule is computed once, when the project is added,
and stored in the `add` event with the rule of each visit, so a later change of the
rules never moves a visit already planned.
"""

from __future__ import annotations

import calendar as _months
import datetime as dt
from dataclasses import dataclass
from typing import Any

from svc import schema as s
from svc.errors import RefusedError
from svc.model import ReplayError, View, plain

OUTCOMES = ("ok", "problem")
# Scheduled visits, as data: the rule, what it counts from, and the offset.
SCHEDULED = ("contract", "start", "mid", "completion", "warranty")
UNSCHEDULED = ("greeting", "thanks", "other")
VISIT_KINDS = SCHEDULED + UNSCHEDULED


@dataclass(frozen=True)
class VisitRule:
    kind: str
    rule: str
    counts_from: str  # contract_signed | start | completion
    days: int = 0  # offset for a single visit, or the first of a series
    every_days: int = 0  # then again every N days until completion (mid-construction visits)
    monthly: bool = False  # once a month for the warranty period


VISIT_RULES: tuple[VisitRule, ...] = (
    VisitRule("contract", "visit-contract-5d", "contract_signed", days=5),
    VisitRule("start", "visit-start-10d", "start", days=10),
    VisitRule("mid", "visit-mid-15d", "start", days=25, every_days=15),
    VisitRule("completion", "visit-completion-5d", "completion", days=5),
    VisitRule("warranty", "visit-warranty-monthly", "completion", monthly=True),
)
DEFAULT_WARRANTY_MONTHS = 24


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day when it has fewer days."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, _months.monthrange(year, month)[1]))


def schedule(contract_signed: dt.date, start: dt.date, completion: dt.date,
             warranty_months: int) -> list[dict[str, str]]:
    """Every scheduled visit: its key (e.g. mid-2, warranty-3), rule and date."""
    if not contract_signed <= start <= completion:
        raise RefusedError(
            f"dates out of order: contract signed {contract_signed}, start {start}, completion {completion}"
            " (expected signed ≤ start ≤ completion)"
        )
    dates = {"contract_signed": contract_signed, "start": start, "completion": completion}
    out: list[dict[str, str]] = []
    for vr in VISIT_RULES:
        base = dates[vr.counts_from]
        if vr.monthly:
            for n in range(1, warranty_months + 1):
                out.append({"visit": f"{vr.kind}-{n}", "rule": vr.rule, "due": add_months(base, n).isoformat()})
        elif vr.every_days:
            day, n = base + dt.timedelta(days=vr.days), 1
            while day < completion:
                out.append({"visit": f"{vr.kind}-{n}", "rule": vr.rule, "due": day.isoformat()})
                day, n = day + dt.timedelta(days=vr.every_days), n + 1
        else:
            out.append({"visit": vr.kind, "rule": vr.rule, "due": (base + dt.timedelta(days=vr.days)).isoformat()})
    out.sort(key=lambda v: (v["due"], v["visit"]))
    return out


# --- the file ----------------------------------------------------------------------------


PROJECT_EVENTS: dict[str, dict[str, s.Spec]] = {
    "add": {"schedule": s.seq(s.mapping({"visit": s.text(True), "rule": s.text(True), "due": s.date(True)}))},
    "visit": {"visit": s.text(True), "outcome": s.enum(OUTCOMES, True), "summary": s.text(), "case": s.text()},
    "note": {"text": s.text(True)},
    "close": {"reason": s.text(True)},
}

PROJECT_SPEC = s.mapping(
    {
        "id": s.text(True),
        "status": s.enum(("active", "closed"), True),
        "created_at": s.time(True),
        "customer": s.mapping({"name": s.text(True), "phone": s.text(), "address": s.text()}, True),
        "branch": s.text(),
        "designer": s.text(),
        "site_supervisor": s.text(),
        "foreman": s.text(),
        "assignee": s.text(),
        "contract_signed": s.date(True),
        "start": s.date(True),
        "completion": s.date(True),
        "warranty_months": s.integer(True, 0, 120),
        "visited": s.seq(s.text()),
        "history": s.seq(s.keyed(s.Spec("any")), True),
    }
)
PROJECT_KEYS = tuple(PROJECT_SPEC.fields)


def check_project_node(node: Any, path: str) -> list[s.Problem]:
    return s.check_record(node, PROJECT_SPEC, PROJECT_EVENTS, path)


@dataclass(frozen=True)
class ProjectState:
    status: str
    visited: list[str]

    def as_fields(self) -> dict[str, Any]:
        return {"status": self.status, "visited": list(self.visited) or None}


def replay_project(history: list[dict[str, Any]]) -> ProjectState:
    if not history or history[0].get("action") != "add":
        raise ReplayError(0, "the first event of a project must be 'add'")
    planned = {v["visit"] for v in history[0].get("schedule") or []}
    status, visited = "active", []
    for i, event in enumerate(history[1:], start=1):
        action = event["action"]
        if action == "add":
            raise ReplayError(i, "a second 'add' event")
        if action == "visit":
            key = event["visit"]
            if key in planned:
                if key in visited:
                    raise ReplayError(i, f"visit {key} recorded twice")
                visited.append(key)
            elif key not in UNSCHEDULED:
                raise ReplayError(i, f"visit {key!r} is neither scheduled nor one of {', '.join(UNSCHEDULED)}")
        elif action == "close":
            status = "closed"
    return ProjectState(status, visited)


class Project(View):

    @property
    def status(self) -> str:
        return self.fields["status"]

    @property
    def schedule(self) -> list[dict[str, str]]:
        return self.fields["history"][0].get("schedule") or []

    @property
    def visited(self) -> list[str]:
        return self.fields.get("visited") or []

    @property
    def last_event_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.fields["history"][-1]["at"])

    def pending(self) -> list[dict[str, str]]:
        """Scheduled visits not yet made, earliest first."""
        done = set(self.visited)
        return [v for v in self.schedule if v["visit"] not in done]


def choose_visit(project: Project, kind: str | None, today: dt.date, window_days: int = 7) -> str:
    """Which visit a call is: the given unscheduled kind, the earliest pending visit of a
    scheduled kind, or (no kind) the earliest pending visit due within `window_days`."""
    if project.status != "active":
        raise RefusedError(f"{project.id} is closed")
    if kind in UNSCHEDULED:
        return kind
    pending = [v for v in project.pending() if kind is None or v["visit"].split("-")[0] == kind]
    if not pending:
        what = f"{kind} visit" if kind else "scheduled visit"
        raise RefusedError(f"{project.id} has no {what} left to make; use --kind greeting|thanks|other for another call")
    first = pending[0]
    if kind is None and dt.date.fromisoformat(first["due"]) > today + dt.timedelta(days=window_days):
        raise RefusedError(
            f"no visit of {project.id} is due yet: the next is {first['visit']} on {first['due']}; "
            "say which with --kind, or use --kind greeting|thanks|other"
        )
    return first["visit"]


__all__ = ["Project", "check_project_node", "replay_project", "schedule", "choose_visit", "plain"]

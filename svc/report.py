"""The monthly management report (客服分析报告): a month's figures from the records.

Everything here is a pure function of the records and the office's configuration: no
clock. A month is taken in the office's time zone (``timezone:`` in svc.yaml) and the
figures are computed *as of the month's end*: only events whose ``at`` is before the
first moment of the next month count, so events recorded afterwards (with a later
``at``) never change a closed month's report, and one commit always gives one report.
The first report of an ended month keeps these figures and closes the month; later
reports of it print the kept figures (svc/closing.py).

Staff and crew complaints (员工投诉/工队投诉) appear only as counts: their
complainants' names and phones, and their case IDs, are never listed (保密制度).

The JSON document (``svc report monthly --format json``), keys in this order::

    report      "monthly"
    month       "2026-11"
    office      {"code", "name"}
    timezone    the office's zone, e.g. "Asia/Shanghai"
    period      {"start", "end"}: the month in office time; "end" is exclusive (the
                first moment of the next month)
    branch      the --branch asked for, or null
    targets     {"satisfaction": 0.9, "visits": 1.0}
    overall     the office's figures (null with --branch), with "patrol_findings"
    branches    one object per branch with any figure not zero: configured branches
                in svc.yaml's order, then codes not configured, then cases with no
                branch as {"branch": "none", "name": "—"}; with --branch, that branch
                alone (even if all its figures are zero)

Each scope (``overall`` and each item of ``branches``, which also has ``branch`` and
``name``) holds:

    opened              {"total", "by_kind": {every kind in model.KINDS: n}}
                        cases whose opened_at is in the month
    closed              {"total", "by_kind": {...}}: cases with a close event in the
                        month, each counted once
    on_time             {"due", "on_time", "late", "rate", "by_rule": {every rule in
                        deadlines.RULES: {"due", "on_time", "late", "rate"}}}
                        deadline instances due in the month; on time when met or
                        stopped (by a close) at or before their due time, late
                        otherwise (still open at the month's end included). A deadline
                        replaced by a later one of its rule (a deferral, a reopening)
                        while still open counts only if it was already past due when
                        replaced; one met or stopped before it was replaced counts as
                        it stood. Patrol findings (patrol-fix-7d: fixed vs due,
                        extensions respected) count in "overall" only.
    satisfaction        {"responses", "satisfied", "unsatisfied", "not_handled",
                        "follow_ups", "ratings", "rate", "target", "met"}
                        follow-up events in the month (by outcome) plus close events in
                        the month with a satisfaction rating (4-5 satisfied, 1-3
                        unsatisfied); rate = satisfied / responses
    visits              {"due", "done", "missed", "rate", "target", "met", "not_done":
                        [{"project", "visit", "due"}]}
                        scheduled return visits of projects (by their planned date)
                        due in the month, and those recorded for that planned visit by
                        the month's end; a visit planned after its project was closed is
                        not due
    escalations         {"total", "by_level": {"cs-director", "center-director", "legal"}}
                        escalate events in the month, by the level escalated to
    repeat_complaints   {"cases", "customers": [{"customer", "phone", "cases",
                        "repeat_of"}]}: cases opened in the month that repeat earlier
                        ones, grouped by customer, phone masked (138****8000)
    overdue             {"total", "by_rule": {rule: n}, "ids", "withheld"}: deadlines
                        due before the month's end and neither met nor stopped by then;
                        "ids" lists the cases (and patrol findings as X2611-A001#2),
                        "withheld" counts the staff/crew-complaint ones left out of it
    patrol_findings     (overall only) {"recorded", "settled_on_spot", "fixed",
                        "open_at_end", "open_ids"}: findings recorded in the month,
                        fixes recorded in the month, findings open at the month's end

Rates are fractions rounded to 4 places, null when nothing was due; "met" is
rate >= target, null when the rate is null.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from svc.deadlines import RULES
from svc.model import KINDS, LEVELS, REAL_NAME_KINDS

TARGETS = {"satisfaction": 0.90, "visits": 1.00}
ESCALATION_LEVELS = LEVELS[1:]  # the levels above assistant
NO_BRANCH = "none"
NO_BRANCH_NAME = "—"
SATISFIED_RATINGS = (4, 5)
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


# --- the month ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """A month in the office's zone: [start, end)."""

    month: str
    start: dt.datetime
    end: dt.datetime

    def __contains__(self, moment: dt.datetime) -> bool:
        return self.start <= moment < self.end


def valid_month(text: str) -> bool:
    return bool(MONTH.match(text))


def period(month: str, tz: dt.tzinfo) -> Period:
    match = MONTH.match(month)
    if not match:
        raise ValueError(f"{month!r} is not a month (YYYY-MM)")
    from svc.retention import cut_off  # the first day after the month, as the patrol summary counts it

    start = dt.datetime(int(match.group(1)), int(match.group(2)), 1, tzinfo=tz)
    return Period(month, start, dt.datetime.combine(cut_off(month), dt.time(), tz))


def _t(value: Any) -> dt.datetime:
    return dt.datetime.fromisoformat(str(value))


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# --- deadline instances ---------------------------------------------------------------------------

@dataclass
class Instance:
    """One deadline as the history set it: resolved (met, or stopped by a close) or not,
    and replaced by a later deadline of its rule or not."""

    rule: str
    due: dt.datetime
    resolved_at: dt.datetime | None = None
    superseded_at: dt.datetime | None = None

    def counts_in(self, p: Period) -> bool:
        if self.due not in p:
            return False
        if self.superseded_at is None or self.resolved_at is not None:
            return True
        return self.due < self.superseded_at  # replaced while open: only if already past due

    @property
    def on_time(self) -> bool:
        return self.resolved_at is not None and self.resolved_at <= self.due


def case_deadlines(history: list[dict[str, Any]], end: dt.datetime) -> tuple[list[Instance], list[Instance]]:
    """Every deadline instance of a case's history before `end`, and those still current
    at `end` (as model.replay keeps them: one per rule, the latest)."""
    every: list[Instance] = []
    current: list[Instance] = []
    for event in history:
        at = _t(event["at"])
        if at >= end:
            continue
        action = event["action"]
        if action == "deadline":
            for old in [i for i in current if i.rule == event["rule"]]:
                old.superseded_at = at
                current.remove(old)
            new = Instance(str(event["rule"]), _t(event["due"]))
            every.append(new)
            current.append(new)
        elif action == "met":
            for inst in current:
                if inst.rule == event["rule"] and inst.resolved_at is None:
                    inst.resolved_at = at
                    break
        elif action == "close":
            for inst in current:
                if inst.resolved_at is None:
                    inst.resolved_at = at
    return every, current


FIX_RULE = "patrol-fix-7d"


def finding_deadlines(history: list[dict[str, Any]], end: dt.datetime) -> tuple[list[Instance], dict[int, Instance]]:
    """The fix deadlines of a patrol record's findings before `end`: every instance, and
    the current one of each finding (an extension replaces it; a fix resolves it)."""
    every: list[Instance] = []
    current: dict[int, Instance] = {}
    for event in history:
        at = _t(event["at"])
        if at >= end:
            continue
        action = event["action"]
        if action not in ("finding", "extend", "fixed") or event.get("no") is None:
            continue
        no = int(event["no"])
        if action == "finding":
            if event.get("settled") or not event.get("due"):
                continue
            current[no] = Instance(FIX_RULE, _t(event["due"]))
            every.append(current[no])
        elif action == "extend" and no in current:
            old = current[no]
            if old.resolved_at is None:
                old.superseded_at = at
                current[no] = Instance(FIX_RULE, _t(event["due"]))
                every.append(current[no])
        elif action == "fixed" and no in current and current[no].resolved_at is None:
            current[no].resolved_at = at
    return every, current


# --- phones ------------------------------------------------------------------------------------------

def mask_phone(phone: str | None) -> str | None:
    """13800138000 -> 138****8000; a short number keeps only its last two digits."""
    if not phone:
        return None
    from svc.workflow import normalize_phone

    digits = normalize_phone(str(phone))
    if len(digits) >= 8:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 2:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "**"


def _customer_key(case: dict[str, Any]) -> tuple[str, str]:
    from svc.workflow import normalize_phone

    customer = case.get("customer") or {}
    if customer.get("phone"):
        return ("phone", normalize_phone(str(customer["phone"])))
    if customer.get("name"):
        return ("name", str(customer["name"]))
    return ("case", str(case["id"]))


def confidential(case: dict[str, Any]) -> bool:
    """Staff/crew complaints, and any complainant or customer marked hidden or confidential."""
    if case.get("kind") in REAL_NAME_KINDS:
        return True
    for group in ("customer", "complainant"):
        person = case.get(group) or {}
        if isinstance(person, dict) and (person.get("hidden") or person.get("confidential")):
            return True
    return False


# --- the figures ---------------------------------------------------------------------------------------

class Scope:
    """The running figures of one scope (the office, or one branch)."""

    def __init__(self, overall: bool) -> None:
        self.overall = overall
        self.opened = dict.fromkeys(KINDS, 0)
        self.closed = dict.fromkeys(KINDS, 0)
        self.rules = {name: [0, 0] for name in RULES}  # due, on time
        self.responses = {"satisfied": 0, "unsatisfied": 0, "not_handled": 0}
        self.follow_ups = 0
        self.ratings = 0
        self.visits_due = 0
        self.visits_done = 0
        self.not_done: list[dict[str, str]] = []
        self.escalations = dict.fromkeys(ESCALATION_LEVELS, 0)
        self.repeats: dict[tuple[str, str], dict[str, Any]] = {}
        self.repeat_cases = 0
        self.overdue = {name: 0 for name in RULES}
        self.overdue_ids: set[str] = set()
        self.withheld = 0
        self.findings = {"recorded": 0, "settled_on_spot": 0, "fixed": 0, "open_at_end": 0}
        self.open_ids: list[str] = []

    # -- adding --

    def add_case(self, case: dict[str, Any], p: Period) -> None:
        kind = case.get("kind")
        history = case.get("history") or []
        hide = confidential(case)
        if _t(case["opened_at"]) in p and kind in self.opened:
            self.opened[kind] += 1
            repeat_of = list((history[0].get("repeat_of") if history else None) or case.get("repeat_of") or [])
            if repeat_of and not hide:
                self.repeat_cases += 1
                customer = case.get("customer") or {}
                entry = self.repeats.setdefault(_customer_key(case), {
                    "customer": customer.get("name"), "phone": mask_phone(customer.get("phone")),
                    "cases": [], "repeat_of": []})
                entry["cases"].append(case["id"])
                entry["repeat_of"].extend(r for r in repeat_of if r not in entry["repeat_of"])
        closed = False
        for event in history:
            at = _t(event["at"])
            if at not in p:
                continue
            action = event["action"]
            if action == "close":
                closed = True
                score = event.get("satisfaction")
                if score is not None:
                    self.ratings += 1
                    self.responses["satisfied" if int(score) in SATISFIED_RATINGS else "unsatisfied"] += 1
            elif action == "follow-up":
                self.follow_ups += 1
                self.responses[str(event["outcome"]).replace("-", "_")] += 1
            elif action == "escalate" and event.get("to") in self.escalations:
                self.escalations[event["to"]] += 1
        if closed and kind in self.closed:
            self.closed[kind] += 1
        every, current = case_deadlines(history, p.end)
        self._add_deadlines(every, p)
        for inst in current:
            if inst.resolved_at is None and inst.due < p.end:
                self._overdue(inst.rule, None if hide else case["id"])

    def add_patrol(self, patrol: dict[str, Any], p: Period) -> None:
        history = patrol.get("history") or []
        recorded: dict[int, bool] = {}  # finding -> settled on the spot
        fixed: set[int] = set()
        for event in history:
            at = _t(event["at"])
            if at >= p.end:
                continue
            action = event["action"]
            if action == "finding":
                no = int(event["no"])
                recorded[no] = bool(event.get("settled"))
                if at in p:
                    self.findings["recorded"] += 1
                    self.findings["settled_on_spot"] += recorded[no]
            elif action == "fixed":
                fixed.add(int(event["no"]))
                if at in p:
                    self.findings["fixed"] += 1
        for no, settled in sorted(recorded.items()):
            if not settled and no not in fixed:
                self.findings["open_at_end"] += 1
                self.open_ids.append(f"{patrol['id']}#{no}")
        every, current = finding_deadlines(history, p.end)
        self._add_deadlines(every, p)
        for no, inst in sorted(current.items()):
            if inst.resolved_at is None and inst.due < p.end:
                self._overdue(inst.rule, f"{patrol['id']}#{no}")

    def add_project(self, project: dict[str, Any], p: Period) -> None:
        history = project.get("history") or []
        if not history or _t(history[0]["at"]) >= p.end:
            return
        tz = p.start.tzinfo
        closed_on: dt.date | None = None
        done: set[str] = set()
        for event in history[1:]:
            at = _t(event["at"])
            if at >= p.end:
                continue
            if event["action"] == "visit":
                done.add(str(event["visit"]))
            elif event["action"] == "close" and closed_on is None:
                closed_on = at.astimezone(tz).date()
        for slot in history[0].get("schedule") or []:
            due = dt.date.fromisoformat(str(slot["due"]))
            if (due.year, due.month) != (p.start.year, p.start.month):  # p.start: the month's first day
                continue
            if closed_on is not None and closed_on < due:
                continue
            self.visits_due += 1
            if slot["visit"] in done:
                self.visits_done += 1
            else:
                self.not_done.append({"project": str(project["id"]), "visit": str(slot["visit"]),
                                      "due": due.isoformat()})

    def _add_deadlines(self, instances: Iterable[Instance], p: Period) -> None:
        for inst in instances:
            if inst.counts_in(p):
                tally = self.rules.setdefault(inst.rule, [0, 0])
                tally[0] += 1
                tally[1] += inst.on_time

    def _overdue(self, rule: str, shown_id: str | None) -> None:
        self.overdue[rule] = self.overdue.get(rule, 0) + 1
        if shown_id is None:
            self.withheld += 1
        else:
            self.overdue_ids.add(shown_id)

    # -- reading --

    def active(self) -> bool:
        data = self.as_json()
        return bool(data["opened"]["total"] or data["closed"]["total"] or data["on_time"]["due"]
                    or data["satisfaction"]["responses"] or data["visits"]["due"] or data["escalations"]["total"]
                    or data["repeat_complaints"]["cases"] or data["overdue"]["total"])

    def as_json(self) -> dict[str, Any]:
        by_rule: dict[str, dict[str, Any]] = {
            name: {"due": due, "on_time": on_time, "late": due - on_time, "rate": _rate(on_time, due)}
            for name, (due, on_time) in self.rules.items()
        }
        total_due = sum(due for due, _ in self.rules.values())
        total_on_time = sum(on_time for _, on_time in self.rules.values())
        responses = sum(self.responses.values())
        satisfaction_rate = _rate(self.responses["satisfied"], responses)
        visits_rate = _rate(self.visits_done, self.visits_due)
        customers = sorted(self.repeats.values(), key=lambda c: (c["cases"][0], c["phone"] or ""))
        out: dict[str, Any] = {
            "opened": {"total": sum(self.opened.values()), "by_kind": dict(self.opened)},
            "closed": {"total": sum(self.closed.values()), "by_kind": dict(self.closed)},
            "on_time": {"due": total_due, "on_time": total_on_time, "late": total_due - total_on_time,
                        "rate": _rate(total_on_time, total_due), "by_rule": by_rule},
            "satisfaction": {
                "responses": responses, **self.responses, "follow_ups": self.follow_ups, "ratings": self.ratings,
                "rate": satisfaction_rate, "target": TARGETS["satisfaction"],
                "met": None if satisfaction_rate is None else satisfaction_rate >= TARGETS["satisfaction"],
            },
            "visits": {
                "due": self.visits_due, "done": self.visits_done, "missed": self.visits_due - self.visits_done,
                "rate": visits_rate, "target": TARGETS["visits"],
                "met": None if visits_rate is None else visits_rate >= TARGETS["visits"],
                "not_done": sorted(self.not_done, key=lambda v: (v["due"], v["project"], v["visit"])),
            },
            "escalations": {"total": sum(self.escalations.values()), "by_level": dict(self.escalations)},
            "repeat_complaints": {
                "cases": self.repeat_cases,
                "customers": [{**c, "cases": sorted(c["cases"]), "repeat_of": sorted(c["repeat_of"])}
                              for c in customers],
            },
            "overdue": {"total": sum(self.overdue.values()), "by_rule": dict(self.overdue),
                        "ids": sorted(self.overdue_ids), "withheld": self.withheld},
        }
        if self.overall:
            out["patrol_findings"] = {**self.findings, "open_ids": list(self.open_ids)}
        return out


def figures(month: str, tz: dt.tzinfo, office: dict[str, str], branches: dict[str, str],
            cases: Iterable[dict[str, Any]], projects: Iterable[dict[str, Any]],
            patrols: Iterable[dict[str, Any]], branch: str | None = None) -> dict[str, Any]:
    """The month's report as one JSON-ready object (see the module's docstring).

    `branches` maps the configured branch codes to their names, in svc.yaml's order;
    `branch` restricts the report to one branch (which must be a key of `branches`).
    The records are plain field dicts (Case.fields, Project.fields, Patrol.fields).
    """
    p = period(month, tz)
    overall = Scope(overall=True)
    scopes: dict[str, Scope] = {}

    def scope_of(code: Any) -> Scope:
        key = str(code) if code else NO_BRANCH
        if key not in scopes:
            scopes[key] = Scope(overall=False)
        return scopes[key]

    for case in cases:
        if branch is not None and case.get("branch") != branch:
            continue
        overall.add_case(case, p)
        scope_of(case.get("branch")).add_case(case, p)
    for project in projects:
        if branch is not None and project.get("branch") != branch:
            continue
        overall.add_project(project, p)
        scope_of(project.get("branch")).add_project(project, p)
    if branch is None:
        for patrol in patrols:
            overall.add_patrol(patrol, p)

    order = [code for code in branches] + sorted(k for k in scopes if k not in branches and k != NO_BRANCH)
    order.append(NO_BRANCH)
    listed = []
    for code in order:
        found = scopes.get(code)
        if branch is not None:
            if code != branch:
                continue
            scope = found or Scope(overall=False)  # the branch asked for, even with nothing in the month
        elif found is None or not found.active():
            continue
        else:
            scope = found
        name = NO_BRANCH_NAME if code == NO_BRANCH else branches.get(code, code)
        listed.append({"branch": code, "name": name, **scope.as_json()})
    return {
        "report": "monthly",
        "month": month,
        "office": dict(office),
        "timezone": str(tz),
        "period": {"start": p.start.isoformat(), "end": p.end.isoformat()},
        "branch": branch,
        "targets": dict(TARGETS),
        "overall": None if branch is not None else overall.as_json(),
        "branches": listed,
    }


def monthly(store: Any, month: str, branch: str | None = None,
            unreadable: list[Any] | None = None) -> dict[str, Any]:
    """The report from a store's records. A record that cannot be read is added to
    `unreadable` (the caller names it and exits 3: the report is of the rest); without
    that list it is refused (ProblemsFound): a report silently missing a record would be
    wrong, and a printed one is kept."""
    from svc.errors import ProblemsFound, in_chinese
    from svc.schema import Problem
    from svc.store import CASES, PATROLS, PROJECTS

    problems: list[Problem] = []
    cases = [r.view.fields for r in store.iter_records(CASES, problems)]
    projects = [r.view.fields for r in store.iter_records(PROJECTS, problems)]
    patrols = [r.view.fields for r in store.iter_records(PATROLS, problems)]
    if problems and unreadable is None:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise in_chinese(
            ProblemsFound(f"{problems[0]}{more}; the report needs every record readable: run svc check"),
            f"{problems[0]}{f'（另有 {len(problems) - 1} 个）' if len(problems) > 1 else ''}；"
            "报告需要所有记录都可读：请运行 svc check")
    if unreadable is not None:
        unreadable.extend(problems)
    config = store.config
    return figures(month, config.tz, {"code": config.office, "name": config.name},
                   {code: b.name for code, b in config.branches.items()}, cases, projects, patrols, branch)

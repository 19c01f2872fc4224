"""What is due, when, and by which rule: across open cases and active projects.

Everything here is computed from stored deadlines (cases) and stored visit schedules
(projects); nothing is recomputed from the rules, so the agenda never moves when the
rules or the calendar change.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import TYPE_CHECKING, Any, Iterable, NamedTuple

from svc.errors import SvcError
from svc.labels import label
from svc.model import Case
from svc.timeutil import stamp

if TYPE_CHECKING:  # annotations only: `svc due` and `svc list` read no calendar or project module for them
    from svc.calendar import WorkCalendar
    from svc.projects import Project

_DURATION = re.compile(r"^\s*(\d+)\s*(m|min|h|d|w)\s*$")
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> dt.timedelta:
    match = _DURATION.match(text.lower())
    if not match:
        raise SvcError(f"duration {text!r} is not one of 30m, 4h, 2d, 1w")
    return dt.timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


class DueItem(NamedTuple):  # a tuple: an agenda makes tens of thousands at a time
    id: str
    record: str  # case | project | patrol
    what: str
    rule: str
    due_at: dt.datetime
    overdue: bool
    user: str | None
    level: str | None
    branch: str | None
    basis: str
    when: float  # due_at as seconds since the epoch: the sort key, compared fast

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "what": self.what,
            "due_at": stamp(self.due_at),
            "overdue": self.overdue,
            "rule": self.rule,
            "record": self.record,
            "user": self.user,
            "level": self.level,
            "branch": self.branch,
            "basis": self.basis,
        }


def case_items(case: Case | dict[str, Any], now: dt.datetime, lang: str) -> list[DueItem]:
    """A case's deadlines still running (from a Case, or an index row with the same keys)."""
    row = case.fields if isinstance(case, Case) else case
    return running_items(entry_of(row), now, lang) if row["status"] == "open" else []


def entry_of(row: dict[str, Any]) -> tuple[Any, ...]:
    """What the agenda needs of an open case, as the index keeps it for `svc due`: (id,
    assignee, level, branch, its running deadlines as (due, due as epoch seconds, rule,
    basis)), read from the stored deadlines as `deadlines.states` reads them."""
    running = tuple((d["due"], d.get("due_ts") or dt.datetime.fromisoformat(d["due"]).timestamp(), d["rule"],
                     d["basis"]) for d in row.get("deadlines") or () if not d.get("met_at") and not d.get("stopped_at"))
    return (row["id"], row.get("assignee"), row.get("level"), row.get("branch"), running)


def running_items(entry: tuple[Any, ...], now: dt.datetime, lang: str) -> list[DueItem]:
    """The items of an `entry_of` tuple (this runs for every open case on each `svc due`)."""
    case_id, assignee, level, branch, running = entry
    items = []
    for due_text, when, rule, basis in running:
        due = dt.datetime.fromisoformat(due_text)
        items.append(DueItem(case_id, "case", _rule_label(lang, rule), rule, due, now > due, assignee, level, branch,
                             basis, when))
    return items


@functools.lru_cache(maxsize=None)
def _rule_label(lang: str, rule: str) -> str:
    return label(lang, f"rule:{rule}")


def visit_due_at(day: dt.date, cal: WorkCalendar) -> dt.datetime:
    """A visit due on a day is due by that day's closing time; on a day off, the next working day's."""
    if not cal.is_workday(day):
        day = cal.next_workday(day)
    return dt.datetime.combine(day, cal.closes, tzinfo=cal.tz)


def project_items(project: Project, now: dt.datetime, cal: WorkCalendar, lang: str) -> list[DueItem]:
    if project.status != "active":
        return []
    items = []
    for visit in project.pending():
        due_at = visit_due_at(dt.date.fromisoformat(visit["due"]), cal)
        what = f"{label(lang, 'visit')} {visit['visit']}"
        basis = label(lang, "visit-basis", visit=visit["visit"], due=visit["due"])
        items.append(DueItem(project.id, "project", what, visit["rule"], due_at, now > due_at,
                             project.fields.get("assignee"), None, project.fields.get("branch"), basis,
                             due_at.timestamp()))
    return items


def patrol_items(patrol: Any, now: dt.datetime, lang: str) -> list[DueItem]:
    """Findings not yet fixed, due 7 days after they were found (or as a manager extended)."""
    items = []
    for finding in patrol.findings:
        if finding["status"] != "open" or not finding.get("due"):
            continue
        due = dt.datetime.fromisoformat(finding["due"])
        what = f"{label(lang, 'rule:patrol-fix-7d')} #{finding['no']} {finding['place']}"
        basis = label(lang, "finding-basis", no=finding["no"], description=finding["description"])
        items.append(DueItem(patrol.id, "patrol", what, "patrol-fix-7d", due, now > due,
                             patrol.fields.get("patroller"), None, None, basis, due.timestamp()))
    return items


def select(items: Iterable[DueItem], now: dt.datetime, within: dt.timedelta | None, user: str | None,
           level: str | None, branch: str | None) -> list[DueItem]:
    """Overdue items and those due within the window, filtered, soonest first."""
    horizon = (now + within).timestamp() if within is not None else None
    chosen = [item for item in items if item.overdue or horizon is None or item.when <= horizon]
    for field, wanted in (("user", user), ("level", level), ("branch", branch)):
        if wanted is not None:
            chosen = [item for item in chosen if getattr(item, field) == wanted]
    chosen.sort(key=lambda i: (i.when, i.id, i.rule))
    return chosen


def has_overdue(case: Case | dict[str, Any], now: dt.datetime) -> bool:
    return any(item.overdue for item in case_items(case, now, "en"))

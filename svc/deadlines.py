"""Deadline rules as data (DOMAIN.md, "Deadlines"), and the pure functions that set,
meet, defer and explain them.

A deadline is set on a case by a `deadline` event that stores the rule, the start and
the computed due time, and a sentence saying why; so a later change of rules or of the
calendar never moves a deadline already set, and `svc show` can always explain it.
Meeting a deadline is a `met` event. Both are appended automatically after the event
that starts or meets a rule (see `consequences`), or by hand with `svc met`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable

from svc.calendar import WorkCalendar
from svc.labels import label
from svc.timeutil import stamp

# Units of a rule's clock.
MINUTES, HOURS, DAYS, WORKING_DAYS = "minutes", "hours", "days", "working-days"


@dataclass(frozen=True)
class Rule:
    name: str
    amount: int
    unit: str
    starts: str  # the event that starts the clock: an action, or "action:detail"
    kinds: tuple[str, ...] = ()  # case kinds it applies to (empty: every kind)
    severities: tuple[str, ...] = ()  # (empty: every severity)
    when: str | None = None  # a further condition, see `_applies`
    met_by: tuple[str, ...] = ()  # events that meet it (besides `svc met`): "action" or "action:detail"
    pauses: bool = False  # the resolution clock: stopped while the case is deferred
    extendable: bool = False  # a manager may extend it, with a recorded reason
    on_reopen: bool = False  # a reopened case runs this clock again


RULES: dict[str, Rule] = {
    r.name: r
    for r in (
        # The 3-minute callback frees the hotline: only for complaints that came in by phone.
        Rule("callback-3min", 3, MINUTES, "open", kinds=("complaint",), when="phoned"),
        Rule("respond-24h", 24, HOURS, "open", kinds=("complaint", "repair"),
             met_by=("follow-up", "repaired", "close"), on_reopen=True),
        Rule("feedback-24h", 24, HOURS, "notify", met_by=("feedback",)),
        Rule("legal-24h", 24, HOURS, "open", when="authority-or-media", met_by=("escalate:legal",)),
        Rule("engineer-20min", 20, MINUTES, "open", kinds=("repair",)),
        Rule("solve-3wd", 3, WORKING_DAYS, "open", kinds=("complaint", "repair"), severities=("general",),
             met_by=("repaired", "close"), pauses=True, on_reopen=True),
        Rule("revisit-3d", 3, DAYS, "repaired", met_by=("follow-up",)),
        # Patrol findings (巡查) carry their own clock; it is used by patrol records.
        Rule("patrol-fix-7d", 7, DAYS, "finding", met_by=("fixed",), extendable=True),
    )
}
# Channels that mean the customer phoned in (no channel recorded: a phone call, the usual way).
PHONE_CHANNELS = ("phone", "hotline", "电话", "热线")
# A handling notice issued as a letter starts the branch's feedback clock too.
STARTS_ALIASES = {"letter:handling-notice": "notify"}


def due_from(rule: Rule, start: dt.datetime, cal: WorkCalendar) -> dt.datetime:
    if rule.unit == MINUTES:
        return cal.add_clock(start, dt.timedelta(minutes=rule.amount))
    if rule.unit == HOURS:
        return cal.add_clock(start, dt.timedelta(hours=rule.amount))
    if rule.unit == DAYS:
        return cal.add_calendar_days(start, rule.amount)
    return cal.add_working_days(start, rule.amount)


def _signature(event: dict[str, Any]) -> tuple[str, str | None]:
    """An event as rules name it: its action and, for some, a detail."""
    action = event["action"]
    detail = {"escalate": event.get("to"), "letter": event.get("template")}.get(action)
    return action, detail


def _matches(names: Iterable[str], event: dict[str, Any]) -> bool:
    action, detail = _signature(event)
    return any(name == action or (detail is not None and name == f"{action}:{detail}") for name in names)


def _applies(rule: Rule, case: dict[str, Any], event: dict[str, Any]) -> bool:
    action, detail = _signature(event)
    started = (rule.starts == action or STARTS_ALIASES.get(f"{action}:{detail}") == rule.starts
               or (action == "reopen" and rule.on_reopen))
    if not started:
        return False
    if rule.kinds and case.get("kind") not in rule.kinds:
        return False
    severity = event.get("severity") if action == "open" else case.get("severity")
    if rule.severities and severity not in rule.severities:
        return False
    if rule.when == "authority-or-media":
        return bool(case.get("authority") or (case.get("media") or {}).get("outlet"))
    if rule.when == "phoned":
        return (case.get("channel") or "phone").strip().lower() in PHONE_CHANNELS
    return True


def _when(moment: dt.datetime) -> str:
    return moment.strftime("%m-%d %H:%M")


def basis(rule: Rule, event: dict[str, Any], start: dt.datetime, lang: str) -> str:
    """Why this deadline: the rule and the event it runs from, in the office's words."""
    trigger = label(lang, f"trigger:{_signature(event)[0]}")  # open, notify, reopen, ...
    return label(lang, "basis", rule=label(lang, f"rule:{rule.name}"), trigger=trigger, at=_when(start))


def with_calendar_note(text: str, rule: Rule, start: dt.datetime, due: dt.datetime, cal: WorkCalendar,
                       lang: str) -> str:
    """A working-day deadline counted through a year the calendar does not cover says so."""
    if rule.unit != WORKING_DAYS:
        return text
    from svc.calendar import uncovered_note, words

    note = uncovered_note(cal, start, due, lang)
    if note is None or note in text:
        return text
    return f"{text}{words(lang, 'sep')}{note}"


def open_deadlines(case: dict[str, Any]) -> list[dict[str, Any]]:
    return [d for d in case.get("deadlines") or [] if not d.get("met_at") and not d.get("stopped_at")]


def consequences(case: dict[str, Any], events: list[dict[str, Any]], cal: WorkCalendar, lang: str,
                 by: str) -> list[dict[str, Any]]:
    """The events with the deadlines they start and meet appended after each one.

    `case` is the case's fields before the events (for a new case: its intake with kind).
    """
    pending = {d["rule"] for d in open_deadlines(case)}
    out: list[dict[str, Any]] = []
    for event in events:
        at = dt.datetime.fromisoformat(event["at"])
        met = []
        for name in sorted(pending):
            if _matches(RULES[name].met_by, event):
                met.append({"at": event["at"], "by": by, "action": "met", "rule": name,
                            "note": label(lang, "met-by", event=label(lang, f"a:{event['action']}"))})
                pending.discard(name)
        # closing stops every deadline not met, so what it meets is recorded just before it
        out.extend([*met, event] if event["action"] == "close" else [event, *met])
        if event["action"] == "close":
            pending.clear()
        for rule in RULES.values():
            if _applies(rule, case, event):
                start = at
                due = due_from(rule, start, cal)
                why = with_calendar_note(basis(rule, event, start, lang), rule, start, due, cal, lang)
                out.append({"at": event["at"], "by": by, "action": "deadline", "rule": rule.name,
                            "start": stamp(start), "due": stamp(due), "basis": why})
                pending.add(rule.name)
    return out


def deferral(case: dict[str, Any], until: dt.date, reason: str, at: dt.datetime, by: str,
             cal: WorkCalendar, lang: str) -> list[dict[str, Any]]:
    """A deferral at the customer's request: the resolution clock stops until `until`;
    what was left of it runs again from the first office opening that day."""
    events: list[dict[str, Any]] = [{"at": stamp(at), "by": by, "action": "defer", "until": until.isoformat(),
                                     "reason": reason}]
    restart = cal.open_at_or_after(dt.datetime.combine(until, dt.time(0, 0), tzinfo=cal.tz))
    # Deferred again before an earlier deferral ended: its pause is not working time either.
    earlier = case.get("deferred_until")
    resumes = (dt.datetime.combine(dt.date.fromisoformat(str(earlier)), dt.time(0, 0), tzinfo=cal.tz)
               if earlier else None)
    for deadline in open_deadlines(case):
        rule = RULES.get(deadline["rule"])
        if rule is None or not rule.pauses:
            continue
        due = dt.datetime.fromisoformat(deadline["due"])
        # Count what is left from when the clock is really running (a Saturday deferral
        # of a Friday-night case has lost nothing yet; nor has a case still deferred).
        running = cal.open_at_or_after(max(at, resumes) if resumes else at)
        left = max(cal.working_days_between(running.date(), due.astimezone(cal.tz).date()), 0)
        new_due = cal.add_working_days(restart, left)
        note = label(lang, "deferred-basis", since=_when(at), until=until.isoformat(), reason=reason,
                     left=left)
        why = with_calendar_note(f"{deadline['basis']}; {note}", rule, restart, new_due, cal, lang)
        events.append({"at": stamp(at), "by": by, "action": "deadline", "rule": rule.name,
                       "start": deadline["start"], "due": stamp(new_due), "basis": why})
    return events


# --- reading deadlines back ---------------------------------------------------------------

@dataclass(frozen=True)
class DeadlineState:
    rule: str
    due: dt.datetime
    met_at: dt.datetime | None
    basis: str
    stopped: bool = False

    def status(self, now: dt.datetime, case_status: str) -> str:
        """met | late (met after the due time) | overdue | pending | stopped (case closed unmet)."""
        if self.met_at is not None:
            return "met" if self.met_at <= self.due else "late"
        if self.stopped or case_status != "open":
            return "stopped"
        return "overdue" if now > self.due else "pending"


def states(case: dict[str, Any]) -> list[DeadlineState]:
    return [
        DeadlineState(d["rule"], dt.datetime.fromisoformat(d["due"]),
                      dt.datetime.fromisoformat(d["met_at"]) if d.get("met_at") else None, d["basis"],
                      bool(d.get("stopped_at")))
        for d in case.get("deadlines") or []
    ]


def _span(delta: dt.timedelta, lang: str) -> str:
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(label(lang, "span-d", n=days))
    if hours:
        parts.append(label(lang, "span-h", n=hours))
    if mins and not days:
        parts.append(label(lang, "span-m", n=mins))
    return "".join(parts) if lang == "zh" else " ".join(parts) or "0 min"


def explain(deadline: DeadlineState, now: dt.datetime, case_status: str, lang: str) -> str:
    """One line: the rule, when it is due and why, and where it stands."""
    state = deadline.status(now, case_status)
    if state in ("met", "late"):
        assert deadline.met_at is not None
        tail = label(lang, f"dl-{state}", at=_when(deadline.met_at), by=_span(deadline.met_at - deadline.due, lang))
    elif state == "overdue":
        tail = label(lang, "dl-overdue", by=_span(now - deadline.due, lang))
    elif state == "pending":
        tail = label(lang, "dl-pending", left=_span(deadline.due - now, lang))
    else:
        tail = label(lang, "dl-stopped")
    return label(lang, "dl-line", rule=deadline.rule, due=_when(deadline.due), basis=deadline.basis, tail=tail)

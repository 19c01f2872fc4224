"""The office's rules as pure functions: they take a case (and the facts they need)
and return the events to append, or raise RefusedError. No I/O, no clock."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Iterable

from svc.errors import RefusedError
from svc.labels import label
from svc.model import (
    LEVELS,
    REAL_NAME_KINDS,
    SEVERITY_LEVEL,
    Case,
    Holder,
    holder_of,
    level_rank,
    severity_rank,
)
from svc.timeutil import stamp

REPEAT_WINDOW_DAYS = 90


def _days_between(earlier: dt.datetime, later: dt.datetime) -> int:
    """Calendar days from one time to another, counted in the zone of `later`."""
    return (later.date() - earlier.astimezone(later.tzinfo).date()).days

# The real-name rule (实名制): each required field and the option that supplies it.
REAL_NAME_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("complainant", "name", "--complainant"),
    ("complainant", "contact", "--contact"),
    ("accused", "name", "--accused"),
    ("accused", "role", "--accused-role"),
    ("incident", "at", "--incident-at"),
    ("incident", "place", "--incident-place"),
)


@dataclass(frozen=True)
class LadderStep:
    """What an unsatisfied or not-handled follow-up of a given round sets off."""

    round: int
    level: str | None  # the level the case is raised to (never lowered)
    reason: str  # label key
    urging_notice: bool = False
    penalty: str | None = None  # label key, recorded on every failure of this round
    penalty_if_not_handled: str | None = None  # label key, only when the branch did nothing


# DOMAIN.md, "Return visits and follow-ups": rounds after 4 keep the case at legal.
LADDER: dict[int, LadderStep] = {
    1: LadderStep(1, None, "ladder-1", urging_notice=True),
    2: LadderStep(2, "cs-director", "ladder-2", penalty_if_not_handled="ladder-2-penalty"),
    3: LadderStep(3, "center-director", "ladder-3", penalty="ladder-3-penalty"),
    4: LadderStep(4, "legal", "ladder-4"),
}


def event(action: str, at: dt.datetime, by: str, **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"at": stamp(at), "by": by, "action": action}
    out.update({k: v for k, v in fields.items() if v not in (None, "", [])})
    return out


def need_text(value: str | None, option: str) -> str:
    text = (value or "").strip()
    if not text:
        raise RefusedError(f"{option} must not be empty")
    return text


def normalize_phone(phone: str) -> str:
    """The digits that identify a phone, written the way it is dialled inside China:
    +86 138-0013-8000 is 13800138000 and +86 10 6512 3456 is 01065123456."""
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and (len(digits) == 13 or phone.lstrip(" (").startswith("+")):
        digits = digits[2:]
    else:
        return digits
    if not digits.startswith("0") and not (len(digits) == 11 and digits.startswith("1")):
        digits = "0" + digits  # a landline's area code takes its trunk 0 back
    return digits


def check_phone(phone: str, option: str = "--phone") -> str:
    text = phone.strip()
    if not re.fullmatch(r"[0-9+()\- /]+", text) or len(re.sub(r"\D", "", text)) < 3:
        raise RefusedError(f"{option} {phone!r} is not a phone number (digits, spaces, + - ( ) /)")
    return text


# --- opening -----------------------------------------------------------------------------

def missing_real_name(kind: str, fields: dict[str, Any]) -> list[str]:
    if kind not in REAL_NAME_KINDS:
        return []
    return [option for group, key, option in REAL_NAME_FIELDS if not ((fields.get(group) or {}).get(key) or "").strip()]


def find_repeats(phone: str | None, at: dt.datetime, cases: Iterable[Case]) -> list[str]:
    """Complaints from the same phone still open, or closed within the last 90 days:
    calendar days in the zone of `at` (office time), as the office counts them."""
    if not phone:
        return []
    wanted = normalize_phone(phone)
    return repeat_ids(at, (holder_of(case.fields) for case in cases
                           if case.phone and normalize_phone(case.phone) == wanted))


def repeat_ids(at: dt.datetime, holders: Iterable[Holder]) -> list[str]:
    """The rule of `find_repeats` on cases known to have the phone, each given as its
    model.Holder (the index keeps these)."""
    found = []
    for case_id, kind, opened_at, status, closed_at in holders:
        if kind != "complaint" or dt.datetime.fromisoformat(opened_at) > at:
            continue
        closed = dt.datetime.fromisoformat(closed_at) if closed_at else None
        if status == "open" or (closed is not None and _days_between(closed, at) <= REPEAT_WINDOW_DAYS):
            found.append(case_id)
    return sorted(found)


def repeat_horizon(at: dt.datetime) -> float:
    """Seconds since the epoch before which no closing can make a repeat at `at` (the
    90 calendar days, with two days' room for time zones and clock changes)."""
    return at.timestamp() - (REPEAT_WINDOW_DAYS + 2) * 86_400


@dataclass(frozen=True)
class Opening:
    severity: str
    level: str
    reasons: list[str]


def opening(kind: str, fields: dict[str, Any], severity: str | None, repeats: list[str], lang: str) -> Opening:
    """Severity and starting level of a new case, with the reasons; or a refusal."""
    missing = missing_real_name(kind, fields)
    if missing:
        raise RefusedError(
            f"refused: a {kind} must be made in real name (实名制); missing {', '.join(missing)}"
        )
    media = fields.get("media") or {}
    if not media.get("outlet") and any(media.get(k) for k in ("column", "reporter", "reporter_phone")):
        raise RefusedError("--media-column, --reporter and --reporter-phone need --media OUTLET")
    chosen = severity or "general"
    reasons: list[str] = []
    if fields.get("authority"):
        chosen = "major"
        reasons.append(label(lang, "reason-authority", authority=fields["authority"]))
    if media.get("outlet"):
        chosen = "major"
        reasons.append(label(lang, "reason-media", outlet=media["outlet"]))
    if severity and severity_rank(severity) > severity_rank(chosen):
        chosen = severity
    level = SEVERITY_LEVEL[chosen]
    if repeats and kind == "complaint":
        ids = ", ".join(repeats)
        if chosen == "general":
            reasons.append(label(lang, "reason-repeat", ids=ids))
            level = max(level, "cs-director", key=level_rank)
        else:
            reasons.append(label(lang, "reason-repeat-serious", ids=ids))
            level = max(level, "center-director", key=level_rank)
    return Opening(chosen, level, reasons)


# --- changing a case -----------------------------------------------------------------------

def _require_open(case: Case, doing: str) -> None:
    if case.status != "open":
        hint = " (reopen it first)" if case.status == "closed" else ""
        raise RefusedError(f"cannot {doing} {case.id}: it is {case.status}{hint}")


def escalate(case: Case, reason: str, to: str | None, severity: str | None, at: dt.datetime, by: str) -> list[dict[str, Any]]:
    _require_open(case, "escalate")
    reason = need_text(reason, "--reason")
    current = level_rank(case.level)
    if severity and severity_rank(severity) < severity_rank(case.severity):
        raise RefusedError(f"severity is never lowered: {case.id} is {case.severity}, not {severity}")
    if to is None:
        if current + 1 >= len(LEVELS):
            raise RefusedError(f"{case.id} is already at legal, the top of the ladder")
        target = LEVELS[current + 1]
    else:
        target = to
        if level_rank(target) <= current:
            raise RefusedError(f"escalation never lowers or keeps the level: {case.id} is at {case.level}, --to {to} does not go up")
    if severity:
        target = max(target, SEVERITY_LEVEL[severity], key=level_rank)
    new_severity = severity if severity and severity != case.severity else None
    return [event("escalate", at, by, **{"from": case.level, "to": target, "severity": new_severity, "reason": reason})]


def follow_up(case: Case, outcome: str, note: str | None, at: dt.datetime, by: str, lang: str,
              branch_name: str) -> list[dict[str, Any]]:
    """One follow-up call and what the ladder makes of it."""
    _require_open(case, "follow up")
    rnd = case.followup_round + 1
    events = [event("follow-up", at, by, round=rnd, outcome=outcome, note=(note or "").strip() or None)]
    if outcome == "satisfied":
        events.append(event("close", at, by, resolution=label(lang, "closed-by-followup", round=rnd)))
        return events
    said = label(lang, outcome)
    branch = branch_name or label(lang, "the-branch")
    step = LADDER.get(rnd)
    if step is None:
        events.append(event("note", at, by, text=label(lang, "ladder-late", round=rnd, outcome=said)))
        return events
    reason = label(lang, step.reason, outcome=said, branch=branch)
    if step.urging_notice:
        events.append(event("urging-notice", at, by, round=rnd, to=case.branch,
                            text=label(lang, "urging-text", outcome=said, branch=branch)))
    if step.level and level_rank(step.level) > level_rank(case.level):
        events.append(event("escalate", at, by, **{"from": case.level, "to": step.level, "reason": reason}))
    elif step.level:
        events.append(event("note", at, by, text=reason))
    penalty = step.penalty or (step.penalty_if_not_handled if outcome == "not-handled" else None)
    if penalty:
        events.append(event("penalty", at, by, round=rnd, text=label(lang, penalty)))
    return events


def close(case: Case, resolution: str, satisfaction: int | None, at: dt.datetime, by: str) -> list[dict[str, Any]]:
    _require_open(case, "close")
    return [event("close", at, by, resolution=need_text(resolution, "--resolution"), satisfaction=satisfaction)]


def reopen(case: Case, reason: str, at: dt.datetime, by: str) -> list[dict[str, Any]]:
    if case.status != "closed":
        raise RefusedError(f"cannot reopen {case.id}: it is {case.status}" + (
            " and archived cases stay closed" if case.status == "archived" else ""))
    return [event("reopen", at, by, reason=need_text(reason, "--reason"))]


def note(case: Case, text: str, at: dt.datetime, by: str) -> list[dict[str, Any]]:
    return [event("note", at, by, text=need_text(text, "the note"))]


def assign(case: Case, user: str, at: dt.datetime, by: str) -> list[dict[str, Any]]:
    _require_open(case, "assign")
    if case.get("assignee") == user:
        raise RefusedError(f"{case.id} is already assigned to {user}")
    return [event("assign", at, by, to=user)]


def remedy(case: Case, kind: str, detail: str, category: str | None, amount: str | None,
           at: dt.datetime, by: str) -> list[dict[str, Any]]:
    """修则不赔，赔则不修: a case has repair remedies or compensation, never both."""
    _require_open(case, "add a remedy to")
    for existing in case.get("remedies") or []:
        if existing["type"] != kind:
            raise RefusedError(
                f"refused: {case.id} already has a {existing['type']} remedy; repair and compensation "
                "exclude each other (修则不赔，赔则不修)"
            )
    if amount is not None and not re.fullmatch(r"\d+(\.\d{1,2})?", amount.strip()):
        raise RefusedError(f"--amount {amount!r} must be a sum in yuan such as 1200 or 1200.50")
    return [event("remedy", at, by, type=kind, category=category, detail=need_text(detail, "--detail"),
                  amount=amount.strip() if amount else None)]


def link(case: Case, other: str, note_text: str | None, at: dt.datetime, by: str) -> list[dict[str, Any]]:
    if other == case.id:
        raise RefusedError("a case cannot be linked to itself")
    if other in (case.get("links") or []):
        raise RefusedError(f"{case.id} is already linked to {other}")
    return [event("link", at, by, to=other, note=note_text)]


def archivable(case: Case, before: dt.datetime) -> bool:
    closed = case.closed_at
    return case.status == "closed" and closed is not None and closed < before


def archive(case: Case, at: dt.datetime, by: str) -> list[dict[str, Any]]:
    if case.status != "closed":
        raise RefusedError(f"cannot archive {case.id}: it is {case.status}")
    return [event("archive", at, by)]


def not_future(at: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    """When something happened: --at (back-dated entry) or now; never in the future."""
    moment = at or now
    if moment > now:
        raise RefusedError(f"--at {stamp(moment)} is in the future (now is {stamp(now)})")
    return moment


def event_time(case: Case, at: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    """When a new event happened: --at (back-dated entry) or now; never before the last event."""
    moment = not_future(at, now)
    last = case.last_event_at
    if moment < last:
        what = f"--at {stamp(moment)}" if at else f"now ({stamp(moment)}, from SVC_NOW or the clock)"
        raise RefusedError(f"{what} is before the last event of {case.id} ({stamp(last)})")
    return moment


# --- deadlines: meeting them by hand, the branch's notice and feedback, repairs, deferral ------

def met(case: Case, rules: list[str], note_text: str | None, at: dt.datetime, by: str) -> list[dict[str, Any]]:
    """Record that deadlines were met (e.g. the customer was called back)."""
    open_rules = [d["rule"] for d in case.get("deadlines") or [] if not d.get("met_at")]
    unknown = [r for r in rules if r not in open_rules]
    if unknown:
        listed = ", ".join(open_rules) if open_rules else "none"
        raise RefusedError(f"{case.id} has no open deadline {', '.join(unknown)} (open: {listed})")
    return [event("met", at, by, rule=rule, note=(note_text or "").strip() or None) for rule in dict.fromkeys(rules)]


def notify(case: Case, note_text: str | None, at: dt.datetime, by: str) -> list[dict[str, Any]]:
    """The complaint handling notice (客户投诉处理通知单) went to the branch."""
    _require_open(case, "send a notice for")
    if not case.branch:
        raise RefusedError(f"{case.id} has no branch to notify; record the branch when opening the case")
    return [event("notify", at, by, to=case.branch, note=(note_text or "").strip() or None)]


def feedback(case: Case, note_text: str | None, at: dt.datetime, by: str) -> list[dict[str, Any]]:
    """The branch's complaint feedback form (投诉反馈表) came back."""
    _require_open(case, "record feedback on")
    if not any(ev["action"] in ("notify", "letter") for ev in case.history):
        raise RefusedError(f"no handling notice was sent for {case.id}; record it first with: svc notify {case.id}")
    return [event("feedback", at, by, note=(note_text or "").strip() or None)]


def repaired(case: Case, note_text: str | None, at: dt.datetime, by: str) -> list[dict[str, Any]]:
    """The repair is done; the revisit is due 3 days later."""
    _require_open(case, "record a repair on")
    return [event("repaired", at, by, note=(note_text or "").strip() or None)]


def defer(case: Case, until: dt.date, reason: str, at: dt.datetime, by: str, cal: Any, lang: str) -> list[dict[str, Any]]:
    """Defer at the customer's request: the resolution clock stops until `until`."""
    from svc import deadlines

    _require_open(case, "defer")
    reason = need_text(reason, "--reason")
    if until <= at.astimezone(cal.tz).date():
        raise RefusedError(f"--until {until} must be after today ({at.astimezone(cal.tz).date()})")
    return deadlines.deferral(case.fields, until, reason, at, by, cal, lang)

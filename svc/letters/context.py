"""The fields a template can use, built from a case, the office and the letter.

Everything is text, in the letter's language, ready to print: kinds, levels and
outcomes are labels (客户投诉, 客服副总监 ...), times are office time. Confidential
fields go through `render.redacted`, the one place that hides a staff or crew
complainant; a template that prints `complainant.name` prints （保密） unless the
letter was made with --reveal by a director.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from svc.config import Config
from svc.labels import label
from svc.model import Case
from svc.render import event_detail, person, redacted
from svc.letters.templates import wrap
from svc.letters.words import word

MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December")


def long_date(day: dt.date, lang: str) -> str:
    """A date as letters write it: 2026年11月5日 / 5 November 2026."""
    if lang == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"


def _time(stamp: str | None, tz: Any) -> str | None:
    if not stamp:
        return None
    return dt.datetime.fromisoformat(stamp).astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _user(config: Config, user_id: str | None) -> str | None:
    return person(config, user_id) if user_id else None


def display_number(number: str, config: Config, lang: str) -> str:
    """An outgoing number as printed: 京安客服函〔2026〕A001号 / No. BJ01/2026/A001."""
    office, year, seq = number.rsplit("/", 2)
    if lang == "zh":
        return f"{config.letters.code or office}〔{year}〕{seq}号"
    return f"No. {number}" if not config.letters.code else f"No. {config.letters.code}/{year}/{seq}"


def build(case: Case, config: Config, lang: str, reveal: bool, actor_id: str, now: dt.datetime,
          letter: dict[str, Any]) -> dict[str, Any]:
    """The template context: top-level groups are always there (possibly empty), so a
    missing value is reported with its full path (`customer.phone`)."""
    tz = config.tz
    lab = lambda key: label(lang, key)  # noqa: E731
    fields = redacted(case, reveal)
    hidden = lab("hidden")

    person = fields.get("complainant") or {}
    if person.get("hidden"):
        person = {"name": hidden, "contact": hidden}

    branch: dict[str, Any] = {}
    if case.branch:
        known = config.branches.get(case.branch)
        branch = {"code": case.branch, "name": known.name if known else case.branch,
                  "manager": known.manager if known else None}

    followups = [
        {"round": str(ev["round"]), "outcome": lab(ev["outcome"]), "result": ev["outcome"], "at": _time(ev["at"], tz),
         "by": _user(config, ev["by"]), "note": ev.get("note")}
        for ev in case.history if ev["action"] == "follow-up"
    ]
    history = [
        {"at": _time(ev["at"], tz), "by": _user(config, ev["by"]), "action": lab("a:" + ev["action"]),
         "detail": event_detail(ev, lang) or None}
        for ev in case.history if ev["action"] != "deadline"
    ]
    remedies = [
        {"type": lab("repair-remedy") if r["type"] == "repair" else lab("compensation"),
         "category": r.get("category"), "detail": r.get("detail"), "amount": r.get("amount")}
        for r in fields.get("remedies") or []
    ]
    opened = dt.datetime.fromisoformat(fields["opened_at"]).astimezone(tz)
    actor = config.user(actor_id)
    context = {
        "office": {"code": config.office, "name": config.name, "issuing_code": config.letters.code or config.office},
        "user": {"id": actor_id, "name": actor.name if actor else actor_id,
                 "role": lab(actor.role) if actor and actor.role else None},
        "today": long_date(now.date(), lang),
        "letter": letter,
        "case": {
            "id": case.id,
            "kind": lab(case.kind),
            "status": lab(case.status),
            "level": lab(case.level),
            "severity": lab(case.severity),
            "opened_at": opened.strftime("%Y-%m-%d %H:%M"),
            "opened_on": long_date(opened.date(), lang),
            "channel": fields.get("channel"),
            "summary": fields.get("summary"),
            "assignee": _user(config, fields.get("assignee")),
            "followup_round": str(case.followup_round) if case.followup_round else None,
            "repeat_of": ", ".join(fields.get("repeat_of") or []) or None,
            "resolution": fields.get("resolution"),
            "satisfaction": f"{fields['satisfaction']}/5" if fields.get("satisfaction") else None,
            "closed_at": _time(fields.get("closed_at"), tz),
            "authority": fields.get("authority"),
        },
        "customer": fields.get("customer") or {},
        "branch": branch,
        "project": fields.get("project") or {},
        "complainant": person,
        "accused": fields.get("accused") or {},
        "incident": fields.get("incident") or {},
        "media": fields.get("media") or {},
        "remedies": remedies,
        "followups": followups,
        "last_followup": followups[-1] if followups else {},
        "history": history,
    }
    return {key: wrap(key, value) for key, value in context.items()}


def letter_fields(number: str | None, config: Config, lang: str, now: dt.datetime, draft: bool,
                  subject: str | None, body: str | None, recipient: str | None) -> dict[str, Any]:
    paragraphs = [p.strip() for p in (body or "").replace("\r\n", "\n").split("\n") if p.strip()]
    shown = word(lang, "draft-number") if draft or not number else display_number(number, config, lang)
    return {
        "number": shown,
        "register_number": None if draft else number,
        "date": long_date(now.date(), lang),
        "draft": "yes" if draft else None,
        "subject": subject,
        "body": body,
        "paragraphs": paragraphs or None,
        "recipient": recipient,
    }

"""Times in the office's zone. No function here reads the machine's clock or zone:
`now` comes in from the CLI (SVC_NOW or the real clock), the zone from svc.yaml."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from svc.errors import SvcError


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SvcError(f"unknown time zone {name!r} (use an IANA name such as Asia/Shanghai)") from None


def parse_time(text: str, tz: dt.tzinfo, what: str = "time") -> dt.datetime:
    """Parse an ISO 8601 time or date the way offices type them.

    A date alone means the start of that day in the office zone; a time without an
    offset is office time; a time with an offset is converted to office time.
    """
    raw = text.strip()
    try:
        if len(raw) == 10:
            day = dt.date.fromisoformat(raw)
            return dt.datetime.combine(day, dt.time(0, 0), tzinfo=tz)
        value = dt.datetime.fromisoformat(raw.replace(" ", "T", 1))
    except ValueError:
        raise SvcError(
            f"{what} {text!r} is not a time; use ISO 8601 such as 2026-03-01T09:30:00+08:00 or 2026-03-01"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(tz).replace(microsecond=0)


def parse_date(text: str, what: str = "date") -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise SvcError(f"{what} {text!r} is not a date; use YYYY-MM-DD such as 2026-03-01") from None


def stamp(moment: dt.datetime) -> str:
    """The stored form of a time: seconds precision, with its UTC offset."""
    return moment.replace(microsecond=0).isoformat()


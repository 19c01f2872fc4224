"""Times in the office's zone. No function here reads the machine's clock or zone:
`now` comes in from the CLI (SVC_NOW or the real clock), the zone from svc.yaml."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from svc.errors import SvcError, in_chinese


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SvcError(f"unknown time zone {name!r} (use an IANA name such as Asia/Shanghai)") from None


# Every time svc takes in lies in these years: a typo such as 1900 or 1970 (or 2970)
# would file a record under the wrong century, or in a zone's pre-1900 local mean time
# (+08:05:43), which the deadlines, reports and retention cannot use.
FIRST_YEAR, LAST_YEAR = 2000, 2099


def _out_of_range(what: str, text: str) -> SvcError:
    return in_chinese(
        SvcError(f"{what} {text!r} is out of range; use a date in the years {FIRST_YEAR}-{LAST_YEAR}"),
        f"{what} {text!r} 超出范围；请使用 {FIRST_YEAR}–{LAST_YEAR} 年之间的日期")


def parse_time(text: str, tz: dt.tzinfo, what: str = "time") -> dt.datetime:
    """Parse an ISO 8601 time or date the way offices type them.

    A date alone means the start of that day in the office zone; a time without an
    offset is office time; a time with an offset is converted to office time. Years
    outside FIRST_YEAR..LAST_YEAR are refused.
    """
    raw = text.strip()
    try:
        if len(raw) == 10:
            day = dt.date.fromisoformat(raw)
            value = dt.datetime.combine(day, dt.time(0, 0), tzinfo=tz)
        else:
            value = dt.datetime.fromisoformat(raw.replace(" ", "T", 1))
    except ValueError:
        raise in_chinese(
            SvcError(f"{what} {text!r} is not a time; use ISO 8601 such as 2026-03-01T09:30:00+08:00 or 2026-03-01"),
            f"{what} {text!r} 不是时间；请用 ISO 8601 格式，如 2026-03-01T09:30:00+08:00 或 2026-03-01") from None
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise _out_of_range(what, text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    try:
        value = value.astimezone(tz)
    except OverflowError:
        raise _out_of_range(what, text) from None
    if not FIRST_YEAR <= value.year <= LAST_YEAR:  # 2099-12-31T23:00-05:00 is 2100 in Shanghai
        raise _out_of_range(what, text)
    return value.replace(microsecond=0)


def parse_date(text: str, what: str = "date") -> dt.date:
    return _parse_day(text, what, 10, "", ("is not a date; use YYYY-MM-DD such as 2026-03-01",
                                           "不是日期；请用 YYYY-MM-DD 格式，如 2026-03-01"))


def parse_month(text: str, what: str = "--month") -> str:
    """A month typed as YYYY-MM, in range; returned as typed (stripped)."""
    _parse_day(text, what, 7, "-01", ("is not a month; use YYYY-MM such as 2026-10",
                                      "不是月份；请用 YYYY-MM 格式，如 2026-10"))
    return text.strip()


def _parse_day(text: str, what: str, length: int, suffix: str, said: tuple[str, str]) -> dt.date:
    raw = text.strip()
    try:
        if len(raw) != length:  # fromisoformat also takes 20261101 and 2026-W44-1
            raise ValueError
        day = dt.date.fromisoformat(raw + suffix)
    except ValueError:
        raise in_chinese(SvcError(f"{what} {text!r} {said[0]}"), f"{what} {text!r} {said[1]}") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise _out_of_range(what, text)
    return day


def stamp(moment: dt.datetime) -> str:
    """The stored form of a time: seconds precision, with its UTC offset."""
    return moment.replace(microsecond=0).isoformat()


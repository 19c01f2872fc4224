"""The office's working calendar: which days are worked, the office hours, public holidays
and make-up working days (调休), and the date arithmetic deadlines are made of.

Everything here is pure: no function reads the machine's clock or zone. Times come in
aware and go out in the office zone; a naive time is refused, because interpreting it
would silently depend on the machine's TZ.

The mainland China official calendar ships as data (`svc/data/calendar-cn.yaml`, one block
per year with the State Council notice it comes from). It is read only when a command
first needs the calendar, and then cached, so `svc --help` never touches it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable, Iterator, Mapping
from zoneinfo import ZoneInfo

from svc import schema as s
from svc.errors import SvcError

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index + 1 = ISO weekday
OFFICIALS: tuple[str, ...] = ("cn", "none")
DEFAULT_WORKDAYS: frozenset[int] = frozenset({1, 2, 3, 4, 5})
DEFAULT_OPENS = dt.time(9, 0)
DEFAULT_CLOSES = dt.time(18, 0)

# A range longer than a year is almost certainly a typo (2072 for 2027), not a closure.
MAX_RANGE_DAYS = 366

# The holidays 《全国年节及纪念日放假办法》 fixes on Gregorian dates, by the first year each
# version was in force (1999; the 2007 revision from 2008; the 2024 revision from 2025).
# In a year the official calendar does not cover, these are still days off: the law fixes
# them whatever the State Council's notice later adds. The lunar-calendar holidays (春节,
# 清明, 端午, 中秋) and the make-up working days are not guessed.
STATUTORY_FIXED: tuple[tuple[int, frozenset[tuple[int, int]]], ...] = (
    (2025, frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})),  # 元旦1天 劳动节2天 国庆节3天
    (2008, frozenset({(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)})),  # 元旦1天 劳动节1天 国庆节3天
    (1, frozenset({(1, 1), (5, 1), (5, 2), (5, 3), (10, 1), (10, 2), (10, 3)})),  # 1999: 劳动节3天
)
# Which official calendars have fixed-date holidays by law (the shipped data's country).
_FIXED_BY_LAW = {"cn": STATUTORY_FIXED}


def _fixed_by_law(table: tuple[tuple[int, frozenset[tuple[int, int]]], ...], day: dt.date) -> bool:
    """`day` is a holiday the law fixes on its Gregorian date, in the version then in force."""
    for since, days in table:
        if day.year >= since:
            return (day.month, day.day) in days
    return False


_HHMM = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")
_YEAR = re.compile(r"^(19|20|21)[0-9]{2}$")


# --- the calendar ------------------------------------------------------------------------------

@dataclass(frozen=True)
class WorkCalendar:
    """Working days and office hours of one office, in its zone.

    `holidays` and `makeup_workdays` are already merged (official data, then the office's
    own days on top), so they never share a day. Office hours are the half-open span
    [opens, closes): at exactly `closes` the office is shut.
    """

    workdays: frozenset[int] = DEFAULT_WORKDAYS
    opens: dt.time = DEFAULT_OPENS
    closes: dt.time = DEFAULT_CLOSES
    holidays: frozenset[dt.date] = frozenset()
    makeup_workdays: frozenset[dt.date] = frozenset()
    tz: dt.tzinfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    # Years whose official holidays and make-up days are in the data (shipped or the
    # office's own `calendar.years`); any other year is computed as ordinary weeks.
    known_years: frozenset[int] = frozenset()
    # (year, notice) for each known year, oldest first: what a listing can cite.
    sources: tuple[tuple[int, str], ...] = ()
    # The holidays fixed by law on Gregorian dates (STATUTORY_FIXED), kept as days off in a
    # year not in `known_years`; empty for an office with no official calendar.
    statutory: tuple[tuple[int, frozenset[tuple[int, int]]], ...] = ()

    def __post_init__(self) -> None:
        # A calendar with no working weekday would make every search for the next workday
        # endless; an inverted day would make every deadline fall outside office hours.
        if not self.workdays or not self.workdays <= frozenset(range(1, 8)):
            raise ValueError("workdays must be a non-empty set of ISO weekday numbers 1..7")
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("opens and closes are office wall-clock times, without a zone")
        if not self.opens < self.closes:
            raise ValueError(f"office hours must close after they open ({self.opens} - {self.closes})")
        both = self.holidays & self.makeup_workdays
        if both:
            raise ValueError(f"{min(both)} is both a holiday and a make-up working day")

    # - days -

    def is_workday(self, day: dt.date) -> bool:
        if isinstance(day, dt.datetime):  # a datetime is a date too; its day is the office's
            day = self._local(day).date()
        if day in self.holidays:
            return False
        if day in self.makeup_workdays:
            return True
        if self.statutory and day.year not in self.known_years and _fixed_by_law(self.statutory, day):
            return False  # a year whose notice is not in: the law's fixed days are still off
        return day.isoweekday() in self.workdays

    def next_workday(self, day: dt.date) -> dt.date:
        """The first working day strictly after `day`."""
        day += dt.timedelta(days=1)
        while not self.is_workday(day):
            day += dt.timedelta(days=1)
        return day

    def workdays_in(self, start: dt.date, end: dt.date) -> Iterator[dt.date]:
        """The working days in [start, end], in order."""
        day = start
        while day <= end:
            if self.is_workday(day):
                yield day
            day += dt.timedelta(days=1)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(1 for _ in self.workdays_in(start + dt.timedelta(days=1), end))

    def covers(self, year: int) -> bool:
        """Whether the official holidays of `year` are known (else it counts as ordinary
        weeks, with only the holidays the law fixes on Gregorian dates off)."""
        return year in self.known_years

    def uncovered_years(self, first: dt.date, last: dt.date) -> list[int]:
        """The years from `first` to `last` (inclusive) whose official arrangement is not
        known, for a calendar that has one (an office with `official: none` has no gaps)."""
        if not self.statutory:
            return []
        low, high = sorted((first.year, last.year))
        return [year for year in range(low, high + 1) if year not in self.known_years]

    # - moments -

    def is_open(self, moment: dt.datetime) -> bool:
        """Inside office hours on a working day (office time)."""
        local = self._local(moment)
        return self.is_workday(local.date()) and self.opens <= local.time() < self.closes

    def open_at_or_after(self, moment: dt.datetime) -> dt.datetime:
        """`moment` itself if the office is open then, else the next opening; office time."""
        local = self._local(moment)
        day, clock = local.date(), local.time()
        if self.is_workday(day):
            if clock < self.opens:
                return self._at(day, self.opens)
            if clock < self.closes:
                return local
        return self._at(self.next_workday(day), self.opens)

    def add_working_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """When "within N working days" of `start` ends.

        The clock starts at the first moment the office is open (`open_at_or_after`), then
        moves N working days forward keeping that clock time: Friday 20:00 + 3 is Thursday
        09:00 (Monday's opening + 3), Monday 10:00 + 3 is Thursday 10:00. Holidays do not
        count and make-up working days do. 0 days is the opening itself.
        """
        if days < 0:
            raise ValueError(f"days must be 0 or more, not {days}")
        begin = self.open_at_or_after(start)
        day = begin.date()
        for _ in range(days):
            day = self.next_workday(day)
        return self._at(day, begin.time())

    def add_calendar_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """The same office wall-clock time `days` calendar days later (safe across DST:
        built from the local date and time, then given the zone's offset for that day)."""
        local = self._local(start)
        return self._at(local.date() + dt.timedelta(days=days), local.time())

    def add_clock(self, start: dt.datetime, delta: dt.timedelta) -> dt.datetime:
        """Elapsed time (minutes, hours), counted in UTC so a DST change cannot stretch it."""
        self._require_aware(start)
        return (start.astimezone(dt.timezone.utc) + delta).astimezone(self.tz)

    # - helpers -

    def _local(self, moment: dt.datetime) -> dt.datetime:
        self._require_aware(moment)
        return moment.astimezone(self.tz)

    @staticmethod
    def _require_aware(moment: dt.datetime) -> None:
        if moment.tzinfo is None or moment.utcoffset() is None:
            # astimezone() would read a naive time as the machine's local time
            raise ValueError(f"{moment.isoformat()} has no UTC offset; pass an aware time")

    def _at(self, day: dt.date, clock: dt.time) -> dt.datetime:
        """`clock` on `day` in the office zone. A wall time skipped by a DST jump is moved
        forward past the gap (round trip through UTC), as a wall clock would show it."""
        moment = dt.datetime.combine(day, clock, tzinfo=self.tz)
        return moment.astimezone(dt.timezone.utc).astimezone(self.tz)


# --- saying what the calendar does not know ------------------------------------------------------

WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "this-year": "工作日历没有{year}年的官方放假安排（已收录{first}–{last}年），按工作日计的时限只把元旦、"
                     "劳动节、国庆节等法定固定日期的节假日算作休息日；请在 svc.yaml 的 calendar.years 下加入该年（见 README）",
        "next-year": "工作日历还没有{year}年的官方放假安排（国务院办公厅通常在10月至11月公布）；"
                     "公布后请在 svc.yaml 的 calendar.years 下加入（见 README）",
        "uncovered": "{years}年的官方放假安排尚未收录，只按元旦、劳动节、国庆节等法定固定日期的节假日计休",
        "sep": "；", "and": "、",
    },
    "en": {
        "this-year": "the working calendar has no official holidays for {year} (it knows {first}-{last}); "
                     "working-day deadlines count only the holidays fixed by law (New Year's Day, Labour Day, "
                     "National Day) as days off. Add the year under calendar.years in svc.yaml (see the README)",
        "next-year": "the working calendar has no official holidays for {year} yet (the State Council usually "
                     "publishes them in October or November); add the year under calendar.years in svc.yaml "
                     "once it is out (see the README)",
        "uncovered": "{years}'s official holiday arrangement is not yet known: only the holidays fixed by law "
                     "(New Year's Day, Labour Day, National Day) are counted as days off",
        "sep": "; ", "and": ", ",
    },
}
# From this month of the year (office time), a missing next year is warned about.
WARN_AHEAD_FROM_MONTH = 10


def words(lang: str, key: str, **values: Any) -> str:
    text = WORDS.get(lang, WORDS["zh"])[key]
    return text.format(**values) if values else text


def coverage_warnings(cal: WorkCalendar, now: dt.datetime, lang: str) -> list[str]:
    """What `svc check` and `svc due` warn about: this year's official holidays missing, and
    from October next year's. Warnings, not problems: the records are fine; the calendar
    needs its new year. An office with no official calendar is never warned."""
    if not cal.known_years:
        return []
    local = cal._local(now)
    out = []
    if not cal.covers(local.year):
        out.append(words(lang, "this-year", year=local.year, first=min(cal.known_years), last=max(cal.known_years)))
    if local.month >= WARN_AHEAD_FROM_MONTH and not cal.covers(local.year + 1):
        out.append(words(lang, "next-year", year=local.year + 1))
    return out


def uncovered_note(cal: WorkCalendar, start: dt.datetime, end: dt.datetime, lang: str) -> str | None:
    """A sentence for a working-day count from `start` to `end` through a year whose official
    arrangement is not known (None when every year is known)."""
    years = cal.uncovered_years(cal._local(start).date(), cal._local(end).date())
    if not years:
        return None
    return words(lang, "uncovered", years=words(lang, "and").join(map(str, years)))


# --- the svc.yaml section and the shipped data -------------------------------------------------

class _BadRange(ValueError):
    """Two good dates that do not make a range; the reason is worth telling the office."""


def _parse_day_or_range(text: str) -> tuple[dt.date, dt.date]:
    """'2027-01-01' or '2027-02-10..2027-02-16' (inclusive) -> (first, last); ValueError if bad."""
    first_text, sep, last_text = text.strip().partition("..")
    first = _strict_date(first_text)
    last = _strict_date(last_text) if sep else first
    if last < first:
        raise _BadRange("it ends before it starts")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise _BadRange(f"it is longer than {MAX_RANGE_DAYS} days")
    return first, last


def _strict_date(text: str) -> dt.date:
    text = text.strip()
    if len(text) != 10:  # fromisoformat also takes 20270101, which no office writes on purpose
        raise ValueError("not YYYY-MM-DD")
    return dt.date.fromisoformat(text)


def _check_day_or_range(value: Any) -> str | None:
    try:
        _parse_day_or_range(str(value))
    except ValueError as exc:
        reason = f": {exc}" if isinstance(exc, _BadRange) else ""
        return (f"must be a date such as 2027-01-01 or a range such as 2027-02-10..2027-02-16,"
                f" not {str(value)!r}{reason}")
    return None


def _check_hhmm(value: Any) -> str | None:
    return None if _HHMM.match(str(value)) else f"must be a time of day such as 09:00, not {str(value)!r}"


def _days(items: Iterable[Any]) -> frozenset[dt.date]:
    out: set[dt.date] = set()
    for item in items:
        first, last = _parse_day_or_range(str(item))
        out.update(first + dt.timedelta(days=i) for i in range((last - first).days + 1))
    return frozenset(out)


# Every list item is required: an empty `- ` line is a mistake, not "no day".
_DAY_OR_RANGE = s.text(True, check=_check_day_or_range)

YEAR_SPEC = s.mapping(
    {
        "notice": s.text(),  # the notice's title (and number), so anyone can find it
        "published": s.date(),
        "source": s.text(),  # where it was read, e.g. the www.gov.cn page
        "holidays": s.seq(_DAY_OR_RANGE),
        "makeup_workdays": s.seq(_DAY_OR_RANGE),
    }
)

CALENDAR_SPEC = s.mapping(
    {
        "official": s.enum(OFFICIALS),
        "workdays": s.seq(s.enum(WEEKDAYS, True)),
        "hours": s.seq(s.text(True, check=_check_hhmm)),
        "holidays": s.seq(_DAY_OR_RANGE),
        "makeup_workdays": s.seq(_DAY_OR_RANGE),
        "years": s.keyed(YEAR_SPEC),
    }
)


@dataclass(frozen=True)
class OfficialYear:
    """One year of an official calendar: the notice and the days it sets."""

    year: int
    notice: str
    holidays: frozenset[dt.date]
    makeup_workdays: frozenset[dt.date]
    source: str = ""


@dataclass(frozen=True)
class CalendarSettings:
    """The validated `calendar:` section of svc.yaml (cheap: no data file is read)."""

    official: str = "cn"
    workdays: frozenset[int] = DEFAULT_WORKDAYS
    opens: dt.time = DEFAULT_OPENS
    closes: dt.time = DEFAULT_CLOSES
    holidays: frozenset[dt.date] = frozenset()
    makeup_workdays: frozenset[dt.date] = frozenset()
    years: tuple[OfficialYear, ...] = field(default=())  # the office's own official-year blocks


def _overlap_problems(block: Any, path: str, where: str) -> list[s.Problem]:
    """A day both off and worked is a contradiction a reader cannot settle."""
    holidays = _days(block.get("holidays") or [])
    problems: list[s.Problem] = []
    for i, item in enumerate(block.get("makeup_workdays") or []):
        clash = sorted(_days([item]) & holidays)
        if clash:
            problems.append(s.Problem(path, s.line_of(block["makeup_workdays"], i),
                                      f"{where}.makeup_workdays[{i + 1}] {clash[0]} is also listed in {where}.holidays"))
    return problems


def check_calendar(node: Any, path: str, where: str = "calendar") -> list[s.Problem]:
    """Every problem of a `calendar:` section (schema first, then what the schema cannot say)."""
    problems = s.validate(node, CALENDAR_SPEC, path, where, None, None) if node is not None else []
    if problems or not isinstance(node, dict):
        return problems
    workdays = node.get("workdays")
    if workdays is not None:
        if not workdays:
            problems.append(s.Problem(path, s.line_of(node, "workdays"), f"{where}.workdays must name at least one day"))
        seen: set[str] = set()
        for i, name in enumerate(workdays):
            if name in seen:
                problems.append(s.Problem(path, s.line_of(workdays, i), f"{where}.workdays lists {name} twice"))
            seen.add(name)
    hours = node.get("hours")
    if hours is not None:
        if len(hours) != 2:
            problems.append(s.Problem(path, s.line_of(node, "hours"),
                                      f"{where}.hours must be two times, opening and closing, such as ['09:00', '18:00']"))
        elif _hhmm(hours[1]) <= _hhmm(hours[0]):
            problems.append(s.Problem(path, s.line_of(node, "hours"),
                                      f"{where}.hours closes at {hours[1]}, not after it opens at {hours[0]}"))
    problems += _overlap_problems(node, path, where)
    for key, block in (node.get("years") or {}).items():
        if not _YEAR.match(str(key)):
            problems.append(s.Problem(path, s.line_of(node["years"], key),
                                      f"{where}.years: {key!r} is not a year such as 2027"))
        elif isinstance(block, dict):
            problems += _overlap_problems(block, path, f"{where}.years.{key}")
    return problems


def _hhmm(text: Any) -> dt.time:
    match = _HHMM.match(str(text))
    assert match is not None  # checked by the schema
    return dt.time(int(match.group(1)), int(match.group(2)))


def _official_year(year: Any, block: Mapping[str, Any]) -> OfficialYear:
    return OfficialYear(
        year=int(str(year)),
        notice=str(block.get("notice") or ""),
        holidays=_days(block.get("holidays") or []),
        makeup_workdays=_days(block.get("makeup_workdays") or []),
        source=str(block.get("source") or ""),
    )


def calendar_settings(node: Any) -> CalendarSettings:
    """Settings from a `calendar:` section that `check_calendar` found clean (None: defaults)."""
    if not node:
        return CalendarSettings()
    hours = node.get("hours")
    workdays = node.get("workdays")
    return CalendarSettings(
        official=str(node.get("official") or "cn"),
        workdays=frozenset(WEEKDAYS.index(str(d)) + 1 for d in workdays) if workdays else DEFAULT_WORKDAYS,
        opens=_hhmm(hours[0]) if hours else DEFAULT_OPENS,
        closes=_hhmm(hours[1]) if hours else DEFAULT_CLOSES,
        holidays=_days(node.get("holidays") or []),
        makeup_workdays=_days(node.get("makeup_workdays") or []),
        years=tuple(sorted((_official_year(y, b or {}) for y, b in (node.get("years") or {}).items()),
                           key=lambda o: o.year)),
    )


def official_data_name(official: str) -> str:
    return f"calendar-{official}.yaml"


@lru_cache(maxsize=None)
def official_years(official: str, cache_dir: str | None = None) -> tuple[OfficialYear, ...]:
    """The shipped official calendar `official` (e.g. 'cn'), read once per process; kept
    parsed in `cache_dir` (a store's .svc/, svc/filecache.py) when given."""
    if official == "none":
        return ()
    node = _official_node(official, cache_dir)
    return tuple(sorted((_official_year(y, b) for y, b in node.items()), key=lambda o: o.year))


def _official_node(official: str, cache_dir: str | None) -> dict[str, Any]:
    from svc import filecache

    name = official_data_name(official)
    shown = f"svc/data/{name}"
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", name)
    stamp = filecache.stamp_of(path)
    cache = os.path.join(cache_dir, f"{name}.marshal") if cache_dir and stamp is not None else None
    if cache is not None:
        kept = filecache.cached(cache, stamp)
        if isinstance(kept, dict):
            return kept
    try:
        with open(path, encoding="utf-8") as handle:  # the file whose stamp keys the cache
            text = handle.read()
    except OSError:
        raise SvcError(f"{shown}: the official calendar {official!r} is missing from this installation of svc") from None
    from svc import yamlio

    node = yamlio.loads_fast(text, shown)
    if not isinstance(node, dict):
        raise SvcError(f"{shown}: the shipped calendar is damaged: expected one block per year")
    problems = s.validate(node, s.keyed(YEAR_SPEC), shown, "years", None, None)
    for key, block in node.items():
        if not _YEAR.match(str(key)):
            problems.append(s.Problem(shown, None, f"{key!r} is not a year such as 2027"))
        elif isinstance(block, dict):
            problems += _overlap_problems(block, shown, str(key))
    if problems:
        raise SvcError(f"the shipped calendar is damaged: {problems[0]}")
    if cache is not None and stamp is not None:
        blob = filecache.dumps(stamp, node)
        if blob is not None:
            filecache.keep(cache, stamp, blob)
    return node


def load_calendar(settings: CalendarSettings | Mapping[str, Any] | None = None,
                  tz: dt.tzinfo | str = "Asia/Shanghai", cache_dir: str | None = None) -> WorkCalendar:
    """Build the office's calendar: the shipped official years (unless `official: none`),
    replaced year by year by the office's own `years:` blocks, then the office's own
    holidays and make-up days on top (the office wins where they disagree).

    `settings` is CalendarSettings, or a raw `calendar:` mapping (validated here), or None
    for the defaults. `tz` is a tzinfo or an IANA name. `cache_dir`: see official_years.
    """
    if settings is None or not isinstance(settings, CalendarSettings):
        problems = check_calendar(settings, "calendar")
        if problems:
            raise SvcError(str(problems[0]))
        settings = calendar_settings(settings)
    if isinstance(tz, str):
        from svc.timeutil import zone

        tz = zone(tz)
    return _build(settings, tz, cache_dir)


@lru_cache(maxsize=32)
def _build(settings: CalendarSettings, tz: dt.tzinfo, cache_dir: str | None) -> WorkCalendar:
    years = {o.year: o for o in official_years(settings.official, cache_dir)}
    years.update({o.year: o for o in settings.years})
    official_off: set[dt.date] = set()
    official_on: set[dt.date] = set()
    for block in years.values():
        official_off |= block.holidays
        official_on |= block.makeup_workdays
    # The office's own days override the official ones in both directions: a 24-hour
    # hotline may work an official holiday, a small office may close on a make-up Saturday.
    holidays = (official_off - settings.makeup_workdays) | settings.holidays
    makeup = (official_on - settings.holidays) | settings.makeup_workdays
    return WorkCalendar(
        workdays=settings.workdays,
        opens=settings.opens,
        closes=settings.closes,
        holidays=frozenset(holidays),
        makeup_workdays=frozenset(makeup - holidays),
        tz=tz,
        known_years=frozenset(years),
        sources=tuple((y, years[y].notice or years[y].source) for y in sorted(years)),
        statutory=_FIXED_BY_LAW.get(settings.official, ()),
    )


__all__ = [
    "CALENDAR_SPEC", "CalendarSettings", "OfficialYear", "WEEKDAYS", "WorkCalendar", "calendar_settings",
    "check_calendar", "coverage_warnings", "load_calendar", "official_years", "uncovered_note",
]

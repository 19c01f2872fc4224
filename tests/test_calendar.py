"""The working calendar: working days, office hours, holidays and make-up working days (调休).

Core tests against the shipped mainland China calendar (the State Council notices), an
office's own `calendar:` section in svc.yaml, property tests of the working-day arithmetic,
and proof that the machine's TZ never enters a result."""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svc import schema as s
from svc import yamlio
from svc.calendar import (
    YEAR_SPEC,
    WorkCalendar,
    calendar_settings,
    check_calendar,
    load_calendar,
    official_years,
)
from svc.config import parse_config
from svc.errors import RecordError, SvcError
from tests.conftest import SVC_YAML, Svc

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "svc" / "data" / "calendar-cn.yaml"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")

CN = load_calendar(None, SHANGHAI)  # the default: shipped official calendar, Mon-Fri 09:00-18:00
NONE = load_calendar({"official": "none"}, SHANGHAI)
SATURDAYS = load_calendar({"workdays": ["mon", "tue", "wed", "thu", "fri", "sat"]}, SHANGHAI)


def at(text: str, tz: dt.tzinfo = SHANGHAI) -> dt.datetime:
    """An office time written the way people say it: '2026-02-13 20:00'."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=tz)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# --- the shipped official calendar ----------------------------------------------------------------

def test_shipped_calendar_reads_strictly_and_covers_the_verified_years() -> None:
    node = yamlio.loads(DATA.read_text(encoding="utf-8"), str(DATA))  # ruamel: exact lines on any problem
    assert s.validate(node, s.keyed(YEAR_SPEC), str(DATA), "years", None, None) == []
    assert sorted(CN.known_years) == [2021, 2022, 2023, 2024, 2025, 2026]
    for year, block in node.items():
        # every block says where it comes from, so a reader can check it against the notice
        assert f"{year}年部分节假日安排的通知" in block["notice"]
        assert block["source"].startswith("https://www.gov.cn/")
        assert block["published"] < f"{year}-01-01"
    assert [y for y, _ in CN.sources] == sorted(CN.known_years)
    assert CN.covers(2026) and not CN.covers(2027) and not CN.covers(2020)


def test_shipped_make_up_days_are_weekend_days_and_never_holidays() -> None:
    for block in official_years("cn"):
        assert block.makeup_workdays, block.year
        for day in block.makeup_workdays:
            assert day.isoweekday() in (6, 7), f"{day} ({block.year}) is a make-up day but not a weekend day"
        assert not block.makeup_workdays & block.holidays
        # a notice's days sit in its year, except a New Year holiday starting the Saturday before
        for day in block.holidays | block.makeup_workdays:
            assert day.year == block.year or (day.month, day.day) == (12, 31), day
    assert not CN.holidays & CN.makeup_workdays


# (first day, last day, days off as the notice counts them, make-up days) straight from the notices
NOTICE_FACTS = [
    # 2024: 国办发明电〔2023〕7号
    ("2024-02-10", "2024-02-17", 8, ["2024-02-04", "2024-02-18"]),       # 春节
    ("2024-04-04", "2024-04-06", 3, ["2024-04-07"]),                      # 清明节
    ("2024-05-01", "2024-05-05", 5, ["2024-04-28", "2024-05-11"]),       # 劳动节
    ("2024-09-15", "2024-09-17", 3, ["2024-09-14"]),                      # 中秋节
    ("2024-10-01", "2024-10-07", 7, ["2024-09-29", "2024-10-12"]),       # 国庆节
    # 2025: 国办发明电〔2024〕12号
    ("2025-01-28", "2025-02-04", 8, ["2025-01-26", "2025-02-08"]),       # 春节
    ("2025-10-01", "2025-10-08", 8, ["2025-09-28", "2025-10-11"]),       # 国庆节、中秋节
    # 2026: 国办发明电〔2025〕7号
    ("2026-01-01", "2026-01-03", 3, ["2026-01-04"]),                      # 元旦
    ("2026-02-15", "2026-02-23", 9, ["2026-02-14", "2026-02-28"]),       # 春节
    ("2026-05-01", "2026-05-05", 5, ["2026-05-09"]),                      # 劳动节
    ("2026-10-01", "2026-10-07", 7, ["2026-09-20", "2026-10-10"]),       # 国庆节
]


@pytest.mark.parametrize("first, last, count, makeup", NOTICE_FACTS)
def test_holiday_periods_match_the_notices(first: str, last: str, count: int, makeup: list[str]) -> None:
    days = [d(first) + dt.timedelta(days=i) for i in range((d(last) - d(first)).days + 1)]
    assert len(days) == count
    assert all(day in CN.holidays and not CN.is_workday(day) for day in days)
    for day in makeup:
        assert d(day).isoweekday() in (6, 7) and CN.is_workday(d(day)), day


def test_2024_new_years_eve_was_only_encouraged_not_a_holiday() -> None:
    # 鼓励各单位……安排职工在除夕（2月9日）休息: officially a working Friday
    assert CN.is_workday(d("2024-02-09"))
    office = load_calendar({"holidays": ["2024-02-09"]}, SHANGHAI)  # an office that gives it
    assert not office.is_workday(d("2024-02-09"))


def test_a_year_outside_the_data_is_ordinary_weeks_but_for_the_laws_fixed_dates() -> None:
    # 2027's notice is not out yet: its weeks are ordinary, but New Year's Day (a Friday),
    # 1-2 May and 1-3 October are fixed by 《全国年节及纪念日放假办法》 and stay off
    assert not CN.covers(2027)
    assert not CN.is_workday(d("2027-01-01"))
    assert CN.add_working_days(at("2026-12-31 10:00"), 1) == at("2027-01-04 10:00")
    assert [CN.is_workday(d(f"2027-{day}")) for day in ("04-30", "05-03", "05-04", "09-30", "10-04", "10-08")] == [
        True, True, True, True, True, True]  # the days around them are ordinary weekdays
    assert not CN.is_workday(d("2027-10-01")) and not CN.is_workday(d("2027-05-01"))
    # no lunar holiday is guessed: the 2027 Spring Festival's days are working days until the notice
    assert CN.is_workday(d("2027-02-08")) and CN.is_workday(d("2027-02-09"))
    # the version of the law in force: 2008-2024 gave 劳动节 one day, 1999-2007 three
    assert CN.is_workday(d("2020-01-02")) and not CN.is_workday(d("2020-01-04"))
    assert not CN.is_workday(d("2020-01-01")) and not CN.is_workday(d("2020-05-01"))
    assert CN.is_workday(d("2019-05-02"))  # a Thursday: one day in 2019
    assert not CN.is_workday(d("2007-05-02")) and not CN.is_workday(d("2007-05-03"))
    assert not CN.is_workday(d("2031-05-02"))  # a Friday in a year after the 2024 revision
    # an office with no official calendar keeps plain weeks
    assert NONE.is_workday(d("2027-01-01"))


def test_the_office_can_work_a_fixed_holiday_of_an_uncovered_year() -> None:
    hotline = load_calendar({"makeup_workdays": ["2027-01-01"]}, SHANGHAI)
    assert hotline.is_workday(d("2027-01-01")) and not hotline.is_workday(d("2027-10-01"))


# --- days -----------------------------------------------------------------------------------------

def test_weekends_and_next_workday() -> None:
    assert CN.is_workday(d("2026-11-06")) and not CN.is_workday(d("2026-11-07"))
    assert not CN.is_workday(d("2026-11-08"))
    assert CN.next_workday(d("2026-11-06")) == d("2026-11-09")  # Friday -> Monday
    assert CN.next_workday(d("2026-11-07")) == d("2026-11-09")
    assert CN.next_workday(d("2026-11-09")) == d("2026-11-10")  # strictly after


def test_2024_spring_festival_week_with_its_make_up_sundays() -> None:
    assert CN.is_workday(d("2024-02-04"))  # Sunday, make-up
    assert not CN.is_workday(d("2024-02-03"))  # the Saturday before stays off
    assert CN.next_workday(d("2024-02-09")) == d("2024-02-18")  # 除夕 -> the make-up Sunday
    assert CN.add_working_days(at("2024-02-08 10:00"), 1) == at("2024-02-09 10:00")
    assert CN.add_working_days(at("2024-02-08 10:00"), 2) == at("2024-02-18 10:00")
    assert CN.add_working_days(at("2024-02-08 10:00"), 3) == at("2024-02-19 10:00")
    # February 2024: 21 weekdays, minus the 5 weekdays of the festival, plus 2 make-up Sundays
    assert CN.working_days_between(d("2024-01-31"), d("2024-02-29")) == 18


def test_2026_spring_festival_nine_days_with_two_make_up_saturdays() -> None:
    friday = at("2026-02-13 10:00")
    assert CN.add_working_days(friday, 1) == at("2026-02-14 10:00")  # make-up Saturday counts
    assert CN.add_working_days(friday, 2) == at("2026-02-24 10:00")  # nine days off skipped
    assert CN.add_working_days(friday, 3) == at("2026-02-25 10:00")
    # Friday evening: the clock starts at the make-up Saturday's opening
    assert CN.open_at_or_after(at("2026-02-13 20:00")) == at("2026-02-14 09:00")
    assert CN.add_working_days(at("2026-02-13 20:00"), 1) == at("2026-02-24 09:00")
    # a complaint on a Saturday of the holiday: the clock starts at Tuesday's opening
    assert CN.add_working_days(at("2026-02-21 11:00"), 0) == at("2026-02-24 09:00")
    assert CN.add_working_days(at("2026-02-21 11:00"), 3) == at("2026-02-27 09:00")
    assert CN.add_working_days(at("2026-02-27 10:00"), 1) == at("2026-02-28 10:00")  # second make-up Saturday
    assert CN.working_days_between(d("2026-02-13"), d("2026-02-28")) == 6


def test_national_day_weeks() -> None:
    assert CN.add_working_days(at("2024-09-30 10:00"), 1) == at("2024-10-08 10:00")
    assert CN.add_working_days(at("2025-09-30 10:00"), 1) == at("2025-10-09 10:00")  # 8 days with 中秋
    assert CN.add_working_days(at("2025-09-26 10:00"), 1) == at("2025-09-28 10:00")  # make-up Sunday
    assert CN.add_working_days(at("2026-09-30 10:00"), 1) == at("2026-10-08 10:00")
    assert CN.add_working_days(at("2026-10-09 10:00"), 1) == at("2026-10-10 10:00")  # make-up Saturday
    assert CN.add_working_days(at("2026-09-18 17:00"), 1) == at("2026-09-20 17:00")  # make-up Sunday
    assert CN.add_working_days(at("2026-09-24 10:00"), 1) == at("2026-09-28 10:00")  # 中秋 Fri-Sun


def test_month_and_year_ends() -> None:
    assert CN.add_working_days(at("2026-01-30 17:00"), 1) == at("2026-02-02 17:00")
    assert CN.add_working_days(at("2026-04-30 10:00"), 1) == at("2026-05-06 10:00")  # into Labour Day
    assert CN.add_working_days(at("2025-12-31 10:00"), 1) == at("2026-01-04 10:00")  # make-up Sunday
    assert CN.add_calendar_days(at("2026-01-31 23:30"), 1) == at("2026-02-01 23:30")
    assert CN.add_calendar_days(at("2026-12-31 08:00"), 1) == at("2027-01-01 08:00")
    assert CN.working_days_between(d("2026-11-30"), d("2026-12-01")) == 1


def test_leap_day() -> None:
    assert CN.is_workday(d("2024-02-29"))
    assert CN.add_working_days(at("2024-02-28 10:00"), 1) == at("2024-02-29 10:00")
    assert CN.add_working_days(at("2024-02-28 10:00"), 2) == at("2024-03-01 10:00")
    assert CN.add_calendar_days(at("2024-02-28 10:00"), 1) == at("2024-02-29 10:00")
    assert CN.add_calendar_days(at("2024-02-29 10:00"), 1) == at("2024-03-01 10:00")
    assert CN.add_calendar_days(at("2024-02-29 10:00"), 365) == at("2025-02-28 10:00")
    assert CN.add_calendar_days(at("2023-02-28 10:00"), 1) == at("2023-03-01 10:00")
    assert CN.add_clock(at("2024-02-28 23:59"), dt.timedelta(minutes=2)) == at("2024-02-29 00:01")
    assert CN.working_days_between(d("2024-02-27"), d("2024-03-01")) == 3


def test_working_days_between() -> None:
    assert CN.working_days_between(d("2026-11-09"), d("2026-11-09")) == 0
    assert CN.working_days_between(d("2026-11-06"), d("2026-11-09")) == 1  # (Fri, Mon]
    assert CN.working_days_between(d("2026-11-09"), d("2026-11-06")) == -1
    assert CN.working_days_between(d("2026-11-07"), d("2026-11-08")) == 0
    assert CN.working_days_between(d("2026-09-30"), d("2026-10-08")) == 1
    # 2026: 261 weekdays - 19 of them official holidays + 6 make-up weekend days = 248 (1 Jan is off)
    assert CN.working_days_between(d("2025-12-31"), d("2026-12-31")) == 248
    assert CN.working_days_between(d("2026-01-01"), d("2026-12-31")) == 248
    assert list(CN.workdays_in(d("2026-02-13"), d("2026-02-24"))) == [d("2026-02-13"), d("2026-02-14"), d("2026-02-24")]


# --- office hours ---------------------------------------------------------------------------------

@pytest.mark.parametrize("moment, expected", [
    ("2026-11-09 09:00", "2026-11-09 09:00"),  # exactly at opening: open
    ("2026-11-09 08:59", "2026-11-09 09:00"),  # one minute before opening
    ("2026-11-09 00:00", "2026-11-09 09:00"),
    ("2026-11-09 17:59", "2026-11-09 17:59"),  # one minute before closing: still open
    ("2026-11-09 18:00", "2026-11-10 09:00"),  # exactly at closing: shut
    ("2026-11-09 23:59", "2026-11-10 09:00"),
    ("2026-11-06 18:00", "2026-11-09 09:00"),  # Friday closing -> Monday
    ("2026-11-07 12:00", "2026-11-09 09:00"),  # Saturday
    ("2026-11-08 08:00", "2026-11-09 09:00"),  # Sunday morning
    ("2026-10-01 10:00", "2026-10-08 09:00"),  # National Day
])
def test_open_at_or_after(moment: str, expected: str) -> None:
    assert CN.open_at_or_after(at(moment)) == at(expected)
    assert CN.is_open(at(moment)) == (moment == expected)


def test_add_working_days_examples_from_the_rules() -> None:
    assert CN.add_working_days(at("2026-11-06 20:00"), 3) == at("2026-11-12 09:00")  # Fri 20:00 -> Thu 09:00
    assert CN.add_working_days(at("2026-11-09 10:00"), 3) == at("2026-11-12 10:00")  # Mon 10:00 -> Thu 10:00
    assert CN.add_working_days(at("2026-11-09 17:59"), 3) == at("2026-11-12 17:59")
    assert CN.add_working_days(at("2026-11-09 18:00"), 3) == at("2026-11-13 09:00")
    assert CN.add_working_days(at("2026-11-09 09:00"), 3) == at("2026-11-12 09:00")
    assert CN.add_working_days(at("2026-11-07 12:00"), 0) == at("2026-11-09 09:00")
    assert CN.add_working_days(at("2026-11-09 10:30:15"), 0) == at("2026-11-09 10:30:15")
    with pytest.raises(ValueError):
        CN.add_working_days(at("2026-11-09 10:00"), -1)


def test_other_office_hours() -> None:
    early = load_calendar({"hours": ["08:30", "17:30"]}, SHANGHAI)
    assert early.open_at_or_after(at("2026-11-09 08:30")) == at("2026-11-09 08:30")
    assert early.open_at_or_after(at("2026-11-09 17:30")) == at("2026-11-10 08:30")
    assert early.add_working_days(at("2026-11-06 17:45"), 1) == at("2026-11-10 08:30")


def test_results_are_office_time_whatever_the_input_zone() -> None:
    # 12:00 UTC on a Friday is 20:00 in Beijing: after closing
    result = CN.add_working_days(dt.datetime(2026, 11, 6, 12, 0, tzinfo=dt.timezone.utc), 3)
    assert result == at("2026-11-12 09:00") and result.utcoffset() == dt.timedelta(hours=8)
    assert result.tzinfo is SHANGHAI
    assert CN.add_clock(dt.datetime(2026, 11, 30, 16, 30, tzinfo=dt.timezone.utc),
                        dt.timedelta(minutes=3)).isoformat() == "2026-12-01T00:33:00+08:00"
    assert CN.is_workday(dt.datetime(2026, 11, 6, 17, 0, tzinfo=dt.timezone.utc)) is False  # Sat 01:00 Beijing


def test_naive_times_are_refused() -> None:
    naive = dt.datetime(2026, 11, 9, 10, 0)
    for call in (lambda: CN.open_at_or_after(naive), lambda: CN.add_working_days(naive, 1),
                 lambda: CN.add_calendar_days(naive, 1), lambda: CN.add_clock(naive, dt.timedelta(hours=1)),
                 lambda: CN.is_open(naive)):
        with pytest.raises(ValueError, match="no UTC offset"):
            call()


def test_calendar_and_clock_arithmetic_across_a_dst_change() -> None:
    ny = load_calendar({"official": "none"}, NEW_YORK)
    saturday = at("2026-03-07 10:00", NEW_YORK)  # clocks go forward early on Sunday 8 March
    assert ny.add_calendar_days(saturday, 1) == at("2026-03-08 10:00", NEW_YORK)
    assert ny.add_calendar_days(saturday, 1).utcoffset() == dt.timedelta(hours=-4)
    assert ny.add_clock(saturday, dt.timedelta(hours=24)) == at("2026-03-08 11:00", NEW_YORK)
    assert ny.add_working_days(at("2026-03-06 10:00", NEW_YORK), 1) == at("2026-03-09 10:00", NEW_YORK)
    # 02:30 on 8 March does not exist on a wall clock there: it reads 03:30
    assert ny.add_calendar_days(at("2026-03-07 02:30", NEW_YORK), 1).isoformat() == "2026-03-08T03:30:00-04:00"
    assert ny.add_calendar_days(at("2026-10-31 10:00", NEW_YORK), 2).isoformat() == "2026-11-02T10:00:00-05:00"


# --- office variants ------------------------------------------------------------------------------

def test_an_office_working_saturdays() -> None:
    assert SATURDAYS.is_workday(d("2026-11-07")) and not SATURDAYS.is_workday(d("2026-11-08"))
    assert SATURDAYS.add_working_days(at("2026-11-06 20:00"), 1) == at("2026-11-09 09:00")  # Sat 09:00 + 1
    assert SATURDAYS.add_working_days(at("2026-11-06 10:00"), 1) == at("2026-11-07 10:00")
    assert not SATURDAYS.is_workday(d("2026-02-21"))  # a Saturday inside the Spring Festival stays off
    assert SATURDAYS.is_workday(d("2026-02-28"))
    assert SATURDAYS.working_days_between(d("2026-11-01"), d("2026-11-30")) == 25


def test_official_none_is_plain_weeks() -> None:
    assert NONE.known_years == frozenset() and NONE.sources == ()
    assert NONE.is_workday(d("2026-02-16")) and not NONE.is_workday(d("2026-02-14"))
    assert NONE.add_working_days(at("2026-02-13 10:00"), 1) == at("2026-02-16 10:00")


def test_office_days_override_the_official_ones() -> None:
    office = load_calendar({"holidays": ["2026-02-14", "2026-12-24..2026-12-25"],
                            "makeup_workdays": ["2026-10-07"]}, SHANGHAI)
    assert not office.is_workday(d("2026-02-14"))  # the office closes on the official make-up Saturday
    assert office.is_workday(d("2026-10-07"))  # and opens on the last day of National Day
    assert not office.is_workday(d("2026-12-24")) and not office.is_workday(d("2026-12-25"))
    assert office.add_working_days(at("2026-02-13 10:00"), 1) == at("2026-02-24 10:00")


def test_the_office_can_declare_next_years_official_calendar() -> None:
    office = load_calendar({"years": {"2027": {
        "notice": "国务院办公厅关于2027年部分节假日安排的通知",
        "source": "https://www.gov.cn/",
        "holidays": ["2027-01-01..2027-01-03"],
        "makeup_workdays": [],
    }}}, SHANGHAI)
    assert office.covers(2027) and office.covers(2026)
    assert not office.is_workday(d("2027-01-01"))
    assert (2027, "国务院办公厅关于2027年部分节假日安排的通知") in office.sources
    # a year block of the office replaces the shipped one (a correction)
    fixed = load_calendar({"years": {"2026": {"holidays": ["2026-01-01"]}}}, SHANGHAI)
    assert fixed.is_workday(d("2026-01-02")) and fixed.is_workday(d("2026-02-16"))
    assert not fixed.is_workday(d("2026-01-01"))


def test_the_calendar_object_refuses_contradictions() -> None:
    with pytest.raises(ValueError):
        WorkCalendar(workdays=frozenset())
    with pytest.raises(ValueError):
        WorkCalendar(opens=dt.time(18), closes=dt.time(9))
    with pytest.raises(ValueError):
        WorkCalendar(holidays=frozenset({d("2026-01-01")}), makeup_workdays=frozenset({d("2026-01-01")}))
    plain = WorkCalendar()  # the bare dataclass: Mon-Fri, 09:00-18:00, Beijing, no holidays
    assert plain.add_working_days(at("2026-02-16 10:00"), 1) == at("2026-02-17 10:00")


# --- svc.yaml -------------------------------------------------------------------------------------

def config_with(section: str) -> str:
    return SVC_YAML + section


def error_of(text: str) -> RecordError:
    with pytest.raises(RecordError) as caught:
        parse_config(yamlio.loads(text, "svc.yaml"), "svc.yaml")
    return caught.value


def line_in(text: str, pattern: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if re.search(pattern, line))


def test_a_full_calendar_section_is_read_into_the_config() -> None:
    text = config_with("""\
calendar:
  official: cn
  workdays: [mon, tue, wed, thu, fri, sat]
  hours: ['08:30', '17:30']
  holidays: [2026-12-24..2026-12-25, '2026-12-31']
  makeup_workdays:
  - 2026-10-07
""")
    config = parse_config(yamlio.loads(text, "svc.yaml"), "svc.yaml")
    settings_ = config.calendar_settings
    assert settings_.workdays == frozenset(range(1, 7))
    assert (settings_.opens, settings_.closes) == (dt.time(8, 30), dt.time(17, 30))
    assert settings_.holidays == {d("2026-12-24"), d("2026-12-25"), d("2026-12-31")}
    calendar = config.calendar
    assert calendar is config.calendar  # built once
    assert calendar.tz == SHANGHAI and calendar.covers(2026)
    assert calendar.add_working_days(at("2026-11-06 20:00"), 1) == at("2026-11-09 08:30")
    assert calendar.is_workday(d("2026-10-07")) and not calendar.is_workday(d("2026-12-31"))


def test_no_calendar_section_means_the_defaults() -> None:
    config = parse_config(yamlio.loads(SVC_YAML, "svc.yaml"), "svc.yaml")
    assert config.calendar == CN
    assert parse_config(yamlio.loads(SVC_YAML + "calendar:\n", "svc.yaml"), "svc.yaml").calendar == CN


def test_the_office_timezone_is_the_calendars() -> None:
    text = SVC_YAML.replace("timezone: Asia/Shanghai", "timezone: Europe/London") + "calendar: {official: none}\n"
    calendar = parse_config(yamlio.loads(text, "svc.yaml"), "svc.yaml").calendar
    assert calendar.open_at_or_after(at("2026-11-09 08:00")) == at("2026-11-09 09:00", ZoneInfo("Europe/London"))


# (svc.yaml calendar section, a pattern matching the line the error must name, the message)
@pytest.mark.parametrize("section, needle, message", [
    ("calendar:\n  workdays: [mon, tues]\n", "workdays", "calendar.workdays[2] is 'tues'; expected one of: mon, tue"),
    ("calendar:\n  workdays: []\n", "workdays", "calendar.workdays must name at least one day"),
    ("calendar:\n  workdays: [mon, mon]\n", "workdays", "calendar.workdays lists mon twice"),
    ("calendar:\n  workdays: mon\n", "workdays", "calendar.workdays must be a list"),
    ("calendar:\n  hours: ['18:00', '09:00']\n", "hours", "closes at 09:00, not after it opens at 18:00"),
    ("calendar:\n  hours: ['09:00', '09:00']\n", "hours", "not after it opens"),
    ("calendar:\n  hours: ['09:00']\n", "hours", "must be two times"),
    ("calendar:\n  hours:\n  - '09:00'\n  - '25:00'\n", "25:00", "calendar.hours[2] must be a time of day such as 09:00"),
    ("calendar:\n  hours: 09:00-18:00\n", "hours", "calendar.hours must be a list"),
    ("calendar:\n  holidays:\n  - 2027-01-01\n  - 2027-02-30\n", "2027-02-30",
     "calendar.holidays[2] must be a date such as 2027-01-01 or a range such as 2027-02-10..2027-02-16, not '2027-02-30'"),
    ("calendar:\n  holidays:\n  - 2027-02-16..2027-02-10\n", "2027-02-16", "it ends before it starts"),
    ("calendar:\n  holidays:\n  - 2027-01-01..2072-01-01\n", "2072", "longer than 366 days"),
    ("calendar:\n  holidays:\n  - 20270101\n", "20270101", "must be a date"),
    ("calendar:\n  holidays: 2027-01-01\n", "holidays", "calendar.holidays must be a list"),
    ("calendar:\n  holidays:\n  - 2027-01-01\n  -\n", "^  -$", "calendar.holidays[2] must not be empty"),
    ("calendar:\n  workdays: [mon, ~]\n", "workdays", "calendar.workdays[2] must not be empty"),
    ("calendar:\n  makeup_workdays: [next saturday]\n", "makeup_workdays", "calendar.makeup_workdays[1] must be a date"),
    ("calendar:\n  holidays: [2027-02-06..2027-02-08]\n  makeup_workdays: [2027-02-07]\n", "makeup_workdays",
     "calendar.makeup_workdays[1] 2027-02-07 is also listed in calendar.holidays"),
    ("calendar:\n  official: hk\n", "official", "calendar.official is 'hk'; expected one of: cn, none"),
    ("calendar:\n  colour: blue\n", "colour", "unknown key calendar.colour"),
    ("calendar: [mon]\n", "calendar", "calendar must be a mapping"),
    ("calendar:\n  years:\n    next:\n      holidays: []\n", "next", "'next' is not a year"),
    ("calendar:\n  years:\n    '2027':\n      holdays: []\n", "holdays", "unknown key calendar.years.2027.holdays"),
])
def test_a_bad_calendar_section_is_an_error_with_its_line(section: str, needle: str, message: str) -> None:
    text = config_with(section)
    error = error_of(text)
    assert message in str(error)
    assert str(error).startswith(f"svc.yaml:{line_in(text[len(SVC_YAML):], needle) + SVC_YAML.count(chr(10))}: ")


def test_a_bad_calendar_stops_commands_with_path_and_line(svc: Svc) -> None:
    config = svc.root / "svc.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "calendar:\n  hours: ['18:00', '09:00']\n",
                      encoding="utf-8")
    line = len(config.read_text(encoding="utf-8").splitlines())
    result = svc("list")
    assert result.exit_code == 1
    assert f"svc.yaml:{line}: calendar.hours closes at 09:00" in result.stderr
    assert "Traceback" not in result.stderr


def test_load_calendar_validates_a_raw_section() -> None:
    with pytest.raises(SvcError, match="calendar.workdays"):
        load_calendar({"workdays": ["monday"]}, SHANGHAI)
    assert check_calendar(None, "svc.yaml") == []
    assert load_calendar({}, "Asia/Shanghai") == CN
    assert calendar_settings(None) == calendar_settings({})


# --- installation and start-up --------------------------------------------------------------------

def test_the_data_file_is_declared_as_package_data() -> None:
    # a non-editable install only carries files that pyproject's package-data names
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["svc"]
    for path in (ROOT / "svc" / "data").iterdir():
        relative = path.relative_to(ROOT / "svc").as_posix()
        assert any(fnmatch.fnmatch(relative, p) for p in patterns), f"{relative} would not be installed"


LAZY_PROBE = """
import json, sys
from svc.cli import cli
import svc.calendar as c
from svc.config import parse_config
from svc import yamlio
try:
    cli.main(args=["--help"], prog_name="svc")
except SystemExit:
    pass
after_help = c.official_years.cache_info().currsize
config = parse_config(yamlio.loads(sys.stdin.read(), "svc.yaml"), "svc.yaml")
after_config = c.official_years.cache_info().currsize
config.calendar
print("LAZY " + json.dumps([after_help, after_config, c.official_years.cache_info().currsize]))
"""


def test_help_and_config_do_not_read_the_calendar_data() -> None:
    done = subprocess.run([sys.executable, "-c", LAZY_PROBE], input=SVC_YAML, capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    line = next(l for l in done.stdout.splitlines() if l.startswith("LAZY "))
    assert json.loads(line[5:]) == [0, 0, 1], done.stderr


# --- the machine's TZ never matters ---------------------------------------------------------------

TZ_PROBE = """
import datetime as dt, json, time
from svc.calendar import load_calendar
cal = load_calendar(None, "Asia/Shanghai")
utc = dt.timezone.utc
out = []
for iso in ("2026-11-06T12:00:00+00:00", "2026-02-13T01:59:00+00:00", "2026-09-30T16:00:00+00:00",
            "2024-02-28T15:59:00+00:00", "2026-12-31T15:30:00+00:00"):
    start = dt.datetime.fromisoformat(iso)
    out.append([cal.open_at_or_after(start).isoformat(), cal.add_working_days(start, 3).isoformat(),
                cal.add_calendar_days(start, 1).isoformat(), cal.add_clock(start, dt.timedelta(hours=24)).isoformat(),
                cal.is_workday(start), cal.is_open(start)])
print(json.dumps([time.tzname[0], out]))
"""


def test_results_do_not_depend_on_the_machine_tz() -> None:
    results = {}
    for machine_tz in ("UTC", "Asia/Shanghai", "America/Los_Angeles"):
        env = {**os.environ, "TZ": machine_tz}
        done = subprocess.run([sys.executable, "-c", TZ_PROBE], capture_output=True, text=True, env=env,
                              timeout=60, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        results[machine_tz] = json.loads(done.stdout)
    zones = {name for name, _ in results.values()}
    assert len(zones) == 3, zones  # the machine zones really differed
    outs = [out for _, out in results.values()]
    assert outs[0] == outs[1] == outs[2]
    # Friday 20:00 in Beijing, whatever the machine thinks
    assert outs[0][0][:2] == ["2026-11-09T09:00:00+08:00", "2026-11-12T09:00:00+08:00"]


# --- properties of working-day arithmetic ---------------------------------------------------------

CALENDARS = st.sampled_from([CN, NONE, SATURDAYS, load_calendar({"hours": ["08:30", "12:00"]}, SHANGHAI)])
# 2020-12 .. 2027-12: the shipped years and ordinary years on both sides
MOMENTS = st.builds(
    lambda day, minute: dt.datetime.combine(dt.date(2020, 12, 1) + dt.timedelta(days=day),
                                            dt.time(minute // 60, minute % 60), tzinfo=SHANGHAI),
    st.integers(0, 2585), st.integers(0, 24 * 60 - 1),
)
DAYS = st.integers(0, 40)


@settings(max_examples=300, deadline=None)
@given(CALENDARS, MOMENTS, DAYS)
def test_a_due_time_is_always_inside_office_hours_and_never_earlier(cal: WorkCalendar, start: dt.datetime,
                                                                     n: int) -> None:
    due = cal.add_working_days(start, n)
    assert cal.is_open(due) and cal.is_workday(due.date())
    assert cal.opens <= due.time() < cal.closes
    assert due >= start
    assert due.tzinfo is cal.tz
    if n > 0:
        assert due.date() > start.date()


@settings(max_examples=300, deadline=None)
@given(CALENDARS, MOMENTS, DAYS, DAYS)
def test_adding_a_then_b_is_adding_a_plus_b(cal: WorkCalendar, start: dt.datetime, a: int, b: int) -> None:
    assert cal.add_working_days(cal.add_working_days(start, a), b) == cal.add_working_days(start, a + b)


@settings(max_examples=300, deadline=None)
@given(CALENDARS, MOMENTS, DAYS)
def test_counting_back_gives_the_days_added(cal: WorkCalendar, moment: dt.datetime, n: int) -> None:
    start = cal.open_at_or_after(moment)  # a start inside office hours
    assert cal.open_at_or_after(start) == start
    due = cal.add_working_days(start, n)
    assert cal.working_days_between(start.date(), due.date()) == n
    assert cal.working_days_between(due.date(), start.date()) == -n
    assert due.time() == start.time()


@settings(max_examples=200, deadline=None)
@given(CALENDARS, MOMENTS, DAYS, DAYS)
def test_more_days_is_later(cal: WorkCalendar, start: dt.datetime, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert cal.add_working_days(start, low) <= cal.add_working_days(start, high)
    if low < high:
        assert cal.add_working_days(start, low) < cal.add_working_days(start, high)


@settings(max_examples=200, deadline=None)
@given(CALENDARS, MOMENTS)
def test_the_next_opening_is_the_first_open_moment(cal: WorkCalendar, moment: dt.datetime) -> None:
    opening = cal.open_at_or_after(moment)
    assert opening >= moment and cal.is_open(opening)
    if opening != moment:
        # nothing open in between: the office opened exactly then, after being shut at `moment`
        assert not cal.is_open(moment) and opening.time() == cal.opens
        assert not any(cal.is_workday(day) for day in
                       (moment.date() + dt.timedelta(days=i) for i in range(1, (opening.date() - moment.date()).days)))


@settings(max_examples=200, deadline=None)
@given(CALENDARS, MOMENTS, MOMENTS, MOMENTS)
def test_working_days_between_adds_up(cal: WorkCalendar, a: dt.datetime, b: dt.datetime, c: dt.datetime) -> None:
    x, y, z = a.date(), b.date(), c.date()
    assert cal.working_days_between(x, y) + cal.working_days_between(y, z) == cal.working_days_between(x, z)
    assert cal.working_days_between(x, x) == 0


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([SHANGHAI, NEW_YORK]), MOMENTS, st.integers(-400, 400),
       st.integers(0, 7 * 24 * 60))
def test_calendar_days_keep_the_wall_clock_and_clock_time_is_elapsed(zone: ZoneInfo, moment: dt.datetime,
                                                                     n: int, minutes: int) -> None:
    cal = load_calendar({"official": "none"}, zone)
    utc = dt.timezone.utc
    start = moment.replace(tzinfo=zone).astimezone(utc).astimezone(zone)  # a wall time that exists there
    later = cal.add_calendar_days(start, n)
    assert (later.date() - start.date()).days == n
    if zone is SHANGHAI:
        assert later.time() == start.time()
    delta = dt.timedelta(minutes=minutes)
    moved = cal.add_clock(start, delta)
    # compared in UTC: within one zone Python subtracts wall clocks, which a DST change stretches
    assert moved.astimezone(utc) - start.astimezone(utc) == delta and moved.tzinfo is zone
    assert cal.add_clock(moved, -delta).astimezone(utc) == start.astimezone(utc)


def test_the_shipped_calendar_is_kept_parsed_in_the_store_and_read_again_when_it_changes(tmp_path: Path) -> None:
    import marshal

    from svc import calendar as calendar_module

    cache = tmp_path / "calendar-cn.yaml.marshal"
    calendar_module.official_years.cache_clear()
    years = calendar_module.official_years("cn", str(tmp_path))
    stamp, node = marshal.loads(cache.read_bytes())
    assert sorted(node) == [str(y.year) for y in years]
    # what is kept is what is read, while the shipped file's stamp matches
    del node[sorted(node)[0]]
    cache.write_bytes(marshal.dumps([stamp, node]))
    calendar_module.official_years.cache_clear()
    assert len(calendar_module.official_years("cn", str(tmp_path))) == len(years) - 1
    # another stamp (svc upgraded, the file edited): read from the shipped file again
    cache.write_bytes(marshal.dumps([[stamp[0] + 1, stamp[1]], node]))
    calendar_module.official_years.cache_clear()
    assert calendar_module.official_years("cn", str(tmp_path)) == years
    calendar_module.official_years.cache_clear()

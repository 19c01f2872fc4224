"""The calendar warns ahead: from October (office time) `svc check` and `svc due` say when next
year's official calendar is missing, and a working-day deadline counted into a year the
calendar does not cover says so, with the holidays the law fixes on Gregorian dates still off.

The shipped calendar ends with 2026; nothing here invents 2027's notice."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svc.calendar import coverage_warnings, load_calendar
from tests.conftest import Svc, run_svc

SHANGHAI = ZoneInfo("Asia/Shanghai")
CN = load_calendar(None, SHANGHAI)
YEAR_2027 = """\
calendar:
  years:
    '2027':
      notice: the office's own block (test)
      holidays:
      - 2027-01-01
"""


def warnings_of(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("svc: warning:")]


def set_lang(svc: Svc, lang: str) -> None:
    config = svc.root / "svc.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("lang: zh", f"lang: {lang}"), encoding="utf-8")


def add_config(svc: Svc, text: str) -> None:
    config = svc.root / "svc.yaml"
    config.write_text(config.read_text(encoding="utf-8") + text, encoding="utf-8")


def solve(svc: Svc, case_id: str) -> dict[str, Any]:
    shown = json.loads(svc.ok("show", case_id, "--format", "json").stdout)
    return next(d for d in shown["deadlines"] if d["rule"] == "solve-3wd")


# --- the October warning -----------------------------------------------------------------------

@pytest.mark.parametrize("command", [("check",), ("due",)])
def test_from_october_check_and_due_warn_that_next_year_is_missing(svc: Svc, command: tuple[str, ...]) -> None:
    on = svc(*command, now="2026-10-01T00:00:00+08:00")
    assert on.exit_code == 0, on.stderr  # a warning, not a problem: the exit code is unchanged
    warned = warnings_of(on.stderr)
    assert len(warned) == 1 and "2027" in warned[0] and "calendar.years" in warned[0]
    assert "官方放假安排" in warned[0]  # the store's language is zh
    if command == ("check",):
        assert on.stdout == ""  # nothing wrong with the records
    before = svc(*command, now="2026-09-30T23:59:59+08:00")
    assert before.exit_code == 0 and warnings_of(before.stderr) == []


def test_october_is_office_time_not_utc(svc: Svc) -> None:
    # 16:00 UTC on 30 September is midnight, 1 October, in Beijing
    assert warnings_of(svc("check", now="2026-09-30T15:59:59Z").stderr) == []
    assert len(warnings_of(svc("check", now="2026-09-30T16:00:00Z").stderr)) == 1


def test_a_calendar_years_block_for_next_year_silences_it(svc: Svc) -> None:
    add_config(svc, YEAR_2027)
    for command in ("check", "due"):
        result = svc(command, now="2026-12-02T09:00:00+08:00")
        assert result.exit_code == 0 and warnings_of(result.stderr) == [], result.stderr


def test_the_warning_in_english_and_with_the_year_itself_missing(svc: Svc) -> None:
    set_lang(svc, "en")
    result = svc("check", now="2027-11-02T09:00:00+08:00")
    warned = warnings_of(result.stderr)
    assert result.exit_code == 0 and len(warned) == 2
    assert "no official holidays for 2027 (it knows 2021-2026)" in warned[0]
    assert "no official holidays for 2028 yet" in warned[1]


def test_check_still_exits_3_for_problems_and_warns_as_well(svc: Svc) -> None:
    (svc.root / "cases" / "stray.yaml").write_text("x: 1\n", encoding="utf-8")
    result = svc("check", now="2026-12-02T09:00:00+08:00")
    assert result.exit_code == 3 and len(warnings_of(result.stderr)) == 1


def test_an_office_with_no_official_calendar_is_never_warned(svc: Svc) -> None:
    add_config(svc, "calendar:\n  official: none\n")
    assert warnings_of(svc("check", now="2026-12-02T09:00:00+08:00").stderr) == []
    case_id = svc.open("complaint", "--customer", "张三", now="2026-12-30T10:00:00+08:00")
    assert solve(svc, case_id)["due"] == "2027-01-04T10:00:00+08:00"  # 1 January worked: its own choice
    assert "2027" not in solve(svc, case_id)["basis"]
    assert warnings_of(svc("due", "--within", "2w", now="2026-12-30T11:00:00+08:00").stderr) == []


def test_the_warning_in_a_real_process_whatever_the_machine_zone() -> None:
    # 2026-09-30T17:00Z is October in Beijing but still September in Los Angeles
    for now, expected in (("2026-09-30T17:00:00Z", 1), ("2026-09-30T15:00:00Z", 0)):
        assert len(coverage_warnings(CN, dt.datetime.fromisoformat(now), "en")) == expected


@pytest.mark.parametrize("machine_tz", ["UTC", "America/Los_Angeles"])
def test_due_warns_in_a_real_process(svc: Svc, machine_tz: str) -> None:
    env = {"SVC_STORE": str(svc.root), "SVC_USER": "wangfang", "SVC_NOW": "2026-09-30T17:00:00Z", "TZ": machine_tz}
    done = run_svc("due", env=env)
    assert done.returncode == 0 and len(warnings_of(done.stderr)) == 1, done.stderr


# --- a deadline counted into 2027 ----------------------------------------------------------------

def test_a_deadline_over_new_year_counts_1_january_2027_off_and_says_2027_is_not_covered(svc: Svc) -> None:
    # Wednesday 30 December 2026, 10:00: Thu 31, (Fri 1 January off by law), Mon 4, Tue 5
    case_id = svc.open("complaint", "--customer", "张三", "--channel", "wechat", now="2026-12-30T10:00:00+08:00")
    found = solve(svc, case_id)
    assert found["due"] == "2027-01-05T10:00:00+08:00"
    assert "2027年的官方放假安排尚未收录" in found["basis"] and "元旦" in found["basis"]
    # the clock-hour rules never depend on the calendar, and say nothing of it
    shown = json.loads(svc.ok("show", case_id, "--format", "json").stdout)
    respond = next(d for d in shown["deadlines"] if d["rule"] == "respond-24h")
    assert "2027" not in respond["basis"]
    # svc show explains it on the deadline's line
    assert "2027年的官方放假安排尚未收录" in svc.ok("show", case_id).stdout
    # svc due: the basis in json, and a warning line naming the deadline
    due = svc("due", "--within", "2w", "--format", "json", now="2026-12-30T11:00:00+08:00")
    assert due.exit_code == 0
    item = next(i for i in json.loads(due.stdout) if i["rule"] == "solve-3wd")
    assert item["due_at"] == "2027-01-05T10:00:00+08:00" and "2027年" in item["basis"]
    named = [line for line in warnings_of(due.stderr) if f"{case_id} solve-3wd" in line]
    assert len(named) == 1 and "2027年" in named[0]
    table = svc("due", "--within", "2w", now="2026-12-30T11:00:00+08:00")
    assert case_id in table.stdout and any(f"{case_id} solve-3wd" in w for w in warnings_of(table.stderr))


def test_within_a_covered_year_the_basis_says_nothing_of_the_calendar(svc: Svc) -> None:
    case_id = svc.open("complaint", "--customer", "张三", now="2026-12-21T10:00:00+08:00")
    found = solve(svc, case_id)
    assert found["due"] == "2026-12-24T10:00:00+08:00" and "2027" not in found["basis"]
    due = svc("due", "--within", "1w", now="2026-12-21T11:00:00+08:00")
    assert not [w for w in warnings_of(due.stderr) if case_id in w]


def test_with_the_years_block_2027_is_counted_by_the_office_s_days_and_not_flagged(svc: Svc) -> None:
    add_config(svc, YEAR_2027)
    case_id = svc.open("complaint", "--customer", "张三", now="2026-12-30T10:00:00+08:00")
    found = solve(svc, case_id)
    assert found["due"] == "2027-01-05T10:00:00+08:00" and "2027" not in found["basis"]


def test_in_english_and_from_a_deferral_into_the_uncovered_year(svc: Svc) -> None:
    set_lang(svc, "en")
    case_id = svc.open("complaint", "--customer", "Ann", now="2026-12-14T10:00:00+08:00")
    assert "not yet known" not in solve(svc, case_id)["basis"]  # due 12-17, all in 2026
    svc.ok("defer", case_id, "--until", "2026-12-31", "--reason", "away", now="2026-12-15T10:00:00+08:00")
    found = solve(svc, case_id)
    # 2 working days were left (16, 17 December); the clock runs again at Thursday 31 December's
    # opening: (Fri 1 January off by law) Mon 4, Tue 5
    assert found["due"] == "2027-01-05T09:00:00+08:00"
    assert "2027's official holiday arrangement is not yet known" in found["basis"]
    assert found["basis"].count("not yet known") == 1


def test_leap_day_2028_in_an_uncovered_year(svc: Svc) -> None:
    # Tuesday 29 February 2028: Wed 1, Thu 2, Fri 3 March; 2028 is not covered either
    case_id = svc.open("complaint", "--customer", "闰日", now="2028-02-29T10:00:00+08:00")
    found = solve(svc, case_id)
    assert found["due"] == "2028-03-03T10:00:00+08:00"
    assert "2028年的官方放假安排尚未收录" in found["basis"]


def test_a_deadline_typed_in_another_zone_is_counted_in_office_time(svc: Svc) -> None:
    # 2026-12-31T17:00Z is 01:00 on 1 January 2027 in Beijing: a holiday by law, so the clock
    # starts at Monday 4 January's opening: Tue 5, Wed 6, Thu 7
    case_id = svc.open("complaint", "--customer", "跨年", now="2026-12-31T17:00:00Z")
    found = solve(svc, case_id)
    assert found["due"] == "2027-01-07T09:00:00+08:00" and "2027年" in found["basis"]
    # 2026-12-31T15:00Z is 23:00 on 31 December: the clock still starts in 2027
    other = svc.open("complaint", "--customer", "跨年2", now="2026-12-31T15:00:00Z")
    assert solve(svc, other)["due"] == "2027-01-07T09:00:00+08:00"


# --- properties ------------------------------------------------------------------------------------

UNCOVERED_DAYS = st.dates(dt.date(2027, 1, 1), dt.date(2035, 12, 31))


@settings(max_examples=200, deadline=None)
@given(UNCOVERED_DAYS)
def test_in_an_uncovered_year_only_weekends_and_the_laws_fixed_days_are_off(day: dt.date) -> None:
    fixed = (day.month, day.day) in {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}
    assert CN.is_workday(day) == (day.isoweekday() <= 5 and not fixed)


@settings(max_examples=200, deadline=None)
@given(st.datetimes(dt.datetime(2026, 6, 1), dt.datetime(2028, 12, 31)), st.integers(0, 30))
def test_a_working_day_count_never_ends_on_a_day_off(start: dt.datetime, days: int) -> None:
    due = CN.add_working_days(start.replace(tzinfo=SHANGHAI), days)
    assert CN.is_workday(due.date()) and due.date() != dt.date(2027, 1, 1)

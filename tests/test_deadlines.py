"""Deadlines on cases: set by rules at the events that start them, stored with their basis,
met by the events that meet them (or `svc met`), deferred at the customer's request, and
never moved by a later change of the rules or the calendar.

What the office sees: `svc show` (one line per deadline), `svc show --format json`
(`deadlines:`), the case's history and `svc due`. The working calendar's own arithmetic is
tested in test_calendar.py; here it is the deadlines built on it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svc import deadlines
from svc.calendar import load_calendar
from tests.conftest import Svc, make_store, run_svc

SHANGHAI = ZoneInfo("Asia/Shanghai")
CN = load_calendar(None, SHANGHAI)
THU = "2026-11-05T10:00:00+08:00"  # an ordinary Thursday morning


def shown(svc: Svc, case_id: str, now: str | None = None) -> dict[str, Any]:
    return json.loads(svc.ok("show", case_id, "--format", "json", now=now).stdout)


def deadlines_of(svc: Svc, case_id: str, now: str | None = None) -> dict[str, dict[str, Any]]:
    return {d["rule"]: d for d in shown(svc, case_id, now).get("deadlines") or []}


def due_times(svc: Svc, case_id: str) -> dict[str, str]:
    return {rule: d["due"] for rule, d in deadlines_of(svc, case_id).items()}


def deadline_lines(svc: Svc, case_id: str, now: str | None = None) -> list[str]:
    """The lines of `svc show` under its deadlines heading (时限 / deadlines)."""
    text = svc.ok("show", case_id, now=now).stdout
    lines = text.splitlines()
    head = next(i for i, line in enumerate(lines) if line in ("时限:", "deadlines:"))
    out = []
    for line in lines[head + 1:]:
        if not line.strip():
            break
        out.append(line.strip())
    return out


def line_for(lines: list[str], rule: str) -> str:
    found = [line for line in lines if line.startswith(rule + " ")]
    assert len(found) == 1, lines
    return found[0]


def use_english(svc: Svc) -> None:
    config = svc.root / "svc.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("lang: zh", "lang: en"), encoding="utf-8")


def case_file(svc: Svc, case_id: str) -> Path:
    return svc.root / "cases" / f"20{case_id[1:3]}" / case_id[3:5] / f"{case_id}.yaml"


def git_head(svc: Svc) -> str:
    return svc.git("rev-parse", "HEAD").strip()


# --- each rule, set at the event that starts it -------------------------------------------------

def test_a_general_complaint_gets_callback_respond_and_solve_at_intake(svc: Svc) -> None:
    cid = svc.open("complaint", "--customer", "张三", "--branch", "chaoyang", now=THU)
    found = deadlines_of(svc, cid)
    assert sorted(found) == ["callback-3min", "respond-24h", "solve-3wd"]
    assert found["callback-3min"]["due"] == "2026-11-05T10:03:00+08:00"
    assert found["respond-24h"]["due"] == "2026-11-06T10:00:00+08:00"
    assert found["solve-3wd"]["due"] == "2026-11-10T10:00:00+08:00"  # Fri, Mon, Tue
    for rule, d in found.items():
        assert d["start"] == THU
        assert not d.get("met_at")
        assert "10:00" in d["basis"] and "受理" in d["basis"], d  # from the intake at 11-05 10:00
    # each is an event in the history, with the same rule, start, due and basis
    events = [ev for ev in shown(svc, cid)["history"] if ev["action"] == "deadline"]
    assert {ev["rule"]: (ev["start"], ev["due"], ev["basis"]) for ev in events} == {
        rule: (d["start"], d["due"], d["basis"]) for rule, d in found.items()
    }
    # and in the file itself, so it can be read without svc
    text = case_file(svc, cid).read_text(encoding="utf-8")
    assert "rule: solve-3wd" in text and "due: '2026-11-10T10:00:00+08:00'" in text


def test_a_repair_gets_respond_engineer_and_solve_but_no_callback(svc: Svc) -> None:
    cid = svc.open("repair", "--customer", "李四", "--summary", "插座不通电", now=THU)
    assert due_times(svc, cid) == {
        "respond-24h": "2026-11-06T10:00:00+08:00",
        "engineer-20min": "2026-11-05T10:20:00+08:00",
        "solve-3wd": "2026-11-10T10:00:00+08:00",
    }


@pytest.mark.parametrize("kind", ["complaint", "repair"])
@pytest.mark.parametrize("severity", ["serious", "major"])
def test_a_serious_or_major_case_has_no_three_working_day_limit(svc_nogit: Svc, kind: str, severity: str) -> None:
    cid = svc_nogit.open(kind, "--severity", severity, now=THU)
    found = deadlines_of(svc_nogit, cid)
    assert "solve-3wd" not in found
    assert "respond-24h" in found  # the 24 h answer still applies


@pytest.mark.parametrize("args", [
    ["inquiry"],
    ["visit"],
    ["staff-complaint", "--complainant", "李明", "--contact", "13911112222", "--accused", "王工",
     "--accused-role", "工长", "--incident-at", "2026-11-02T15:00", "--incident-place", "工地"],
])
def test_kinds_without_a_time_limit_get_no_deadlines(svc_nogit: Svc, args: list[str]) -> None:
    cid = svc_nogit.open(*args, now=THU)
    assert deadlines_of(svc_nogit, cid) == {}
    assert "时限" not in svc_nogit.ok("show", cid, now=THU).stdout


@pytest.mark.parametrize("channel, callback", [
    (None, True), ("phone", True), ("热线", True), ("电话", True), ("email", False), ("visit", False),
])
def test_the_3_minute_callback_is_for_complaints_that_came_in_by_phone(svc_nogit: Svc, channel: str | None,
                                                                       callback: bool) -> None:
    args = ["--channel", channel] if channel else []
    cid = svc_nogit.open("complaint", "--customer", "张三", *args, now=THU)
    found = deadlines_of(svc_nogit, cid)
    assert ("callback-3min" in found) is callback
    assert "respond-24h" in found and "solve-3wd" in found


@pytest.mark.parametrize("extra", [["--authority", "消协"], ["--media", "北京晚报", "--reporter", "王记者"]])
def test_legal_24h_only_with_an_authority_or_the_media(svc: Svc, extra: list[str]) -> None:
    cid = svc.open("complaint", "--customer", "张三", *extra, now=THU)
    found = deadlines_of(svc, cid)
    assert found["legal-24h"]["due"] == "2026-11-06T10:00:00+08:00"
    assert "solve-3wd" not in found  # the case is major
    plain = svc.open("complaint", "--customer", "张三", now=THU)
    assert "legal-24h" not in deadlines_of(svc, plain)
    # reporting to legal meets it
    svc.ok("escalate", cid, "--to", "legal", "--reason", "已报法务中心", now="2026-11-05T15:00:00+08:00")
    after = deadlines_of(svc, cid)
    assert after["legal-24h"]["met_at"] == "2026-11-05T15:00:00+08:00"
    assert not after["respond-24h"].get("met_at")


def test_feedback_24h_starts_at_the_notice_and_show_explains_it_in_one_line(svc: Svc) -> None:
    """The issue's own example: notice at 11-05 17:30, feedback form due 11-06 17:30."""
    cid = svc.open("complaint", "--customer", "张三", "--branch", "chaoyang", now="2026-11-05T17:20:00+08:00")
    assert "feedback-24h" not in deadlines_of(svc, cid)  # no notice, no clock
    svc.ok("notify", cid, "--note", "已传真朝阳分公司", now="2026-11-05T17:30:00+08:00")
    fb = deadlines_of(svc, cid)["feedback-24h"]
    assert (fb["start"], fb["due"]) == ("2026-11-05T17:30:00+08:00", "2026-11-06T17:30:00+08:00")

    lines = deadline_lines(svc, cid, now="2026-11-06T09:00:00+08:00")
    # one line per deadline, and each names its rule first
    assert [line.split()[0] for line in lines] == ["callback-3min", "respond-24h", "solve-3wd", "feedback-24h"]
    line = line_for(lines, "feedback-24h")
    assert line.startswith("feedback-24h  截止 11-06 17:30  ")
    assert "自处理通知单发出 11-05 17:30 起算" in line and "剩余8小时30分钟" in line

    # the branch's feedback form meets it; feedback before any notice is refused
    svc.ok("feedback", cid, "--note", "已安排维修", now="2026-11-06T16:00:00+08:00")
    assert deadlines_of(svc, cid)["feedback-24h"]["met_at"] == "2026-11-06T16:00:00+08:00"
    other = svc.open("complaint", "--customer", "李四", "--branch", "chaoyang", now="2026-11-06T16:00:00+08:00")
    refused = svc("feedback", other, now="2026-11-06T16:10:00+08:00")
    assert refused.exit_code == 1 and f"svc notify {other}" in refused.stderr


def test_feedback_24h_explained_in_english(svc: Svc) -> None:
    use_english(svc)  # the basis is stored in the office's language when the deadline is set
    cid = svc.open("complaint", "--customer", "Zhang", "--branch", "chaoyang", now="2026-11-05T17:20:00+08:00")
    svc.ok("notify", cid, now="2026-11-05T17:30:00+08:00")
    line = line_for(deadline_lines(svc, cid, now="2026-11-06T09:00:00+08:00"), "feedback-24h")
    assert line == ("feedback-24h  due 11-06 17:30 because the branch returns the feedback form within 24 hours, "
                    "from the handling notice at 11-05 17:30 — 8 h 30 min left")
    late = line_for(deadline_lines(svc, cid, now="2026-11-06T18:00:00+08:00"), "feedback-24h")
    assert late.endswith("— OVERDUE by 30 min")


def test_notify_needs_a_branch(svc: Svc) -> None:
    cid = svc.open("complaint", "--customer", "张三", now=THU)
    result = svc("notify", cid, now=THU)
    assert result.exit_code == 1 and "no branch" in result.stderr


def test_revisit_3d_starts_at_the_repair_and_the_next_follow_up_meets_it(svc: Svc) -> None:
    cid = svc.open("repair", "--customer", "李四", "--branch", "haidian", now=THU)
    assert "revisit-3d" not in deadlines_of(svc, cid)
    svc.ok("repaired", cid, "--note", "已更换插座", now="2026-11-06T15:00:00+08:00")  # a Friday
    found = deadlines_of(svc, cid)
    # three calendar days, the same wall time (working days would have made it Wednesday)
    assert found["revisit-3d"]["due"] == "2026-11-09T15:00:00+08:00"
    assert found["revisit-3d"]["start"] == "2026-11-06T15:00:00+08:00"
    assert "维修完成" in found["revisit-3d"]["basis"]
    # the repair answered the customer and solved the problem
    assert found["respond-24h"]["met_at"] == found["solve-3wd"]["met_at"] == "2026-11-06T15:00:00+08:00"
    assert not found["engineer-20min"].get("met_at")
    svc.ok("follow-up", cid, "--outcome", "satisfied", now="2026-11-09T11:00:00+08:00")
    after = shown(svc, cid)
    assert after["status"] == "closed"
    assert {d["rule"]: d.get("met_at") for d in after["deadlines"]}["revisit-3d"] == "2026-11-09T11:00:00+08:00"
    met = [(ev["rule"], ev["at"]) for ev in after["history"] if ev["action"] == "met"]
    assert ("revisit-3d", "2026-11-09T11:00:00+08:00") in met


def test_an_unsatisfied_follow_up_meets_the_revisit_but_not_the_case(svc: Svc) -> None:
    cid = svc.open("repair", "--customer", "李四", "--branch", "haidian", now=THU)
    svc.ok("repaired", cid, now="2026-11-05T12:00:00+08:00")
    svc.ok("follow-up", cid, "--outcome", "unsatisfied", now="2026-11-08T10:00:00+08:00")
    found = deadlines_of(svc, cid)
    assert found["revisit-3d"]["met_at"] == "2026-11-08T10:00:00+08:00"
    assert shown(svc, cid)["status"] == "open"


# --- solve-3wd on the working calendar ----------------------------------------------------------

SOLVE_CASES = [
    # (intake, solve-3wd due): office hours 09:00-18:00, Monday to Friday, the official calendar
    ("2026-11-05T09:00:00+08:00", "2026-11-10T09:00:00+08:00"),  # exactly at opening: counts from then
    ("2026-11-05T17:59:00+08:00", "2026-11-10T17:59:00+08:00"),  # a minute before closing
    ("2026-11-05T18:00:00+08:00", "2026-11-11T09:00:00+08:00"),  # exactly at closing: shut, counts from Fri 09:00
    ("2026-11-05T18:01:00+08:00", "2026-11-11T09:00:00+08:00"),  # a minute after closing
    ("2026-11-05T07:30:00+08:00", "2026-11-10T09:00:00+08:00"),  # before opening
    ("2026-11-06T20:00:00+08:00", "2026-11-12T09:00:00+08:00"),  # Friday evening: opens Monday, due Thursday
    ("2026-11-08T11:00:00+08:00", "2026-11-12T09:00:00+08:00"),  # Sunday
    # month ends
    ("2026-10-30T10:00:00+08:00", "2026-11-04T10:00:00+08:00"),  # Fri Oct 30: Mon, Tue, Wed of November
    ("2026-10-31T10:00:00+08:00", "2026-11-05T09:00:00+08:00"),  # Sat Oct 31: opens Mon Nov 2
    ("2025-12-30T10:00:00+08:00", "2026-01-05T10:00:00+08:00"),  # Tue: Wed 31, (Jan 1-3 off), Sun 4 worked, Mon 5
    # leap days
    ("2028-02-28T10:00:00+08:00", "2028-03-02T10:00:00+08:00"),  # Mon: Tue 29, Wed 1, Thu 2
    ("2028-02-29T10:00:00+08:00", "2028-03-03T10:00:00+08:00"),  # Tue Feb 29, 2028
    ("2024-02-29T10:00:00+08:00", "2024-03-05T10:00:00+08:00"),  # Thu Feb 29, 2024: Fri, Mon, Tue
    ("2024-02-28T10:00:00+08:00", "2024-03-04T10:00:00+08:00"),  # Wed: Thu 29, Fri 1, Mon 4
    # 2026 Spring Festival: 02-15..02-23 off, Saturdays 02-14 and 02-28 worked (调休)
    ("2026-02-13T10:00:00+08:00", "2026-02-25T10:00:00+08:00"),  # Fri: Sat 14 (worked), Tue 24, Wed 25
    ("2026-02-14T10:00:00+08:00", "2026-02-26T10:00:00+08:00"),  # on the make-up Saturday itself
    ("2026-02-15T10:00:00+08:00", "2026-02-27T09:00:00+08:00"),  # in the holiday: opens Tue 24
    ("2026-02-26T10:00:00+08:00", "2026-03-02T10:00:00+08:00"),  # Thu: Fri 27, Sat 28 (worked), Mon 2
    ("2026-02-12T17:00:00+08:00", "2026-02-24T17:00:00+08:00"),  # Thu: Fri 13, Sat 14, Tue 24
    # National Day 2026: 10-01..10-07 off, Sat 10-10 worked
    ("2026-09-30T10:00:00+08:00", "2026-10-10T10:00:00+08:00"),  # Wed: Thu 8, Fri 9, Sat 10 (worked)
    ("2026-10-03T10:00:00+08:00", "2026-10-12T09:00:00+08:00"),  # in the holiday: opens Thu 8
    ("2026-09-18T10:00:00+08:00", "2026-09-22T10:00:00+08:00"),  # Fri: Sun 20 (worked for National Day), Mon, Tue
]


@pytest.mark.parametrize("intake, due", SOLVE_CASES, ids=[c[0][:16] for c in SOLVE_CASES])
def test_solve_3wd_across_evenings_month_ends_leap_days_and_holiday_weeks(svc_nogit: Svc, intake: str,
                                                                          due: str) -> None:
    cid = svc_nogit.open("complaint", "--customer", "张三", now=intake)
    found = deadlines_of(svc_nogit, cid)
    assert found["solve-3wd"]["due"] == due
    assert found["solve-3wd"]["start"] == intake  # stored as it happened; the basis says from when
    # the clock-hour rules ignore the calendar: 24 h is 24 h, even on a holiday
    start = dt.datetime.fromisoformat(intake)
    assert found["respond-24h"]["due"] == (start + dt.timedelta(hours=24)).isoformat()
    assert found["callback-3min"]["due"] == (start + dt.timedelta(minutes=3)).isoformat()


def test_an_intake_typed_in_another_zone_is_counted_in_office_time(svc: Svc) -> None:
    # 12:00 UTC on Friday is 20:00 in Beijing: after closing, so the clock starts Monday
    cid = svc.open("complaint", "--customer", "张三", "--at", "2026-11-06T12:00:00Z",
                   now="2026-11-06T21:00:00+08:00")
    found = deadlines_of(svc, cid)
    assert found["solve-3wd"]["start"] == "2026-11-06T20:00:00+08:00"
    assert found["solve-3wd"]["due"] == "2026-11-12T09:00:00+08:00"


# --- meeting deadlines ----------------------------------------------------------------------------

def test_closing_meets_respond_and_solve_and_stops_the_rest(svc: Svc) -> None:
    cid = svc.open("complaint", "--customer", "张三", "--branch", "chaoyang", now=THU)
    svc.ok("close", cid, "--resolution", "已解决", now="2026-11-06T09:00:00+08:00")
    case = shown(svc, cid)
    met = {ev["rule"]: ev for ev in case["history"] if ev["action"] == "met"}
    assert sorted(met) == ["respond-24h", "solve-3wd"]
    assert all(ev["at"] == "2026-11-06T09:00:00+08:00" for ev in met.values())
    found = {d["rule"]: d for d in case["deadlines"]}
    assert not found["callback-3min"].get("met_at")
    later = "2026-11-20T09:00:00+08:00"
    line = line_for(deadline_lines(svc, cid, now=later), "callback-3min")
    assert "未完成（案件已结）" in line and "超时" not in line  # stopped, not overdue
    assert "已于 11-06 09:00 完成" in line_for(deadline_lines(svc, cid, now=later), "solve-3wd")
    # nothing of a closed case is due or overdue
    assert json.loads(svc.ok("due", "--within", "30d", "--format", "json", now=later).stdout) == []
    assert svc.ok("list", "--overdue", "--status", "all", "--format", "ids", now=later).stdout == ""
    assert svc("due", "--strict", now=later).exit_code == 0


def test_a_deadline_met_late_stays_visible_as_late(svc: Svc) -> None:
    use_english(svc)
    cid = svc.open("complaint", "--customer", "张三", now=THU)
    svc.ok("close", cid, "--resolution", "done at last", now="2026-11-12T11:30:00+08:00")
    found = deadlines_of(svc, cid)
    assert found["solve-3wd"]["met_at"] == "2026-11-12T11:30:00+08:00"  # due 11-10 10:00
    lines = deadline_lines(svc, cid, now="2026-11-30T09:00:00+08:00")
    solve = line_for(lines, "solve-3wd")
    assert "met late 11-12 11:30 (2 d 1 h late)" in solve
    respond = line_for(lines, "respond-24h")
    assert "met late" in respond
    assert "not met (case closed)" in line_for(lines, "callback-3min")


def test_svc_met_records_the_callback_and_refuses_what_is_not_open(svc: Svc) -> None:
    cid = svc.open("complaint", "--customer", "张三", now=THU)
    result = svc.ok("met", cid, "callback-3min", "--note", "已回拨客户", now="2026-11-05T10:02:00+08:00")
    assert "Traceback" not in result.stderr
    case = shown(svc, cid)
    met = [ev for ev in case["history"] if ev["action"] == "met"]
    assert [(ev["rule"], ev["at"], ev.get("note")) for ev in met] == [
        ("callback-3min", "2026-11-05T10:02:00+08:00", "已回拨客户")]
    assert "已于 11-05 10:02 完成" in line_for(deadline_lines(svc, cid), "callback-3min")

    head = git_head(svc)
    before = case_file(svc, cid).read_bytes()
    for rule in ("callback-3min", "no-such-rule"):
        refused = svc("met", cid, rule, now="2026-11-05T10:05:00+08:00")
        assert refused.exit_code == 1
        assert rule in refused.stderr and "open: respond-24h, solve-3wd" in refused.stderr, refused.stderr
    # one bad rule among good ones refuses them all
    refused = svc("met", cid, "respond-24h", "bogus", now="2026-11-05T10:05:00+08:00")
    assert refused.exit_code == 1 and "bogus" in refused.stderr
    assert git_head(svc) == head and case_file(svc, cid).read_bytes() == before


def test_met_late_by_hand_with_at(svc: Svc) -> None:
    use_english(svc)
    cid = svc.open("repair", "--customer", "李四", now=THU)
    svc.ok("met", cid, "engineer-20min", "--at", "2026-11-05T10:35:00+08:00", now="2026-11-05T11:00:00+08:00")
    line = line_for(deadline_lines(svc, cid, now="2026-11-05T11:00:00+08:00"), "engineer-20min")
    assert "met late 11-05 10:35 (15 min late)" in line


def test_svc_met_on_a_case_with_no_deadlines_says_none_are_open(svc: Svc) -> None:
    cid = svc.open("inquiry", now=THU)
    refused = svc("met", cid, "callback-3min", now=THU)
    assert refused.exit_code == 1 and "open: none" in refused.stderr


def test_an_overdue_deadline_is_shown_as_overdue_and_listed(svc: Svc) -> None:
    cid = svc.open("complaint", "--customer", "张三", now=THU)
    later = "2026-11-05T10:10:00+08:00"
    assert "已超时7分钟" in line_for(deadline_lines(svc, cid, now=later), "callback-3min")
    assert "剩余" in line_for(deadline_lines(svc, cid, now=later), "respond-24h")
    assert svc.ok("list", "--overdue", "--format", "ids", now=later).stdout.split() == [cid]
    assert svc.ok("list", "--overdue", "--format", "ids", now="2026-11-05T10:02:00+08:00").stdout == ""


# --- deferral ------------------------------------------------------------------------------------

def test_defer_moves_solve_3wd_by_the_working_days_left_and_says_why(svc: Svc) -> None:
    cid = svc.open("complaint", "--customer", "张三", now=THU)  # solve-3wd due Tue 11-10 10:00
    before = deadlines_of(svc, cid)
    svc.ok("defer", cid, "--until", "2026-11-20", "--reason", "客户出差，20日后方可上门",
           now="2026-11-06T11:00:00+08:00")
    after = deadlines_of(svc, cid)
    # on Friday two working days were left (Mon, Tue); they run again from Friday 11-20's opening
    assert after["solve-3wd"]["due"] == "2026-11-24T09:00:00+08:00"
    assert after["solve-3wd"]["start"] == before["solve-3wd"]["start"]
    basis = after["solve-3wd"]["basis"]
    assert basis.startswith(before["solve-3wd"]["basis"])
    assert "暂停" in basis and "2026-11-20" in basis and "客户出差" in basis and "剩余2个工作日" in basis
    # the clock-hour deadlines do not stop
    assert after["respond-24h"] == before["respond-24h"]
    assert after["callback-3min"] == before["callback-3min"]
    case = shown(svc, cid)
    assert case["deferred_until"] == "2026-11-20"
    defer = [ev for ev in case["history"] if ev["action"] == "defer"]
    assert [(ev["until"], ev["reason"]) for ev in defer] == [("2026-11-20", "客户出差，20日后方可上门")]
    # not overdue while deferred
    items = json.loads(svc.ok("due", "--within", "1d", "--format", "json", now="2026-11-16T09:00:00+08:00").stdout)
    assert [i["rule"] for i in items if i["overdue"]] == ["callback-3min", "respond-24h"]
    line = line_for(deadline_lines(svc, cid, now="2026-11-16T09:00:00+08:00"), "solve-3wd")
    assert "11-24 09:00" in line and "暂停" in line


def test_defer_says_the_clock_stopped_in_english(svc: Svc) -> None:
    use_english(svc)
    cid = svc.open("repair", "--customer", "李四", now=THU)
    svc.ok("defer", cid, "--until", "2026-11-09", "--reason", "customer away", now="2026-11-05T15:00:00+08:00")
    solve = deadlines_of(svc, cid)["solve-3wd"]
    # Thursday afternoon: Fri, Mon, Tue were left; they run from Monday 11-09 09:00
    assert solve["due"] == "2026-11-12T09:00:00+08:00"
    line = line_for(deadline_lines(svc, cid, now="2026-11-06T09:00:00+08:00"), "solve-3wd")
    assert "clock stopped 11-05 15:00 until 2026-11-09 at the customer's request (customer away)" in line
    assert "3 working days left" in line


def test_a_deferral_never_gives_more_than_the_rule_allows(svc: Svc) -> None:
    """Deferred on Friday evening, before the clock of a Friday-evening intake even started:
    the three working days run from the restart, not four."""
    cid = svc.open("complaint", "--customer", "张三", now="2026-11-06T20:00:00+08:00")  # due Thu 11-12 09:00
    svc.ok("defer", cid, "--until", "2026-11-11", "--reason", "客户外出", now="2026-11-06T20:05:00+08:00")
    # restart Wed 11-11 09:00, three working days: Thu, Fri, Mon
    assert due_times(svc, cid)["solve-3wd"] == "2026-11-16T09:00:00+08:00"


def test_defer_over_a_holiday_counts_working_days_after_it(svc: Svc) -> None:
    cid = svc.open("complaint", "--customer", "张三", now="2026-09-28T10:00:00+08:00")
    # Monday: Tue 29, Wed 30, then the National Day week, Thu 10-08
    assert due_times(svc, cid)["solve-3wd"] == "2026-10-08T10:00:00+08:00"
    svc.ok("defer", cid, "--until", "2026-10-03", "--reason", "客户要求节后处理", now="2026-09-29T10:00:00+08:00")
    # on Tue 29, Wed 30 and Thu 10-08 were left;
    # from the first opening after 10-03 (Thu 10-08 09:00): Fri 9, Sat 10
    assert due_times(svc, cid)["solve-3wd"] == "2026-10-10T09:00:00+08:00"


def test_a_second_deferral_during_the_first_does_not_count_the_pause_as_working_time(svc: Svc) -> None:
    cid = svc.open("complaint", "--customer", "张三", now=THU)  # due Tue 11-10 10:00
    svc.ok("defer", cid, "--until", "2026-11-20", "--reason", "客户出差", now="2026-11-06T11:00:00+08:00")
    assert due_times(svc, cid)["solve-3wd"] == "2026-11-24T09:00:00+08:00"  # 2 working days left
    # still deferred: the customer asks for five more days
    svc.ok("defer", cid, "--until", "2026-11-25", "--reason", "客户延长出差", now="2026-11-09T10:00:00+08:00")
    # the clock has not run since Friday: still 2 left, from Wednesday 11-25's opening
    assert due_times(svc, cid)["solve-3wd"] == "2026-11-27T09:00:00+08:00"
    assert shown(svc, cid)["deferred_until"] == "2026-11-25"


@pytest.mark.parametrize("until", ["2026-11-04", "2026-11-05"])
def test_defer_until_today_or_the_past_is_refused(svc: Svc, until: str) -> None:
    cid = svc.open("complaint", "--customer", "张三", now=THU)
    head = git_head(svc)
    result = svc("defer", cid, "--until", until, "--reason", "客户要求", now="2026-11-05T11:00:00+08:00")
    assert result.exit_code == 1
    assert "--until" in result.stderr and until in result.stderr
    assert git_head(svc) == head


def test_defer_needs_a_reason(svc: Svc) -> None:
    cid = svc.open("complaint", "--customer", "张三", now=THU)
    head = git_head(svc)
    missing = svc("defer", cid, "--until", "2026-11-20", now=THU)
    assert missing.exit_code == 2 and "--reason" in missing.stderr
    blank = svc("defer", cid, "--until", "2026-11-20", "--reason", "  ", now=THU)
    assert blank.exit_code == 1 and "--reason" in blank.stderr
    bad_date = svc("defer", cid, "--until", "11/20", "--reason", "x", now=THU)
    assert bad_date.exit_code == 1 and "--until" in bad_date.stderr and "Traceback" not in bad_date.stderr
    assert git_head(svc) == head


def test_deferring_a_closed_case_is_refused(svc: Svc) -> None:
    cid = svc.open("complaint", "--customer", "张三", now=THU)
    svc.ok("close", cid, "--resolution", "已解决", now="2026-11-05T11:00:00+08:00")
    head = git_head(svc)
    result = svc("defer", cid, "--until", "2026-11-20", "--reason", "客户要求", now="2026-11-05T12:00:00+08:00")
    assert result.exit_code == 1 and "closed" in result.stderr
    assert git_head(svc) == head


# --- a stored deadline does not move -------------------------------------------------------------

def test_a_rule_change_does_not_move_a_stored_deadline(svc: Svc, monkeypatch: pytest.MonkeyPatch) -> None:
    cid = svc.open("complaint", "--customer", "张三", "--branch", "chaoyang", now=THU)
    old = deadlines.RULES["respond-24h"]
    monkeypatch.setitem(deadlines.RULES, "respond-24h", dataclasses.replace(old, amount=48))
    later = "2026-11-06T11:00:00+08:00"  # 25 h after intake: late under the old rule, not under the new
    assert deadlines_of(svc, cid)["respond-24h"]["due"] == "2026-11-06T10:00:00+08:00"
    assert "11-06 10:00" in line_for(deadline_lines(svc, cid, now=later), "respond-24h")
    items = json.loads(svc.ok("due", "--format", "json", now=later).stdout)
    respond = [i for i in items if i["id"] == cid and i["rule"] == "respond-24h"]
    assert respond and respond[0]["due_at"] == "2026-11-06T10:00:00+08:00" and respond[0]["overdue"] is True
    # a later event on the case does not recompute it either
    svc.ok("note", cid, "客户来电催促", now=later)
    assert deadlines_of(svc, cid)["respond-24h"]["due"] == "2026-11-06T10:00:00+08:00"
    # while a new case does get the new rule (the patch is real)
    new = svc.open("complaint", "--customer", "李四", now=later)
    assert deadlines_of(svc, new)["respond-24h"]["due"] == "2026-11-08T11:00:00+08:00"
    assert svc.ok("check").exit_code == 0


def test_a_calendar_change_does_not_move_a_stored_deadline(svc: Svc) -> None:
    cid = svc.open("complaint", "--customer", "张三", now=THU)  # solve-3wd due Tue 11-10 10:00
    config = svc.root / "svc.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "calendar:\n  holidays: ['2026-11-09']\n",
                      encoding="utf-8")
    assert due_times(svc, cid)["solve-3wd"] == "2026-11-10T10:00:00+08:00"
    new = svc.open("complaint", "--customer", "李四", now=THU)
    assert due_times(svc, new)["solve-3wd"] == "2026-11-11T10:00:00+08:00"  # the office closed Monday


# --- the machine's TZ never enters a result -------------------------------------------------------

SCRIPT: list[tuple[str, list[str]]] = [
    ("2026-11-06T17:50:00+08:00", ["open", "complaint", "--customer", "张三", "--phone", "13800138000",
                                   "--branch", "chaoyang", "--summary", "卫生间漏水"]),
    ("2026-11-06T18:30:00+08:00", ["notify", "C2611-A001"]),
    ("2026-11-06T23:10:00+08:00", ["open", "repair", "--customer", "李四", "--branch", "haidian"]),
    # typed in UTC: 2026-11-06T16:00Z is Saturday 00:00 in Beijing
    ("2026-11-06T16:00:00Z", ["repaired", "C2611-A002"]),
    ("2026-11-07T09:00:00+08:00", ["defer", "C2611-A001", "--until", "2026-11-11", "--reason", "客户出差"]),
    ("2026-11-07T09:05:00+08:00", ["project", "add", "--customer", "王五", "--branch", "chaoyang",
                                   "--contract-signed", "2026-11-01", "--start", "2026-11-07",
                                   "--completion", "2026-12-31", "--warranty-months", "2"]),
]


def run_script(root: Path, machine_tz: str) -> tuple[dict[str, bytes], str, str]:
    env = {"SVC_STORE": str(root), "SVC_USER": "wangfang", "TZ": machine_tz}
    for now, args in SCRIPT:
        done = run_svc(*args, env={**env, "SVC_NOW": now})
        assert done.returncode == 0, (machine_tz, args, done.stderr)
    files = {p.relative_to(root).as_posix(): p.read_bytes()
             for folder in ("cases", "projects") for p in sorted((root / folder).rglob("*.yaml"))}
    due = run_svc("due", "--within", "30d", "--format", "json", env={**env, "SVC_NOW": "2026-11-09T08:00:00+08:00"})
    assert due.returncode == 0, due.stderr
    show = run_svc("show", "C2611-A001", env={**env, "SVC_NOW": "2026-11-09T08:00:00+08:00"})
    assert show.returncode == 0, show.stderr
    return files, due.stdout, show.stdout


def test_the_same_script_under_utc_and_shanghai_gives_identical_files_and_agenda(tmp_path: Path) -> None:
    stores = {tz: make_store(tmp_path / tz.replace("/", "-")) for tz in ("UTC", "Asia/Shanghai")}
    with ThreadPoolExecutor(2) as pool:  # two separate stores: the runs may overlap
        utc, cst = pool.map(lambda tz: run_script(stores[tz], tz), stores)
    assert utc == cst
    files, due_json, _ = utc
    assert sorted(files) == ["cases/2026/11/C2611-A001.yaml", "cases/2026/11/C2611-A002.yaml",
                             "projects/2026/11/P2611-A001.yaml"]
    items = json.loads(due_json)
    assert [(i["id"], i["rule"], i["due_at"]) for i in items] == sorted(
        [(i["id"], i["rule"], i["due_at"]) for i in items], key=lambda t: t[2])
    by_rule = {(i["id"], i["rule"]): i["due_at"] for i in items}
    # Friday 17:50 intake (due Wed 17:50), deferred on Saturday until Wednesday: counted from Monday's
    # opening, Tue and Wed were left; they run from Wednesday 09:00
    assert by_rule[("C2611-A001", "solve-3wd")] == "2026-11-13T09:00:00+08:00"
    assert by_rule[("C2611-A001", "feedback-24h")] == "2026-11-07T18:30:00+08:00"
    assert by_rule[("C2611-A002", "revisit-3d")] == "2026-11-10T00:00:00+08:00"
    assert all(i["due_at"].endswith("+08:00") for i in items)


def test_a_new_york_office_across_a_dst_change(svc: Svc) -> None:
    """24 h is elapsed time (the wall clock moves an hour); 3 days keeps the wall time."""
    config = svc.root / "svc.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("Asia/Shanghai", "America/New_York"),
                      encoding="utf-8")
    # Saturday 2026-03-07, the day before clocks go forward (EST -05:00 -> EDT -04:00)
    cid = svc.open("repair", "--customer", "Smith", now="2026-03-07T12:00:00-05:00")
    found = deadlines_of(svc, cid)
    respond = found["respond-24h"]["due"]
    assert respond == "2026-03-08T13:00:00-04:00"
    elapsed = dt.datetime.fromisoformat(respond) - dt.datetime.fromisoformat(found["respond-24h"]["start"])
    assert elapsed == dt.timedelta(hours=24)
    # the working-day clock starts at Monday's opening, in EDT
    assert found["solve-3wd"]["due"] == "2026-03-12T09:00:00-04:00"
    svc.ok("repaired", cid, now="2026-03-07T12:30:00-05:00")
    revisit = deadlines_of(svc, cid)["revisit-3d"]
    assert revisit["due"] == "2026-03-10T12:30:00-04:00"  # same wall time, only 71 elapsed hours
    elapsed = dt.datetime.fromisoformat(revisit["due"]) - dt.datetime.fromisoformat(revisit["start"])
    assert elapsed == dt.timedelta(hours=71)
    # a clock given in UTC is read as office time
    other = svc.open("repair", "--customer", "Jones", now="2026-03-07T17:00:00Z")
    assert deadlines_of(svc, other)["respond-24h"]["start"] == "2026-03-07T12:00:00-05:00"


# --- properties ----------------------------------------------------------------------------------

INTAKES = st.builds(
    lambda minutes: dt.datetime(2024, 1, 1, tzinfo=SHANGHAI) + dt.timedelta(minutes=minutes),
    st.integers(0, (dt.date(2027, 1, 1) - dt.date(2024, 1, 1)).days * 24 * 60 - 1),
)


def _opened(kind: str, severity: str, at: dt.datetime) -> dict[str, dict[str, Any]]:
    event = {"at": at.isoformat(), "by": "wangfang", "action": "open", "severity": severity, "level": "assistant"}
    out = deadlines.consequences({"kind": kind}, [event], CN, "zh", "wangfang")
    assert out[0] is event
    return {ev["rule"]: ev for ev in out[1:]}


@settings(max_examples=200, deadline=None)
@given(INTAKES, st.sampled_from(["complaint", "repair"]))
def test_solve_3wd_is_three_working_days_after_the_first_opening(intake: dt.datetime, kind: str) -> None:
    solve = _opened(kind, "general", intake)["solve-3wd"]
    due = dt.datetime.fromisoformat(solve["due"])
    assert due.utcoffset() == dt.timedelta(hours=8)
    assert CN.is_workday(due.date()) and CN.is_open(due)
    assert CN.opens <= due.time() < CN.closes
    assert due > intake
    opening = CN.open_at_or_after(intake)
    assert due.time() == opening.time()
    assert CN.working_days_between(opening.date(), due.date()) == 3
    assert solve["start"] == intake.isoformat()


@settings(max_examples=150, deadline=None)
@given(INTAKES, st.sampled_from(["complaint", "repair"]), st.sampled_from(["general", "serious", "major"]))
def test_clock_rules_are_elapsed_time_and_only_general_cases_get_solve_3wd(intake: dt.datetime, kind: str,
                                                                           severity: str) -> None:
    found = _opened(kind, severity, intake)
    start = intake
    assert dt.datetime.fromisoformat(found["respond-24h"]["due"]) - start == dt.timedelta(hours=24)
    if kind == "complaint":
        assert dt.datetime.fromisoformat(found["callback-3min"]["due"]) - start == dt.timedelta(minutes=3)
        assert "engineer-20min" not in found
    else:
        assert dt.datetime.fromisoformat(found["engineer-20min"]["due"]) - start == dt.timedelta(minutes=20)
        assert "callback-3min" not in found
    assert ("solve-3wd" in found) == (severity == "general")
    assert "legal-24h" not in found and "feedback-24h" not in found


@settings(max_examples=150, deadline=None)
@given(INTAKES, st.integers(1, 40), st.integers(0, 8 * 60))
def test_a_deferral_restarts_after_the_until_day_and_never_adds_time(intake: dt.datetime, days: int,
                                                                    minutes: int) -> None:
    found = _opened("complaint", "general", intake)
    case = {"kind": "complaint", "status": "open",
            "deadlines": [{k: ev[k] for k in ("rule", "start", "due", "basis")} for ev in found.values()]}
    at = intake + dt.timedelta(minutes=minutes)
    until = at.date() + dt.timedelta(days=days)
    events = deadlines.deferral(case, until, "客户要求", at, "wangfang", CN, "zh")
    assert events[0]["action"] == "defer"
    moved = {ev["rule"]: ev for ev in events[1:]}
    assert sorted(moved) == ["solve-3wd"]
    due = dt.datetime.fromisoformat(moved["solve-3wd"]["due"])
    restart = CN.open_at_or_after(dt.datetime.combine(until, dt.time(0), tzinfo=SHANGHAI))
    assert due >= restart and CN.is_open(due)
    assert CN.working_days_between(restart.date(), due.date()) <= 3
    if days < 2:
        return
    # deferred again the day before the first deferral ends: the pause is not working time
    case["deadlines"] = [{**d, **({"due": moved["solve-3wd"]["due"]} if d["rule"] == "solve-3wd" else {})}
                         for d in case["deadlines"]]
    case["deferred_until"] = until.isoformat()
    at2 = dt.datetime.combine(until - dt.timedelta(days=1), dt.time(12, 0), tzinfo=SHANGHAI)
    again = deadlines.deferral(case, until + dt.timedelta(days=3), "客户再次要求", at2, "wangfang", CN, "zh")
    second = dt.datetime.fromisoformat(again[1]["due"])
    restart2 = CN.open_at_or_after(dt.datetime.combine(until + dt.timedelta(days=3), dt.time(0), tzinfo=SHANGHAI))
    assert CN.working_days_between(restart2.date(), second.date()) == CN.working_days_between(restart.date(),
                                                                                              due.date())


def test_closing_stops_unmet_deadlines_and_reopening_starts_fresh_ones(svc: Svc) -> None:
    """A reopened case does not resurrect the callback it missed before closing; it gets a
    new 24-hour answer and a new 3-working-day resolution clock from the reopening."""
    case_id = svc.open("complaint", "--customer", "张三", "--phone", "13800138000", now="2026-11-02T10:00:00+08:00")
    svc.ok("close", case_id, "--resolution", "当场解决", now="2026-11-02T11:00:00+08:00")
    svc.ok("reopen", case_id, "--reason", "又漏水", now="2026-12-01T10:00:00+08:00")
    due = json.loads(svc.ok("due", "--format", "json", now="2026-12-01T10:05:00+08:00").stdout)
    assert [(d["rule"], d["due_at"]) for d in due if d["id"] == case_id] == [
        ("respond-24h", "2026-12-02T10:00:00+08:00"),
    ]
    week = json.loads(svc.ok("due", "--within", "1w", "--format", "json", now="2026-12-01T10:05:00+08:00").stdout)
    assert ("solve-3wd", "2026-12-04T10:00:00+08:00") in [(d["rule"], d["due_at"]) for d in week]
    assert not [d for d in week if d["rule"] == "callback-3min"]

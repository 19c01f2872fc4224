"""Renovation projects and their return-visit schedule (回访时间): `svc project add|list|show`,
`svc visit`, what `svc due` makes of them, and `svc check` on project files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svc.errors import RefusedError
from svc.projects import VISIT_RULES, add_months, schedule
from tests.conftest import Svc

NOW = "2026-11-01T10:00:00+08:00"
DATES = ["--contract-signed", "2026-11-01", "--start", "2026-11-10", "--completion", "2027-01-20"]

# contract 2026-11-01, start 2026-11-10, completion 2027-01-20, three months' warranty
EXPECTED = [
    ("contract", "visit-contract-5d", "2026-11-06"),       # signed + 5
    ("start", "visit-start-10d", "2026-11-20"),            # start + 10
    ("mid-1", "visit-mid-15d", "2026-12-05"),              # start + 25
    ("mid-2", "visit-mid-15d", "2026-12-20"),              # then every 15 days ...
    ("mid-3", "visit-mid-15d", "2027-01-04"),
    ("mid-4", "visit-mid-15d", "2027-01-19"),              # ... while before completion (01-20)
    ("completion", "visit-completion-5d", "2027-01-25"),   # completion + 5
    ("warranty-1", "visit-warranty-monthly", "2027-02-20"),
    ("warranty-2", "visit-warranty-monthly", "2027-03-20"),
    ("warranty-3", "visit-warranty-monthly", "2027-04-20"),
]
# When `svc due` says each is due: closing time (18:00) that day, or of the next working day.
EXPECTED_DUE_AT = {
    "contract": "2026-11-06T18:00:00+08:00",    # Friday
    "start": "2026-11-20T18:00:00+08:00",       # Friday
    "mid-1": "2026-12-07T18:00:00+08:00",       # Sat 12-05 -> Monday
    "mid-2": "2026-12-21T18:00:00+08:00",       # Sun 12-20 -> Monday
    "mid-3": "2027-01-04T18:00:00+08:00",
    "mid-4": "2027-01-19T18:00:00+08:00",
    "completion": "2027-01-25T18:00:00+08:00",
    "warranty-1": "2027-02-22T18:00:00+08:00",  # Sat -> Monday
    "warranty-2": "2027-03-22T18:00:00+08:00",  # Sat -> Monday
    "warranty-3": "2027-04-20T18:00:00+08:00",
}


def add(svc: Svc, *dates: str, now: str = NOW, **extra: str) -> str:
    args = ["project", "add", "--customer", "张三", "--phone", "13800138000", "--address", "望京花园3-1-502",
            "--branch", "chaoyang", "--designer", "刘洋", "--site-supervisor", "陈工", "--foreman", "黄师傅",
            "--assign", "lina", *(dates or DATES)]
    for key, value in extra.items():
        args += [f"--{key.replace('_', '-')}", value]
    result = svc.ok(*args, now=now)
    return result.stdout.strip()


def project(svc: Svc, pid: str) -> dict[str, Any]:
    return json.loads(svc.ok("project", "show", pid, "--format", "json").stdout)


def planned(svc: Svc, pid: str) -> list[tuple[str, str, str]]:
    return [(v["visit"], v["rule"], v["due"]) for v in project(svc, pid)["history"][0]["schedule"]]


def due_visits(svc: Svc, now: str, within: str = "400d") -> list[tuple[str, str, str]]:
    items = json.loads(svc.ok("due", "--within", within, "--format", "json", now=now).stdout)
    return [(i["what"].split()[-1], i["rule"], i["due_at"]) for i in items if i["record"] == "project"]


def project_file(svc: Svc, pid: str) -> Path:
    return svc.root / "projects" / f"20{pid[1:3]}" / pid[3:5] / f"{pid}.yaml"


def head(svc: Svc) -> str:
    return svc.git("rev-parse", "HEAD").strip()


# --- adding a project ---------------------------------------------------------------------------

def test_project_add_prints_the_id_alone_and_stores_the_schedule(svc: Svc) -> None:
    result = svc.ok("project", "add", "--customer", "张三", *DATES, "--warranty-months", "3", now=NOW)
    assert result.stdout == "P2611-A001\n"
    pid = result.stdout.strip()
    assert planned(svc, pid) == EXPECTED
    fields = project(svc, pid)
    assert (fields["contract_signed"], fields["start"], fields["completion"]) == ("2026-11-01", "2026-11-10",
                                                                                  "2027-01-20")
    assert fields["warranty_months"] == 3 and fields["status"] == "active"
    assert fields["created_at"] == NOW
    assert project_file(svc, pid).is_file()
    log = svc.git("log", "-1", "--format=%s%n%b")
    assert log.startswith(f"project add {pid}: 10 visits scheduled")
    # a second one on the same desk gets the next number
    assert add(svc) == "P2611-A002"


def test_the_default_warranty_is_two_years_of_monthly_visits(svc: Svc) -> None:
    pid = add(svc)
    warranty = [v for v in planned(svc, pid) if v[1] == "visit-warranty-monthly"]
    assert len(warranty) == 24
    assert warranty[0][2] == "2027-02-20" and warranty[-1] == ("warranty-24", "visit-warranty-monthly", "2029-01-20")


def test_due_lists_exactly_the_scheduled_visits_and_a_visit_removes_exactly_that_one(svc: Svc) -> None:
    pid = add(svc, warranty_months="3")
    expected = [(key, rule, EXPECTED_DUE_AT[key]) for key, rule, _ in EXPECTED]
    assert due_visits(svc, NOW) == expected
    items = json.loads(svc.ok("due", "--within", "400d", "--format", "json", now=NOW).stdout)
    assert {i["id"] for i in items} == {pid}
    assert all(i["overdue"] is False and i["user"] == "lina" and i["branch"] == "chaoyang" for i in items)
    assert items[0]["basis"] == "回访计划：contract 应于 2026-11-06 进行"
    # by default (within a day) nothing of it is due yet
    assert due_visits(svc, NOW, "1d") == []
    assert due_visits(svc, "2026-11-06T09:00:00+08:00", "1d") == expected[:1]

    at = "2026-11-05T15:00:00+08:00"
    visit = svc.ok("visit", pid, "--outcome", "ok", "--summary", "客户满意", now=at)
    assert visit.stdout == ""  # no case opened
    assert f"{pid}: 回访 contract" in visit.stderr
    assert due_visits(svc, at) == expected[1:]
    fields = project(svc, pid)
    assert fields["visited"] == ["contract"]
    assert fields["history"][-1] == {"at": at, "by": "wangfang", "action": "visit", "visit": "contract",
                                     "outcome": "ok", "summary": "客户满意"}


def test_a_missed_visit_is_overdue_in_due_and_in_project_show(svc: Svc) -> None:
    pid = add(svc, warranty_months="3")
    later = "2026-11-09T09:00:00+08:00"
    items = [i for i in json.loads(svc.ok("due", "--format", "json", now=later).stdout)]
    assert [(i["rule"], i["overdue"]) for i in items] == [("visit-contract-5d", True)]
    assert svc("due", "--strict", now=later).exit_code == 3
    text = svc.ok("project", "show", pid, now=later).stdout
    contract_row = next(line for line in text.splitlines() if line.startswith("contract "))
    assert "超时" in contract_row
    start_row = next(line for line in text.splitlines() if line.startswith("start "))
    assert "超时" not in start_row
    # the overdue one is the visit a call without --kind records, even a week late
    svc.ok("visit", pid, "--outcome", "ok", now="2026-11-12T10:00:00+08:00")
    assert project(svc, pid)["visited"] == ["contract"]


@pytest.mark.parametrize("dates, visit, due_at", [
    # contract visit on National Day 2026 (10-01..10-07 off): the next working day, Thu 10-08
    (["--contract-signed", "2026-09-26", "--start", "2026-09-30", "--completion", "2026-10-20"],
     "contract", "2026-10-08T18:00:00+08:00"),
    # start visit on Saturday 10-10, a make-up working day: due that very day
    (["--contract-signed", "2026-09-26", "--start", "2026-09-30", "--completion", "2026-10-20"],
     "start", "2026-10-10T18:00:00+08:00"),
    # completion visit on Sunday 10-25: Monday
    (["--contract-signed", "2026-09-26", "--start", "2026-09-30", "--completion", "2026-10-20"],
     "completion", "2026-10-26T18:00:00+08:00"),
    # contract visit in the 2026 Spring Festival (02-15..02-23): Tuesday 02-24
    (["--contract-signed", "2026-02-12", "--start", "2026-03-01", "--completion", "2026-03-10"],
     "contract", "2026-02-24T18:00:00+08:00"),
    # start visit on Saturday 02-28, worked for the Spring Festival
    (["--contract-signed", "2026-02-12", "--start", "2026-02-18", "--completion", "2026-03-10"],
     "start", "2026-02-28T18:00:00+08:00"),
])
def test_a_visit_falling_on_a_day_off_is_due_at_closing_of_the_next_working_day(
        svc_nogit: Svc, dates: list[str], visit: str, due_at: str) -> None:
    now = "2026-01-05T10:00:00+08:00"
    pid = add(svc_nogit, *dates, now=now, warranty_months="1")
    found = {key: when for key, _, when in due_visits(svc_nogit, now)}
    assert found[visit] == due_at
    assert pid


def test_no_mid_visit_when_completion_comes_before_start_plus_25(svc: Svc) -> None:
    pid = add(svc, "--contract-signed", "2026-11-01", "--start", "2026-11-01", "--completion", "2026-11-26",
              warranty_months="0")
    assert planned(svc, pid) == [
        ("contract", "visit-contract-5d", "2026-11-06"),
        ("start", "visit-start-10d", "2026-11-11"),
        ("completion", "visit-completion-5d", "2026-12-01"),
    ]
    # one day more and the mid visit falls before completion
    pid = add(svc, "--contract-signed", "2026-11-01", "--start", "2026-11-01", "--completion", "2026-11-27",
              warranty_months="0")
    assert ("mid-1", "visit-mid-15d", "2026-11-26") in planned(svc, pid)


def test_warranty_visits_keep_to_month_ends_and_leap_days(svc: Svc) -> None:
    pid = add(svc, "--contract-signed", "2026-12-01", "--start", "2026-12-10", "--completion", "2027-01-31",
              warranty_months="14")
    warranty = [due for _, rule, due in planned(svc, pid) if rule == "visit-warranty-monthly"]
    assert warranty == ["2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31", "2027-06-30", "2027-07-31",
                        "2027-08-31", "2027-09-30", "2027-10-31", "2027-11-30", "2027-12-31", "2028-01-31",
                        "2028-02-29", "2028-03-31"]


@pytest.mark.parametrize("completion, months, expected", [
    ("2024-01-31", 2, ["2024-02-29", "2024-03-31"]),       # leap year
    ("2023-01-31", 2, ["2023-02-28", "2023-03-31"]),       # common year
    ("2024-02-29", 12, ["2024-03-29", "2024-04-29", "2024-05-29", "2024-06-29", "2024-07-29", "2024-08-29",
                        "2024-09-29", "2024-10-29", "2024-11-29", "2024-12-29", "2025-01-29", "2025-02-28"]),
    ("2027-08-31", 6, ["2027-09-30", "2027-10-31", "2027-11-30", "2027-12-31", "2028-01-31", "2028-02-29"]),
    ("2026-12-15", 2, ["2027-01-15", "2027-02-15"]),       # across a year end
])
def test_warranty_months_from_the_completion_date(completion: str, months: int, expected: list[str]) -> None:
    day = dt.date.fromisoformat(completion)
    plan = schedule(day, day, day, months)
    assert [v["due"] for v in plan if v["rule"] == "visit-warranty-monthly"] == expected
    assert [v["visit"] for v in plan if v["rule"] == "visit-warranty-monthly"] == [
        f"warranty-{n}" for n in range(1, months + 1)]


@pytest.mark.parametrize("dates, message", [
    (["--contract-signed", "2026-11-11", "--start", "2026-11-10", "--completion", "2027-01-20"], "dates out of order"),
    (["--contract-signed", "2026-11-01", "--start", "2027-02-01", "--completion", "2027-01-20"], "dates out of order"),
    (["--contract-signed", "2026-11-01", "--start", "2026/11/10", "--completion", "2027-01-20"], "--start"),
    (["--contract-signed", "2026-11-01", "--start", "2026-11-10", "--completion", "2027-02-30"], "--completion"),
])
def test_bad_or_out_of_order_dates_are_refused_and_nothing_is_written(svc: Svc, dates: list[str],
                                                                      message: str) -> None:
    before = head(svc)
    result = svc("project", "add", "--customer", "张三", *dates, now=NOW)
    assert result.exit_code == 1, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
    assert head(svc) == before
    assert not list(svc.root.glob("projects/**/*.yaml"))
    assert svc.git("status", "--porcelain") == ""


def test_project_add_refuses_unknown_branch_and_user_and_a_future_at(svc: Svc) -> None:
    before = head(svc)
    for extra, needle in ((["--branch", "xicheng"], "unknown branch"), (["--assign", "nobody"], "unknown user"),
                          (["--at", "2026-11-02T10:00:00+08:00"], "in the future")):
        result = svc("project", "add", "--customer", "张三", *DATES, *extra, now=NOW)
        assert result.exit_code == 1 and needle in result.stderr, result.stderr
    missing = svc("project", "add", "--customer", "张三", "--start", "2026-11-10", "--completion", "2027-01-20")
    assert missing.exit_code == 2 and "--contract-signed" in missing.stderr
    assert head(svc) == before


# --- recording visits ---------------------------------------------------------------------------

def test_a_problem_visit_opens_a_linked_complaint_in_the_same_commit(svc: Svc) -> None:
    pid = add(svc, warranty_months="3")
    svc.ok("visit", pid, "--outcome", "ok", now="2026-11-05T15:00:00+08:00")
    commits = int(svc.git("rev-list", "--count", "HEAD"))
    at = "2026-11-18T10:00:00+08:00"
    result = svc.ok("visit", pid, "--outcome", "problem", "--summary", "墙面开裂", now=at)
    case_id = result.stdout.strip()
    assert result.stdout == f"{case_id}\n" and case_id.startswith("C2611-")
    assert int(svc.git("rev-list", "--count", "HEAD")) == commits + 1  # ONE commit
    changed = svc.git("show", "--name-only", "--format=", "HEAD").split()
    assert sorted(changed) == sorted([f"cases/2026/11/{case_id}.yaml", f"projects/2026/11/{pid}.yaml"])
    assert svc.git("status", "--porcelain") == ""

    case = json.loads(svc.ok("show", case_id, "--format", "json").stdout)
    assert case["kind"] == "complaint" and case["status"] == "open"
    assert case["channel"] == "visit"
    assert case["project"]["id"] == pid
    assert case["project"]["foreman"] == "黄师傅" and case["project"]["start_date"] == "2026-11-10"
    assert case["summary"] == "墙面开裂"
    assert case["customer"] == {"name": "张三", "phone": "13800138000", "address": "望京花园3-1-502"}
    assert case["branch"] == "chaoyang" and case["assignee"] == "lina"
    assert case["opened_at"] == at
    rules = {d["rule"] for d in case["deadlines"]}
    assert rules == {"respond-24h", "solve-3wd"}  # no 3-minute callback: we made the call

    fields = project(svc, pid)
    assert fields["visited"] == ["contract", "start"]
    assert fields["history"][-1]["case"] == case_id and fields["history"][-1]["outcome"] == "problem"
    text = svc.ok("project", "show", pid).stdout
    start_row = next(line for line in text.splitlines() if line.startswith("start "))
    assert "2026-11-18" in start_row and "有问题" in start_row and case_id in start_row
    assert svc.ok("check").exit_code == 0


def test_a_problem_visit_without_a_summary_says_which_visit(svc: Svc) -> None:
    pid = add(svc)
    case_id = svc.ok("visit", pid, "--outcome", "problem", now="2026-11-05T15:00:00+08:00").stdout.strip()
    case = json.loads(svc.ok("show", case_id, "--format", "json").stdout)
    assert "contract" in case["summary"]


def test_a_greeting_is_logged_outside_the_schedule(svc: Svc) -> None:
    pid = add(svc, warranty_months="3")
    before = due_visits(svc, NOW)
    at = "2026-11-03T10:00:00+08:00"
    result = svc.ok("visit", pid, "--kind", "greeting", "--outcome", "ok", "--summary", "国庆问候", now=at)
    assert f"{pid}: 回访 greeting" in result.stderr and result.stdout == ""
    assert due_visits(svc, at) == before  # no scheduled visit consumed
    fields = project(svc, pid)
    assert not fields.get("visited")
    assert fields["history"][-1]["visit"] == "greeting"
    # and a thank-you call for a pennant, any time, as often as it happens
    svc.ok("visit", pid, "--kind", "thanks", "--outcome", "ok", "--summary", "客户送锦旗", now=at)
    svc.ok("visit", pid, "--kind", "greeting", "--outcome", "ok", "--summary", "春节问候", now=at)
    text = svc.ok("project", "show", pid, now=at).stdout
    assert "国庆问候" in text and "客户送锦旗" in text and "春节问候" in text
    assert "1/10" not in svc.ok("project", "list", now=at).stdout  # still 0/10
    assert "0/10" in svc.ok("project", "list", now=at).stdout
    assert svc.ok("check").exit_code == 0


def test_a_visit_with_nothing_due_within_a_week_is_refused_naming_the_next(svc: Svc) -> None:
    pid = add(svc, warranty_months="3")
    svc.ok("visit", pid, "--outcome", "ok", now="2026-11-05T15:00:00+08:00")  # contract
    before = head(svc)
    refused = svc("visit", pid, "--outcome", "ok", now="2026-11-12T10:00:00+08:00")  # start is due 11-20
    assert refused.exit_code == 1
    assert "start" in refused.stderr and "2026-11-20" in refused.stderr and "--kind" in refused.stderr
    assert head(svc) == before and svc.git("status", "--porcelain") == ""
    # seven days before, it may be made
    svc.ok("visit", pid, "--outcome", "ok", now="2026-11-13T10:00:00+08:00")
    assert project(svc, pid)["visited"] == ["contract", "start"]


def test_a_future_mid_visit_can_be_named_with_kind(svc: Svc) -> None:
    pid = add(svc, warranty_months="3")
    at = "2026-11-05T15:00:00+08:00"
    result = svc.ok("visit", pid, "--kind", "mid", "--outcome", "ok", now=at)
    assert f"{pid}: 回访 mid-1" in result.stderr
    svc.ok("visit", pid, "--kind", "mid", "--outcome", "ok", now=at)
    assert project(svc, pid)["visited"] == ["mid-1", "mid-2"]
    remaining = [key for key, _, _ in due_visits(svc, at)]
    assert remaining == ["contract", "start", "mid-3", "mid-4", "completion", "warranty-1", "warranty-2",
                         "warranty-3"]
    # a kind with nothing left is refused
    svc.ok("visit", pid, "--kind", "contract", "--outcome", "ok", now=at)
    refused = svc("visit", pid, "--kind", "contract", "--outcome", "ok", now=at)
    assert refused.exit_code == 1 and "no contract visit left" in refused.stderr


def test_visit_refusals(svc: Svc) -> None:
    pid = add(svc)
    svc.ok("visit", pid, "--outcome", "ok", now="2026-11-05T15:00:00+08:00")
    future = svc("visit", pid, "--outcome", "ok", "--at", "2026-11-06T10:00:00+08:00",
                 now="2026-11-05T16:00:00+08:00")
    assert future.exit_code == 1 and "future" in future.stderr
    earlier = svc("visit", pid, "--kind", "greeting", "--outcome", "ok", "--at", "2026-11-04T10:00:00+08:00",
                  now="2026-11-05T16:00:00+08:00")
    assert earlier.exit_code == 1 and "before the last event" in earlier.stderr
    missing = svc("visit", "P2611-A099", "--outcome", "ok")
    assert missing.exit_code == 4
    bad = svc("visit", pid, "--outcome", "fine")
    assert bad.exit_code == 2


# --- show, list, check ----------------------------------------------------------------------------

def test_project_show_and_list(svc: Svc) -> None:
    pid = add(svc, warranty_months="3")
    svc.ok("visit", pid, "--outcome", "ok", now="2026-11-05T15:00:00+08:00")
    text = svc.ok("project", "show", pid, now="2026-11-05T16:00:00+08:00").stdout
    lines = text.splitlines()
    assert lines[0].split() == [pid, "张三", "13800138000", "望京花园3-1-502"]
    for needle in ("朝阳分公司", "刘洋", "陈工", "黄师傅", "2026-11-01", "2026-11-10", "2027-01-20", "lina",
                   "回访计划"):
        assert needle in text, needle
    rows = {line.split()[0]: line.split() for line in lines if line.split() and line.split()[0] in
            {key for key, _, _ in EXPECTED}}
    assert set(rows) == {key for key, _, _ in EXPECTED}
    assert rows["contract"][:3] == ["contract", "2026-11-06", "visit-contract-5d"]
    assert rows["contract"][3:] == ["已回访", "2026-11-05", "正常"]
    assert rows["mid-2"] == ["mid-2", "2026-12-20", "visit-mid-15d"]

    table = svc.ok("project", "list", now="2026-11-05T16:00:00+08:00").stdout
    row = next(line for line in table.splitlines() if line.startswith(pid))
    assert "张三" in row and "朝阳分公司" in row and "1/10" in row and "start 2026-11-20" in row
    listed = json.loads(svc.ok("project", "list", "--format", "json").stdout)
    assert listed == [{"id": pid, "status": "active", "customer": "张三", "branch": "chaoyang",
                       "start": "2026-11-10", "completion": "2027-01-20", "visits_done": 1, "visits_planned": 10,
                       "next_visit": {"visit": "start", "rule": "visit-start-10d", "due": "2026-11-20"}}]
    assert svc.ok("project", "list", "--format", "ids").stdout == f"{pid}\n"
    # the project is found by the end of its ID, like a case
    assert json.loads(svc.ok("project", "show", pid[-4:], "--format", "json").stdout)["id"] == pid


def test_an_empty_store_lists_no_projects(svc: Svc) -> None:
    assert svc.ok("project", "list").stdout == ""
    assert json.loads(svc.ok("project", "list", "--format", "json").stdout) == []


def test_project_files_pass_check_and_a_hand_edited_visited_is_reported(svc: Svc) -> None:
    pid = add(svc, warranty_months="3")
    svc.ok("visit", pid, "--outcome", "ok", now="2026-11-05T15:00:00+08:00")
    svc.ok("visit", pid, "--kind", "greeting", "--outcome", "ok", now="2026-11-05T16:00:00+08:00")
    clean = svc("check")
    assert clean.exit_code == 0, clean.stderr + clean.stdout

    path = project_file(svc, pid)
    text = path.read_text(encoding="utf-8")
    assert "visited:\n- contract\n" in text
    path.write_text(text.replace("visited:\n- contract\n", "visited:\n- contract\n- start\n"), encoding="utf-8")
    line = path.read_text(encoding="utf-8").splitlines().index("visited:") + 1
    found = svc("check")
    assert found.exit_code == 3
    out = found.stdout + found.stderr
    assert f"projects/2026/11/{pid}.yaml:{line}: " in out, out
    assert "visited" in out and "contract" in out and "start" in out
    assert "Traceback" not in out


def test_check_reports_a_visit_recorded_twice_by_hand(svc: Svc) -> None:
    pid = add(svc, warranty_months="3")
    svc.ok("visit", pid, "--outcome", "ok", now="2026-11-05T15:00:00+08:00")
    path = project_file(svc, pid)
    text = path.read_text(encoding="utf-8")
    last = text[text.rindex("- at: '2026-11-05T15:00:00+08:00'"):]
    path.write_text(text + last, encoding="utf-8")
    found = svc("check")
    assert found.exit_code == 3
    out = found.stdout + found.stderr
    assert f"{pid}.yaml:" in out and "recorded twice" in out


# --- properties of the schedule -------------------------------------------------------------------

DAY = st.dates(dt.date(2020, 1, 1), dt.date(2032, 12, 31))


@settings(max_examples=200, deadline=None)
@given(DAY, st.integers(0, 120), st.integers(0, 400), st.integers(0, 120))
def test_the_schedule_is_sorted_and_follows_its_rules(signed: dt.date, to_start: int, to_completion: int,
                                                      months: int) -> None:
    start = signed + dt.timedelta(days=to_start)
    completion = start + dt.timedelta(days=to_completion)
    plan = schedule(signed, start, completion, months)
    dues = [dt.date.fromisoformat(v["due"]) for v in plan]
    assert dues == sorted(dues)
    assert len({v["visit"] for v in plan}) == len(plan)
    base = {"contract_signed": signed, "start": start, "completion": completion}
    rules = {vr.rule: vr for vr in VISIT_RULES}
    for visit, due in zip(plan, dues):
        assert due >= base[rules[visit["rule"]].counts_from], visit
    by_rule: dict[str, list[dt.date]] = {}
    for visit, due in zip(plan, dues):
        by_rule.setdefault(visit["rule"], []).append(due)
    assert by_rule["visit-contract-5d"] == [signed + dt.timedelta(days=5)]
    assert by_rule["visit-start-10d"] == [start + dt.timedelta(days=10)]
    assert by_rule["visit-completion-5d"] == [completion + dt.timedelta(days=5)]
    mids = by_rule.get("visit-mid-15d", [])
    assert all(day < completion for day in mids)
    assert all(b - a == dt.timedelta(days=15) for a, b in zip(mids, mids[1:]))
    if mids:
        assert mids[0] == start + dt.timedelta(days=25)
        assert mids[-1] + dt.timedelta(days=15) >= completion  # none missing at the end
    else:
        assert start + dt.timedelta(days=25) >= completion
    warranty = by_rule.get("visit-warranty-monthly", [])
    assert len(warranty) == months
    for n, day in enumerate(warranty, start=1):
        assert day == add_months(completion, n)
        assert (day.year - completion.year) * 12 + day.month - completion.month == n
        assert day.day == completion.day or day.day < completion.day and (day + dt.timedelta(days=1)).day == 1


@settings(max_examples=100, deadline=None)
@given(DAY, DAY, DAY)
def test_dates_out_of_order_are_always_refused(a: dt.date, b: dt.date, c: dt.date) -> None:
    if a <= b <= c:
        assert schedule(a, b, c, 1)
    else:
        with pytest.raises(RefusedError, match="dates out of order"):
            schedule(a, b, c, 1)

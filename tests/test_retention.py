"""The two-year retention rule for patrol records (每月底汇总由服务处归档保存，保存期两年):
`svc retention plan|apply|register`, `svc hold add|release|list`, and what `svc check`
says about the policy and about patrol records deleted or altered by hand."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from pathlib import Path
from typing import Any, Iterator
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svc.projects import add_months
from svc.retention import Candidate, Facts, cut_off, disposable_on, month_of, plan
from tests.conftest import Svc, run_svc
from tests.retention_util import Recorded, recorded  # noqa: F401 (a fixture)

OFFICE = ZoneInfo("Asia/Shanghai")
FEB29 = "2024-02-29T10:00:00+08:00"
MARCH = "2024-03-01T09:00:00+08:00"  # when February 2024 may be cut off


@pytest.fixture
def svc(recorded: Recorded) -> Svc:
    return recorded


def patrol(svc: Svc, now: str, area: str = "3号楼", *args: str) -> str:
    return svc.ok("patrol", "add", "--area", area, *args, now=now).stdout.strip()


def summarize(svc: Svc, month: str, now: str | None = None) -> None:
    if now is None:
        now = f"{cut_off(month).isoformat()}T09:00:00+08:00"
    svc.ok("patrol", "summary", "--month", month, now=now)


def plan_at(svc: Svc, now: str) -> dict[str, Any]:
    out = json.loads(svc.ok("retention", "plan", "--format", "json", now=now).stdout)
    assert set(out) >= {"disposable", "blocked"}
    return out


def where(out: dict[str, Any], record: str) -> tuple[str, dict[str, Any]]:
    found = [(k, item) for k in ("disposable", "blocked") for item in out[k] if item["id"] == record]
    assert len(found) == 1, out
    return found[0]


def blocked_reason(svc: Svc, record: str, now: str) -> str:
    state, item = where(plan_at(svc, now), record)
    assert state == "blocked", item
    return item["reason"]


def is_disposable(svc: Svc, record: str, now: str) -> bool:
    return where(plan_at(svc, now), record)[0] == "disposable"


def record_path(svc: Svc, record: str) -> Path:
    return svc.root / "patrols" / f"20{record[1:3]}" / record[3:5] / f"{record}.yaml"


def commit(svc: Svc, message: str) -> None:
    svc.git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "--no-verify", "-qam", message)


def commits(svc: Svc) -> int:
    return int(svc.git("rev-list", "--count", "HEAD"))


def check_json(svc: Svc, now: str | None = None) -> tuple[int, list[dict[str, Any]]]:
    result = svc("check", "--format", "json", now=now)
    return result.exit_code, json.loads(result.stdout)


# --- the clock starts at the month's cut-off -----------------------------------------------------

def test_a_record_of_29_february_2024_is_disposable_from_1_march_2026(svc: Svc) -> None:
    pid = patrol(svc, FEB29)
    summarize(svc, "2024-02")
    state, item = where(plan_at(svc, "2026-02-28T23:59:59+08:00"), pid)
    assert state == "blocked"
    assert item["disposable_on"] == "2026-03-01" and "2026-03-01" in item["reason"]
    state, item = where(plan_at(svc, "2026-03-01T00:00:00+08:00"), pid)
    assert state == "disposable" and item["disposable_on"] == "2026-03-01" and "reason" not in item
    # a date alone is the start of that day in office time
    assert not is_disposable(svc, pid, "2026-02-28")
    assert is_disposable(svc, pid, "2026-03-01")
    text = svc.ok("retention", "plan", now="2026-03-01").stdout
    assert f"disposable  {pid}" in text


@pytest.fixture
def utc_machine(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process and its children on a machine whose clock zone is UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_last_evening_and_first_morning_of_a_month_on_a_utc_machine(svc: Svc, utc_machine: None) -> None:
    env = {"SVC_USER": "wangfang", "TZ": "UTC"}

    def real(now: str, *args: str) -> str:
        done = run_svc("--store", str(svc.root), *args, env={**env, "SVC_NOW": now, "GIT_COMMITTER_DATE": now})
        assert done.returncode == 0, done.stderr
        return done.stdout

    # both on 2024-02-29 in UTC; in Beijing the second is already 1 March
    evening = real("2024-02-29T15:30:00Z", "patrol", "add", "--area", "3号楼").strip()
    morning = real("2024-02-29T16:30:00Z", "patrol", "add", "--area", "3号楼").strip()
    assert (evening, morning) == ("X2402-A001", "X2403-A001")
    assert json.loads(svc.ok("patrol", "show", evening, "--format", "json").stdout)["patrolled_at"] == \
        "2024-02-29T23:30:00+08:00"
    assert svc.ok("patrol", "list", "--month", "2024-02", "--format", "ids").stdout.split() == [evening]
    assert svc.ok("patrol", "list", "--month", "2024-03", "--format", "ids").stdout.split() == [morning]
    summarize(svc, "2024-02")
    summarize(svc, "2024-03")

    # 2026-03-01 00:00 in Beijing is still 28 February in UTC
    out = json.loads(real("2026-02-28T16:00:00Z", "retention", "plan", "--format", "json"))
    digest = hashlib.sha256(record_path(svc, evening).read_bytes()).hexdigest()
    assert where(out, evening) == ("disposable", {"id": evening, "period": "2024-02", "disposable_on": "2026-03-01",
                                                  "sha256": digest})
    state, item = where(out, morning)
    assert state == "blocked" and item["period"] == "2024-03" and item["disposable_on"] == "2026-04-01"
    assert where(plan_at(svc, "2026-03-31T23:59:00+08:00"), morning)[0] == "blocked"
    assert where(plan_at(svc, "2026-03-31T16:00:00Z"), morning)[0] == "disposable"  # 04-01 00:00 in Beijing


def test_a_month_without_a_summary_is_never_disposable(svc: Svc) -> None:
    pid = patrol(svc, "2024-01-15T10:00:00+08:00")
    for now in ("2026-03-01", "2030-01-01"):
        reason = blocked_reason(svc, pid, now)
        assert "2024-01" in reason and "summary" in reason
        assert "retention" not in reason  # the two years are over: the summary is the only reason
    svc.ok("retention", "apply", "--approved-by", "zhaomin", now="2026-11-30")
    assert record_path(svc, pid).is_file()
    summarize(svc, "2024-01", "2030-01-01T09:00:00+08:00")  # cut off late: the clock still runs from 2024-02-01
    assert is_disposable(svc, pid, "2030-01-01T10:00:00+08:00")
    assert where(plan_at(svc, "2030-01-01T10:00:00+08:00"), pid)[1]["disposable_on"] == "2026-02-01"


def test_a_future_dated_record_is_never_disposable(svc: Svc) -> None:
    old = patrol(svc, "2024-02-10T10:00:00+08:00")
    summarize(svc, "2024-02")
    ahead = patrol(svc, "2026-06-10T10:00:00+08:00")  # written while the clock said June 2026
    out = plan_at(svc, "2026-05-01T09:00:00+08:00")  # a plan made with an earlier clock
    assert where(out, old)[0] == "disposable"
    state, item = where(out, ahead)
    assert state == "blocked" and "future" in item["reason"]
    entries = svc.ok("retention", "apply", "--approved-by", "zhaomin", now="2026-05-01T09:00:00+08:00").stdout
    assert old in entries and ahead not in entries
    assert record_path(svc, ahead).is_file() and not record_path(svc, old).exists()


def test_a_longer_policy_is_used(svc: Svc) -> None:
    with (svc.root / "svc.yaml").open("a", encoding="utf-8") as f:
        f.write("retention:\n  patrol_months: 36\n")
    pid = patrol(svc, FEB29)
    summarize(svc, "2024-02")
    assert blocked_reason(svc, pid, "2026-03-01").count("36 months") == 1
    assert where(plan_at(svc, "2027-02-28"), pid)[1]["disposable_on"] == "2027-03-01"
    assert is_disposable(svc, pid, "2027-03-01")
    assert svc.ok("check").stdout == ""


def test_a_shortened_policy_is_reported_and_not_used(svc: Svc) -> None:
    pid = patrol(svc, FEB29)
    summarize(svc, "2024-02")
    config = svc.root / "svc.yaml"
    with config.open("a", encoding="utf-8") as f:
        f.write("retention:\n  patrol_months: 12\n")
    line = config.read_text(encoding="utf-8").splitlines().index("  patrol_months: 12") + 1
    commit(svc, "shorter retention")
    code, problems = check_json(svc)
    assert code == 3
    assert len(problems) == 1
    assert Path(problems[0]["path"]).name == "svc.yaml" and problems[0]["line"] == line
    assert "12" in problems[0]["message"] and "24" in problems[0]["message"]
    text = svc("check")
    assert text.exit_code == 3 and f"svc.yaml:{line}:" in text.stdout
    # twelve months after the cut-off, and twenty: still kept, on the regulation's 24
    for now in ("2025-03-01", "2025-11-01", "2026-02-28T23:59:00+08:00"):
        state, item = where(plan_at(svc, now), pid)
        assert state == "blocked" and item["disposable_on"] == "2026-03-01", now
    assert svc.ok("retention", "apply", "--approved-by", "zhaomin", now="2025-06-01").stdout == ""
    assert record_path(svc, pid).is_file()
    assert is_disposable(svc, pid, "2026-03-01")


# --- holds -----------------------------------------------------------------------------------------

def _old_record(svc: Svc) -> str:
    return _old_records(svc)[0]


def _old_records(svc: Svc, *more: tuple[str, str]) -> list[str]:
    """February 2024 patrol records (29 Feb, then `more` as (time, area)), then the cut-off."""
    pids = [patrol(svc, FEB29)] + [patrol(svc, when, area) for when, area in more]
    summarize(svc, "2024-02")
    return pids


AFTER = "2026-03-02T09:00:00+08:00"  # the February 2024 records' two years are over


def hold(svc: Svc, *records: str, reason: str = "业主诉讼证据保全", now: str = AFTER) -> str:
    out = svc.ok("hold", "add", *records, "--reason", reason, now=now).stdout
    assert out.strip() and out == out.strip() + "\n"
    return out.strip()


def active_holds(svc: Svc) -> list[dict[str, Any]]:
    return json.loads(svc.ok("hold", "list", "--format", "json").stdout)


def test_one_hold_blocks_until_released(svc: Svc) -> None:
    pid, other = _old_records(svc, ("2024-02-20T10:00:00+08:00", "5号楼"))
    assert is_disposable(svc, pid, AFTER)
    hid = hold(svc, pid)
    assert hid.startswith("H2603-")
    reason = blocked_reason(svc, pid, AFTER)
    assert hid in reason and "业主诉讼证据保全" in reason
    assert is_disposable(svc, other, AFTER)  # only the held record
    listed = active_holds(svc)
    assert [(h["id"], h["records"], h["status"]) for h in listed] == [(hid, [pid], "active")]
    assert hid in svc.ok("hold", "list").stdout

    svc.ok("retention", "apply", "--approved-by", "zhaomin", now=AFTER)
    assert record_path(svc, pid).is_file() and not record_path(svc, other).exists()

    svc.ok("hold", "release", hid, "--reason", "诉讼已结案", now="2026-03-03T09:00:00+08:00")
    assert active_holds(svc) == []
    released = json.loads(svc.ok("hold", "list", "--all", "--format", "json").stdout)
    assert [(h["id"], h["status"]) for h in released] == [(hid, "released")]
    assert is_disposable(svc, pid, "2026-03-03T09:00:00+08:00")
    again = svc("hold", "release", hid, "--reason", "再次", now="2026-03-03T10:00:00+08:00")
    assert again.exit_code == 1 and "released already" in again.stderr
    assert svc.ok("check").stdout == ""


def test_two_holds_one_released_still_held(svc: Svc) -> None:
    pid = _old_record(svc)
    first = hold(svc, pid, reason="业主诉讼")
    second = hold(svc, pid, reason="审计抽查")
    assert first != second
    svc.ok("hold", "release", first, "--reason", "诉讼已结案", now="2026-03-03T09:00:00+08:00")
    reason = blocked_reason(svc, pid, "2026-03-03T09:00:00+08:00")
    assert second in reason and "审计抽查" in reason and first not in reason
    assert [h["id"] for h in active_holds(svc)] == [second]
    svc.ok("hold", "release", second, "--reason", "审计完成", now="2026-03-04T09:00:00+08:00")
    assert is_disposable(svc, pid, "2026-03-04T09:00:00+08:00")


def test_a_hold_on_several_records_and_refusals(svc: Svc) -> None:
    pid, other = _old_records(svc, ("2024-02-20T10:00:00+08:00", "5号楼"))
    hid = hold(svc, pid, other, pid)
    assert active_holds(svc)[0]["records"] == [pid, other]
    assert not is_disposable(svc, other, AFTER)
    assert svc("hold", "add", pid, now=AFTER).exit_code == 2  # no --reason
    assert svc("hold", "add", pid, "--reason", "  ", now=AFTER).exit_code == 1
    assert svc("hold", "add", "X2402-A099", "--reason", "x", now=AFTER).exit_code == 4
    assert svc("hold", "add", "--reason", "x", now=AFTER).exit_code == 2  # no record
    assert svc("hold", "release", "H2603-A099", "--reason", "x", now=AFTER).exit_code == 4
    assert [h["id"] for h in active_holds(svc)] == [hid]


def test_release_without_a_reason_is_refused(svc: Svc) -> None:
    pid = _old_record(svc)
    hid = hold(svc, pid)
    before = commits(svc)
    missing = svc("hold", "release", hid, now=AFTER)
    assert missing.exit_code == 2 and "--reason" in missing.stderr
    for blank in ("", "   "):
        result = svc("hold", "release", hid, "--reason", blank, now=AFTER)
        assert result.exit_code == 1 and "reason" in result.stderr
        assert "Traceback" not in result.stderr
    assert commits(svc) == before
    assert [h["status"] for h in active_holds(svc)] == ["active"]
    assert not is_disposable(svc, pid, AFTER)


# --- records linked from cases ---------------------------------------------------------------------

def test_a_record_linked_from_an_open_case_is_blocked_until_it_closes(svc: Svc) -> None:
    pid = _old_record(svc)
    case = svc.open("complaint", "--customer", "张三", "--phone", "13800138000", "--summary", "电梯故障投诉",
                    now="2026-02-20T09:00:00+08:00")
    svc.ok("link", case, pid, now="2026-02-20T09:05:00+08:00")
    reason = blocked_reason(svc, pid, AFTER)
    assert f"open case {case}" in reason
    svc.ok("close", case, "--resolution", "已修复", now="2026-03-02T10:00:00+08:00")
    assert is_disposable(svc, pid, "2026-03-02T10:00:00+08:00")
    assert active_holds(svc) == []  # an ordinary case holds nothing


def test_a_case_at_legal_holds_its_records_even_after_it_closes(svc: Svc) -> None:
    pid, late = _old_records(svc, ("2024-02-25T10:00:00+08:00", "5号楼"))
    case = svc.open("complaint", "--customer", "张三", "--phone", "13800138000", "--summary", "业主起诉物业",
                    now="2026-02-20T09:00:00+08:00")
    svc.ok("link", case, pid, now="2026-02-20T09:05:00+08:00")
    svc.ok("escalate", case, "--to", "legal", "--reason", "业主起诉", now="2026-02-21T09:00:00+08:00")
    holds = active_holds(svc)
    assert len(holds) == 1
    auto = holds[0]
    assert auto["records"] == [pid] and auto["case"] == case and case in auto["reason"]
    # a record linked while the case is with legal is held too
    svc.ok("link", case, late, now="2026-02-22T09:00:00+08:00")
    assert sorted(r for h in active_holds(svc) for r in h["records"]) == sorted([pid, late])
    svc.ok("note", case, "法务已接手", now="2026-02-23T09:00:00+08:00")
    assert len(active_holds(svc)) == 2  # no new hold for records it holds already

    svc.ok("close", case, "--resolution", "调解结案", user="fawu", now="2026-03-01T09:00:00+08:00")
    reason = blocked_reason(svc, pid, AFTER)
    assert auto["id"] in reason and "open case" not in reason
    assert svc.ok("retention", "apply", "--approved-by", "zhaomin", now=AFTER).stdout == ""

    for h in active_holds(svc):
        svc.ok("hold", "release", h["id"], "--reason", "法务确认可销毁", user="fawu", now=AFTER)
    assert is_disposable(svc, pid, AFTER) and is_disposable(svc, late, AFTER)
    # a later note on the closed case (still at legal) must not put back the released holds
    svc.ok("note", case, "归档前复核", now="2026-03-02T10:00:00+08:00")
    assert active_holds(svc) == []
    assert is_disposable(svc, pid, "2026-03-02T10:00:00+08:00")
    assert svc.ok("check").stdout == ""


def test_the_follow_up_ladder_reaching_legal_holds_the_repair_case_record(svc: Svc) -> None:
    pid = patrol(svc, "2024-02-10T10:00:00+08:00")
    svc.ok("patrol", "finding", pid, "--category", "facilities", "--place", "电梯", "--description", "困人",
           now="2024-02-10T10:05:00+08:00")
    case = svc.ok("patrol", "route", pid, "1", "--to", "repair", now="2024-02-10T10:10:00+08:00").stdout.strip()
    for day in (11, 12, 13, 14):
        svc.ok("follow-up", case, "--outcome", "unsatisfied", now=f"2024-02-{day}T10:00:00+08:00")
    shown = json.loads(svc.ok("show", case, "--format", "json").stdout)
    assert shown["level"] == "legal"
    assert [(h["records"], h["case"]) for h in active_holds(svc)] == [([pid], case)]


# --- disposal -------------------------------------------------------------------------------------

def test_apply_disposes_once_into_the_register(svc: Svc) -> None:
    first = patrol(svc, FEB29)
    second = patrol(svc, "2024-02-10T08:00:00+08:00", "5号楼")
    young = patrol(svc, "2024-03-05T10:00:00+08:00")
    summarize(svc, "2024-02")
    summarize(svc, "2024-03")
    case = svc.open("complaint", "--customer", "张三", "--phone", "13800138000", "--summary", "楼道灯不亮",
                    now="2024-03-06T09:00:00+08:00")
    svc.ok("link", case, first, now="2024-03-06T09:05:00+08:00")
    svc.ok("close", case, "--resolution", "已修复", now="2024-03-07T09:00:00+08:00")
    contents = {pid: record_path(svc, pid).read_bytes() for pid in (first, second)}
    before = commits(svc)

    now = "2026-03-01T09:00:00+08:00"
    result = svc.ok("retention", "apply", "--approved-by", "zhaomin", now=now)
    assert sorted(line.split()[1] for line in result.stdout.splitlines()) == sorted([first, second])
    assert commits(svc) == before + 1  # one commit
    assert svc.git("status", "--porcelain") == ""
    changed = svc.git("show", "--name-status", "--format=", "HEAD").split("\n")
    assert sorted(filter(None, changed)) == sorted([
        f"D\tpatrols/2024/02/{first}.yaml", f"D\tpatrols/2024/02/{second}.yaml", "A\tregisters/disposal.yaml"])
    assert not record_path(svc, first).exists() and not record_path(svc, second).exists()
    assert record_path(svc, young).is_file()

    entries = json.loads(svc.ok("retention", "register", "--format", "json").stdout)
    assert sorted(e["record"] for e in entries) == sorted([first, second])
    for entry in entries:
        assert entry["period"] == "2024-02"
        assert entry["required_retention_months"] == 24
        assert entry["kept_days"] == (dt.date(2026, 3, 1) - dt.date(2024, 3, 1)).days == 730
        assert entry["sha256"] == hashlib.sha256(contents[entry["record"]]).hexdigest()
        assert entry["approved_by"] == "zhaomin" and entry["disposed_by"] == "wangfang"
        assert entry["disposed_at"] == now
        assert entry["disposable_on"] == "2026-03-01"
    table = svc.ok("retention", "register").stdout
    assert first in table and "zhaomin" in table

    # the deletion went through the register, and a closed case linking the record is not dangling
    assert svc.ok("check").stdout == ""
    register = (svc.root / "registers/disposal.yaml").read_bytes()
    again = svc.ok("retention", "apply", "--approved-by", "zhaomin", now="2026-03-01T10:00:00+08:00")
    assert again.stdout == "" and "0 disposed" in again.stderr
    assert commits(svc) == before + 1
    assert (svc.root / "registers/disposal.yaml").read_bytes() == register
    # the register itself is never in a plan
    out = plan_at(svc, "2026-04-01")
    assert [i["id"] for i in out["disposable"]] == [young] and out["blocked"] == []
    svc.ok("retention", "apply", "--approved-by", "admin", now="2026-04-01")
    assert len(json.loads(svc.ok("retention", "register", "--format", "json").stdout)) == 3
    # the register only grows: the earlier entries are written back exactly as they were
    diff = svc.git("diff", "HEAD~1", "HEAD", "--", "registers/disposal.yaml").splitlines()
    assert [line for line in diff if line.startswith("-") and not line.startswith("---")] == []
    assert (svc.root / "registers/disposal.yaml").read_bytes().startswith(register)
    assert (svc.root / "registers/disposal.yaml").is_file()
    assert svc.ok("check", "--since", "HEAD~2").stdout == ""


def test_apply_with_nothing_to_do_writes_nothing(svc: Svc) -> None:
    before = commits(svc)
    result = svc.ok("retention", "apply", "--approved-by", "zhaomin")
    assert result.stdout == "" and commits(svc) == before
    assert not (svc.root / "registers").exists()
    assert json.loads(svc.ok("retention", "register", "--format", "json").stdout) == []
    assert plan_at(svc, "2026-11-05") == {"disposable": [], "blocked": []}


def test_apply_needs_an_approver_who_may_approve(svc: Svc) -> None:
    pid = _old_record(svc)
    before = commits(svc)
    for who in ("nobody", "wangfang", "lina"):
        result = svc("retention", "apply", "--approved-by", who, now=AFTER)
        assert result.exit_code == 1, who
        assert who in result.stderr
    assert svc("retention", "apply", now=AFTER).exit_code == 2
    assert commits(svc) == before and record_path(svc, pid).is_file()
    svc.ok("retention", "apply", "--approved-by", "lijun", now=AFTER)
    assert not record_path(svc, pid).exists()


def test_a_disposed_record_id_is_never_given_again(svc: Svc) -> None:
    """A late paper sheet cannot enter a month that is cut off (it would be missing from the
    summary), so a disposed record's ID can never be handed out again."""
    pid = _old_record(svc)
    svc.ok("retention", "apply", "--approved-by", "zhaomin", now=AFTER)
    late = svc("patrol", "add", "--area", "5号楼", "--at", "2024-02-20T10:00:00+08:00", now=AFTER)
    assert late.exit_code == 1 and "2024-02 is cut off" in late.stderr
    assert not list((svc.root / "patrols" / "2024" / "02").glob("*.yaml"))
    assert pid in svc.ok("retention", "register", "--format", "json").stdout
    assert svc.ok("check").stdout == ""


# --- the audit: patrol records deleted or altered by hand ----------------------------------------

def test_a_hand_git_rm_of_a_young_record_is_found(svc: Svc) -> None:
    young = patrol(svc, "2026-10-05T10:00:00+08:00")
    kept = patrol(svc, "2026-10-06T10:00:00+08:00")
    assert svc.ok("check").stdout == ""
    rel = f"patrols/2026/10/{young}.yaml"
    svc.git("rm", "-q", rel)
    commit(svc, "tidy up")
    code, problems = check_json(svc)
    assert code == 3
    assert [p["path"] for p in problems] == [rel]
    assert young in problems[0]["message"] and "register" in problems[0]["message"]
    assert kept not in json.dumps(problems)


def test_an_uncommitted_deletion_is_found_too(svc: Svc) -> None:
    young = patrol(svc, "2026-10-05T10:00:00+08:00")
    record_path(svc, young).unlink()
    result = svc("check")
    assert result.exit_code == 3
    assert young in result.stdout and "not committed" in result.stdout


def test_a_hand_deletion_of_an_old_record_needs_the_register_too(svc: Svc) -> None:
    pid = _old_record(svc)
    svc.git("rm", "-q", f"patrols/2024/02/{pid}.yaml")
    commit(svc, "old stuff")
    code, problems = check_json(svc, now="2027-01-01")
    assert code == 3 and any(pid in p["message"] for p in problems)


def test_an_event_edited_by_hand_is_found(svc: Svc) -> None:
    pid = patrol(svc, "2026-10-05T10:00:00+08:00")
    svc.ok("patrol", "finding", pid, "--category", "fire", "--place", "2单元3层", "--description", "灭火器过期",
           now="2026-10-05T10:05:00+08:00")
    path = record_path(svc, pid)
    # changed consistently in the history and the findings, so only the audit can tell
    path.write_text(path.read_text(encoding="utf-8").replace("灭火器过期", "灭火器正常"), encoding="utf-8")
    result = svc("check")
    assert result.exit_code == 3
    assert f"patrols/2026/10/{pid}.yaml" in result.stdout and "work tree" in result.stdout
    commit(svc, "fix typo")
    code, problems = check_json(svc)
    assert code == 3
    assert len(problems) == 1 and problems[0]["path"] == f"patrols/2026/10/{pid}.yaml"
    assert "history altered in commit" in problems[0]["message"]


def test_appending_events_through_svc_is_not_an_alteration(svc: Svc) -> None:
    pid = patrol(svc, "2026-10-05T10:00:00+08:00")
    svc.ok("patrol", "finding", pid, "--category", "fire", "--place", "p", "--description", "d",
           now="2026-10-05T10:05:00+08:00")
    svc.ok("patrol", "fixed", pid, "1", now="2026-10-06T10:05:00+08:00")
    svc.ok("patrol", "verified", pid, "1", user="lina", now="2026-10-07T10:05:00+08:00")
    assert svc.ok("check").stdout == ""


# --- the rule itself, for any time ----------------------------------------------------------------

ZONES = [OFFICE, dt.timezone.utc, ZoneInfo("America/New_York"), dt.timezone(dt.timedelta(hours=14))]


@settings(max_examples=300, deadline=None)
@given(
    local=st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 12, 31, 23, 59, 59)),
    months=st.integers(min_value=24, max_value=120),
    shown_in=st.sampled_from(ZONES),
)
def test_disposable_on_is_a_first_of_month_at_least_the_retention_after_the_month(
        local: dt.datetime, months: int, shown_in: dt.tzinfo) -> None:
    when = local.replace(tzinfo=OFFICE).astimezone(shown_in)  # the same moment, whatever zone it is stored in
    month = month_of(when, OFFICE)
    assert month == local.strftime("%Y-%m")
    due = disposable_on(month, months)
    start = local.date().replace(day=1)
    assert due.day == 1
    assert due >= add_months(start, months)
    assert due == add_months(start, months + 1)  # the clock starts at the month's cut-off
    # stored with another offset (the zone in force when it was recorded), the later month and
    # the later midnight of the two readings hold: a change of zone never shortens the period
    latest = max(month, when.strftime("%Y-%m"))
    kept_until = disposable_on(latest, months)
    assert kept_until >= due
    first = max(dt.datetime.combine(kept_until, dt.time(0, 0), tzinfo=zone) for zone in (OFFICE, when.tzinfo))
    assert first >= dt.datetime.combine(due, dt.time(0, 0), tzinfo=OFFICE)
    facts = Facts(summarized=frozenset({month, when.strftime("%Y-%m")}), holds={}, open_links={})
    record = [Candidate("X0000-A001", "x", when, None, "0" * 64)]
    before = plan(record, facts, months, (first - dt.timedelta(seconds=1)).astimezone(shown_in), OFFICE)
    after = plan(record, facts, months, first.astimezone(shown_in), OFFICE)
    assert [i.id for i in before.blocked] == ["X0000-A001"] and before.disposable == []
    assert [i.id for i in after.disposable] == ["X0000-A001"] and after.blocked == []
    assert after.disposable[0].disposable_on == kept_until

"""Retention fails closed: what svc cannot read, cannot trust or cannot match keeps the
record (plan: blocked; apply: exit 1, nothing disposed of), and `svc check` reports a
disposal that was early, held or forged by the rules as of its commit.

Each test is one way a protected record used to be disposed of."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Svc
from tests.retention_util import Recorded, recorded  # noqa: F401 (a fixture)
from tests.test_retention import AFTER, FEB29, check_json, commit, commits, hold, patrol, plan_at, record_path, \
    summarize, where

OFFICE = ZoneInfo("Asia/Shanghai")
YOUNG = "2026-10-20T10:00:00+08:00"  # a month before the tests' "now"
NOW = "2026-11-30T09:00:00+08:00"  # before the machine's clock (December 2026 or later)


@pytest.fixture
def svc(recorded: Recorded) -> Svc:
    return recorded


def english(svc: Svc) -> None:
    config = svc.root / "svc.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("lang: zh", "lang: en"), encoding="utf-8")
    commit(svc, "lang en")


def line_of(path: Path, text: str) -> int:
    return path.read_text(encoding="utf-8").splitlines().index(text) + 1


def refused(svc: Svc, now: str = AFTER, *args: str) -> str:
    """`retention apply` refuses: exit 1, one line on stderr, nothing changed."""
    before = commits(svc)
    files = sorted(p for p in (svc.root / "patrols").rglob("*.yaml"))
    result = svc("retention", "apply", "--approved-by", "zhaomin", *args, now=now)
    assert result.exit_code == 1, result.stderr + result.stdout
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert commits(svc) == before and sorted((svc.root / "patrols").rglob("*.yaml")) == files
    assert not (svc.root / "registers" / "disposal.yaml").exists()
    return result.stderr


def old_pair(svc: Svc) -> tuple[str, str]:
    first = patrol(svc, FEB29)
    second = patrol(svc, "2024-02-20T10:00:00+08:00", "5号楼")
    summarize(svc, "2024-02")
    return first, second


# --- what cannot be read keeps what it may protect ------------------------------------------------

def test_a_hold_with_an_unknown_key_still_holds(svc: Svc) -> None:
    held, other = old_pair(svc)
    hid = hold(svc, held)
    path = next((svc.root / "holds").rglob(f"{hid}.yaml"))
    with path.open("a", encoding="utf-8") as f:
        f.write("colour: red\n")
    commit(svc, "a hold edited by hand")
    line = line_of(path, "colour: red")
    out = plan_at(svc, AFTER)
    for record in (held, other):  # a hold that cannot be read may hold anything
        state, item = where(out, record)
        assert state == "blocked" and f"{hid}.yaml:{line}" in item["reason"] and "无法读取" in item["reason"]
        assert item["doubts"]
    text = svc.ok("retention", "plan", now=AFTER).stdout
    assert f"blocked     {held}" in text and f"{hid}.yaml:{line}" in text
    message = refused(svc)
    assert "未销毁任何记录" in message and f"{hid}.yaml:{line}" in message
    assert svc("check").exit_code == 3


def test_a_hold_that_is_not_yaml_keeps_everything_in_english_too(svc: Svc) -> None:
    held, other = old_pair(svc)
    hid = hold(svc, held)
    english(svc)
    path = next((svc.root / "holds").rglob(f"{hid}.yaml"))
    path.write_bytes(b"\xff\xfe not text")
    commit(svc, "a hold broken by hand")
    _, item = where(plan_at(svc, AFTER), other)
    assert f"hold file {path}" in item["reason"] and "cannot be read" in item["reason"]
    message = refused(svc)
    assert message.startswith("svc: nothing disposed of: hold file") and "2 records in doubt" in message


def test_a_hold_deleted_by_hand_and_not_committed_still_holds(svc: Svc) -> None:
    held, _ = old_pair(svc)
    hid = hold(svc, held)
    next((svc.root / "holds").rglob(f"{hid}.yaml")).unlink()
    _, item = where(plan_at(svc, AFTER), held)
    assert hid in item["reason"] and "已提交版本" in item["reason"]
    svc.ok("retention", "apply", "--approved-by", "zhaomin", now=AFTER)
    assert record_path(svc, held).is_file()


def test_an_open_case_with_a_duplicate_key_still_links_its_record(svc: Svc) -> None:
    linked, other = old_pair(svc)
    case = svc.open("complaint", "--customer", "张三", "--phone", "13800138000", "--summary", "电梯故障",
                    now="2026-02-20T09:00:00+08:00")
    svc.ok("link", case, linked, now="2026-02-20T09:05:00+08:00")
    path = next((svc.root / "cases").rglob(f"{case}.yaml"))
    with path.open("a", encoding="utf-8") as f:
        f.write("kind: repair\n")
    commit(svc, "a case edited by hand")
    out = plan_at(svc, AFTER)
    state, item = where(out, linked)
    assert state == "blocked" and f"{path.name}:" in item["reason"] and "可能关联此记录" in item["reason"]
    assert where(out, other)[0] == "disposable"  # the case names only the one record
    message = refused(svc)
    assert f"{case}.yaml" in message


def test_an_unreadable_summary_keeps_its_month(svc: Svc) -> None:
    record, _ = old_pair(svc)
    english(svc)
    path = svc.root / "summaries" / "patrol-2024-02.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "month: 2024-03\n", encoding="utf-8")
    commit(svc, "a summary edited by hand")
    _, item = where(plan_at(svc, AFTER), record)
    assert "summary" in item["reason"] and "patrol-2024-02.yaml:" in item["reason"]
    assert "2024-02 counts as not summarized" in item["reason"]
    refused(svc)


def test_a_broken_svc_yaml_stops_everything_and_names_its_line(svc: Svc) -> None:
    record, _ = old_pair(svc)
    config = svc.root / "svc.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "timezone: UTC\n", encoding="utf-8")
    for args in (("retention", "plan"), ("retention", "apply", "--approved-by", "zhaomin")):
        result = svc(*args, now=AFTER)
        assert result.exit_code == 1 and "svc.yaml:" in result.stderr and "Traceback" not in result.stderr
    assert record_path(svc, record).is_file()


# --- the clock -------------------------------------------------------------------------------------

def test_a_clock_two_years_ahead_of_the_machine_disposes_of_nothing(svc: Svc) -> None:
    young = patrol(svc, "2026-05-10T10:00:00+08:00")
    summarize(svc, "2026-05")
    ahead = (dt.datetime.now(OFFICE) + dt.timedelta(days=800)).replace(microsecond=0).isoformat()
    assert where(plan_at(svc, ahead), young)[0] == "disposable"  # a plan is only a forecast
    message = refused(svc, ahead)
    assert "超前" in message and "SVC_NOW" in message
    english(svc)
    assert "is ahead of this machine's" in refused(svc, ahead)
    # a few minutes of skew between machines are allowed
    near = (dt.datetime.now(OFFICE) + dt.timedelta(minutes=2)).replace(microsecond=0).isoformat()
    svc.ok("retention", "apply", "--approved-by", "zhaomin", now=near)
    assert record_path(svc, young).is_file()


# --- a record's date is the later of what it says and when git first saw it -------------------------

def test_a_hand_edited_date_cannot_make_a_young_record_old(svc: Svc) -> None:
    young = patrol(svc, YOUNG)
    summarize(svc, "2026-10")
    summarize(svc, "2024-01", "2026-11-02T09:00:00+08:00")
    path = record_path(svc, young)
    path.write_text(path.read_text(encoding="utf-8").replace("2026-10-20T10:00:00+08:00", "2024-01-15T10:00:00+08:00"),
                    encoding="utf-8")
    _, item = where(plan_at(svc, NOW), young)
    assert "未提交的修改" in item["reason"]
    assert "未提交的修改" in refused(svc, NOW)
    commit(svc, "an old date typed in by hand")
    state, item = where(plan_at(svc, NOW), young)
    assert state == "blocked" and item["disposable_on"] == "2028-11-01" and item["period"] == "2026-10"
    assert "git 首次见到此记录于 2026-10-20" in item["reason"]
    svc.ok("retention", "apply", "--approved-by", "zhaomin", now=NOW)
    assert path.is_file()


def test_a_record_never_committed_is_not_disposed_of(svc: Svc) -> None:
    old, _ = old_pair(svc)
    path = record_path(svc, old)
    stray = path.with_name("X2402-A007.yaml")
    stray.write_text(path.read_text(encoding="utf-8").replace(old, "X2402-A007"), encoding="utf-8")
    english(svc)
    _, item = where(plan_at(svc, AFTER), "X2402-A007")
    assert "never committed" in item["reason"]
    refused(svc)


# --- the file removed is the file the plan listed ----------------------------------------------------

def test_an_id_that_is_not_its_file_name_never_deletes_the_other_file(svc: Svc) -> None:
    old = patrol(svc, FEB29)
    summarize(svc, "2024-02")
    young = patrol(svc, YOUNG)
    path = record_path(svc, old)
    path.write_text(path.read_text(encoding="utf-8").replace(f"id: {old}", f"id: {young}"), encoding="utf-8")
    commit(svc, "an id changed by hand")
    out = plan_at(svc, NOW)
    state, item = where(out, old)
    assert state == "blocked" and f"id '{young}'" in item["reason"] and "文件名" in item["reason"]
    assert where(out, young)[0] == "blocked"
    assert old in refused(svc, NOW)
    assert record_path(svc, young).is_file() and path.is_file()
    code, problems = check_json(svc)
    assert code == 3 and any("does not match the file name" in p["message"] for p in problems)


def test_apply_with_a_saved_plan_refuses_a_record_changed_since(svc: Svc, tmp_path: Path) -> None:
    first, second = old_pair(svc)
    saved = tmp_path / "plan.json"
    saved.write_text(svc.ok("retention", "plan", "--format", "json", now=AFTER).stdout, encoding="utf-8")
    assert {i["id"]: i["sha256"] for i in json.loads(saved.read_text())["disposable"]} == {
        r: hashlib.sha256(record_path(svc, r).read_bytes()).hexdigest() for r in (first, second)}
    path = record_path(svc, first)
    path.write_text(path.read_text(encoding="utf-8") + "# 复核\n", encoding="utf-8")
    commit(svc, "a comment added by hand")
    assert "sha256" in refused(svc, AFTER, "--plan", str(saved))
    # a plan made now, with one record left out: only what it lists goes
    plan = json.loads(svc.ok("retention", "plan", "--format", "json", now=AFTER).stdout)
    plan["disposable"] = [i for i in plan["disposable"] if i["id"] == second]
    saved.write_text(json.dumps(plan), encoding="utf-8")
    result = svc.ok("retention", "apply", "--approved-by", "zhaomin", "--plan", str(saved), now=AFTER)
    assert result.stdout.split()[1] == second and "1 条" in result.stderr
    assert path.is_file() and not record_path(svc, second).exists()
    saved.write_text("{not json", encoding="utf-8")
    assert "plan.json" in refused_any(svc, "--plan", str(saved))


def refused_any(svc: Svc, *args: str) -> str:
    result = svc("retention", "apply", "--approved-by", "zhaomin", *args, now=AFTER)
    assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


# --- a change of time zone never shortens a period -----------------------------------------------------

def test_a_new_time_zone_never_moves_a_record_into_an_earlier_month(svc: Svc) -> None:
    early_march = patrol(svc, "2024-03-01T00:30:00+08:00")  # still 29 February in UTC
    summarize(svc, "2024-02")
    summarize(svc, "2024-03")
    config = svc.root / "svc.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("timezone: Asia/Shanghai", "timezone: UTC"),
                      encoding="utf-8")
    commit(svc, "the office moves to UTC")
    state, item = where(plan_at(svc, "2026-03-15T12:00:00Z"), early_march)
    assert state == "blocked" and item["period"] == "2024-03" and item["disposable_on"] == "2026-04-01"
    svc.ok("retention", "apply", "--approved-by", "zhaomin", now="2026-03-15T12:00:00Z")
    assert record_path(svc, early_march).is_file()
    assert where(plan_at(svc, "2026-03-31T15:59:59Z"), early_march)[0] == "blocked"
    assert where(plan_at(svc, "2026-04-01T00:00:00Z"), early_march)[0] == "disposable"


# --- svc check judges every past disposal by the rules of its commit ----------------------------------

def forge_disposal(svc: Svc, record: str, when: str = "2026-11-30T09:00:00+08:00", **entry: Any) -> None:
    """What a hand disposal looks like: the file deleted, a register entry that claims it was due."""
    path = record_path(svc, record)
    text = path.read_text(encoding="utf-8")
    register = svc.root / "registers" / "disposal.yaml"
    register.parent.mkdir(exist_ok=True)
    fields = {"record": record, "kind": "patrol", "period": "2024-02", "required_retention_months": 24,
              "cut_off": "2024-03-01", "disposable_on": "2026-03-01", "kept_days": 730,
              "sha256": hashlib.sha256(text.encode()).hexdigest(), "approved_by": "zhaomin",
              "disposed_by": "wangfang", "disposed_at": when, **entry}
    body = "".join(f"  {k}: {json.dumps(v, ensure_ascii=False)}\n".replace("  record", "- record", 1)
                   for k, v in fields.items())
    old = register.read_text(encoding="utf-8") if register.exists() else "register: disposal\nentries:\n"
    register.write_text(old + body, encoding="utf-8")
    svc.git("rm", "-q", str(path))
    svc.git("add", str(register))
    commit(svc, f"dispose of {record}")


def test_a_forged_register_entry_beside_a_young_records_deletion_is_reported(svc: Svc) -> None:
    young = patrol(svc, YOUNG)
    summarize(svc, "2026-10")
    forge_disposal(svc, young)
    code, problems = check_json(svc)
    assert code == 3
    early = [p for p in problems if young in p["message"] and "早于保存期届满 2028-11-01" in p["message"]]
    assert len(early) == 1 and early[0]["path"].endswith(f"{young}.yaml"), problems
    english(svc)
    text = svc("check").stdout
    assert f"patrol record {young} disposed of in commit" in text and "before its retention ended on 2028-11-01" in text


def test_a_disposal_of_a_held_record_by_hand_is_reported(svc: Svc) -> None:
    held, _ = old_pair(svc)
    hid = hold(svc, held)
    english(svc)
    forge_disposal(svc, held)
    code, problems = check_json(svc)
    assert code == 3
    assert any(f"while hold {hid} was on it" in p["message"] for p in problems), problems


def test_a_register_entry_written_after_the_deletion_is_reported(svc: Svc) -> None:
    old, _ = old_pair(svc)
    english(svc)
    text = record_path(svc, old).read_text(encoding="utf-8")
    svc.git("rm", "-q", str(record_path(svc, old)))
    commit(svc, "deleted by hand")
    register = svc.root / "registers" / "disposal.yaml"
    register.parent.mkdir()
    register.write_text("register: disposal\nentries:\n"
                        f"- record: {old}\n  kind: patrol\n  period: 2024-02\n  required_retention_months: 24\n"
                        "  cut_off: 2024-03-01\n  disposable_on: 2026-03-01\n  kept_days: 730\n"
                        f"  sha256: {hashlib.sha256(text.encode()).hexdigest()}\n  approved_by: zhaomin\n"
                        "  disposed_by: wangfang\n  disposed_at: 2026-11-30T09:00:00+08:00\n", encoding="utf-8")
    svc.git("add", str(register))
    commit(svc, "the entry, afterwards")
    code, problems = check_json(svc)
    assert code == 3
    assert any("without a disposal register entry in that commit" in p["message"] for p in problems), problems


def test_a_register_entry_with_another_content_is_reported(svc: Svc) -> None:
    old, _ = old_pair(svc)
    forge_disposal(svc, old, sha256="0" * 64)
    code, problems = check_json(svc)
    assert code == 3 and any("sha256" in p["message"] for p in problems), problems


def test_a_proper_disposal_passes_the_audit(svc: Svc) -> None:
    first, second = old_pair(svc)
    svc.ok("retention", "apply", "--approved-by", "zhaomin", now=AFTER)
    assert not record_path(svc, first).exists() and not record_path(svc, second).exists()
    assert svc.ok("check").stdout == ""

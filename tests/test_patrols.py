"""Patrol records (巡查记录): `svc patrol add|finding|route|extend|fixed|verified|list|show|summary`,
the 7-day fix rule in `svc due` (patrol-fix-7d), and the monthly cut-off (每月底汇总)."""

from __future__ import annotations

import json
import re
from typing import Any

from svc.patrols import DEFAULT_CHECKLIST
from tests.conftest import Svc

NOW = "2026-11-05T09:30:00+08:00"  # the fixture's clock: a Thursday
PATROL_ID = re.compile(r"^X\d{4}-[A-Z]{1,2}\d{3}$")
CASE_ID = re.compile(r"^C\d{4}-[A-Z]{1,2}\d{3}$")


def add(svc: Svc, *args: str, area: str = "3号楼", now: str = NOW, user: str | None = None) -> str:
    out = svc.ok("patrol", "add", "--area", area, *args, now=now, user=user).stdout
    assert PATROL_ID.match(out.strip()) and out == out.strip() + "\n", repr(out)
    return out.strip()


def finding(svc: Svc, pid: str, category: str = "facilities", place: str = "2单元电梯", description: str = "按钮失灵",
            *args: str, now: str = NOW, user: str | None = None) -> int:
    out = svc.ok("patrol", "finding", pid, "--category", category, "--place", place, "--description", description,
                 *args, now=now, user=user).stdout
    return int(out.strip())


def show(svc: Svc, pid: str) -> dict[str, Any]:
    return json.loads(svc.ok("patrol", "show", pid, "--format", "json").stdout)


def patrol_due(svc: Svc, now: str, within: str = "30d") -> list[dict[str, Any]]:
    items = json.loads(svc.ok("due", "--within", within, "--format", "json", now=now).stdout)
    return [i for i in items if i["rule"] == "patrol-fix-7d"]


def head(svc: Svc) -> str:
    return svc.git("rev-parse", "HEAD").strip()


# --- patrol records and the checklist ---------------------------------------------------------

def test_add_prints_the_id_alone_and_marks_checklist_items_by_prefix(svc: Svc) -> None:
    pid = add(svc, "--problem", "电梯", "--problem", "楼梯间", "--skip", "空置房")
    assert pid.startswith("X2611-")
    record = show(svc, pid)
    assert record["area"] == "3号楼" and record["patroller"] == "wangfang"
    assert record["patrolled_at"] == NOW
    results = {row["item"]: row["result"] for row in record["checklist"]}
    assert list(results) == list(DEFAULT_CHECKLIST)
    assert results["电梯"] == "problem"
    assert results[next(i for i in DEFAULT_CHECKLIST if i.startswith("楼梯间"))] == "problem"  # the prefix is enough
    assert results[next(i for i in DEFAULT_CHECKLIST if i.startswith("空置房"))] == "skipped"
    assert sum(1 for r in results.values() if r == "ok") == len(DEFAULT_CHECKLIST) - 3
    assert not record.get("findings")
    assert svc.git("status", "--porcelain") == ""  # written and committed
    assert pid in svc.git("log", "-1", "--format=%B")


def test_unknown_checklist_item_is_refused_and_nothing_is_written(svc: Svc) -> None:
    before = head(svc)
    result = svc("patrol", "add", "--area", "3号楼", "--problem", "游泳池")
    assert result.exit_code == 1
    assert "游泳池" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
    assert head(svc) == before
    assert not any((svc.root / "patrols").rglob("*.yaml"))


def test_an_office_may_set_its_own_checklist(svc: Svc) -> None:
    with (svc.root / "svc.yaml").open("a", encoding="utf-8") as f:
        f.write("patrol:\n  checklist: [大门, 围墙, 地下车库]\n")
    pid = add(svc, "--problem", "围墙")
    assert [(r["item"], r["result"]) for r in show(svc, pid)["checklist"]] == [
        ("大门", "ok"), ("围墙", "problem"), ("地下车库", "ok")]
    assert svc("patrol", "add", "--area", "3号楼", "--problem", "电梯").exit_code == 1  # not on this office's list


def test_missing_area_is_a_usage_error_and_future_at_is_refused(svc: Svc) -> None:
    assert svc("patrol", "add").exit_code == 2
    result = svc("patrol", "add", "--area", "3号楼", "--at", "2026-11-06T09:00:00+08:00")
    assert result.exit_code == 1 and "future" in result.stderr


def test_ids_are_numbered_per_month_in_office_time(svc: Svc) -> None:
    a = add(svc, now="2026-10-31T23:30:00+08:00")
    b = add(svc, now="2026-10-31T16:30:00Z")  # 2026-11-01 00:30 in Beijing
    c = add(svc, now="2026-11-01T09:00:00+08:00")
    assert (a, b, c) == ("X2610-A001", "X2611-A001", "X2611-A002")
    assert (svc.root / "patrols/2026/10/X2610-A001.yaml").is_file()
    assert (svc.root / "patrols/2026/11/X2611-A001.yaml").is_file()
    assert show(svc, b)["patrolled_at"] == "2026-11-01T00:30:00+08:00"


# --- findings and the 7-day rule ----------------------------------------------------------------

def test_findings_are_numbered_and_open_ones_are_due_in_seven_days(svc: Svc) -> None:
    pid = add(svc, "--problem", "电梯")
    assert finding(svc, pid) == 1
    assert finding(svc, pid, "cleanliness", "大堂", "垃圾堆放", "--settled", "已通知保洁清理") == 2
    assert finding(svc, pid, "fire", "2单元3层", "灭火器过期") == 3
    found = {f["no"]: f for f in show(svc, pid)["findings"]}
    assert [found[n]["status"] for n in (1, 2, 3)] == ["open", "settled", "open"]
    assert found[1]["due"] == found[3]["due"] == "2026-11-12T09:30:00+08:00"
    assert "due" not in found[2]  # settled on the spot: no deadline

    items = patrol_due(svc, NOW)
    assert [(i["id"], i["due_at"], i["overdue"]) for i in items] == [
        (pid, "2026-11-12T09:30:00+08:00", False), (pid, "2026-11-12T09:30:00+08:00", False)]
    assert {i["what"].rsplit(" ", 1)[-1] for i in items} == {"2单元电梯", "2单元3层"}  # the places, not the settled one
    assert all(i["record"] == "patrol" and i["user"] == "wangfang" for i in items)
    # a minute before: due, not overdue; a minute after: overdue, even without a window
    assert not any(i["overdue"] for i in patrol_due(svc, "2026-11-12T09:29:00+08:00", "1m"))
    late = patrol_due(svc, "2026-11-12T09:31:00+08:00", "1m")
    assert len(late) == 2 and all(i["overdue"] for i in late)
    assert svc("due", "--strict", now="2026-11-12T09:31:00+08:00").exit_code == 3


def test_finding_on_a_missing_patrol_and_a_bad_category(svc: Svc) -> None:
    result = svc("patrol", "finding", "X2611-A009", "--category", "fire", "--place", "p", "--description", "d")
    assert result.exit_code == 4
    pid = add(svc)
    assert svc("patrol", "finding", pid, "--category", "gossip", "--place", "p", "--description", "d").exit_code == 2
    assert svc("patrol", "finding", pid, "--category", "fire", "--place", " ", "--description", "d").exit_code == 1
    assert not show(svc, pid).get("findings")


def test_route_to_repair_opens_a_case_linked_to_the_patrol(svc: Svc) -> None:
    pid = add(svc, "--problem", "电梯")
    finding(svc, pid)
    out = svc.ok("patrol", "route", pid, "1", "--to", "repair", now="2026-11-05T10:00:00+08:00").stdout
    case_id = out.strip()
    assert CASE_ID.match(case_id) and out == case_id + "\n"
    case = json.loads(svc.ok("show", case_id, "--format", "json").stdout)
    assert case["kind"] == "repair" and case["status"] == "open"
    assert pid in case["links"]
    assert "按钮失灵" in case["summary"]
    routed = show(svc, pid)["findings"][0]
    assert routed["route"] == "repair" and routed["case"] == case_id and routed["status"] == "open"
    assert svc.git("status", "--porcelain") == ""
    assert svc.ok("check").stdout == ""

    again = svc("patrol", "route", pid, "1", "--to", "repair", now="2026-11-05T10:05:00+08:00")
    assert again.exit_code == 1 and "already" in again.stderr
    assert svc("patrol", "route", pid, "1", "--to", "department", "--department", "保安部").exit_code == 1
    assert len(json.loads(svc.ok("list", "--format", "json").stdout)) == 1  # no second case


def test_route_to_a_department_needs_the_department(svc: Svc) -> None:
    pid = add(svc)
    finding(svc, pid, "security", "北门", "门禁损坏")
    finding(svc, pid, "renovation", "5-2-301", "私拆承重墙")
    finding(svc, pid, "cleanliness", "大堂", "垃圾", "--settled", "已清理")
    result = svc("patrol", "route", pid, "1", "--to", "department")
    assert result.exit_code == 1 and "--department" in result.stderr
    assert svc.ok("patrol", "route", pid, "1", "--to", "department", "--department", "保安部").stdout == ""
    assert svc.ok("patrol", "route", pid, "2", "--to", "violation").stdout == ""
    assert svc("patrol", "route", pid, "3", "--to", "violation").exit_code == 1  # settled: nothing to route
    assert svc("patrol", "route", pid, "4", "--to", "violation").exit_code == 1  # no such finding
    found = show(svc, pid)["findings"]
    assert (found[0]["route"], found[0]["department"]) == ("department", "保安部")
    assert found[1]["route"] == "violation" and "case" not in found[1]
    assert json.loads(svc.ok("list", "--format", "json").stdout) == []


def test_only_a_manager_extends_and_svc_due_follows(svc: Svc) -> None:
    pid = add(svc)
    finding(svc, pid)
    finding(svc, pid, "fire", "2单元3层", "灭火器过期")
    result = svc("patrol", "extend", pid, "1", "--until", "2026-11-20", "--reason", "配件需订购")
    assert result.exit_code == 1 and "manager" in result.stderr
    assert svc("patrol", "extend", pid, "1", "--until", "2026-11-20", "--reason", "x", user="lina").exit_code == 1
    assert svc("patrol", "extend", pid, "1", "--until", "2026-11-20").exit_code == 2  # the reason is required
    assert svc("patrol", "extend", pid, "1", "--until", "2026-11-20", "--reason", " ", user="zhaomin").exit_code == 1
    # not later than the 7 days: refused
    assert svc("patrol", "extend", pid, "1", "--until", "2026-11-10", "--reason", "x", user="zhaomin").exit_code == 1

    svc.ok("patrol", "extend", pid, "1", "--until", "2026-11-20", "--reason", "配件需从厂家订购", user="zhaomin")
    found = show(svc, pid)["findings"]
    assert found[0]["due"] == "2026-11-20T18:00:00+08:00"  # closing time on the day
    assert found[1]["due"] == "2026-11-12T09:30:00+08:00"  # the other finding keeps its 7 days
    extend = [e for e in show(svc, pid)["history"] if e["action"] == "extend"]
    assert extend[0]["by"] == "zhaomin" and extend[0]["reason"] == "配件需从厂家订购"

    late = "2026-11-13T09:00:00+08:00"
    items = {i["what"]: i for i in patrol_due(svc, late)}
    assert len(items) == 2
    by_place = {what.rsplit(" ", 1)[-1]: item for what, item in items.items()}
    assert by_place["2单元电梯"]["due_at"] == "2026-11-20T18:00:00+08:00" and not by_place["2单元电梯"]["overdue"]
    assert by_place["2单元3层"]["overdue"]

    svc.ok("patrol", "extend", pid, "1", "--until", "2026-11-25", "--reason", "厂家延期", user="admin",
           now="2026-11-06T09:00:00+08:00")
    assert show(svc, pid)["findings"][0]["due"] == "2026-11-25T18:00:00+08:00"
    svc.ok("patrol", "extend", pid, "2", "--until", "2026-11-16", "--reason", "等待消防检测", user="lijun",
           now="2026-11-06T09:00:00+08:00")  # a cs-director is a manager too
    assert svc.ok("check").stdout == ""


def test_fixed_then_verified_by_someone_else(svc: Svc) -> None:
    pid = add(svc)
    finding(svc, pid)
    result = svc("patrol", "verified", pid, "1")
    assert result.exit_code == 1 and "fixed" in result.stderr  # verified before fixed
    svc.ok("patrol", "fixed", pid, "1", "--note", "已更换按钮", now="2026-11-06T10:00:00+08:00")
    assert svc("patrol", "fixed", pid, "1", now="2026-11-06T10:30:00+08:00").exit_code == 1  # fixed twice
    same = svc("patrol", "verified", pid, "1", now="2026-11-06T11:00:00+08:00")
    assert same.exit_code == 1 and "someone else" in same.stderr
    svc.ok("patrol", "verified", pid, "1", "--note", "现场复查合格", user="lina", now="2026-11-06T11:00:00+08:00")
    done = show(svc, pid)["findings"][0]
    assert done["status"] == "verified"
    assert (done["fixed_by"], done["fixed_at"]) == ("wangfang", "2026-11-06T10:00:00+08:00")
    assert (done["verified_by"], done["verified_at"]) == ("lina", "2026-11-06T11:00:00+08:00")
    notes = [(e["action"], e["by"], e.get("note")) for e in show(svc, pid)["history"][2:]]
    assert notes == [("fixed", "wangfang", "已更换按钮"), ("verified", "lina", "现场复查合格")]
    assert patrol_due(svc, "2026-11-20T09:00:00+08:00") == []  # a fixed finding is no longer due
    assert svc("patrol", "extend", pid, "1", "--until", "2026-11-30", "--reason", "x", user="zhaomin").exit_code == 1
    assert svc.ok("check").stdout == ""


def test_fixed_finding_leaves_svc_due(svc: Svc) -> None:
    pid = add(svc)
    finding(svc, pid)
    svc.ok("patrol", "fixed", pid, "1", now="2026-11-07T09:00:00+08:00")
    assert patrol_due(svc, "2026-11-07T09:00:00+08:00") == []


def test_an_event_cannot_be_dated_before_the_last_one(svc: Svc) -> None:
    pid = add(svc)
    finding(svc, pid, now="2026-11-05T10:00:00+08:00")
    result = svc("patrol", "fixed", pid, "1", "--at", "2026-11-05T09:45:00+08:00", now="2026-11-05T11:00:00+08:00")
    assert result.exit_code == 1


# --- list and show -------------------------------------------------------------------------------

def test_list_filters_by_month_in_office_time_and_show_works(svc: Svc) -> None:
    a = add(svc, area="3号楼", now="2026-10-03T10:00:00+08:00")
    b = add(svc, area="5号楼", now="2026-10-31T15:59:00Z")   # 23:59 in Beijing: October
    c = add(svc, area="5号楼", now="2026-10-31T16:01:00Z")   # 00:01 on 11-01 in Beijing: November
    finding(svc, b, now="2026-11-01T08:00:00+08:00")
    ids = lambda *args: svc.ok("patrol", "list", "--format", "ids", *args).stdout.split()  # noqa: E731
    assert ids() == [a, b, c]
    assert ids("--month", "2026-10") == [a, b]
    assert ids("--month", "2026-11") == [c]
    assert ids("--month", "2026-09") == []
    assert svc("patrol", "list", "--month", "2026-13").exit_code == 1
    rows = json.loads(svc.ok("patrol", "list", "--month", "2026-10", "--format", "json").stdout)
    assert [(r["id"], r["area"], r["findings"], r["open"]) for r in rows] == [(a, "3号楼", 0, 0), (b, "5号楼", 1, 1)]
    table = svc.ok("patrol", "list").stdout
    assert a in table and "5号楼" in table
    text = svc.ok("patrol", "show", b).stdout
    assert b in text and "5号楼" in text and "按钮失灵" in text
    assert svc("patrol", "show", "X2610-A099").exit_code == 4
    # the ID's ending is enough, as for cases, unless it is ambiguous
    assert show(svc, "2610-A001")["id"] == a
    assert svc("patrol", "show", "A001").exit_code == 4  # X2610-A001 and X2611-A001


# --- the monthly cut-off (每月底汇总) ------------------------------------------------------------

def test_summary_refuses_a_month_that_has_not_ended_in_office_time(svc: Svc) -> None:
    add(svc, now="2026-10-20T10:00:00+08:00")
    for now in ("2026-10-20T10:00:00+08:00", "2026-10-31T23:59:00+08:00", "2026-10-31T15:59:00Z"):
        result = svc("patrol", "summary", "--month", "2026-10", now=now)
        assert result.exit_code == 1, now
        assert "not ended" in result.stderr
    assert not (svc.root / "summaries").exists()
    assert svc("patrol", "summary", "--month", "2026-11", now="2026-10-31T23:59:00+08:00").exit_code == 1
    assert svc("patrol", "summary", "--month", "2026/10", now="2026-11-02T09:00:00+08:00").exit_code == 1
    assert svc("patrol", "summary", now="2026-11-02T09:00:00+08:00").exit_code == 2

    # 16:30 UTC on the 31st is already 00:30 on 11-01 in Beijing: October has ended there
    out = svc.ok("patrol", "summary", "--month", "2026-10", now="2026-10-31T16:30:00Z").stdout
    assert "2026-10: 1 patrols, 0 findings" in out and "3号楼: 1 patrols, 0 findings" in out
    assert (svc.root / "summaries/patrol-2026-10.yaml").is_file()
    assert svc.git("status", "--porcelain") == ""
    again = svc("patrol", "summary", "--month", "2026-10", now="2026-11-05T09:00:00+08:00")
    assert again.exit_code == 1 and "already" in again.stderr


def _october(svc: Svc) -> dict[str, str]:
    """Three October patrols in two areas, and one on the first morning of November."""
    p1 = add(svc, area="3号楼", now="2026-10-03T10:00:00+08:00")
    finding(svc, p1, "facilities", "2单元电梯", "按钮失灵", now="2026-10-03T10:05:00+08:00")
    finding(svc, p1, "cleanliness", "大堂", "垃圾", "--settled", "已清理", now="2026-10-03T10:10:00+08:00")
    p2 = add(svc, area="3号楼", now="2026-10-15T10:00:00+08:00")
    finding(svc, p2, "fire", "1单元3层", "灭火器过期", now="2026-10-15T10:05:00+08:00")
    finding(svc, p2, "facilities", "北门", "门禁失灵", now="2026-10-15T10:10:00+08:00")
    svc.ok("patrol", "fixed", p2, "1", now="2026-10-16T10:00:00+08:00")  # fixed, not yet verified: still open
    svc.ok("patrol", "fixed", p2, "2", now="2026-10-16T11:00:00+08:00")
    svc.ok("patrol", "verified", p2, "2", user="lina", now="2026-10-17T09:00:00+08:00")
    p3 = add(svc, area="5号楼", now="2026-10-31T23:30:00+08:00")
    finding(svc, p3, "security", "地下车库", "消防通道堵塞", "--settled", "已清走", now="2026-10-31T23:40:00+08:00")
    p4 = add(svc, area="5号楼", now="2026-10-31T16:30:00Z")  # 2026-11-01 00:30 in Beijing
    finding(svc, p4, "cleanliness", "大堂", "积水", now="2026-11-01T00:40:00+08:00")
    return {"p1": p1, "p2": p2, "p3": p3, "p4": p4}


def test_summary_counts_by_category_and_area_and_lists_open_findings(svc: Svc) -> None:
    ids = _october(svc)
    result = svc.ok("patrol", "summary", "--month", "2026-10", "--format", "json", now="2026-11-02T09:00:00+08:00")
    figures = json.loads(result.stdout)
    # by hand: p1 2 findings, p2 2, p3 1; p4 is November
    assert figures["month"] == "2026-10"
    assert figures["patrols"] == 3 and figures["findings"] == 5
    assert figures["by_category"] == {"cleanliness": 1, "facilities": 2, "fire": 1, "security": 1}
    assert figures["by_area"] == {"3号楼": {"patrols": 2, "findings": 4}, "5号楼": {"patrols": 1, "findings": 1}}
    still_open = [(f["record"], f["no"], f["status"]) for f in figures["open_findings"]]
    assert still_open == [(ids["p1"], 1, "open"), (ids["p2"], 1, "fixed")]
    assert figures["records"] == [ids["p1"], ids["p2"], ids["p3"]]
    assert "2026-10 cut off" in result.stderr

    stored = (svc.root / "summaries/patrol-2026-10.yaml").read_text(encoding="utf-8")
    assert "made_by: wangfang" in stored and ids["p4"] not in stored
    assert svc.ok("check").stdout == ""


def test_an_empty_month_can_be_cut_off(svc: Svc) -> None:
    figures = json.loads(svc.ok("patrol", "summary", "--month", "2026-09", "--format", "json").stdout)
    assert (figures["patrols"], figures["findings"], figures["open_findings"]) == (0, 0, [])

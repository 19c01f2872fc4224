"""`svc report monthly` (客服分析报告): a month's figures per branch and overall, as of the
month's end, from a store built through the CLI with a clock per event.

The month is November 2026 in Asia/Shanghai (2 Nov is a Monday; the office opens 09:00,
closes 18:00; no public holiday in November). Every figure asserted below is computed by
hand in the comments from the scenario in `build`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svc import report
from svc.deadlines import RULES
from svc.model import KINDS
from tests.conftest import Svc, make_store, run_svc

MONTH = "2026-11"
AFTER = "2026-12-05T09:00:00+08:00"  # a clock after the month's end


def t(day: int, hm: str, month: int = 11) -> str:
    return f"2026-{month:02d}-{day:02d}T{hm}:00+08:00"


# The staff complaint's complainant: never anywhere in the report.
SECRET_NAME, SECRET_PHONE, SECRET_ACCUSED = "秘密人", "13512345678", "王工"


def build(svc: Svc) -> dict[str, str]:
    """The scenario, in time order. Case IDs are given by the month of opening."""
    ids: dict[str, str] = {}
    ok = svc.ok

    # -- October: what came before the month --
    # P: chaoyang project; visits planned: contract 10-25, start 11-11, mid-1 11-26, mid-2 12-11, mid-3 12-26, ...
    ids["P"] = ok("project", "add", "--customer", "郑一", "--phone", "13200132000", "--branch", "chaoyang",
                  "--contract-signed", "2026-10-20", "--start", "2026-11-01", "--completion", "2027-01-20",
                  now=t(20, "09:00", 10)).stdout.strip()
    # O1: chaoyang complaint (wechat: no 3-minute callback) opened 10-20 10:00:
    # respond-24h due 10-21 10:00, solve-3wd due 10-23 10:00; never handled in October or November
    ids["O1"] = svc.open("complaint", "--customer", "吴十", "--phone", "13100131000", "--branch", "chaoyang",
                         "--channel", "wechat", now=t(20, "10:00", 10))
    # October patrol; finding 1 due 11-04 10:00 (7 calendar days), fixed 11-06: late, in November
    ids["XO"] = ok("patrol", "add", "--area", "1号楼", now=t(28, "10:00", 10)).stdout.strip()
    ok("patrol", "finding", ids["XO"], "--category", "facilities", "--place", "大堂", "--description", "门禁坏",
       now=t(28, "10:00", 10))

    # -- November --
    # A1: chaoyang complaint 11-02 10:00 (wechat): respond-24h due 11-03 10:00, solve-3wd due 11-05 10:00
    ids["A1"] = svc.open("complaint", "--customer", "张三", "--phone", "13800138000", "--branch", "chaoyang",
                         "--channel", "wechat", now=t(2, "10:00"))
    ok("follow-up", ids["A1"], "--outcome", "unsatisfied", now=t(3, "09:00"))  # meets respond-24h, on time
    # A2: the same customer again while A1 is open: a repeat (repeat_of A1), starts at cs-director
    # respond-24h due 11-04 14:00, solve-3wd due 11-06 14:00; neither is ever met in November
    ids["A2"] = svc.open("complaint", "--customer", "张三", "--phone", "138-0013-8000", "--branch", "chaoyang",
                         "--channel", "wechat", now=t(3, "14:00"))
    ok("follow-up", ids["A1"], "--outcome", "satisfied", now=t(4, "09:00"))  # closes A1: solve-3wd on time
    ok("escalate", ids["A2"], "--to", "center-director", "--reason", "重复投诉未解决", now=t(4, "10:00"),
       user="lijun")
    ids["X"] = ok("patrol", "add", "--area", "3号楼", now=t(5, "09:30")).stdout.strip()
    # findings 1 and 2 due 11-12 09:30; 3 settled on the spot (no deadline)
    ok("patrol", "finding", ids["X"], "--category", "facilities", "--place", "电梯", "--description", "按钮失灵",
       now=t(5, "09:30"))
    ok("patrol", "finding", ids["X"], "--category", "fire", "--place", "2单元", "--description", "灭火器过期",
       now=t(5, "09:30"))
    ok("patrol", "finding", ids["X"], "--category", "cleanliness", "--place", "大堂", "--description", "垃圾",
       "--settled", "当场清理", now=t(5, "09:30"))
    ok("patrol", "fixed", ids["XO"], "1", now=t(6, "10:00"))  # the October finding, 2 days late
    # A3: chaoyang repair 11-09 09:30 (phone; callback is for complaints only):
    # engineer-20min due 09:50, respond-24h due 11-10 09:30, solve-3wd due 11-12 09:30
    ids["A3"] = svc.open("repair", "--customer", "李四", "--phone", "13900139000", "--branch", "chaoyang",
                         now=t(9, "09:30"))
    ok("met", ids["A3"], "engineer-20min", now=t(9, "09:45"))  # on time
    # A1 reopened 11-10 09:00: new respond-24h (due 11-11 09:00) and solve-3wd (due 11-13 09:00)
    ok("reopen", ids["A1"], "--reason", "客户反映又漏水", now=t(10, "09:00"))
    ok("patrol", "fixed", ids["X"], "1", now=t(10, "10:00"))  # finding 1 on time
    # repaired 11-10 15:00 meets respond-24h (late: due 09:30) and solve-3wd (on time);
    # starts revisit-3d, due 11-13 15:00
    ok("repaired", ids["A3"], now=t(10, "15:00"))
    # A1 closed again, rated 5: meets the new respond-24h and solve-3wd on time
    ok("close", ids["A1"], "--resolution", "已修复", "--satisfaction", "5", now=t(11, "08:00"))
    ok("visit", ids["P"], "--kind", "start", "--outcome", "ok", now=t(11, "10:00"))  # start visit done
    # finding 2 extended by a manager before its due time: the new due is 11-20 18:00 (closing time)
    ok("patrol", "extend", ids["X"], "2", "--until", "2026-11-20", "--reason", "等厂家配件", now=t(11, "11:00"),
       user="lijun")
    ok("follow-up", ids["A3"], "--outcome", "satisfied", now=t(12, "10:00"))  # revisit-3d on time; closes A3
    # A4: chaoyang serious complaint 11-16 10:00 (wechat; serious: no solve-3wd): respond-24h due 11-17 10:00
    ids["A4"] = svc.open("complaint", "--customer", "王五", "--phone", "13700137000", "--branch", "chaoyang",
                         "--severity", "serious", "--channel", "wechat", now=t(16, "10:00"))
    ok("notify", ids["A4"], now=t(16, "11:00"))  # feedback-24h due 11-17 11:00
    # A5: chaoyang complaint 11-16 10:30 (wechat): respond-24h due 11-17 10:30, solve-3wd due 11-19 10:30
    ids["A5"] = svc.open("complaint", "--customer", "周九", "--phone", "13300133000", "--branch", "chaoyang",
                         "--channel", "wechat", now=t(16, "10:30"))
    ok("follow-up", ids["A5"], "--outcome", "unsatisfied", now=t(16, "15:00"))  # respond-24h on time
    # deferred 11-17 11:00 until 11-20: 2 working days were left (18th, 19th), so solve-3wd is set
    # again, due 11-24 09:00; the first one is replaced before its due time and does not count
    ok("defer", ids["A5"], "--until", "2026-11-20", "--reason", "客户出差", now=t(17, "11:00"))
    ok("feedback", ids["A4"], now=t(18, "09:00"))  # feedback-24h met late
    # closed 11-20 rated 3 (unsatisfied); meets respond-24h late
    ok("close", ids["A4"], "--resolution", "已赔偿", "--satisfaction", "3", now=t(20, "10:00"))
    # B1: haidian complaint by phone 11-23 09:00: callback-3min due 09:03, respond-24h due 11-24 09:00,
    # solve-3wd due 11-26 09:00
    ids["B1"] = svc.open("complaint", "--customer", "赵六", "--phone", "13600136000", "--branch", "haidian",
                         now=t(23, "09:00"))
    ok("met", ids["B1"], "callback-3min", now=t(23, "09:02"))  # on time
    ok("follow-up", ids["B1"], "--outcome", "not-handled", now=t(24, "08:00"))  # respond-24h on time
    # B2: haidian inquiry 11-24 10:00 (no deadlines), closed rated 5
    ids["B2"] = svc.open("inquiry", "--customer", "钱七", "--branch", "haidian", now=t(24, "10:00"))
    ok("close", ids["B2"], "--resolution", "已答复", "--satisfaction", "5", now=t(24, "10:30"))
    # round 2 unsatisfied: escalated to cs-director
    ok("follow-up", ids["B1"], "--outcome", "unsatisfied", now=t(25, "09:00"))
    # B3: haidian staff complaint 11-25 10:00 (real name); its notice starts feedback-24h, due 11-26 11:00,
    # never met; escalated to legal
    ids["B3"] = svc.open("staff-complaint", "--complainant", SECRET_NAME, "--contact", SECRET_PHONE,
                         "--accused", SECRET_ACCUSED, "--accused-role", "工长", "--incident-at", "2026-11-20T15:00",
                         "--incident-place", "工地", "--branch", "haidian", now=t(25, "10:00"))
    ok("notify", ids["B3"], now=t(25, "11:00"))
    ok("close", ids["B1"], "--resolution", "已处理", "--satisfaction", "4", now=t(25, "16:00"))  # solve-3wd on time
    ok("escalate", ids["B3"], "--to", "legal", "--reason", "涉及劳动纠纷", now=t(26, "10:00"), user="lijun")
    # N1: a visit case with no branch
    ids["N1"] = svc.open("visit", "--customer", "孙八", now=t(27, "10:00"))
    return ids


def after_month(svc: Svc, ids: dict[str, str]) -> None:
    """Events after 30 November: none of them may change November's report."""
    ok = svc.ok
    ok("visit", ids["P"], "--kind", "mid", "--outcome", "ok", now=t(1, "09:00", 12))  # mid-1, late
    ok("open", "complaint", "--customer", "张三", "--phone", "13800138000", "--branch", "chaoyang",
       now=t(1, "10:00", 12))  # a repeat, in December
    ok("close", ids["A2"], "--resolution", "已解决", "--satisfaction", "5", now=t(2, "10:00", 12))
    ok("close", ids["A5"], "--resolution", "已解决", "--satisfaction", "4", now=t(2, "10:05", 12))
    ok("feedback", ids["B3"], now=t(2, "10:10", 12))
    ok("follow-up", ids["B3"], "--outcome", "unsatisfied", now=t(2, "10:20", 12))
    ok("patrol", "fixed", ids["X"], "2", now=t(2, "11:00", 12))
    ok("escalate", ids["O1"], "--reason", "长期未处理", now=t(3, "09:00", 12), user="lijun")
    ok("close", ids["O1"], "--resolution", "已处理", "--satisfaction", "1", now=t(3, "10:00", 12))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Svc, dict[str, str]]]:
    """One store with the scenario, shared by the read-only tests of this module."""
    with pytest.MonkeyPatch.context() as mp:
        for name in ("SVC_STORE", "SVC_USER", "SVC_NOW", "SVC_DESK", "SVC_DEBUG"):
            mp.delenv(name, raising=False)
        folder = tmp_path_factory.mktemp("report")
        mp.setenv("GIT_CONFIG_GLOBAL", str(folder / "no-gitconfig"))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        svc = Svc(make_store(folder / "store"))
        ids = build(svc)
        yield svc, ids


def monthly(svc: Svc, *args: str, now: str = AFTER) -> dict[str, Any]:
    return json.loads(svc.ok("report", "monthly", "--month", MONTH, "--format", "json", *args, now=now).stdout)


def by_kind(**counts: int) -> dict[str, int]:
    return {kind: counts.get(kind.replace("-", "_"), 0) for kind in KINDS}


def rules(**tallies: tuple[int, int]) -> dict[str, dict[str, Any]]:
    out = {}
    for name in RULES:
        due, on_time = tallies.get(name.replace("-", "_"), (0, 0))
        out[name] = {"due": due, "on_time": on_time, "late": due - on_time,
                     "rate": round(on_time / due, 4) if due else None}
    return out


def overdue_rules(**counts: int) -> dict[str, int]:
    return {name: counts.get(name.replace("-", "_"), 0) for name in RULES}


# --- the figures, by hand ----------------------------------------------------------------------

def test_the_scenario_is_what_the_comments_say(built: tuple[Svc, dict[str, str]]) -> None:
    svc, ids = built
    assert [ids[k] for k in ("A1", "A2", "A3", "A4", "A5", "B1", "B2", "B3", "N1")] == [
        f"C2611-A{n:03d}" for n in range(1, 10)]
    assert (ids["O1"], ids["P"], ids["XO"]) == ("C2610-A001", "P2610-A001", "X2610-A001")
    a5 = json.loads(svc.ok("show", ids["A5"], "--format", "json").stdout)
    solve = [d for d in a5["deadlines"] if d["rule"] == "solve-3wd"]
    assert [d["due"] for d in solve] == ["2026-11-24T09:00:00+08:00"]  # the deferral's new due time
    a2 = json.loads(svc.ok("show", ids["A2"], "--format", "json").stdout)
    assert a2["repeat_of"] == [ids["A1"]]
    x = json.loads(svc.ok("patrol", "show", ids["X"], "--format", "json").stdout)
    assert [f.get("due") for f in x["findings"]] == ["2026-11-12T09:30:00+08:00", "2026-11-20T18:00:00+08:00", None]
    a3 = json.loads(svc.ok("show", ids["A3"], "--format", "json").stdout)
    assert {d["rule"]: d["due"] for d in a3["deadlines"]} == {
        "respond-24h": t(10, "09:30"), "engineer-20min": t(9, "09:50"), "solve-3wd": t(12, "09:30"),
        "revisit-3d": t(13, "15:00")}


def test_header_and_targets(built: tuple[Svc, dict[str, str]]) -> None:
    svc, _ = built
    data = monthly(svc)
    assert list(data) == ["report", "month", "office", "timezone", "period", "branch", "targets", "overall",
                          "branches"]
    assert data["report"] == "monthly" and data["month"] == MONTH
    assert data["office"] == {"code": "BJ01", "name": "北京示例客服中心"}
    assert data["timezone"] == "Asia/Shanghai"
    assert data["period"] == {"start": "2026-11-01T00:00:00+08:00", "end": "2026-12-01T00:00:00+08:00"}
    assert data["branch"] is None
    assert data["targets"] == {"satisfaction": 0.9, "visits": 1.0}
    # every configured branch with activity, in svc.yaml's order, then the cases with no branch
    assert [(b["branch"], b["name"]) for b in data["branches"]] == [
        ("chaoyang", "朝阳分公司"), ("haidian", "海淀分公司"), ("none", "—")]
    keys = ["opened", "closed", "on_time", "satisfaction", "visits", "escalations", "repeat_complaints", "overdue"]
    assert list(data["overall"]) == [*keys, "patrol_findings"]
    assert all(list(b) == ["branch", "name", *keys] for b in data["branches"])


def test_chaoyang(built: tuple[Svc, dict[str, str]]) -> None:
    svc, ids = built
    cy = monthly(svc)["branches"][0]
    # opened in November: A1 A2 A4 A5 complaints, A3 repair (O1 was opened in October)
    assert cy["opened"] == {"total": 5, "by_kind": by_kind(complaint=4, repair=1)}
    # closed in November: A1 (twice, counted once), A4; A3 (repair)
    assert cy["closed"] == {"total": 3, "by_kind": by_kind(complaint=2, repair=1)}
    # deadlines due in November:
    #   respond-24h: A1 11-03 met 11-03 09:00 ✓; A1 again 11-11 09:00 met at the close 11-11 08:00 ✓;
    #                A2 11-04 never met ✗; A3 11-10 09:30 met 15:00 ✗; A4 11-17 met at the close 11-20 ✗;
    #                A5 11-17 10:30 met 11-16 ✓                                          -> 6 due, 3 on time
    #   feedback-24h: A4 11-17 11:00 met 11-18 ✗                                         -> 1 due, 0
    #   engineer-20min: A3 09:50 met 09:45 ✓                                             -> 1 due, 1
    #   solve-3wd: A1 11-05 met at the close 11-04 ✓; A1 again 11-13 met 11-11 ✓; A2 11-06 never ✗;
    #              A3 11-12 met at the repair 11-10 ✓; A5: 11-19 replaced on 11-17 before it was due
    #              (not counted), its successor 11-24 never met ✗                        -> 5 due, 3
    #   revisit-3d: A3 11-13 15:00 met by the follow-up 11-12 ✓                          -> 1 due, 1
    # O1's deadlines fell due in October.                      total: 14 due, 8 on time, 6 late
    assert cy["on_time"] == {"due": 14, "on_time": 8, "late": 6, "rate": 0.5714,
                             "by_rule": rules(respond_24h=(6, 3), feedback_24h=(1, 0), engineer_20min=(1, 1),
                                              solve_3wd=(5, 3), revisit_3d=(1, 1))}
    # responses: follow-ups A1 unsatisfied, A1 satisfied, A3 satisfied, A5 unsatisfied (4);
    # ratings at a close: A1 5 (satisfied), A4 3 (unsatisfied) (2). The closes made by a satisfied
    # follow-up carry no rating. 3 satisfied of 6.
    assert cy["satisfaction"] == {"responses": 6, "satisfied": 3, "unsatisfied": 3, "not_handled": 0,
                                  "follow_ups": 4, "ratings": 2, "rate": 0.5, "target": 0.9, "met": False}
    # project P: start (11-11) done 11-11, mid-1 (11-26) not done by the month's end
    assert cy["visits"] == {"due": 2, "done": 1, "missed": 1, "rate": 0.5, "target": 1.0, "met": False,
                            "not_done": [{"project": ids["P"], "visit": "mid-1", "due": "2026-11-26"}]}
    # A2 escalated to center-director (the repeat started at cs-director without an escalation;
    # round-1 failures only send an urging notice)
    assert cy["escalations"] == {"total": 1, "by_level": {"cs-director": 0, "center-director": 1, "legal": 0}}
    assert cy["repeat_complaints"] == {"cases": 1, "customers": [
        {"customer": "张三", "phone": "138****8000", "cases": [ids["A2"]], "repeat_of": [ids["A1"]]}]}
    # open at the month's end: O1 respond-24h and solve-3wd, A2 respond-24h and solve-3wd, A5 solve-3wd
    assert cy["overdue"] == {"total": 5, "by_rule": overdue_rules(respond_24h=2, solve_3wd=3),
                             "ids": [ids["O1"], ids["A2"], ids["A5"]], "withheld": 0}


def test_haidian(built: tuple[Svc, dict[str, str]]) -> None:
    svc, _ = built
    hd = monthly(svc)["branches"][1]
    assert hd["opened"] == {"total": 3, "by_kind": by_kind(complaint=1, inquiry=1, staff_complaint=1)}
    assert hd["closed"] == {"total": 2, "by_kind": by_kind(complaint=1, inquiry=1)}
    # B1: callback 09:03 met 09:02 ✓, respond-24h 11-24 09:00 met 08:00 ✓, solve-3wd 11-26 09:00 met at
    # the close 11-25 16:00 ✓; B3: feedback-24h 11-26 11:00 never met ✗      -> 4 due, 3 on time
    assert hd["on_time"] == {"due": 4, "on_time": 3, "late": 1, "rate": 0.75,
                             "by_rule": rules(callback_3min=(1, 1), respond_24h=(1, 1), feedback_24h=(1, 0),
                                              solve_3wd=(1, 1))}
    # B1 follow-ups not-handled, unsatisfied; ratings B1 4, B2 5: 2 satisfied of 4
    assert hd["satisfaction"] == {"responses": 4, "satisfied": 2, "unsatisfied": 1, "not_handled": 1,
                                  "follow_ups": 2, "ratings": 2, "rate": 0.5, "target": 0.9, "met": False}
    assert hd["visits"] == {"due": 0, "done": 0, "missed": 0, "rate": None, "target": 1.0, "met": None,
                            "not_done": []}
    # B1's round-2 failure raised it to cs-director; B3 went to legal
    assert hd["escalations"] == {"total": 2, "by_level": {"cs-director": 1, "center-director": 0, "legal": 1}}
    assert hd["repeat_complaints"] == {"cases": 0, "customers": []}
    # B3's feedback-24h is overdue, counted but not listed (a staff complaint)
    assert hd["overdue"] == {"total": 1, "by_rule": overdue_rules(feedback_24h=1), "ids": [], "withheld": 1}


def test_cases_with_no_branch(built: tuple[Svc, dict[str, str]]) -> None:
    svc, _ = built
    none = monthly(svc)["branches"][2]
    assert none["opened"] == {"total": 1, "by_kind": by_kind(visit=1)}
    assert none["closed"]["total"] == 0 and none["on_time"]["due"] == 0 and none["overdue"]["total"] == 0
    assert none["satisfaction"]["rate"] is None and none["satisfaction"]["met"] is None


def test_overall(built: tuple[Svc, dict[str, str]]) -> None:
    svc, ids = built
    overall = monthly(svc)["overall"]
    assert overall["opened"] == {"total": 9, "by_kind": by_kind(complaint=5, repair=1, visit=1, inquiry=1,
                                                                 staff_complaint=1)}
    assert overall["closed"] == {"total": 5, "by_kind": by_kind(complaint=3, repair=1, inquiry=1)}
    # the branches' deadlines (14 + 4 due, 8 + 3 on time) and the patrol findings' patrol-fix-7d:
    # October finding due 11-04 fixed 11-06 ✗; X finding 1 due 11-12 fixed 11-10 ✓; X finding 2's first
    # due (11-12) was extended on 11-11, before it passed (not counted); its 11-20 18:00 due never met ✗
    assert overall["on_time"] == {"due": 21, "on_time": 12, "late": 9, "rate": 0.5714,
                                  "by_rule": rules(callback_3min=(1, 1), respond_24h=(7, 4), feedback_24h=(2, 0),
                                                   engineer_20min=(1, 1), solve_3wd=(6, 4), revisit_3d=(1, 1),
                                                   patrol_fix_7d=(3, 1))}
    assert overall["satisfaction"] == {"responses": 10, "satisfied": 5, "unsatisfied": 4, "not_handled": 1,
                                       "follow_ups": 6, "ratings": 4, "rate": 0.5, "target": 0.9, "met": False}
    assert overall["visits"]["due"] == 2 and overall["visits"]["done"] == 1 and overall["visits"]["rate"] == 0.5
    assert overall["escalations"] == {"total": 3, "by_level": {"cs-director": 1, "center-director": 1, "legal": 1}}
    assert overall["repeat_complaints"]["cases"] == 1
    # 5 (chaoyang) + 1 (haidian, withheld) + X finding 2
    assert overall["overdue"] == {"total": 7, "by_rule": overdue_rules(respond_24h=2, solve_3wd=3, feedback_24h=1,
                                                                        patrol_fix_7d=1),
                                  "ids": [ids["O1"], ids["A2"], ids["A5"], f"{ids['X']}#2"], "withheld": 1}
    # recorded in November: X findings 1, 2, 3 (3 settled on the spot); fixed in November: the
    # October finding and X finding 1; open at the month's end: X finding 2
    assert overall["patrol_findings"] == {"recorded": 3, "settled_on_spot": 1, "fixed": 2, "open_at_end": 1,
                                          "open_ids": [f"{ids['X']}#2"]}


def test_overall_adds_up_the_branches(built: tuple[Svc, dict[str, str]]) -> None:
    svc, _ = built
    data = monthly(svc)
    overall, branches = data["overall"], data["branches"]
    for figure in ("opened", "closed"):
        assert overall[figure]["total"] == sum(b[figure]["total"] for b in branches)
    for key in ("responses", "satisfied", "unsatisfied", "not_handled"):
        assert overall["satisfaction"][key] == sum(b["satisfaction"][key] for b in branches)
    for rule in RULES:  # patrols have no branch: they are in the overall figures only
        patrol = 3 if rule == "patrol-fix-7d" else 0
        assert overall["on_time"]["by_rule"][rule]["due"] == sum(b["on_time"]["by_rule"][rule]["due"]
                                                                 for b in branches) + patrol


# --- confidentiality ------------------------------------------------------------------------------

def test_the_staff_complainant_never_appears(built: tuple[Svc, dict[str, str]]) -> None:
    svc, ids = built
    outputs = [svc.ok("report", "monthly", "--month", MONTH, "--format", fmt, *extra, now=AFTER).stdout
               for fmt in ("json", "csv", "table") for extra in ((), ("--branch", "haidian"))]
    for text in outputs:
        for secret in (SECRET_NAME, SECRET_PHONE, "135****5678", SECRET_ACCUSED, ids["B3"]):
            assert secret not in text


# --- the month's end is the cut-off ------------------------------------------------------------------

def test_later_events_never_change_the_month(built: tuple[Svc, dict[str, str]], tmp_path: Path) -> None:
    svc, ids = built
    before = svc.ok("report", "monthly", "--month", MONTH, "--format", "json", now=AFTER).stdout
    copy = Svc(tmp_path / "store")
    shutil.copytree(svc.root, copy.root)
    after_month(copy, ids)
    later = copy.ok("report", "monthly", "--month", MONTH, "--format", "json", now="2027-03-01T09:00:00+08:00")
    assert later.stdout == before
    for fmt in ("csv", "table"):
        assert copy.ok("report", "monthly", "--month", MONTH, "--format", fmt, now=AFTER).stdout == \
            svc.ok("report", "monthly", "--month", MONTH, "--format", fmt, now=AFTER).stdout
    # ...while December sees them
    december = json.loads(copy.ok("report", "monthly", "--month", "2026-12", "--format", "json",
                                  now="2027-01-01T00:00:00+08:00").stdout)
    overall = december["overall"]
    assert overall["opened"]["total"] == 1 and overall["repeat_complaints"]["cases"] == 1
    assert overall["closed"]["by_kind"]["complaint"] == 3  # A2, A5, O1
    assert overall["patrol_findings"]["fixed"] == 1
    cy = december["branches"][0]
    # A2 5 and A5 4 satisfied, O1 rated 1: 2 of 3; B3's follow-up in haidian
    assert cy["satisfaction"]["responses"] == 3 and cy["satisfaction"]["satisfied"] == 2
    # mid-2 (12-11) and mid-3 (12-26) not made; mid-1, made on 12-01, was November's
    assert cy["visits"]["due"] == 2 and cy["visits"]["done"] == 0


def test_same_commit_gives_byte_identical_json(built: tuple[Svc, dict[str, str]]) -> None:
    svc, _ = built
    first = svc.ok("report", "monthly", "--month", MONTH, "--format", "json", now=AFTER).stdout
    second = svc.ok("report", "monthly", "--month", MONTH, "--format", "json", now="2030-01-01T00:00:00Z").stdout
    assert first == second


def test_a_month_not_ended_is_refused(built: tuple[Svc, dict[str, str]]) -> None:
    svc, _ = built
    result = svc("report", "monthly", "--month", MONTH, now="2026-11-30T23:59:59+08:00")
    assert result.exit_code == 1 and result.stdout == ""
    assert MONTH in result.stderr and "2026-12-01" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    # 16:00 UTC on 30 November is midnight, 1 December, in the office
    assert svc("report", "monthly", "--month", MONTH, now="2026-11-30T15:59:59Z").exit_code == 1
    assert svc("report", "monthly", "--month", MONTH, now="2026-11-30T16:00:00Z").exit_code == 0
    assert svc("report", "monthly", "--month", "2027-01", now=AFTER).exit_code == 1


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "26-11", "2026/11", "2026-11-01", "november", "2026-00"])
def test_a_malformed_month_is_a_usage_error(built: tuple[Svc, dict[str, str]], month: str) -> None:
    svc, _ = built
    result = svc("report", "monthly", "--month", month, now=AFTER)
    assert result.exit_code == 2 and "--month" in result.stderr and "Traceback" not in result.stderr


def test_an_unknown_branch_is_refused(built: tuple[Svc, dict[str, str]]) -> None:
    svc, _ = built
    result = svc("report", "monthly", "--month", MONTH, "--branch", "xicheng", now=AFTER)
    assert result.exit_code == 1 and result.stdout == ""
    assert "xicheng" in result.stderr and "chaoyang" in result.stderr and "haidian" in result.stderr


def test_one_branch(built: tuple[Svc, dict[str, str]]) -> None:
    svc, _ = built
    whole = monthly(svc)
    data = monthly(svc, "--branch", "chaoyang")
    assert data["branch"] == "chaoyang" and data["overall"] is None
    assert data["branches"] == [whole["branches"][0]]
    # a branch with nothing in the month is still reported, with zeros
    empty = json.loads(svc.ok("report", "monthly", "--month", "2026-09", "--branch", "haidian", "--format", "json",
                              now=AFTER).stdout)
    assert [b["branch"] for b in empty["branches"]] == ["haidian"]
    assert empty["branches"][0]["opened"]["total"] == 0 and empty["branches"][0]["on_time"]["rate"] is None


def test_a_month_with_nothing(built: tuple[Svc, dict[str, str]]) -> None:
    svc, _ = built
    data = json.loads(svc.ok("report", "monthly", "--month", "2026-09", "--format", "json", now=AFTER).stdout)
    assert data["branches"] == []
    assert data["overall"]["opened"]["total"] == 0 and data["overall"]["satisfaction"]["rate"] is None
    assert svc.ok("report", "monthly", "--month", "2026-09", now=AFTER).stdout.strip()


# --- csv and table ----------------------------------------------------------------------------------

def test_csv_has_one_row_per_scope_figure_key(built: tuple[Svc, dict[str, str]]) -> None:
    svc, ids = built
    text = svc.ok("report", "monthly", "--month", MONTH, "--format", "csv", now=AFTER).stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0] == "scope,figure,key,value"
    cell = {(r["scope"], r["figure"], r["key"]): r["value"] for r in rows}
    assert len(cell) == len(rows)  # (scope, figure, key) is unique
    assert cell[("overall", "opened", "total")] == "9"
    assert cell[("overall", "opened.by_kind", "complaint")] == "5"
    assert cell[("chaoyang", "on_time.by_rule.respond-24h", "due")] == "6"
    assert cell[("chaoyang", "on_time", "rate")] == "0.5714"
    assert cell[("haidian", "visits", "rate")] == ""  # null
    assert cell[("haidian", "satisfaction", "met")] == "false"
    assert cell[("overall", "overdue", "ids")] == f"{ids['O1']} {ids['A2']} {ids['A5']} {ids['X']}#2"
    assert cell[("chaoyang", "repeat_complaints.customers", "张三 138****8000")] == ids["A2"]
    assert cell[("chaoyang", "visits.not_done", f"{ids['P']} mid-1")] == "2026-11-26"
    assert cell[("overall", "patrol_findings", "open_at_end")] == "1"
    assert {r["scope"] for r in rows} == {"overall", "chaoyang", "haidian", "none"}


def test_table_in_chinese(built: tuple[Svc, dict[str, str]]) -> None:
    svc, ids = built
    text = svc.ok("report", "monthly", "--month", MONTH, now=AFTER).stdout
    for expected in ("客服分析报告 2026-11", "北京示例客服中心", "朝阳分公司", "海淀分公司", "受理", "客户投诉",
                     "按时完成", "12/21 57.1%", "客户满意度", "5/10 50.0% ✗", "回访完成率", "1/2 50.0% ✗",
                     "重复投诉客户", "138****8000", ids["A2"], "月底超时", f"{ids['X']}#2", "mid-1",
                     "巡查问题", "另有1项员工/工队投诉"):
        assert expected in text, expected


def test_table_in_english(svc: Svc) -> None:
    config = svc.root / "svc.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("lang: zh", "lang: en"), encoding="utf-8")
    svc.open("complaint", "--customer", "Ann", "--branch", "chaoyang", now=t(2, "10:00"))
    text = svc.ok("report", "monthly", "--month", MONTH, now=AFTER).stdout
    for expected in ("Monthly service report 2026-11", "opened", "complaint", "on time", "satisfaction",
                     "visits done", "overdue at month end"):
        assert expected in text, expected


# --- the office's month, whatever the machine's zone ------------------------------------------------

@pytest.mark.parametrize("machine_tz", ["UTC", "America/Los_Angeles", "Asia/Shanghai"])
def test_month_boundaries_are_office_time_in_a_real_process(svc: Svc, machine_tz: str) -> None:
    # 23:30 on 30 November in Beijing is 15:30 UTC: November; 16:30 UTC is 00:30 on 1 December
    svc.open("complaint", "--customer", "月底", "--channel", "wechat", now="2026-11-30T15:30:00Z")
    svc.open("complaint", "--customer", "月初", "--channel", "wechat", now="2026-11-30T16:30:00Z")
    svc.open("inquiry", "--customer", "月首", now="2026-10-31T16:00:00Z")  # 00:00, 1 November
    env = {"SVC_STORE": str(svc.root), "SVC_USER": "wangfang", "SVC_NOW": AFTER, "TZ": machine_tz}
    done = run_svc("report", "monthly", "--month", MONTH, "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    overall = json.loads(done.stdout)["overall"]
    assert overall["opened"]["by_kind"]["complaint"] == 1 and overall["opened"]["by_kind"]["inquiry"] == 1
    # the late complaint's respond-24h fell due on 1 December: not November's
    assert overall["on_time"]["due"] == 0
    # ...and overdue at November's end only counts what was due before it: nothing
    assert overall["overdue"]["total"] == 0


ZONES = ["Asia/Shanghai", "UTC", "America/New_York", "Europe/London", "Pacific/Auckland", "Asia/Kolkata"]
BOUNDARY = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


@settings(max_examples=200, deadline=None)
@given(zone=st.sampled_from(ZONES), month=st.sampled_from(["2026-10", "2026-11", "2027-03"]),
       offsets=st.lists(st.integers(-3 * 24 * 60, 3 * 24 * 60), min_size=1, max_size=12),
       branches=st.lists(st.sampled_from(["chaoyang", "haidian", None]), min_size=12, max_size=12),
       machine=st.sampled_from(["UTC", "Asia/Tokyo"]))
def test_property_a_month_is_the_office_month(zone: str, month: str, offsets: list[int],
                                              branches: list[str | None], machine: str) -> None:
    """Cases opened around a month boundary count in the month their office-local date is in,
    whatever the machine's zone; the overall figures are the branches' added up."""
    tz = ZoneInfo(zone)
    year, mon = (int(p) for p in month.split("-"))
    boundary = dt.datetime(year, mon, 1, tzinfo=tz)  # the month's start, in office time
    saved = os.environ.get("TZ")
    os.environ["TZ"] = machine
    time.tzset()
    try:
        cases = []
        for i, minutes in enumerate(offsets):
            opened = (boundary + dt.timedelta(minutes=minutes)).astimezone(dt.UTC)
            at = opened.isoformat()
            closed = (opened + dt.timedelta(hours=1)).isoformat()
            cases.append({"id": f"C0000-A{i:03d}", "kind": "complaint", "branch": branches[i], "opened_at": at,
                          "history": [{"at": at, "by": "u", "action": "open"},
                                      {"at": closed, "by": "u", "action": "follow-up", "round": 1,
                                       "outcome": "satisfied"},
                                      {"at": closed, "by": "u", "action": "close", "resolution": "ok"}]})
        data = report.figures(month, tz, {"code": "X", "name": "X"}, {"chaoyang": "朝阳", "haidian": "海淀"},
                              cases, [], [])
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()
    in_month = [c for c in cases if dt.datetime.fromisoformat(c["opened_at"]).astimezone(tz).strftime("%Y-%m") == month]
    assert data["overall"]["opened"]["total"] == len(in_month)
    closes = [c for c in cases
              if dt.datetime.fromisoformat(c["history"][2]["at"]).astimezone(tz).strftime("%Y-%m") == month]
    assert data["overall"]["closed"]["total"] == len(closes)
    assert data["overall"]["satisfaction"]["responses"] == len(closes)
    assert sum(b["opened"]["total"] for b in data["branches"]) == len(in_month)
    assert sum(b["closed"]["total"] for b in data["branches"]) == len(closes)
    assert data["period"]["start"] == boundary.isoformat()


# --- deadline instances (pure) -------------------------------------------------------------------------

def _ev(at: str, action: str, **more: Any) -> dict[str, Any]:
    return {"at": at, "by": "u", "action": action, **more}


def test_a_deadline_replaced_after_it_passed_still_counts_late() -> None:
    p = report.period(MONTH, ZoneInfo("Asia/Shanghai"))
    history = [
        _ev(t(2, "10:00"), "open"),
        _ev(t(2, "10:00"), "deadline", rule="solve-3wd", due=t(5, "10:00")),
        # deferred on the 6th, after the due time passed: the first instance counts (late)
        _ev(t(6, "10:00"), "deadline", rule="solve-3wd", due=t(9, "10:00")),
        _ev(t(9, "09:00"), "close", resolution="ok"),
    ]
    every, current = report.case_deadlines(history, p.end)
    assert [(i.counts_in(p), i.on_time) for i in every] == [(True, False), (True, True)]
    assert current == [every[1]]


def test_a_met_deadline_replaced_before_its_due_counts_as_it_stood() -> None:
    p = report.period(MONTH, ZoneInfo("Asia/Shanghai"))
    history = [
        _ev(t(2, "10:00"), "open"),
        _ev(t(2, "10:00"), "deadline", rule="respond-24h", due=t(3, "10:00")),
        _ev(t(2, "11:00"), "met", rule="respond-24h"),
        _ev(t(2, "11:00"), "close", resolution="ok"),
        _ev(t(2, "12:00"), "reopen", reason="again"),
        _ev(t(2, "12:00"), "deadline", rule="respond-24h", due=t(3, "12:00")),
    ]
    every, current = report.case_deadlines(history, p.end)
    assert [(i.counts_in(p), i.on_time) for i in every] == [(True, True), (True, False)]
    assert [i.resolved_at for i in current] == [None]


def test_events_after_the_end_are_not_seen() -> None:
    p = report.period(MONTH, ZoneInfo("Asia/Shanghai"))
    history = [
        _ev(t(30, "10:00"), "open"),
        _ev(t(30, "10:00"), "deadline", rule="respond-24h", due=t(30, "20:00")),
        _ev(t(1, "09:00", 12), "met", rule="respond-24h"),
    ]
    every, current = report.case_deadlines(history, p.end)
    assert every[0].resolved_at is None and every[0].counts_in(p) and not every[0].on_time
    assert current == every  # still open at the month's end: overdue


@pytest.mark.parametrize("phone,masked", [("13800138000", "138****8000"), ("+86 138-0013-8000", "138****8000"),
                                          ("010-65123456", "010****3456"), ("12345", "***45"), (None, None)])
def test_phones_are_masked(phone: str | None, masked: str | None) -> None:
    assert report.mask_phone(phone) == masked


# --- printing -----------------------------------------------------------------------------------------

def test_pdf_and_docx_in_chinese(built: tuple[Svc, dict[str, str]], tmp_path: Path) -> None:
    from tests.letters_util import docx_text, pdf_text, squeeze

    svc, ids = built
    out = tmp_path / "out"
    result = svc.ok("report", "monthly", "--month", MONTH, "--format", "both", "--out", str(out), now=AFTER)
    written = sorted(Path(line) for line in result.stdout.splitlines())
    assert [p.name for p in written] == ["monthly-report-2026-11.docx", "monthly-report-2026-11.pdf"]
    text = squeeze(pdf_text(out / "monthly-report-2026-11.pdf"))
    for expected in ("客服分析报告", "2026-11", "朝阳分公司", "海淀分公司", "57.1%（12/21）", "138****8000", ids["A2"],
                     "各分公司客户满意度", "巡查问题"):
        assert squeeze(expected) in text, expected
    for secret in (SECRET_NAME, SECRET_PHONE, ids["B3"]):
        assert secret not in text
    assert "客服分析报告" in docx_text(out / "monthly-report-2026-11.docx")
    # the first page opens with the satisfaction chart: its title, its bars (filled
    # rectangles drawn in the page's content) and the target's legend
    from pypdf import PdfReader

    first = PdfReader(out / "monthly-report-2026-11.pdf").pages[0]
    assert "各分公司客户满意度" in squeeze(first.extract_text()) and "目标：90%" in squeeze(first.extract_text())
    drawn = first.get_contents().get_data().decode("latin-1")
    assert len(re.findall(r"\bre\s+f\*?\b", drawn)) >= 2


def test_pdf_of_one_branch_in_english(svc: Svc, tmp_path: Path) -> None:
    from tests.letters_util import pdf_text, squeeze

    config = svc.root / "svc.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("lang: zh", "lang: en"), encoding="utf-8")
    case = svc.open("complaint", "--customer", "Ann", "--branch", "chaoyang", "--channel", "wechat", now=t(2, "10:00"))
    svc.ok("close", case, "--resolution", "done", "--satisfaction", "5", now=t(2, "11:00"))
    result = svc.ok("report", "monthly", "--month", MONTH, "--branch", "chaoyang", "--format", "pdf",
                    "--out", str(tmp_path), now=AFTER)
    pdf = Path(result.stdout.strip())
    assert pdf.name == "monthly-report-2026-11-chaoyang.pdf"
    text = squeeze(pdf_text(pdf))
    for expected in ("Monthly service report", "朝阳分公司", "Customer satisfaction by branch"):
        assert squeeze(expected) in text, expected


def test_the_templates_exist_in_both_languages() -> None:
    from svc.letters import templates

    for lang in ("zh", "en"):
        path = templates.SHIPPED / "records" / lang / "monthly-report.txt"
        text = path.read_text(encoding="utf-8")
        assert text.count("! bar ") == 4 and "target=90" in text and "target=100" in text


def test_help_has_an_example() -> None:
    from click.testing import CliRunner

    from svc.cli import cli

    for args in (["report", "--help"], ["report", "monthly", "--help"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0 and "Example" in result.stdout

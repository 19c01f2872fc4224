"""The case commands through the CLI, as an assistant or a director would use them:
what they print, what they write to the store, what git records, and how they refuse."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from ruamel.yaml import YAML

from svc.cli import cli
from tests.conftest import Svc

JSON_SHOW_KEYS = {"id", "kind", "status", "level", "severity", "branch", "customer", "opened_at", "history"}
JSON_LIST_KEYS = {"id", "kind", "status", "level", "severity", "branch", "opened_at"}

REAL_NAME = ("--complainant", "李明", "--contact", "13911112222", "--accused", "王工", "--accused-role", "工长",
             "--incident-at", "2026-11-02T15:00", "--incident-place", "望京工地")


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.stdout + result.stderr


def fails(result: Result, code: int, *words: str) -> Result:
    """The command failed with `code`, said why on stderr, printed no data and no traceback."""
    assert result.exit_code == code, f"expected exit {code}, got {result.exit_code}\n{result.stderr}{result.stdout}"
    no_traceback(result)
    for word in words:
        assert word in result.stderr, f"{word!r} not in stderr: {result.stderr!r}"
    return result


def shown(svc: Svc, case_id: str, *extra: str, user: str | None = None) -> dict[str, Any]:
    return json.loads(svc.ok("show", case_id, "--format", "json", *extra, user=user).stdout)


def case_file(svc: Svc, case_id: str) -> Path:
    return svc.root / "cases" / f"20{case_id[1:3]}" / case_id[3:5] / f"{case_id}.yaml"


def snapshot(svc: Svc) -> tuple[str, dict[str, bytes]]:
    """HEAD and every file under cases/, to prove a refused command wrote nothing."""
    files = {str(p.relative_to(svc.root)): p.read_bytes() for p in sorted((svc.root / "cases").rglob("*"))
             if p.is_file()}
    return svc.git("rev-parse", "HEAD").strip(), files


def commits(svc: Svc) -> list[str]:
    return svc.git("log", "--format=%s").splitlines()


def diff_lines(svc: Svc, rev: str = "HEAD") -> tuple[list[str], list[str]]:
    """The removed and added lines of the case files in one commit."""
    text = svc.git("show", "--format=", "-U0", rev, "--", "cases")
    removed = [line[1:] for line in text.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in text.splitlines() if line.startswith("+") and not line.startswith("+++")]
    return removed, added


def events_in(lines: list[str]) -> list[dict[str, Any]]:
    """Added lines that must together be whole history events, and nothing else."""
    assert lines and lines[0].startswith("- at: ")
    assert all(line.startswith(("- ", "  ")) for line in lines), lines
    events = YAML(typ="safe").load("\n".join(lines))
    assert isinstance(events, list) and all({"at", "by", "action"} <= set(ev) for ev in events)
    return events


# --- the life of a complaint --------------------------------------------------------------------

def test_four_unsatisfied_follow_ups_take_a_complaint_to_legal(svc: Svc) -> None:
    start = len(commits(svc))
    case_id = svc.open("complaint", "--customer", "张三", "--phone", "13800138000", "--branch", "chaoyang",
                       "--address", "朝阳区望京花园3-1-502", "--summary", "卫生间漏水", "--channel", "phone")
    steps = [
        ("2026-11-06T10:00:00+08:00", "wangfang", "unsatisfied", "assistant"),
        ("2026-11-08T10:00:00+08:00", "lina", "not-handled", "cs-director"),
        ("2026-11-10T10:00:00+08:00", "wangfang", "unsatisfied", "center-director"),
        ("2026-11-12T10:00:00+08:00", "lina", "unsatisfied", "legal"),
    ]
    for rnd, (now, user, outcome, level) in enumerate(steps, start=1):
        result = svc.ok("follow-up", case_id, "--outcome", outcome, "--note", f"第{rnd}次追访", now=now, user=user)
        assert result.stdout == ""
        assert case_id in result.stderr  # says where the case stands now
        data = shown(svc, case_id)
        assert (data["level"], data["followup_round"], data["status"]) == (level, rnd, "open")

    data = shown(svc, case_id)
    assert JSON_SHOW_KEYS <= set(data)
    assert data["id"] == case_id and data["kind"] == "complaint" and data["branch"] == "chaoyang"
    assert data["customer"]["name"] == "张三" and data["customer"]["phone"] == "13800138000"
    assert data["opened_at"] == "2026-11-05T09:30:00+08:00"
    history = data["history"]
    for ev in history:
        assert {"at", "by", "action"} <= set(ev)
        assert ev["by"] in ("wangfang", "lina")
        assert dt.datetime.fromisoformat(ev["at"]).utcoffset() == dt.timedelta(hours=8)
    actions = [ev["action"] for ev in history]
    assert actions.count("follow-up") == 4
    urging = [ev for ev in history if ev["action"] == "urging-notice"]
    assert len(urging) == 1 and urging[0]["at"] == "2026-11-06T10:00:00+08:00" and urging[0]["to"] == "chaoyang"
    climbs = [(ev["from"], ev["to"], ev["by"]) for ev in history if ev["action"] == "escalate"]
    assert climbs == [("assistant", "cs-director", "lina"), ("cs-director", "center-director", "wangfang"),
                      ("center-director", "legal", "lina")]
    assert all(ev["reason"] for ev in history if ev["action"] == "escalate")
    times = [dt.datetime.fromisoformat(ev["at"]) for ev in history]
    assert times == sorted(times)

    # one readable commit per action, named after it and the case, by whoever acted
    log = svc.git("log", "--format=%an|%ae|%s", f"-{len(steps) + 1}").splitlines()[::-1]
    assert len(commits(svc)) == start + 1 + len(steps)
    assert log[0].startswith("王芳 (wangfang)|") and re.search(rf"\|open {case_id}: complaint opened", log[0])
    for line, (_, user, outcome, _) in zip(log[1:], steps):
        author, _, subject = line.split("|")
        assert f"({user})" in author
        assert subject.startswith(f"follow-up {case_id}: ") and outcome in subject
    assert "urging notice" in log[1] and "legal" in log[4]
    assert svc.git("status", "--porcelain") == ""
    assert svc("check").exit_code == 0


def test_satisfied_follow_up_closes_the_case(svc: Svc) -> None:
    case_id = svc.open("complaint", "--customer", "张三", "--phone", "13800138000")
    svc.ok("follow-up", case_id, "--outcome", "satisfied", now="2026-11-06T10:00:00+08:00")
    data = shown(svc, case_id)
    assert data["status"] == "closed" and data["closed_at"] == "2026-11-06T10:00:00+08:00"
    fails(svc("follow-up", case_id, "--outcome", "unsatisfied", now="2026-11-07T10:00:00+08:00"), 1, "closed")


def test_fifth_failed_follow_up_stays_at_legal(svc: Svc) -> None:
    case_id = svc.open()
    for day in range(6, 11):
        svc.ok("follow-up", case_id, "--outcome", "unsatisfied", now=f"2026-11-{day:02d}T10:00:00+08:00")
    data = shown(svc, case_id)
    assert (data["level"], data["followup_round"]) == ("legal", 5)


def test_the_ladder_never_lowers_a_major_case(svc: Svc) -> None:
    case_id = svc.open("complaint", "--authority", "工商局", "--branch", "haidian")
    for day in (6, 7, 8):
        svc.ok("follow-up", case_id, "--outcome", "unsatisfied", now=f"2026-11-{day:02d}T10:00:00+08:00")
        assert shown(svc, case_id)["level"] == "center-director"
    svc.ok("follow-up", case_id, "--outcome", "not-handled", now="2026-11-09T10:00:00+08:00")
    data = shown(svc, case_id)
    assert data["level"] == "legal"
    assert [ev["to"] for ev in data["history"] if ev["action"] == "escalate"] == ["legal"]


# --- open ----------------------------------------------------------------------------------------

def test_open_prints_the_id_alone_and_files_it_by_month(svc: Svc) -> None:
    result = svc.ok("open", "complaint", "--customer", "张三", "--phone", "13800138000")
    assert result.stdout == "C2611-A001\n"
    assert case_file(svc, "C2611-A001").is_file()
    assert svc.open("repair", "--customer", "李四") == "C2611-A002"
    assert commits(svc)[0] == "open C2611-A002: repair opened (general, at assistant)"


def test_each_desk_allocates_its_own_ids(svc: Svc) -> None:
    assert svc.open() == "C2611-A001"
    assert svc.open(env={"SVC_DESK": "bk"}) == "C2611-BK001"
    assert svc.open(env={"SVC_DESK": "B"}) == "C2611-B001"
    assert svc.open() == "C2611-A002"
    fails(svc("open", "complaint", env={"SVC_DESK": "B2"}), 1, "desk")
    assert shown(svc, "BK001")["id"] == "C2611-BK001"


@pytest.mark.parametrize("kind", ["staff-complaint", "crew-complaint"])
def test_anonymous_staff_and_crew_complaints_are_refused_and_nothing_is_written(svc: Svc, kind: str) -> None:
    before = snapshot(svc)
    result = fails(svc("open", kind, "--complainant", "李明", "--summary", "工长辱骂"), 1, "实名")
    for option in ("--contact", "--accused", "--accused-role", "--incident-at", "--incident-place"):
        assert option in result.stderr
    assert "--complainant " not in result.stderr + " "  # the one that was given is not named
    assert result.stdout == ""
    assert snapshot(svc) == before

    result = fails(svc("open", kind), 1, "--complainant")
    assert snapshot(svc) == before

    case_id = svc.open(kind, *REAL_NAME)
    assert shown(svc, case_id, "--reveal", user="lijun")["complainant"] == {"name": "李明", "contact": "13911112222"}


def test_blank_real_name_fields_count_as_missing(svc: Svc) -> None:
    args = list(REAL_NAME)
    args[1] = "  "
    fails(svc("open", "staff-complaint", *args), 1, "--complainant")


def test_authority_complaint_is_major_at_center_director(svc: Svc) -> None:
    result = svc.ok("open", "complaint", "--customer", "张三", "--phone", "13800138000", "--authority", "消协")
    case_id = result.stdout.strip()
    assert "消协" in result.stderr  # the reason is said
    data = shown(svc, case_id)
    assert (data["severity"], data["level"], data["authority"]) == ("major", "center-director", "消协")


def test_media_complaint_is_major_and_keeps_the_journalist(svc: Svc) -> None:
    case_id = svc.open("complaint", "--customer", "张三", "--media", "北京晚报", "--media-column", "消费者之声",
                       "--reporter", "刘记者", "--reporter-phone", "010-65123456")
    data = shown(svc, case_id)
    assert (data["severity"], data["level"]) == ("major", "center-director")
    assert data["media"] == {"outlet": "北京晚报", "column": "消费者之声", "reporter": "刘记者",
                             "reporter_phone": "010-65123456"}


def test_reporter_without_outlet_is_refused(svc: Svc) -> None:
    before = snapshot(svc)
    fails(svc("open", "complaint", "--reporter", "刘记者"), 1, "--media")
    assert snapshot(svc) == before


def test_serious_starts_at_cs_director_and_general_at_assistant(svc: Svc) -> None:
    serious = svc.open("complaint", "--customer", "张三", "--severity", "serious")
    general = svc.open("complaint", "--customer", "李四")
    assert (shown(svc, serious)["level"], shown(svc, serious)["severity"]) == ("cs-director", "serious")
    assert (shown(svc, general)["level"], shown(svc, general)["severity"]) == ("assistant", "general")


def test_repeat_complaint_from_the_same_phone_starts_at_cs_director(svc: Svc) -> None:
    first = svc.open("complaint", "--customer", "张三", "--phone", "13800138000")
    other = svc.open("complaint", "--customer", "李四", "--phone", "13900139000")
    result = svc.ok("open", "complaint", "--customer", "张三", "--phone", "+86 138-0013-8000",
                    now="2026-11-06T09:00:00+08:00")
    repeat = result.stdout.strip()
    assert first in result.stderr
    data = shown(svc, repeat)
    assert data["level"] == "cs-director" and data["repeat_of"] == [first]
    assert data["customer"]["phone"] == "+86 138-0013-8000"  # kept as typed
    assert "repeat_of" not in shown(svc, other)


@pytest.mark.parametrize("stored,typed", [
    ("138 0013 8000", "13800138000"),
    ("010-65123456", "(010) 6512 3456"),
    ("+86 10 6512 3456", "010-65123456"),
])
def test_repeat_is_found_however_the_phone_was_written(svc: Svc, stored: str, typed: str) -> None:
    first = svc.open("complaint", "--customer", "张三", "--phone", stored)
    data = shown(svc, svc.open("complaint", "--customer", "张三", "--phone", typed, now="2026-11-06T09:00:00+08:00"))
    assert (data["level"], data.get("repeat_of")) == ("cs-director", [first])


def test_repeat_is_found_in_a_hand_edited_file(svc: Svc) -> None:
    first = svc.open("complaint", "--customer", "张三", "--phone", "13800138000")
    path = case_file(svc, first)
    text = path.read_text(encoding="utf-8").replace("customer:\n  name: 张三\n  phone: '13800138000'\n",
                                                    "customer: {name: 张三, 'phone': \"138-0013-8000\"}  # 老客户\n")
    assert "{name: 张三" in text
    path.write_text(text, encoding="utf-8")
    result = svc("check")  # still a good record; only the tamper audit names the rewritten phone
    assert result.exit_code == 3 and result.stdout.count("\n") == 1
    assert "in the work tree (not committed): customer changed (intake facts are never rewritten)" in result.stdout
    data = shown(svc, svc.open("complaint", "--phone", "13800138000", now="2026-11-06T09:00:00+08:00"))
    assert data.get("repeat_of") == [first]


def test_repeat_window_is_ninety_days_after_closing(svc: Svc) -> None:
    first = svc.open("complaint", "--phone", "13800138000", now="2026-06-01T09:00:00+08:00")
    svc.ok("close", first, "--resolution", "已修复", now="2026-06-02T09:00:00+08:00")
    soon = svc.open("complaint", "--phone", "13800138000", now="2026-08-30T09:00:00+08:00")
    assert shown(svc, soon).get("repeat_of") == [first]
    svc.ok("close", soon, "--resolution", "已修复", now="2026-08-30T10:00:00+08:00")
    late = svc.open("complaint", "--phone", "13800138000", now="2026-12-01T09:00:00+08:00")
    assert shown(svc, late).get("repeat_of") is None and shown(svc, late)["level"] == "assistant"


def test_open_refuses_unknown_branch_assignee_and_bad_phone(svc: Svc) -> None:
    before = snapshot(svc)
    fails(svc("open", "complaint", "--branch", "xicheng"), 1, "xicheng", "chaoyang")
    fails(svc("open", "complaint", "--assign", "nobody"), 1, "nobody")
    fails(svc("open", "complaint", "--phone", "call me"), 1, "--phone")
    assert snapshot(svc) == before


def test_open_with_unknown_kind_is_a_usage_error(svc: Svc) -> None:
    result = svc("open", "praise")
    assert result.exit_code == 2 and "praise" in result.stderr
    no_traceback(result)


def test_phone_numbers_stay_text(svc: Svc) -> None:
    case_id = svc.open("complaint", "--customer", "NO", "--phone", "0108")
    text = case_file(svc, case_id).read_text(encoding="utf-8")
    assert "phone: '0108'" in text and "name: 'NO'" in text
    data = shown(svc, case_id)
    assert data["customer"] == {"name": "NO", "phone": "0108"}


# --- confidentiality ---------------------------------------------------------------------------

def test_staff_complainant_is_hidden_from_assistants_everywhere(svc: Svc) -> None:
    case_id = svc.open("staff-complaint", *REAL_NAME, "--summary", "工长辱骂员工")
    outputs = [
        svc.ok("show", case_id).stdout,
        svc.ok("show", case_id, "--format", "json").stdout,
        svc.ok("show", case_id, "--format", "yaml").stdout,
        svc.ok("list").stdout,
        svc.ok("list", "--format", "json").stdout,
        svc.ok("list", "--format", "csv").stdout,
        svc.ok("list", "--status", "all", "--format", "csv").stdout,
    ]
    for out in outputs:
        assert case_id in out
        assert "李明" not in out and "13911112222" not in out
    assert "（保密）" in outputs[0]
    # the commit message carries no personal data either
    assert "李明" not in svc.git("log", "--format=%B")
    # a director sees it too only when asking
    assert "李明" not in svc.ok("show", case_id, user="lijun").stdout


def test_a_director_may_reveal_the_complainant(svc: Svc) -> None:
    case_id = svc.open("crew-complaint", *REAL_NAME)
    assert "李明" in svc.ok("show", case_id, "--reveal", user="lijun").stdout
    assert shown(svc, case_id, "--reveal", user="zhaomin")["complainant"]["name"] == "李明"
    rows = json.loads(svc.ok("list", "--format", "json", "--reveal", user="fawu").stdout)
    assert rows[0]["customer"] == "李明"
    assert "李明" in svc.ok("list", "--format", "csv", "--reveal", user="lijun").stdout


@pytest.mark.parametrize("user", ["wangfang", "admin"])
def test_reveal_is_refused_below_director(svc: Svc, user: str) -> None:
    case_id = svc.open("staff-complaint", *REAL_NAME)
    for args in (("show", case_id, "--reveal"), ("list", "--reveal", "--format", "json")):
        result = fails(svc(*args, user=user), 1, "--reveal", "cs-director")
        assert "李明" not in result.stdout + result.stderr


# --- remedies ---------------------------------------------------------------------------------

def test_repair_then_compensation_is_refused(svc: Svc) -> None:
    case_id = svc.open()
    svc.ok("remedy", case_id, "repair", "--detail", "重做卫生间防水", "--category", "repair-claim")
    svc.ok("remedy", case_id, "repair", "--detail", "更换地漏")  # more repair is still repair
    before = snapshot(svc)
    result = fails(svc("remedy", case_id, "compensation", "--detail", "赔偿1400元", "--amount", "1400"), 1,
                   "修则不赔")
    assert snapshot(svc) == before
    assert result.stdout == ""
    remedies = shown(svc, case_id)["remedies"]
    assert [r["type"] for r in remedies] == ["repair", "repair"]


def test_compensation_then_repair_is_refused(svc: Svc) -> None:
    case_id = svc.open()
    svc.ok("remedy", case_id, "compensation", "--detail", "延期14天赔偿", "--category", "delay-compensation",
           "--amount", "1400")
    path = case_file(svc, case_id)
    before = path.read_bytes()
    fails(svc("remedy", case_id, "repair", "--detail", "维修"), 1, "compensation")
    assert path.read_bytes() == before
    assert shown(svc, case_id)["remedies"] == [
        {"type": "compensation", "category": "delay-compensation", "detail": "延期14天赔偿", "amount": "1400"}]


def test_remedy_amount_must_be_a_sum(svc: Svc) -> None:
    case_id = svc.open()
    fails(svc("remedy", case_id, "compensation", "--detail", "赔偿", "--amount", "lots"), 1, "--amount")
    assert svc("remedy", case_id, "refund", "--detail", "x").exit_code == 2
    assert svc("remedy", case_id, "repair").exit_code == 2


# --- escalate ----------------------------------------------------------------------------------

def test_escalate_climbs_jumps_and_never_lowers(svc: Svc) -> None:
    case_id = svc.open()
    svc.ok("escalate", case_id, "--reason", "超出分公司权限", now="2026-11-05T10:00:00+08:00", user="lijun")
    assert shown(svc, case_id)["level"] == "cs-director"
    assert commits(svc)[0] == f"escalate {case_id}: escalated assistant -> cs-director"
    assert "(lijun)" in svc.git("log", "-1", "--format=%an")

    before = snapshot(svc)
    later = "2026-11-05T10:30:00+08:00"
    fails(svc("escalate", case_id, "--to", "assistant", "--reason", "降级", now=later), 1, "never lowers")
    fails(svc("escalate", case_id, "--to", "cs-director", "--reason", "同级", now=later), 1, "cs-director")
    fails(svc("escalate", case_id, "--reason", "  ", now=later), 1, "--reason")
    assert snapshot(svc) == before

    svc.ok("escalate", case_id, "--to", "legal", "--reason", "客户已起诉", now="2026-11-05T11:00:00+08:00")
    data = shown(svc, case_id)
    assert data["level"] == "legal"
    assert data["history"][-1] == {"at": "2026-11-05T11:00:00+08:00", "by": "wangfang", "action": "escalate",
                                   "from": "cs-director", "to": "legal", "reason": "客户已起诉"}
    fails(svc("escalate", case_id, "--reason", "再升", now="2026-11-05T12:00:00+08:00"), 1, "legal")


def test_escalate_needs_a_reason(svc: Svc) -> None:
    case_id = svc.open()
    result = svc("escalate", case_id)
    assert result.exit_code == 2 and "--reason" in result.stderr
    no_traceback(result)
    result = svc("escalate", case_id, "--reason", "x", "--to", "boss")
    assert result.exit_code == 2


def test_escalate_with_major_severity_goes_to_center_director(svc: Svc) -> None:
    case_id = svc.open()
    svc.ok("escalate", case_id, "--severity", "major", "--reason", "客户扬言曝光")
    data = shown(svc, case_id)
    assert (data["severity"], data["level"]) == ("major", "center-director")
    fails(svc("escalate", case_id, "--severity", "general", "--reason", "x"), 1, "never lowered")


# --- close, reopen, archive ------------------------------------------------------------------------

def test_close_reopen_close_archive(svc: Svc) -> None:
    case_id = svc.open()
    other = svc.open()  # stays open: never archived
    svc.ok("close", case_id, "--resolution", "已更换防水层", "--satisfaction", "5", now="2026-11-06T10:00:00+08:00")
    data = shown(svc, case_id)
    assert (data["status"], data["resolution"], data["satisfaction"]) == ("closed", "已更换防水层", 5)
    fails(svc("close", case_id, "--resolution", "again", now="2026-11-06T11:00:00+08:00"), 1, "closed")

    svc.ok("reopen", case_id, "--reason", "再次漏水", now="2026-11-07T10:00:00+08:00")
    data = shown(svc, case_id)
    assert data["status"] == "open" and "resolution" not in data or data.get("resolution") is None
    fails(svc("reopen", case_id, "--reason", "x", now="2026-11-07T11:00:00+08:00"), 1, "open")
    svc.ok("close", case_id, "--resolution", "重新做防水", now="2026-11-08T10:00:00+08:00")

    # dry run: says what it would do, changes nothing
    before = snapshot(svc)
    result = svc.ok("archive", now="2026-12-01T10:00:00+08:00", user="admin")
    assert f"would archive {case_id}" in result.stdout and other not in result.stdout
    assert "--apply" in result.stderr
    assert snapshot(svc) == before
    dry = json.loads(svc.ok("archive", "--format", "json", now="2026-12-01T10:00:00+08:00").stdout)
    assert dry["applied"] is False and dry["cases"] == [case_id]
    assert snapshot(svc) == before
    # --before a date earlier than the closing: nothing to do
    assert svc.ok("archive", "--before", "2026-11-01", "--apply", now="2026-12-01T10:00:00+08:00").stdout == ""
    assert snapshot(svc) == before

    count = len(commits(svc))
    result = svc.ok("archive", "--apply", now="2026-12-01T10:00:00+08:00", user="admin")
    assert f"archived {case_id}" in result.stdout
    assert len(commits(svc)) == count + 1
    assert commits(svc)[0].startswith("archive 1 case")
    assert "(admin)" in svc.git("log", "-1", "--format=%an")
    assert case_id in svc.git("log", "-1", "--format=%B")
    assert shown(svc, case_id)["status"] == "archived"
    assert shown(svc, other)["status"] == "open"
    assert svc.git("status", "--porcelain") == ""

    fails(svc("reopen", case_id, "--reason", "客户又来电", now="2026-12-02T10:00:00+08:00"), 1, "archived")
    # archived cases still take notes, and are listed only when asked for
    svc.ok("note", case_id, "档案已装订", now="2026-12-02T10:00:00+08:00")
    assert case_id not in svc.ok("list", "--format", "ids").stdout
    assert svc.ok("list", "--status", "archived", "--format", "ids").stdout == f"{case_id}\n"
    assert svc.ok("archive", "--apply", now="2026-12-03T10:00:00+08:00").stdout == ""


def test_close_validates_its_options(svc: Svc) -> None:
    case_id = svc.open()
    assert svc("close", case_id).exit_code == 2
    assert svc("close", case_id, "--resolution", "ok", "--satisfaction", "6").exit_code == 2
    assert shown(svc, case_id)["status"] == "open"


# --- note, assign, link ---------------------------------------------------------------------------

def test_note_is_appended_with_who_and_when(svc: Svc) -> None:
    case_id = svc.open()
    result = svc.ok("note", case_id, "客户来电询问进度", now="2026-11-05T10:15:00+08:00", user="lina")
    assert result.stdout == ""
    assert shown(svc, case_id)["history"][-1] == {
        "at": "2026-11-05T10:15:00+08:00", "by": "lina", "action": "note", "text": "客户来电询问进度"}
    assert commits(svc)[0] == f"note {case_id}: note added"
    fails(svc("note", case_id, "", now="2026-11-05T10:20:00+08:00"), 1, "note")


def test_note_at_a_back_dated_time(svc: Svc) -> None:
    case_id = svc.open(now="2026-11-05T09:30:00+08:00")
    svc.ok("note", case_id, "补记", "--at", "2026-11-05T10:00", now="2026-11-06T09:00:00+08:00")
    assert shown(svc, case_id)["history"][-1]["at"] == "2026-11-05T10:00:00+08:00"
    fails(svc("note", case_id, "太早", "--at", "2026-11-05T09:00", now="2026-11-06T09:00:00+08:00"), 1,
          "before the last event")


def test_assign(svc: Svc) -> None:
    case_id = svc.open()
    svc.ok("assign", case_id, "lina")
    assert shown(svc, case_id)["assignee"] == "lina"
    assert svc.ok("list", "--assignee", "lina", "--format", "ids").stdout == f"{case_id}\n"
    before = snapshot(svc)
    fails(svc("assign", case_id, "nobody"), 1, "nobody", "lina")
    fails(svc("assign", case_id, "lina"), 1, "already")
    assert snapshot(svc) == before


def test_link(svc: Svc) -> None:
    first = svc.open()
    second = svc.open()
    svc.ok("link", second, first, "--note", "同一漏水问题")
    assert shown(svc, second)["links"] == [first]
    assert shown(svc, second)["history"][-1]["to"] == first
    before = snapshot(svc)
    fails(svc("link", second, first), 1, "already")
    fails(svc("link", second, second), 1, "itself")
    fails(svc("link", second, "C2611-A099"), 4, "C2611-A099")
    assert snapshot(svc) == before


# --- list ---------------------------------------------------------------------------------------

@pytest.fixture
def listed(svc: Svc) -> dict[str, str]:
    ids = {
        "leak": svc.open("complaint", "--customer", "张三", "--phone", "13800138000", "--branch", "chaoyang",
                         "--summary", "卫生间漏水", now="2026-11-03T09:00:00+08:00"),
        "tap": svc.open("repair", "--customer", "李四", "--branch", "haidian", "--summary", "水龙头坏了",
                        now="2026-11-04T09:00:00+08:00"),
        "delay": svc.open("complaint", "--customer", "王五", "--branch", "haidian", "--severity", "serious",
                          "--summary", "工期延误", now="2026-11-04T10:00:00+08:00"),
        "asked": svc.open("inquiry", "--customer", "赵六", "--branch", "chaoyang", now="2026-11-04T11:00:00+08:00"),
    }
    svc.ok("close", ids["asked"], "--resolution", "当场解答", now="2026-11-04T11:10:00+08:00")
    return ids


def ids_of(svc: Svc, *args: str) -> list[str]:
    return svc.ok("list", *args, "--format", "ids").stdout.split()


def test_list_filters(svc: Svc, listed: dict[str, str]) -> None:
    leak, tap, delay, asked = listed["leak"], listed["tap"], listed["delay"], listed["asked"]
    assert ids_of(svc) == [leak, tap, delay]  # open ones, oldest first
    assert ids_of(svc, "--status", "closed") == [asked]
    assert ids_of(svc, "--status", "all") == [leak, tap, delay, asked]
    assert ids_of(svc, "--kind", "complaint") == [leak, delay]
    assert ids_of(svc, "--severity", "serious") == [delay]
    assert ids_of(svc, "--level", "cs-director") == [delay]
    assert ids_of(svc, "--level", "assistant") == [leak, tap]
    assert ids_of(svc, "--branch", "haidian") == [tap, delay]
    assert ids_of(svc, "--branch", "chaoyang", "--status", "all") == [leak, asked]
    assert ids_of(svc, "--kind", "complaint", "--branch", "haidian") == [delay]


def test_list_formats(svc: Svc, listed: dict[str, str]) -> None:
    rows = json.loads(svc.ok("list", "--status", "all", "--format", "json").stdout)
    assert isinstance(rows, list) and len(rows) == 4
    for row in rows:
        assert JSON_LIST_KEYS <= set(row)
        dt.datetime.fromisoformat(row["opened_at"])
    by_id = {row["id"]: row for row in rows}
    assert by_id[listed["delay"]]["severity"] == "serious" and by_id[listed["delay"]]["level"] == "cs-director"
    assert by_id[listed["asked"]]["status"] == "closed" and by_id[listed["tap"]]["kind"] == "repair"
    assert by_id[listed["leak"]]["branch"] == "chaoyang"

    table = csv.DictReader(io.StringIO(svc.ok("list", "--status", "all", "--format", "csv").stdout))
    csv_rows = list(table)
    assert JSON_LIST_KEYS <= set(table.fieldnames or [])
    assert [r["id"] for r in csv_rows] == [r["id"] for r in rows]
    assert csv_rows[0]["customer"] == "张三" and csv_rows[0]["phone"] == "13800138000"

    out = svc.ok("list").stdout
    for key in ("leak", "tap", "delay"):
        assert listed[key] in out
    assert listed["asked"] not in out
    assert "卫生间漏水" in out and "朝阳分公司" in out


@pytest.mark.parametrize("fmt,expected", [("json", "[]\n"), ("ids", ""), ("csv", None), ("table", "")])
def test_empty_list_is_success(svc: Svc, fmt: str, expected: str | None) -> None:
    svc.open("complaint")
    result = svc.ok("list", "--kind", "visit", "--format", fmt)
    if expected is not None:
        assert result.stdout == expected
    else:
        assert result.stdout.splitlines()[0].startswith("id,kind,status")
        assert len(result.stdout.splitlines()) == 1


def test_list_on_a_new_store_is_empty(svc: Svc) -> None:
    assert json.loads(svc.ok("list", "--format", "json").stdout) == []


# --- errors ---------------------------------------------------------------------------------------

def test_unknown_id_is_exit_4(svc: Svc) -> None:
    svc.open()
    for args in (("show", "C2611-A999"), ("show", "A999"), ("note", "C2611-A999", "x"),
                 ("follow-up", "A999", "--outcome", "satisfied"), ("show", "no such thing"), ("show", "C2611")):
        fails(svc(*args), 4)
    fails(svc("show", "C2611-A999"), 4, "C2611-A999")


def test_unique_suffix_works_and_ambiguous_suffix_lists_both(svc: Svc) -> None:
    november = svc.open("complaint", "--customer", "十一月")
    assert november == "C2611-A001"
    assert shown(svc, "A001")["id"] == november
    assert shown(svc, "a001")["id"] == november
    october = svc.open("complaint", "--customer", "十月", "--at", "2026-10-20T10:00:00+08:00")
    assert october == "C2610-A001"
    assert case_file(svc, october).is_file()
    result = fails(svc("show", "A001"), 4, "C2610-A001", "C2611-A001")
    assert result.stdout == ""
    fails(svc("note", "A001", "哪个？"), 4, "ambiguous")
    assert shown(svc, "C2610-A001")["customer"]["name"] == "十月"
    assert shown(svc, "2610-A001")["id"] == october


def test_malformed_case_file_is_reported_as_path_and_line(svc: Svc) -> None:
    case_id = svc.open("complaint", "--customer", "张三")
    good = svc.open("complaint", "--customer", "李四")
    path = case_file(svc, case_id)
    lines = path.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines, start=1) if line.startswith("customer:"))
    lines[number - 1] = "customer: [张三"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = fails(svc("show", case_id), 1)
    assert re.search(rf"{case_id}\.yaml:\d+: ", result.stderr), result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2
    fails(svc("note", case_id, "x"), 1, f"{case_id}.yaml:")
    # the other cases stay usable; list shows them and names the broken file
    assert shown(svc, good)["id"] == good
    result = svc("list", "--format", "ids")
    assert result.exit_code == 3 and result.stdout == f"{good}\n"
    assert f"{case_id}.yaml:" in result.stderr
    no_traceback(result)


def test_schema_problem_is_reported_as_path_and_line(svc: Svc) -> None:
    case_id = svc.open()
    path = case_file(svc, case_id)
    text = path.read_text(encoding="utf-8").replace("status: open", "status: pending")
    path.write_text(text, encoding="utf-8")
    result = fails(svc("show", case_id), 1, "pending")
    line = text.splitlines().index("status: pending") + 1
    assert f"{case_id}.yaml:{line}: " in result.stderr


def test_binary_garbage_in_a_case_file(svc: Svc) -> None:
    case_id = svc.open()
    case_file(svc, case_id).write_bytes(b"\xff\xfe\x00garbage")
    fails(svc("show", case_id), 1, f"{case_id}.yaml")


def test_no_store_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "nowhere"
    empty.mkdir()
    monkeypatch.chdir(empty)
    result = CliRunner().invoke(cli, ["list"], env={"SVC_USER": "wangfang"})
    fails(result, 1, "no store")
    result = CliRunner().invoke(cli, ["--store", str(empty), "list"])
    fails(result, 1, "not a store")
    result = CliRunner().invoke(cli, ["show", "C2611-A001"], env={"SVC_STORE": str(empty / "missing")})
    fails(result, 1, "not a store")


def test_store_is_found_from_a_subfolder(svc: Svc, monkeypatch: pytest.MonkeyPatch) -> None:
    case_id = svc.open()
    monkeypatch.chdir(svc.root / "cases" / "2026")
    result = CliRunner().invoke(cli, ["list", "--format", "ids"], env={"SVC_USER": "wangfang"})
    assert result.exit_code == 0 and result.stdout == f"{case_id}\n"


def test_unknown_or_missing_user(svc: Svc) -> None:
    before = snapshot(svc)
    fails(svc("--as", "nobody", "open", "complaint"), 1, "nobody", "wangfang")
    fails(svc("open", "complaint", user="ghost"), 1, "ghost")
    fails(svc("open", "complaint", env={"SVC_USER": ""}), 1, "SVC_USER")
    assert snapshot(svc) == before
    # --as wins over SVC_USER
    case_id = svc.ok("--as", "lina", "open", "complaint", user="wangfang").stdout.strip()
    assert shown(svc, case_id)["history"][0]["by"] == "lina"


def test_bad_clock_and_future_times(svc: Svc) -> None:
    before = snapshot(svc)
    fails(svc("open", "complaint", now="next tuesday"), 1, "SVC_NOW")
    fails(svc("open", "complaint", "--at", "2026-11-06T09:00:00+08:00"), 1, "future")
    fails(svc("open", "complaint", "--at", "yesterday"), 1, "--at")
    assert snapshot(svc) == before
    case_id = svc.open()
    before = snapshot(svc)
    fails(svc("note", case_id, "x", "--at", "2026-11-05T09:31:00+08:00"), 1, "future")
    assert snapshot(svc) == before


def test_svc_now_as_a_date(svc: Svc) -> None:
    case_id = svc.open(now="2026-03-01")
    assert shown(svc, case_id)["opened_at"] == "2026-03-01T00:00:00+08:00"
    assert case_id.startswith("C2603-")


def test_usage_errors_are_exit_2(svc: Svc) -> None:
    for args in (("open",), ("note",), ("follow-up", "A001"), ("follow-up", "A001", "--outcome", "happy"),
                 ("list", "--status", "pending"), ("list", "--format", "xml"), ("reopen", "A001"), ("frobnicate",)):
        result = svc(*args)
        assert result.exit_code == 2, args
        no_traceback(result)


# --- minimal diffs ---------------------------------------------------------------------------------

def test_note_changes_only_the_new_event_lines(svc: Svc) -> None:
    case_id = svc.open("complaint", "--customer", "张三", "--phone", "010-65123456", "--branch", "chaoyang",
                       "--summary", "卫生间漏水\n客厅墙面发霉")
    path = case_file(svc, case_id)
    # a hand-written comment and quoting survive the rewrite
    text = path.read_text(encoding="utf-8").replace("customer:\n", "customer:  # 老客户，态度好\n")
    path.write_text(text, encoding="utf-8")
    svc.git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "comment")
    before = path.read_text(encoding="utf-8")

    svc.ok("note", case_id, "已联系分公司", now="2026-11-05T10:00:00+08:00")
    removed, added = diff_lines(svc)
    assert removed == []
    assert events_in(added) == [{"at": "2026-11-05T10:00:00+08:00", "by": "wangfang", "action": "note",
                                 "text": "已联系分公司"}]
    after = path.read_text(encoding="utf-8")
    assert after.startswith(before) and after[len(before):] == "\n".join(added) + "\n"
    assert svc.git("show", "--stat", "--format=", "HEAD").count("|") == 1  # one file


def test_second_follow_up_changes_only_level_round_and_events(svc: Svc) -> None:
    case_id = svc.open("complaint", "--customer", "张三", "--phone", "13800138000", "--branch", "chaoyang")
    svc.ok("follow-up", case_id, "--outcome", "unsatisfied", now="2026-11-06T10:00:00+08:00")
    path = case_file(svc, case_id)
    before = path.read_text(encoding="utf-8")
    svc.ok("follow-up", case_id, "--outcome", "unsatisfied", now="2026-11-08T10:00:00+08:00")
    removed, added = diff_lines(svc)
    assert sorted(removed) == ["followup_round: 1", "level: assistant"]
    assert added[:1] == ["level: cs-director"] and "followup_round: 2" in added
    changed = [line for line in added if line in ("level: cs-director", "followup_round: 2")]
    assert len(changed) == 2
    events = events_in([line for line in added if line not in changed])
    assert [ev["action"] for ev in events] == ["follow-up", "escalate"]
    expected_prefix = before.replace("\nlevel: assistant\n", "\nlevel: cs-director\n").replace(
        "\nfollowup_round: 1\n", "\nfollowup_round: 2\n")
    assert path.read_text(encoding="utf-8").startswith(expected_prefix)


# --- help ---------------------------------------------------------------------------------------

def test_every_command_has_help_with_an_example() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0 and "Example" in result.stdout
    for name in cli.commands:
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Example" in result.stdout, f"svc {name} --help has no example"


def test_malformed_or_unknown_config_is_reported_as_path_and_line(svc: Svc) -> None:
    config = svc.root / "svc.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "colour: blue\n", encoding="utf-8")
    line = len(config.read_text(encoding="utf-8").splitlines())
    fails(svc("list"), 1, f"svc.yaml:{line}: ", "colour")
    config.write_text("office: [BJ01\n", encoding="utf-8")
    fails(svc("open", "complaint"), 1, "svc.yaml:")


def test_init_refuses_an_existing_store(svc: Svc) -> None:
    result = CliRunner().invoke(cli, ["init", str(svc.root), "--office", "BJ02"])
    fails(result, 1, "already a store")
    assert "BJ01" in (svc.root / "svc.yaml").read_text(encoding="utf-8")


# --- files and git as the operator sees them ----------------------------------------------------------

def test_written_files_get_the_usual_permissions(svc: Svc) -> None:
    umask = os.umask(0)
    os.umask(umask)
    case_id = svc.open()
    path = case_file(svc, case_id)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # others on a shared server can read the store
    path.chmod(0o640)
    svc.ok("note", case_id, "x", now="2026-11-05T10:00:00+08:00")
    assert path.stat().st_mode & 0o777 == 0o640  # a rewrite keeps the mode the office chose


def test_a_failed_commit_changes_nothing_and_says_why(svc: Svc) -> None:
    case_id = svc.open()
    (svc.root / ".git" / "index.lock").touch()  # left behind by a crashed git
    before = snapshot(svc)
    fails(svc("note", case_id, "x", now="2026-11-05T10:00:00+08:00"), 1, "index.lock")
    fails(svc("open", "complaint", now="2026-11-05T10:00:00+08:00"), 1, "index.lock")
    assert snapshot(svc) == before
    (svc.root / ".git" / "index.lock").unlink()
    assert svc.git("status", "--porcelain") == ""
    svc.ok("note", case_id, "x", now="2026-11-05T10:00:00+08:00")

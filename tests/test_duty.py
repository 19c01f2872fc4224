"""The front desk's duty log (值班日志) and shift handover (交接班): `svc duty add|show|sign`,
`svc handover [accept|show]`, what `svc check` says of a log edited by hand (不得撕页,
记录不得涂改), and the printed 值班日志 / 交接班记录."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import docx as python_docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svc import duty, yamlio
from svc.model import plain
from svc.store import ordered_node
from tests.conftest import Svc, run_svc
from tests.letters_util import docx_text, pdf_text, squeeze

TZ = ZoneInfo("Asia/Shanghai")
DAY = "2026-11-24"  # a Tuesday
NEXT = "2026-11-25"
PROBLEM = re.compile(r"^(?P<path>\S+\.yaml):(?P<line>\d+): (?P<message>.+)$")


def at(hhmm: str, day: str = DAY) -> str:
    return f"{day}T{hhmm}:00+08:00"


def add(svc: Svc, text: str, now: str, user: str | None = None, *more: str) -> None:
    result = svc.ok("duty", "add", text, *more, now=now, user=user)
    assert result.stdout == ""  # the confirmation goes to stderr
    assert "entry added" in result.stderr


def log(svc: Svc, day: str = DAY, now: str = at("23:59")) -> dict[str, Any]:
    return json.loads(svc.ok("duty", "show", "--date", day, "--format", "json", now=now).stdout)


def given_over(svc: Svc, day: str = DAY, now: str = at("23:59"), *more: str) -> dict[str, Any]:
    return json.loads(svc.ok("handover", "show", "--date", day, "--format", "json", *more, now=now).stdout)


def day_file(svc: Svc, day: str = DAY) -> Path:
    return svc.root / "duty" / day[:4] / day[5:7] / f"{day}.yaml"


def history(path: Path) -> list[dict[str, Any]]:
    return plain(yamlio.loads_fast(path.read_text(encoding="utf-8"), str(path))["history"])


def write_history(path: Path, day: str, events: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yamlio.dumps(ordered_node({"date": day, "history": events}, duty.DAY_KEYS)), encoding="utf-8")


def append_by_hand(path: Path, event: dict[str, Any]) -> None:
    """Append an event as someone who read svc/duty.py would: with a correct seal."""
    events = history(path)
    write_history(path, path.stem, events + [duty.sealed(events, event)])


def head(svc: Svc) -> str:
    return svc.git("rev-parse", "HEAD").strip()


def commits(svc: Svc) -> int:
    return int(svc.git("rev-list", "--count", "HEAD"))


def commit_all(svc: Svc, message: str) -> None:
    svc.git("add", "-A")
    svc.git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "--no-verify", "-qm", message)


def problems(svc: Svc, now: str = at("12:00", NEXT)) -> list[str]:
    result = svc("check", now=now)
    assert result.exit_code == 3, f"{result.exit_code}\n{result.stdout}{result.stderr}"
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout.splitlines(), "check failed without listing a problem"
    return result.stdout.splitlines()


def clean(svc: Svc, now: str = at("12:00", NEXT)) -> None:
    result = svc("check", now=now)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout == ""


def line_of_event(path: Path, when: str) -> int:
    """The line where the event at `when` starts (`- at: '...'`)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i + 1 for i, line in enumerate(lines) if line.startswith("- at:") and when in line)


def case(svc: Svc, now: str, phone: str, summary: str, *more: str, channel: str | None = "visit") -> str:
    """A complaint; by default one that came in at the counter (no 3-minute callback)."""
    args = ["--customer", "张三", "--phone", phone, "--branch", "chaoyang", "--summary", summary, *more]
    if channel:
        args += ["--channel", channel]
    return svc.open("complaint", *args, now=now)


# --- entries and the day they belong to ------------------------------------------------------

def test_entries_are_written_in_order_and_shown_as_text_and_json(svc: Svc) -> None:
    add(svc, "接3号楼业主电话，报卫生间漏水，已开单", at("08:50"))
    add(svc, "巡查发现2单元门禁损坏", at("09:40"), "lina")
    svc.ok("duty", "add", "接业主电话", "报电梯故障", now=at("10:05"))  # words without quotes are one entry

    text = svc.ok("duty", "show", now=at("10:10")).stdout.splitlines()
    assert text == [
        "2026-11-24 08:50  王芳  接3号楼业主电话，报卫生间漏水，已开单",
        "2026-11-24 09:40  李娜  巡查发现2单元门禁损坏",
        "2026-11-24 10:05  王芳  接业主电话 报电梯故障",
        "(3 entries not yet signed by a supervisor)",
    ]
    shown = log(svc, now=at("10:10"))
    assert shown == {
        "date": DAY,
        "entries": [
            {"at": at("08:50"), "by": "wangfang", "text": "接3号楼业主电话，报卫生间漏水，已开单"},
            {"at": at("09:40"), "by": "lina", "text": "巡查发现2单元门禁损坏"},
            {"at": at("10:05"), "by": "wangfang", "text": "接业主电话 报电梯故障"},
        ],
        "handovers": [], "signatures": [], "unsigned": 3,
    }
    assert svc.git("status", "--porcelain") == ""
    clean(svc, now=at("10:10"))


def test_a_day_without_a_log_is_not_found(svc: Svc) -> None:
    result = svc("duty", "show", "--date", DAY, now=at("10:00"))
    assert result.exit_code == 4 and DAY in result.stderr and result.stdout == ""
    assert svc("handover", "show", now=at("10:00")).exit_code == 4


def test_an_entry_with_at_goes_to_the_office_day_of_that_moment(svc: Svc) -> None:
    add(svc, "夜班：23:30 接投诉电话", at("09:00", NEXT), None, "--at", "2026-11-23T23:30+08:00")
    add(svc, "00:30 值班巡查大堂", at("09:00", NEXT), None, "--at", "2026-11-23T16:30Z")
    assert [e["text"] for e in log(svc, "2026-11-23", now=at("09:00", NEXT))["entries"]] == ["夜班：23:30 接投诉电话"]
    entries = log(svc, DAY, now=at("09:00", NEXT))["entries"]
    assert [(e["at"], e["text"]) for e in entries] == [(at("00:30"), "00:30 值班巡查大堂")]
    assert day_file(svc, "2026-11-23").exists() and day_file(svc, DAY).exists()


def test_the_day_is_the_office_day_on_a_machine_running_in_utc(svc: Svc) -> None:
    """A real process with TZ=UTC: the office's clock (Asia/Shanghai) decides the day."""
    store = str(svc.root)

    def run(*args: str, now: str) -> Any:
        result = run_svc("--store", store, *args, env={"TZ": "UTC", "SVC_USER": "wangfang", "SVC_NOW": now})
        assert result.returncode == 0, result.stderr
        return result

    run("duty", "add", "--at", "2026-11-23T23:30+08:00", "二十三日晚间记录", now="2026-11-23T17:00:00Z")
    run("duty", "add", "--at", "2026-11-23T16:30Z", "二十四日凌晨记录", now="2026-11-23T17:00:00Z")
    run("duty", "add", "凌晨一点巡查", now="2026-11-23T17:00:00Z")  # 01:00 on the 24th in Beijing
    # no --date: "today" is the office's today, already the 24th
    today = json.loads(run("duty", "show", "--format", "json", now="2026-11-23T17:00:00Z").stdout)
    assert today["date"] == DAY
    assert [(e["at"], e["text"]) for e in today["entries"]] == [
        (at("00:30"), "二十四日凌晨记录"), (at("01:00"), "凌晨一点巡查")]
    assert [e["text"] for e in history(day_file(svc, "2026-11-23"))] == ["二十三日晚间记录"]


def test_an_entry_in_the_future_is_refused(svc: Svc) -> None:
    before = head(svc)
    result = svc("duty", "add", "--at", at("10:30"), "还没发生的事", now=at("10:00"))
    assert result.exit_code == 1 and "future" in result.stderr and "Traceback" not in result.stderr
    assert head(svc) == before and not (svc.root / "duty").exists()


def test_an_entry_before_the_logs_last_event_is_refused(svc: Svc) -> None:
    add(svc, "十点的记录", at("10:00"))
    before, text = head(svc), day_file(svc).read_text(encoding="utf-8")
    result = svc("duty", "add", "--at", at("09:30"), "补记九点半的事", now=at("10:05"))
    assert result.exit_code == 1
    assert at("10:00") in result.stderr and "in order" in result.stderr
    assert head(svc) == before and day_file(svc).read_text(encoding="utf-8") == text
    add(svc, "同一时刻的记录", at("10:05"), None, "--at", at("10:00"))  # the same moment is not before it


@pytest.mark.parametrize("text", ["", "   ", "\u3000"])
def test_an_empty_entry_is_refused_and_nothing_is_written(svc: Svc, text: str) -> None:
    before = head(svc)
    result = svc("duty", "add", text, now=at("10:00"))
    assert result.exit_code == 1 and "TEXT" in result.stderr and "Traceback" not in result.stderr
    assert head(svc) == before and not (svc.root / "duty").exists()
    assert svc("duty", "add", now=at("10:00")).exit_code == 2  # no TEXT at all: a usage error


# --- one commit per command, append-only -----------------------------------------------------

def test_each_command_is_one_commit_and_the_day_file_only_grows(svc: Svc) -> None:
    path = "duty/2026/11/2026-11-24.yaml"
    steps = [
        (("duty", "add", "第一条：早班开始，设备正常"), at("08:30"), None),
        (("duty", "add", "第二条：接业主电话"), at("09:00"), None),
        (("handover", "--to", "lina", "--equipment", "正常"), at("17:00"), None),
        (("handover", "accept", "--equipment", "正常"), at("17:05"), "lina"),
        (("duty", "sign",), at("18:00"), "lijun"),
    ]
    count = commits(svc)
    for args, now, user in steps:
        svc.ok(*args, now=now, user=user)
        count += 1
        assert commits(svc) == count, args
        assert svc.git("status", "--porcelain") == "", args
        assert svc.git("show", "--name-only", "--format=", "HEAD").split() == [path], args
        assert "duty 2026-11-24" in svc.git("log", "-1", "--format=%s")
        diff = svc.git("diff", "HEAD~1", "HEAD", "--", path).splitlines()
        changed = [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]
        assert changed and all(line.startswith("+") for line in changed), (args, changed)


# --- the supervisor's signature --------------------------------------------------------------

@pytest.mark.parametrize("user", ["wangfang", "fawu"])
def test_only_a_supervisor_signs(svc: Svc, user: str) -> None:
    add(svc, "接业主电话", at("09:00"))
    before = head(svc)
    result = svc("duty", "sign", now=at("18:00"), user=user)
    assert result.exit_code == 1 and "supervisor" in result.stderr and user in result.stderr
    assert head(svc) == before and log(svc)["signatures"] == []


def test_signing_covers_the_entries_so_far_and_later_ones_wait_for_the_next_signature(svc: Svc) -> None:
    missing = svc("duty", "sign", now=at("08:00"), user="lijun")
    assert missing.exit_code == 4 and "nothing to sign" in missing.stderr
    assert not (svc.root / "duty").exists()

    add(svc, "接业主电话，报漏水", at("09:00"))
    svc.ok("duty", "sign", now=at("12:00"), user="lijun")
    assert "not yet signed" not in svc.ok("duty", "show", now=at("12:01")).stdout
    before = head(svc)
    again = svc("duty", "sign", now=at("12:30"), user="lijun")
    assert again.exit_code == 1 and "already signed" in again.stderr and head(svc) == before

    add(svc, "下午：业主来访", at("14:00"))
    out = svc.ok("duty", "show", now=at("14:01")).stdout
    assert "2026-11-24 12:00  李军  [主管签字]" in out
    assert re.fullmatch(r"\(1 entr(y|ies) not yet signed by a supervisor\)", out.splitlines()[-1]), out
    assert log(svc, now=at("14:01"))["unsigned"] == 1
    svc.ok("duty", "sign", now=at("18:00"), user="zhaomin")
    shown = log(svc, now=at("18:01"))
    assert shown["signatures"] == [{"at": at("12:00"), "by": "lijun"}, {"at": at("18:00"), "by": "zhaomin"}]
    assert shown["unsigned"] == 0
    clean(svc, now=at("18:01"))


def test_the_supervisor_signs_yesterdays_log_the_next_morning(svc: Svc) -> None:
    add(svc, "夜班记录：一切正常", at("22:00"))
    svc.ok("duty", "sign", "--date", DAY, now=at("08:30", NEXT), user="lijun")
    events = history(day_file(svc, DAY))
    assert events[-1]["action"] == "sign" and events[-1]["at"] == at("08:30", NEXT) and events[-1]["by"] == "lijun"
    assert not day_file(svc, NEXT).exists()
    assert log(svc, DAY, now=at("08:31", NEXT))["unsigned"] == 0
    # today has no log yet, and tomorrow cannot be signed
    assert svc("duty", "sign", now=at("08:40", NEXT), user="lijun").exit_code == 4
    future = svc("duty", "sign", "--date", "2026-11-26", now=at("08:40", NEXT), user="lijun")
    assert future.exit_code == 1 and "2026-11-26" in future.stderr
    clean(svc)


# --- handover ---------------------------------------------------------------------------------

def test_a_handover_records_both_people_the_equipment_the_note_and_the_open_items(svc: Svc) -> None:
    mine = case(svc, at("09:05"), "13800138001", "卫生间漏水，楼下邻居天花板渗水")  # unassigned: the desk's
    theirs = case(svc, at("09:20"), "13800138002", "物业费争议", "--assign", "lina")
    assigned = case(svc, at("10:00"), "13800138003", "门窗变形", "--assign", "wangfang")
    result = svc.ok("handover", "--to", "lina", "--equipment", "电话正常，打印机缺纸",
                    "--note", "C单等工程部回复", now=at("17:00"))
    assert "handover 1 to lina, 2 open items" in result.stderr
    assert result.stdout.splitlines() == [
        f"{mine}\t2026-11-25 09:05\trespond-24h\t卫生间漏水，楼下邻居天花板渗水",
        f"{assigned}\t2026-11-25 10:00\trespond-24h\t门窗变形",
    ]
    shown = given_over(svc, now=at("17:01"))
    assert shown == {
        "date": DAY, "number": 1, "at": at("17:00"), "by": "wangfang", "to": "lina",
        "equipment": "电话正常，打印机缺纸", "note": "C单等工程部回复",
        "items": [
            {"id": mine, "what": "卫生间漏水，楼下邻居天花板渗水", "due": at("09:05", NEXT), "rule": "respond-24h"},
            {"id": assigned, "what": "门窗变形", "due": at("10:00", NEXT), "rule": "respond-24h"},
        ],
        "accepted": None,
    }
    assert theirs not in json.dumps(shown)
    text = svc.ok("handover", "show", now=at("17:01")).stdout
    assert "王芳 → 李娜" in text and "电话正常，打印机缺纸" in text and mine in text
    assert text.splitlines()[-1] == "not accepted yet"
    day_text = svc.ok("duty", "show", now=at("17:01")).stdout
    assert "[交接班 → 李娜] 设备：电话正常，打印机缺纸；移交 2 项" in day_text
    clean(svc, now=at("17:01"))


@pytest.mark.parametrize("args, code, words", [
    (("--to", "wangfang", "--equipment", "正常"), 1, "someone else"),
    (("--to", "nobody", "--equipment", "正常"), 1, "nobody"),
    (("--to", "lina"), 2, "--equipment"),
    (("--equipment", "正常"), 2, "--to"),
    (("--to", "lina", "--equipment", "  "), 1, "--equipment"),
])
def test_a_handover_needs_someone_else_and_the_equipment_check(svc: Svc, args: tuple[str, ...], code: int,
                                                               words: str) -> None:
    before = head(svc)
    result = svc("handover", *args, now=at("17:00"))
    assert result.exit_code == code and words in result.stderr and "Traceback" not in result.stderr
    assert head(svc) == before and not (svc.root / "duty").exists()


def test_a_pending_3_minute_callback_may_not_be_handed_over(svc: Svc) -> None:
    phoned = case(svc, at("16:58"), "13800138004", "电话投诉：噪音扰民", channel=None)  # came in by phone
    before = head(svc)
    refused = svc("handover", "--to", "lina", "--equipment", "正常", now=at("16:59"))
    assert refused.exit_code == 1
    assert phoned in refused.stderr and "callback-3min" in refused.stderr and "不得交接" in refused.stderr
    assert head(svc) == before and not (svc.root / "duty").exists()
    # still refused once it is late: it is this shift's to do
    assert svc("handover", "--to", "lina", "--equipment", "正常", now=at("17:10")).exit_code == 1
    svc.ok("met", phoned, "callback-3min", "--note", "已回拨客户", now=at("17:11"))
    result = svc.ok("handover", "--to", "lina", "--equipment", "正常", now=at("17:12"))
    assert result.stdout.startswith(phoned + "\t")
    assert [i["id"] for i in given_over(svc, now=at("17:13"))["items"]] == [phoned]


def test_a_repair_engineer_call_blocks_the_handover_until_done_or_long_past(svc: Svc) -> None:
    repair = svc.open("repair", "--customer", "张三", "--phone", "13800138005", "--branch", "chaoyang",
                      "--summary", "电梯故障困人", "--channel", "visit", now=at("16:50"))
    refused = svc("handover", "--to", "lina", "--equipment", "正常", now=at("17:00"))
    assert refused.exit_code == 1 and repair in refused.stderr and "engineer-20min" in refused.stderr
    # missed long ago (more than a shift): handed over as an overdue item rather than holding the desk
    result = svc.ok("handover", "--to", "lina", "--equipment", "正常", now=at("05:30", NEXT))
    assert result.stdout.splitlines() == [f"{repair}\t2026-11-24 17:10\tengineer-20min\t电梯故障困人"]


def test_a_second_handover_waits_until_the_first_is_accepted(svc: Svc) -> None:
    svc.ok("handover", "--to", "lina", "--equipment", "正常", now=at("08:00"))
    before = head(svc)
    refused = svc("handover", "--to", "zhaomin", "--equipment", "正常", now=at("08:10"))
    assert refused.exit_code == 1 and "lina" in refused.stderr and "accept" in refused.stderr
    assert head(svc) == before
    svc.ok("handover", "accept", "--equipment", "正常", now=at("08:15"), user="lina")
    second = svc.ok("handover", "--to", "wangfang", "--equipment", "打印机卡纸", now=at("17:00"), user="lina")
    assert "handover 2 to wangfang" in second.stderr
    assert given_over(svc)["number"] == 2
    first = given_over(svc, DAY, at("23:59"), "--number", "1")
    assert first["to"] == "lina" and first["accepted"]["by"] == "lina"
    assert svc("handover", "show", "--date", DAY, "--number", "3", now=at("23:59")).exit_code == 4
    clean(svc, now=at("23:59"))


@pytest.mark.parametrize("user", ["zhaomin", "wangfang"])
def test_only_the_incoming_person_accepts(svc: Svc, user: str) -> None:
    svc.ok("handover", "--to", "lina", "--equipment", "正常", now=at("17:00"))
    before = head(svc)
    result = svc("handover", "accept", now=at("17:05"), user=user)
    assert result.exit_code == 4 and user in result.stderr
    assert head(svc) == before and given_over(svc)["accepted"] is None


def test_a_night_handover_is_accepted_after_midnight(svc: Svc) -> None:
    svc.ok("handover", "--to", "lina", "--equipment", "正常", "--note", "3号楼电梯待修", now=at("23:50"))
    result = svc.ok("handover", "accept", "--equipment", "正常", "--note", "已阅上一班日志",
                    now=at("00:10", NEXT), user="lina")
    assert "2026-11-24: handover 1 accepted" in result.stderr
    assert not day_file(svc, NEXT).exists()  # filed with the handover it confirms
    shown = given_over(svc, DAY, at("00:11", NEXT))
    assert shown["accepted"] == {"at": at("00:10", NEXT), "by": "lina", "equipment": "正常", "note": "已阅上一班日志"}
    assert shown["note"] == "3号楼电梯待修"
    assert "accepted: 2026-11-25 00:10 by 李娜" in svc.ok("handover", "show", "--date", DAY, now=at("00:11", NEXT)).stdout
    again = svc("handover", "accept", now=at("00:20", NEXT), user="lina")
    assert again.exit_code == 4
    clean(svc)


def test_a_handover_after_midnight_waits_for_last_nights_acceptance(svc: Svc) -> None:
    svc.ok("handover", "--to", "lina", "--equipment", "正常", now=at("23:50"))
    again = svc("handover", "--to", "zhaomin", "--equipment", "正常", now=at("00:05", NEXT))
    assert again.exit_code == 1 and "lina" in again.stderr


# --- svc check: the log is append-only ----------------------------------------------------------

def three_entries(svc: Svc) -> Path:
    add(svc, "第一条：早班开始", at("09:00"))
    add(svc, "第二条：接业主电话，报漏水", at("09:10"))
    add(svc, "第三条：业主来访", at("09:20"))
    return day_file(svc)


def test_a_full_day_checks_clean(svc: Svc) -> None:
    three_entries(svc)
    svc.ok("handover", "--to", "lina", "--equipment", "正常", now=at("17:00"))
    svc.ok("handover", "accept", now=at("17:05"), user="lina")
    svc.ok("duty", "sign", now=at("18:00"), user="lijun")
    clean(svc)


def test_an_entry_edited_in_place_is_reported_with_file_and_line(svc: Svc) -> None:
    path = three_entries(svc)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("第二条：接业主电话，报漏水", "第二条：接业主电话"), encoding="utf-8")
    lines = problems(svc)
    line = line_of_event(path, at("09:10"))
    found = [PROBLEM.match(x) for x in lines]
    assert any(m and m["path"].endswith("duty/2026/11/2026-11-24.yaml") and int(m["line"]) == line
               and "history[2]" in m["message"] and "altered" in m["message"] for m in found), lines
    assert any("history altered in the work tree" in x for x in lines), lines  # and git says so too


def test_a_removed_event_is_reported(svc: Svc) -> None:
    path = three_entries(svc)
    events = history(path)
    write_history(path, DAY, [events[0], events[2]])  # the middle page torn out
    lines = problems(svc)
    assert any("history[2]" in x and "removed" in x and "2026-11-24.yaml" in x for x in lines), lines


def test_an_edit_committed_to_git_is_still_reported(svc: Svc) -> None:
    path = three_entries(svc)
    path.write_text(path.read_text(encoding="utf-8").replace("业主来访", "无事"), encoding="utf-8")
    commit_all(svc, "tidy the log")
    lines = problems(svc)
    assert any(f"history altered in commit {head(svc)[:10]}" in x for x in lines), lines


def test_the_last_event_removed_and_committed_is_reported_by_git(svc: Svc) -> None:
    path = three_entries(svc)
    write_history(path, DAY, history(path)[:2])
    commit_all(svc, "drop the last entry")
    lines = problems(svc)
    assert any(f"history altered in commit {head(svc)[:10]}" in x for x in lines), lines


def test_a_deleted_day_is_reported(svc: Svc) -> None:
    path = three_entries(svc)
    path.unlink()
    lines = problems(svc)
    assert any("2026-11-24" in x and "deleted" in x for x in lines), lines


def test_an_entry_not_on_its_day_is_reported(svc: Svc) -> None:
    path = three_entries(svc)
    append_by_hand(path, {"at": at("08:00", NEXT), "by": "wangfang", "action": "entry", "text": "补记"})
    lines = problems(svc)
    assert any(f"history[4] at {at('08:00', NEXT)} is not on {DAY}" in x for x in lines), lines
    assert not any("altered" in x for x in lines), lines  # appended, with its seal


def test_a_signature_written_by_an_assistant_is_reported(svc: Svc) -> None:
    path = three_entries(svc)
    append_by_hand(path, {"at": at("18:00"), "by": "wangfang", "action": "sign"})
    assert "not yet signed" not in svc.ok("duty", "show", now=at("18:01")).stdout  # the log believes it...
    lines = problems(svc)  # ...check does not
    line = line_of_event(path, at("18:00"))
    assert any(f"2026-11-24.yaml:{line}: history[4]" in x and "supervisor" in x and "not wangfang" in x
               for x in lines), lines


def test_an_acceptance_by_someone_else_written_by_hand_is_reported(svc: Svc) -> None:
    svc.ok("handover", "--to", "lina", "--equipment", "正常", now=at("17:00"))
    append_by_hand(day_file(svc), {"at": at("17:05"), "by": "zhaomin", "action": "accept", "handover": 1})
    lines = problems(svc)
    assert any("handover 1 was to lina, not zhaomin" in x for x in lines), lines


def test_without_git_the_seal_still_catches_an_edit(svc_nogit: Svc) -> None:
    svc = svc_nogit
    path = three_entries(svc)
    clean(svc)
    path.write_text(path.read_text(encoding="utf-8").replace("业主来访", "无事"), encoding="utf-8")
    lines = problems(svc)
    line = line_of_event(path, at("09:20"))
    assert any(f"2026-11-24.yaml:{line}: history[3] was altered" in x for x in lines), lines


@pytest.mark.xfail(strict=True, reason="known limitation, documented in svc/duty.py and the README: a seal "
                                       "chain cannot see its last link removed; without git that goes unreported")
def test_without_git_removing_the_last_entry_is_reported(svc_nogit: Svc) -> None:
    svc = svc_nogit
    path = three_entries(svc)
    write_history(path, DAY, history(path)[:2])
    problems(svc)


# --- printing ---------------------------------------------------------------------------------

def test_the_duty_log_prints_as_pdf(svc: Svc, tmp_path: Path) -> None:
    add(svc, "接3号楼业主电话，报卫生间漏水，已开单", at("08:50"))
    add(svc, "巡查发现2单元门禁损坏", at("09:40"), "lina")
    svc.ok("handover", "--to", "lina", "--equipment", "电话正常", now=at("17:00"))
    out = tmp_path / "out"
    result = svc.ok("duty", "show", "--print", "pdf", "--out", str(out), now=at("17:30"))
    pdf = out / "duty-log-2026-11-24.pdf"
    assert result.stdout.strip() == str(pdf) and pdf.exists()
    text = squeeze(pdf_text(pdf))
    assert squeeze("尚未经主管签字") in text and squeeze("值班主管签字：—") in text
    svc.ok("duty", "sign", now=at("18:00"), user="lijun")
    svc.ok("duty", "show", "--print", "pdf", "--out", str(out), now=at("18:05"))
    text = squeeze(pdf_text(pdf))
    for expected in ("值班日志", "日期：2026-11-24", "08:50", "接3号楼业主电话，报卫生间漏水，已开单", "巡查发现2单元门禁损坏",
                     "王芳", "李娜", "[交接班→李娜]", "本日共3条记录", "主管于2026-11-2418:00签字", "值班主管签字：李军",
                     "北京示例客服中心"):
        assert squeeze(expected) in text, expected


def test_the_handover_prints_as_pdf_and_docx_with_dashes_until_accepted(svc: Svc, tmp_path: Path) -> None:
    item = case(svc, at("09:05"), "13800138001", "卫生间漏水")
    svc.ok("handover", "--to", "lina", "--equipment", "电话正常，打印机缺纸", now=at("17:00"))
    out = tmp_path / "out"
    result = svc.ok("handover", "show", "--print", "both", "--out", str(out), now=at("17:05"))
    pdf, docx = out / "handover-2026-11-24-1.pdf", out / "handover-2026-11-24-1.docx"
    assert sorted(result.stdout.split()) == sorted([str(pdf), str(docx)])
    text = squeeze(pdf_text(pdf))
    for expected in ("交接班记录", "交班人王芳", "接班人李娜", "2026-11-24 17:00", "电话正常，打印机缺纸", item, "卫生间漏水",
                     "2026-11-25 09:05", "接班时间—", "设备检查（接班）—", "接班说明：—", "交班说明：—", "接班人签字：—"):
        assert squeeze(expected) in text, expected
    words = docx_text(docx)
    assert "交接班记录" in words and item in words and "李娜" in words
    cells = [cell.text.strip() for table in python_docx.Document(str(docx)).tables
             for row in table.rows for cell in row.cells]
    assert cells and all(cells), cells  # a form shows a dash, never a silent blank
    assert cells.count("—") >= 2  # accepted at, equipment on taking over

    svc.ok("handover", "accept", "--equipment", "正常", "--note", "已阅", now=at("17:10"), user="lina")
    svc.ok("handover", "show", "--print", "pdf", "--out", str(out), now=at("17:15"))
    text = squeeze(pdf_text(pdf))
    for expected in ("接班时间2026-11-24 17:10", "接班说明：已阅", "接班人签字：李娜"):
        assert squeeze(expected) in text, expected


def test_a_handover_with_nothing_open_prints(svc: Svc, tmp_path: Path) -> None:
    svc.ok("handover", "--to", "lina", "--equipment", "正常", now=at("17:00"))
    result = svc("handover", "show", "--print", "pdf", "--out", str(tmp_path), now=at("17:05"))
    assert result.exit_code == 0, result.stderr
    text = squeeze(pdf_text(tmp_path / "handover-2026-11-24-1.pdf"))
    assert squeeze("共移交 0 项") in text


def test_a_blank_note_is_refused_or_printed_as_a_dash(svc: Svc, tmp_path: Path) -> None:
    case(svc, at("09:05"), "13800138001", "卫生间漏水")
    handed = svc("handover", "--to", "lina", "--equipment", "正常", "--note", "  ", now=at("17:00"))
    if handed.exit_code != 0:
        assert handed.exit_code == 1 and "--note" in handed.stderr
        return
    svc.ok("handover", "accept", "--equipment", " ", "--note", "正常", now=at("17:05"), user="lina")
    svc.ok("handover", "show", "--print", "pdf", "--out", str(tmp_path), now=at("17:10"))
    text = squeeze(pdf_text(tmp_path / "handover-2026-11-24-1.pdf"))
    assert "交班说明：—" in text and "设备检查（接班）—" in text


def test_the_printed_log_dates_events_made_after_the_day(svc: Svc, tmp_path: Path) -> None:
    add(svc, "夜班开始", at("22:00"))
    svc.ok("handover", "--to", "lina", "--equipment", "正常", now=at("23:50"))
    svc.ok("handover", "accept", now=at("00:10", NEXT), user="lina")
    svc.ok("duty", "show", "--date", DAY, "--print", "pdf", "--out", str(tmp_path), now=at("08:00", NEXT))
    text = pdf_text(tmp_path / "duty-log-2026-11-24.pdf")
    assert re.search(r"(11-25|次日)\s*00:10", text), text


# --- the seal chain, for any day ----------------------------------------------------------------

TEXT = st.text(alphabet=st.one_of(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
                                  st.characters(min_codepoint=0x20, max_codepoint=0x7E)),
               min_size=1, max_size=30).filter(lambda t: t.strip() != "")


@st.composite
def days(draw: Any) -> list[dict[str, Any]]:
    texts = draw(st.lists(TEXT, min_size=1, max_size=12))
    seconds = sorted(draw(st.lists(st.integers(0, 86399), min_size=len(texts), max_size=len(texts))))
    start = dt.datetime(2026, 11, 24, tzinfo=TZ)
    events: list[dict[str, Any]] = []
    for text, second in zip(texts, seconds):
        who = draw(st.sampled_from(["wangfang", "lina"]))
        moment = (start + dt.timedelta(seconds=second)).isoformat()
        events.append(duty.sealed(events, {"at": moment, "by": who, "action": "entry", "text": text}))
    return events


@settings(max_examples=100, deadline=None)
@given(days(), st.data())
def test_the_chain_verifies_and_shows_any_one_edit_or_removal(events: list[dict[str, Any]], data: Any) -> None:
    day = dt.date(2026, 11, 24)
    assert duty.check_day(events, day, TZ, None) == []
    # as written to the file and read back
    again = plain(yamlio.loads_fast(yamlio.dumps(ordered_node({"date": DAY, "history": events}, duty.DAY_KEYS)), "-"))
    assert again["history"] == events and duty.check_day(again["history"], day, TZ, None) == []

    i = data.draw(st.integers(0, len(events) - 1), label="edited")
    new = data.draw(TEXT.filter(lambda t: t != events[i]["text"]), label="new text")
    edited = [dict(e) for e in events]
    edited[i]["text"] = new
    assert i in [index for index, _ in duty.check_day(edited, day, TZ, None)]

    if len(events) > 1:  # removing the last event leaves a valid chain: see the xfail test above
        j = data.draw(st.integers(0, len(events) - 2), label="removed")
        torn = events[:j] + events[j + 1:]
        assert j in [index for index, _ in duty.check_day(torn, day, TZ, None)]


def test_removing_the_last_event_leaves_a_chain_that_verifies() -> None:
    """What the xfail above is about, at the level of the chain."""
    events: list[dict[str, Any]] = []
    for n, hhmm in enumerate(("09:00", "09:10", "09:20")):
        events.append(duty.sealed(events, {"at": at(hhmm), "by": "wangfang", "action": "entry", "text": f"第{n}条"}))
    assert duty.check_day(events[:2], dt.date(2026, 11, 24), TZ, None) == []


def test_check_names_where_a_misfiled_log_belongs(svc: Svc) -> None:
    add(svc, "接业主电话", at("10:05"))
    right = svc.root / "duty" / "2026" / "11" / f"{DAY}.yaml"
    wrong = svc.root / "duty" / "2026" / "10" / f"{DAY}.yaml"
    wrong.parent.mkdir(parents=True)
    right.rename(wrong)
    result = svc("check", now=at("11:00"))
    assert result.exit_code == 3
    assert f"the log of {DAY} belongs in duty/2026/11/{DAY}.yaml" in result.stdout + result.stderr


def test_a_log_that_is_not_utf8_is_named_not_an_internal_error(svc: Svc) -> None:
    add(svc, "接业主电话", at("10:05"))
    path = svc.root / "duty" / "2026" / "11" / f"{DAY}.yaml"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gb18030"))
    result = svc("duty", "show", "--date", DAY, now=at("11:00"))
    assert result.exit_code == 1
    assert result.stderr.strip().endswith(f"{DAY}.yaml: not UTF-8 text")

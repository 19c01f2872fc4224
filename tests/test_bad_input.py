"""Bad input is refused at the door: non-UTF-8 arguments, dates out of range, hostile
YAML, symbolic links, unreadable records; and what svc still does afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svc import yamlfast, yamlguard, yamlrt
from svc.errors import RecordError
from tests.conftest import Svc

NOW = "2026-11-05T09:30:00+08:00"
LAUGHS = "id: x\n" + "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 12))


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def still_works(svc: Svc, exit_code: int = 0) -> None:
    """list, due and check run (and say so with the expected code)."""
    for args in (("list",), ("due",), ("check",)):
        result = svc(*args)
        assert result.exit_code == exit_code, (args, result.stderr)
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def commits(svc: Svc) -> int:
    return int(svc.git("rev-list", "--count", "HEAD"))


# --- arguments that are not UTF-8 (real subprocesses, bytes on the command line) --------------

def _run_bytes(svc: Svc, *args: bytes, env: dict[bytes, bytes] | None = None) -> subprocess.CompletedProcess[bytes]:
    full = {k.encode(): v.encode() for k, v in os.environ.items() if not k.startswith("SVC_")}
    full.update({b"SVC_STORE": str(svc.root).encode(), b"SVC_NOW": NOW.encode(), b"SVC_USER": b"wangfang",
                 **(env or {})})
    return subprocess.run([sys.executable.encode(), b"-m", b"svc", *args], capture_output=True, env=full, timeout=60)


GBK_NAME = "张三".encode("gbk")  # what a GBK terminal sends for 张三: not UTF-8


@pytest.mark.parametrize("args, named", [
    ((b"open", b"complaint", b"--customer", GBK_NAME, b"--phone", b"13800138000"), "--customer"),
    ((b"open", b"complaint", b"--summary=" + GBK_NAME), "--summary"),
    ((b"note", GBK_NAME, b"x"), "2"),
])
def test_an_argument_not_utf8_is_refused_naming_it(svc: Svc, args: tuple[bytes, ...], named: str) -> None:
    before = commits(svc)
    result = _run_bytes(svc, *args)
    assert result.returncode == 2
    line = one_line(result.stderr.decode())
    assert named in line and "UTF-8" in line and "LANG=zh_CN.UTF-8" in line
    assert "不是有效的 UTF-8" in line  # the store's language (zh)
    assert commits(svc) == before and not list((svc.root / "cases").glob("*/*/*.yaml"))
    still_works(svc)


def test_svc_user_not_utf8_is_refused(svc: Svc) -> None:
    result = _run_bytes(svc, b"list", env={b"SVC_USER": "王芳".encode("gbk")})
    assert result.returncode == 2
    assert "SVC_USER" in one_line(result.stderr.decode())


def test_the_refusal_follows_the_store_language(svc: Svc) -> None:
    config = svc.root / "svc.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("lang: zh", "lang: en"), encoding="utf-8")
    result = _run_bytes(svc, b"open", b"complaint", b"--customer", GBK_NAME)
    line = one_line(result.stderr.decode())
    assert result.returncode == 2 and line.startswith("svc: the value of --customer is not valid UTF-8")


def test_a_stored_lone_surrogate_is_reported_and_never_breaks_list_or_due(svc: Svc) -> None:
    good = svc.open("complaint", "--customer", "李四", "--phone", "13800138001")
    bad = svc.open("complaint", "--customer", "张三", "--phone", "13800138000")
    path = svc.root / "cases" / "2026" / "11" / f"{bad}.yaml"
    # what an older svc stored from a GBK terminal
    path.write_text(path.read_text(encoding="utf-8").replace("name: 张三", 'name: "\\uDCD5\\uDCC5"'), encoding="utf-8")
    check = svc("check")
    assert check.exit_code == 3
    assert f"{bad}.yaml:8: customer.name is not valid text" in check.stdout + check.stderr
    for fmt in ("json", "table", "csv"):
        listed = svc("list", "--format", fmt)
        assert listed.exit_code == 3 and good in listed.stdout and bad not in listed.stdout
        assert f"{bad}.yaml:8:" in listed.stderr and "internal error" not in listed.stderr
    due = svc("due", "--format", "json")
    assert due.exit_code == 3 and {i["id"] for i in json.loads(due.stdout)} == {good}


# --- dates and times -----------------------------------------------------------------------------

@pytest.mark.parametrize("args, option", [
    (("patrol", "add", "--area", "3号楼", "--at", "1900-01-01"), "--at"),
    (("open", "complaint", "--customer", "张三", "--at", "1970-01-01"), "--at"),
    (("open", "complaint", "--customer", "张三", "--at", "2100-01-01T00:00:00+08:00"), "--at"),
    (("open", "complaint", "--customer", "张三", "--at", "2099-12-31T23:00:00-05:00"), "--at"),  # 2100 in Beijing
    (("open", "staff-complaint", "--complainant", "李明", "--contact", "13911112222", "--accused", "王工",
      "--accused-role", "工长", "--incident-at", "1999-12-31", "--incident-place", "工地"), "--incident-at"),
    (("open", "staff-complaint", "--complainant", "李明", "--contact", "13911112222", "--accused", "王工",
      "--accused-role", "工长", "--incident-at", "上周五", "--incident-place", "工地"), "--incident-at"),
    (("archive", "--before", "1999-01-01"), "--before"),
    (("patrol", "summary", "--month", "1999-12"), "--month"),
    (("patrol", "list", "--month", "2100-01"), "--month"),
    (("project", "add", "--customer", "张三", "--contract-signed", "1999-01-01", "--start", "2026-11-10",
      "--completion", "2027-01-10"), "--contract-signed"),
])
def test_dates_out_of_range_are_refused_naming_the_option(svc: Svc, args: tuple[str, ...], option: str) -> None:
    before = commits(svc)
    result = svc(*args)
    assert result.exit_code == 1, result.stderr
    line = one_line(result.stderr)
    assert line.startswith(f"svc: {option} ") and ("超出范围" in line or "不是" in line)
    assert commits(svc) == before
    still_works(svc)


def test_report_month_out_of_range_is_a_usage_error(svc: Svc) -> None:
    result = svc("report", "monthly", "--month", "1999-12")
    assert result.exit_code == 2 and "--month" in result.stderr and "2000" in result.stderr


def test_svc_now_out_of_range_is_refused(svc: Svc) -> None:
    for now in ("1970-01-01", "2100-01-01T08:00:00+08:00"):
        result = svc("due", now=now)
        assert result.exit_code == 1 and one_line(result.stderr).startswith(f"svc: SVC_NOW '{now}'")


def test_incident_at_is_parsed_and_stored_with_its_offset(svc: Svc) -> None:
    real_name = ("--complainant", "李明", "--contact", "13911112222", "--accused", "王工", "--accused-role", "工长",
                 "--incident-place", "工地")
    timed = svc.open("staff-complaint", *real_name, "--incident-at", "2026-11-02 15:00")
    dated = svc.open("staff-complaint", *real_name, "--incident-at", "2026-11-02")
    shown = {case: json.loads(svc.ok("show", case, "--format", "json", "--reveal", user="lijun").stdout)
             for case in (timed, dated)}
    assert shown[timed]["incident"]["at"] == "2026-11-02T15:00:00+08:00"
    assert shown[dated]["incident"]["at"] == "2026-11-02"
    later = svc("open", "staff-complaint", *real_name, "--incident-at", "2026-11-06")
    assert later.exit_code == 1 and "--incident-at" in one_line(later.stderr)


# --- hostile YAML ---------------------------------------------------------------------------------

HOSTILE = {
    "laughs": (LAUGHS, 2, "anchor &a0"),
    "alias": ("id: x\nname: *nowhere\n", 2, "alias *nowhere"),
    "tag": ("id: x\nphone: !!int 0108\n", 2, "tag !!int"),
    "custom tag": ("id: x\nphone: !python/object:os.system 1\n", 2, "tag !python/object:os.system"),
    "deep flow": ("id: x\nsummary: " + "[" * 100_000 + "]" * 100_000 + "\n", 2, "nested more than 20 deep"),
    "deep block": ("id: x\n" + "".join("  " * i + f"k{i}:\n" for i in range(30)) + "  " * 30 + "v\n", 22,
                   "nested more than 20 deep"),
    "deep compact": ("id: x\nk: " + "\n" + "- " * 40 + "v\n", 3, "nested more than 20 deep"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
@pytest.mark.parametrize("reader", [yamlfast, yamlrt])
def test_hostile_yaml_is_refused_in_bounded_time_by_both_readers(reader: object, name: str) -> None:
    text, line, words = HOSTILE[name]
    started = time.perf_counter()
    with pytest.raises(RecordError) as refused:
        reader.loads(text, "f.yaml")  # type: ignore[attr-defined]
    assert time.perf_counter() - started < 2
    assert str(refused.value).startswith(f"f.yaml:{line}: ") and words in str(refused.value)


def test_ordinary_text_with_the_signs_still_reads() -> None:
    text = "summary: 'Help! *urgent* & now [1] {2}'\nnote: |\n  - a\n  ? b\n"
    for reader in (yamlfast, yamlrt):
        assert reader.loads(text, "f.yaml")["summary"] == "Help! *urgent* & now [1] {2}"


def test_billion_laughs_in_a_case_file_is_named_and_the_rest_still_works(svc: Svc) -> None:
    good = svc.open("complaint", "--customer", "李四")
    (svc.root / "cases" / "2026" / "11" / "C2611-A099.yaml").write_text(LAUGHS, encoding="utf-8")
    started = time.perf_counter()
    for args in (("check",), ("list",), ("due",)):
        result = svc(*args)
        assert result.exit_code == 3, (args, result.stderr)
        assert "C2611-A099.yaml:2: YAML anchor &a0 is not allowed" in result.stdout + result.stderr
    assert good in svc("list").stdout
    assert time.perf_counter() - started < 30


def test_billion_laughs_in_svc_yaml_is_one_line_and_quick(svc: Svc) -> None:
    config = svc.root / "svc.yaml"
    config.write_text(config.read_text(encoding="utf-8") + LAUGHS.replace("id: x\n", ""), encoding="utf-8")
    for args in (("check",), ("list",), ("due",)):
        started = time.perf_counter()
        result = svc(*args)
        assert time.perf_counter() - started < 10
        assert result.exit_code == 1 and "svc.yaml:" in one_line(result.stderr) and "anchor &a0" in result.stderr


def test_a_hold_is_written_without_anchors(svc: Svc) -> None:
    patrol = svc.ok("patrol", "add", "--area", "3号楼").stdout.strip()
    hold = svc.ok("hold", "add", patrol, "--reason", "诉讼证据保全", user="lijun").stdout.strip()
    text = next((svc.root / "holds").glob(f"*/*/{hold}.yaml")).read_text(encoding="utf-8")
    assert "&" not in text and "*" not in text
    still_works(svc)


# --- symbolic links ---------------------------------------------------------------------------

def test_links_in_the_store_are_reported_and_never_read_or_written_through(svc: Svc, tmp_path: Path) -> None:
    good = svc.open("complaint", "--customer", "李四")
    linked = svc.open("complaint", "--customer", "张三")
    month = svc.root / "cases" / "2026" / "11"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / f"{linked}.yaml").write_bytes((month / f"{linked}.yaml").read_bytes())
    (month / f"{linked}.yaml").unlink()
    (month / f"{linked}.yaml").symlink_to(outside / f"{linked}.yaml")
    (svc.root / "cases" / "2026" / "10").symlink_to(outside)
    check = svc("check")
    assert check.exit_code == 3
    for shown in (f"cases/2026/11/{linked}.yaml: is a symbolic link", "cases/2026/10: is a symbolic link"):
        assert shown in check.stdout + check.stderr
    listed = svc("list", "--format", "ids")
    assert listed.exit_code == 3 and listed.stdout.split() == [good]
    kept = (outside / f"{linked}.yaml").read_bytes()
    noted = svc("note", linked, "写入链接")
    assert noted.exit_code == 1 and "symbolic link" in one_line(noted.stderr)
    assert (outside / f"{linked}.yaml").read_bytes() == kept
    svc.ok("note", good, "仍可写")


def test_a_linked_month_folder_is_never_written_through(svc: Svc, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (svc.root / "cases" / "2026").mkdir(parents=True, exist_ok=True)
    (svc.root / "cases" / "2026" / "11").symlink_to(outside)
    result = svc("open", "complaint", "--customer", "张三")
    assert result.exit_code == 1 and "cases/2026/11: 是符号链接" in one_line(result.stderr)
    assert list(outside.iterdir()) == []


def test_svc_yaml_as_a_link_is_refused(svc: Svc, tmp_path: Path) -> None:
    real = tmp_path / "elsewhere.yaml"
    real.write_bytes((svc.root / "svc.yaml").read_bytes())
    (svc.root / "svc.yaml").unlink()
    (svc.root / "svc.yaml").symlink_to(real)
    result = svc("list")
    assert result.exit_code == 1 and "svc.yaml: 是符号链接" in one_line(result.stderr)


# --- reports and the patrol summary -----------------------------------------------------------------

def test_report_shows_what_it_can_and_names_the_unreadable(svc: Svc) -> None:
    svc.open("complaint", "--customer", "李四")
    (svc.root / "cases" / "2026" / "11" / "C2611-A099.yaml").write_text("id: [x\n", encoding="utf-8")
    result = svc("report", "monthly", "--month", "2026-11", "--format", "json", now="2026-12-02T09:00:00+08:00")
    assert result.exit_code == 3 and json.loads(result.stdout)["month"] == "2026-11"
    assert "C2611-A099.yaml:" in result.stderr
    printed = svc("report", "monthly", "--month", "2026-11", "--format", "pdf", "--out", str(svc.root.parent),
                  now="2026-12-02T09:00:00+08:00")
    assert printed.exit_code == 3 and "C2611-A099.yaml:" in one_line(printed.stderr)
    assert not list(svc.root.parent.glob("*.pdf"))
    # a report that leaves records out does not close the month: once they are repaired,
    # the first complete report does, and counts them
    assert "未结账" in result.stderr and not (svc.root / "summaries" / "report-2026-11.yaml").exists()
    (svc.root / "cases" / "2026" / "11" / "C2611-A099.yaml").unlink()
    whole = svc("report", "monthly", "--month", "2026-11", "--format", "json", now="2026-12-02T09:00:00+08:00")
    assert whole.exit_code == 0 and whole.stderr == "", whole.stderr
    assert (svc.root / "summaries" / "report-2026-11.yaml").exists()


def test_patrol_summary_of_an_empty_month_prints_and_can_be_printed_again(svc: Svc, tmp_path: Path) -> None:
    out = tmp_path / "out"
    after = "2026-12-02T09:00:00+08:00"
    result = svc("patrol", "summary", "--month", "2026-10", "--print", "pdf", "--out", str(out), now=after)
    assert result.exit_code == 0, result.stderr
    assert (out / "patrol-summary-2026-10.pdf").is_file()
    from pypdf import PdfReader

    text = PdfReader(out / "patrol-summary-2026-10.pdf").pages[0].extract_text()
    assert "2026-10" in text and "—" in text
    (out / "patrol-summary-2026-10.pdf").unlink()
    again = svc("patrol", "summary", "--month", "2026-10", "--print", "pdf", "--out", str(out), now=after)
    assert again.exit_code == 0 and (out / "patrol-summary-2026-10.pdf").is_file()
    still_works(svc)


def test_a_failed_print_leaves_the_month_open(svc: Svc, tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    before = commits(svc)
    after = "2026-12-02T09:00:00+08:00"
    failed = svc("patrol", "summary", "--month", "2026-10", "--print", "pdf", "--out", str(blocked / "x"), now=after)
    assert failed.exit_code == 1 and commits(svc) == before
    assert not (svc.root / "summaries" / "patrol-2026-10.yaml").exists()
    svc.ok("patrol", "summary", "--month", "2026-10", "--print", "pdf", "--out", str(tmp_path / "out"), now=after)


# --- the guard's shortcut is sound -----------------------------------------------------------------

_PIECES = st.sampled_from(["- ", "? ", ": ", "  ", " ", "\n", "a", "b:", "[", "]", "{", "}", ", ", "'x'", "|\n"])


@settings(max_examples=500, deadline=None)
@given(st.lists(_PIECES, max_size=160).map("".join))
def test_a_file_the_string_searches_clear_is_never_too_deep(text: str) -> None:
    """`may_be_irregular` False must mean the event scan would find nothing."""
    if yamlguard.may_be_irregular(text):
        return
    events = yamlguard._libyaml_events(text)
    try:
        yamlguard._walk(events, "f.yaml")
    except (yamlguard._Malformed, yamlguard._TooDeep):
        pass  # not YAML: the reader words it


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+08:00", "1900-01-01T00:00:00+08:05", "2100-01-01T00:00:00+08:00"])
def test_a_hand_edited_time_out_of_range_is_reported_not_crashed_on(svc: Svc, stamp: str) -> None:
    good = svc.open("complaint", "--customer", "李四")
    bad = svc.open("complaint", "--customer", "张三")
    path = svc.root / "cases" / "2026" / "11" / f"{bad}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("opened_at: '2026-11-05T09:30:00+08:00'",
                                                             f"opened_at: '{stamp}'"), encoding="utf-8")
    for args in (("list", "--format", "ids"), ("due",), ("check",)):
        result = svc(*args)
        assert result.exit_code == 3 and "internal error" not in result.stderr, (args, result.stderr)
        assert f"{bad}.yaml:6: opened_at must be a time" in result.stdout + result.stderr
    assert svc("list", "--format", "ids").stdout.split() == [good]

"""A closed month stays closed: the first report of an ended month keeps its figures in
summaries/report-YYYY-MM.yaml, every later report of it prints them, and no event can be
dated into it any more (`--at`, or a clock set back): refused in one line naming the month,
nothing written; recorded now instead, the event is kept and counts in the month it is in."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from svc import report
from svc.store import Store
from tests.conftest import Svc, make_store
from tests.test_clones import Office, office, sync  # noqa: F401 - office is a fixture

M = "2026-11"
AFTER = "2026-12-02T09:00:00+08:00"
LATER = "2026-12-03T10:00:00+08:00"


def t(day: int, hm: str, month: int = 11) -> str:
    return f"2026-{month:02d}-{day:02d}T{hm}:00+08:00"


def made(svc: Svc, month: str = M, now: str = AFTER, *extra: str) -> dict[str, str]:
    """The month's report in every text format, as people and scripts read it."""
    out = {}
    for fmt in ("json", "table", "csv"):
        result = svc("report", "monthly", "--month", month, "--format", fmt, *extra, now=now)
        assert result.exit_code == 0, result.stderr
        out[fmt] = result.stdout
    return out


def november(svc: Svc) -> dict[str, str]:
    """A small November: a complaint answered, one unanswered, a patrol with a finding."""
    ids = {
        "A": svc.open("complaint", "--customer", "张三", "--branch", "chaoyang", "--channel", "wechat",
                      now=t(2, "10:00")),
        "B": svc.open("repair", "--customer", "李四", "--branch", "haidian", now=t(9, "11:00")),
    }
    svc.ok("follow-up", ids["A"], "--outcome", "unsatisfied", now=t(3, "09:00"))
    ids["X"] = svc.ok("patrol", "add", "--area", "3号楼", now=t(5, "09:30")).stdout.strip()
    return ids


def head(svc: Svc) -> str:
    return svc.git("rev-parse", "HEAD").strip()


@pytest.fixture
def closed(svc: Svc) -> tuple[Svc, dict[str, str], dict[str, str]]:
    ids = november(svc)
    return svc, ids, made(svc)


# --- the month is closed by its first report ---------------------------------------------------------

def test_the_first_report_closes_the_month_in_one_commit(closed: tuple[Svc, dict[str, str], dict[str, str]]) -> None:
    svc, _, first = closed
    path = svc.root / "summaries" / f"report-{M}.yaml"
    assert path.is_file()
    text = path.read_text(encoding="utf-8")
    assert re.search(r"^made_by: wangfang$", text, re.M) and "made_at: '2026-12-02T09:00:00+08:00'" in text
    assert svc.git("status", "--porcelain") == ""
    log = svc.git("log", "--format=%s", "-1")
    assert log.startswith(f"report monthly {M}: month closed")
    # the figures kept are the report's JSON document, byte for byte
    assert first["json"] in text.replace("\n  ", "\n")
    commits = svc.git("rev-list", "--count", "HEAD")
    made(svc, now="2027-06-01T09:00:00+08:00")
    assert svc.git("rev-list", "--count", "HEAD") == commits  # once closed, reports write nothing


def test_a_month_not_ended_is_not_closed(svc: Svc) -> None:
    november(svc)
    assert svc("report", "monthly", "--month", M, now=t(30, "23:59")).exit_code == 1
    assert not (svc.root / "summaries").exists()
    assert svc.ok("note", svc.open("inquiry", now=t(30, "20:00")), "n", "--at", t(30, "21:00"),
                  now=t(30, "22:00")).exit_code == 0


def test_a_report_with_a_record_it_cannot_read_closes_nothing(svc: Svc) -> None:
    ids = november(svc)
    path = next((svc.root / "cases").rglob(f"{ids['B']}.yaml"))
    path.write_text("id: [unclosed\n", encoding="utf-8")
    result = svc("report", "monthly", "--month", M, now=AFTER)
    assert result.exit_code != 0 and not (svc.root / "summaries").exists()


# --- backdating into it is refused, and nothing is lost ---------------------------------------------

BACKDATED = [
    ("note", ["{A}", "补记：11月28日电话沟通"]),
    ("follow-up", ["{A}", "--outcome", "satisfied"]),
    ("open", ["complaint", "--customer", "王五", "--branch", "chaoyang"]),
    ("patrol", ["add", "--area", "5号楼"]),
    ("escalate", ["{B}", "--reason", "未处理"]),
]


@pytest.mark.parametrize("command, args", BACKDATED, ids=[c for c, _ in BACKDATED])
def test_an_event_dated_into_a_closed_month_is_refused_and_the_report_is_the_same(
        closed: tuple[Svc, dict[str, str], dict[str, str]], command: str, args: list[str]) -> None:
    svc, ids, first = closed
    before = head(svc)
    argv = [a.format(**ids) for a in args]
    result = svc(command, *argv, "--at", t(28, "10:00"), now=LATER, user="lijun")
    assert result.exit_code == 1 and result.stdout == ""
    line, = result.stderr.strip().splitlines()
    assert M in line and "已结账" in line and "--at" in line and "2026-12-01" in line
    assert head(svc) == before and svc.git("status", "--porcelain") == ""
    assert made(svc, now=LATER) == first
    # recorded now instead: kept, in the month it is recorded in, and November still the same
    done = svc(command, *argv, now=LATER, user="lijun")
    assert done.exit_code == 0, done.stderr
    assert head(svc) != before
    assert made(svc, now="2027-01-05T09:00:00+08:00") == first


def test_what_is_recorded_late_counts_in_the_next_month(closed: tuple[Svc, dict[str, str], dict[str, str]]) -> None:
    svc, ids, first = closed
    assert svc("follow-up", ids["A"], "--outcome", "satisfied", "--at", t(29, "10:00"), now=LATER).exit_code == 1
    svc.ok("follow-up", ids["A"], "--outcome", "satisfied", "--note", "实际于11月29日回访", now=LATER)
    assert made(svc, now=LATER) == first
    december = json.loads(svc.ok("report", "monthly", "--month", "2026-12", "--format", "json",
                                 now="2027-01-02T09:00:00+08:00").stdout)
    assert december["overall"]["satisfaction"]["satisfied"] == 1
    assert december["overall"]["closed"]["by_kind"]["complaint"] == 1
    shown = json.loads(svc.ok("show", ids["A"], "--format", "json").stdout)
    assert shown["status"] == "closed" and "实际于11月29日回访" in json.dumps(shown, ensure_ascii=False)


def test_a_clock_set_back_into_a_closed_month_is_refused(closed: tuple[Svc, dict[str, str], dict[str, str]]) -> None:
    svc, ids, first = closed
    result = svc("note", ids["A"], "晚了", now=t(29, "10:00"))
    assert result.exit_code == 1 and "SVC_NOW" in result.stderr and M in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert made(svc, now=LATER) == first


def test_the_months_edges_are_office_time(closed: tuple[Svc, dict[str, str], dict[str, str]]) -> None:
    svc, ids, first = closed
    # 15:30 UTC on 30 November is 23:30 in Beijing: November, closed
    assert svc("note", ids["A"], "x", "--at", "2026-11-30T15:30:00Z", now=LATER).exit_code == 1
    # 16:30 UTC is 00:30 on 1 December: an open month
    assert svc("note", ids["A"], "x", "--at", "2026-11-30T16:30:00Z", now=LATER).exit_code == 0
    assert made(svc, now=LATER) == first


def test_other_months_stay_open(closed: tuple[Svc, dict[str, str], dict[str, str]]) -> None:
    svc, ids, _ = closed
    # October was never reported: it is not closed (the record's own order still applies)
    assert svc.open("inquiry", "--customer", "赵六", "--at", t(20, "10:00", 10), now=LATER)
    svc.ok("patrol", "add", "--area", "7号楼", "--at", t(2, "09:00", 12), now=LATER)


def test_refused_in_english(closed: tuple[Svc, dict[str, str], dict[str, str]]) -> None:
    svc, ids, _ = closed
    config = svc.root / "svc.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("lang: zh", "lang: en"), encoding="utf-8")
    result = svc("note", ids["A"], "late", "--at", t(28, "10:00"), now=LATER)
    assert result.exit_code == 1
    assert f"{M} is closed (its monthly report was made 2026-12-02" in result.stderr
    assert "record it now" in result.stderr


def test_a_store_without_git_closes_its_months_too(svc_nogit: Svc) -> None:
    ids = november(svc_nogit)
    first = made(svc_nogit)
    assert (svc_nogit.root / "summaries" / f"report-{M}.yaml").is_file()
    assert svc_nogit("note", ids["A"], "x", "--at", t(28, "10:00"), now=LATER).exit_code == 1
    assert made(svc_nogit, now=LATER) == first


# --- the kept figures are what every later report prints -----------------------------------------------

def test_records_changed_behind_its_back_do_not_move_the_report_and_it_says_so(
        closed: tuple[Svc, dict[str, str], dict[str, str]]) -> None:
    """As a clone that recorded into November before it synced, or a hand edit, would."""
    svc, ids, first = closed
    path = next((svc.root / "cases").rglob(f"{ids['B']}.yaml"))
    text = path.read_text(encoding="utf-8")
    text += ("- at: '2026-11-20T10:00:00+08:00'\n  by: lijun\n  action: escalate\n  from: assistant\n"
             "  to: cs-director\n  reason: 补\n")
    path.write_text(text.replace("level: assistant", "level: cs-director", 1), encoding="utf-8")
    svc.git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "a change from elsewhere")
    again = {}
    for fmt in ("json", "table", "csv"):
        result = svc("report", "monthly", "--month", M, "--format", fmt, now=LATER)
        assert result.exit_code == 0
        again[fmt] = result.stdout
        warned = [line for line in result.stderr.splitlines() if line.startswith("svc: warning:")]
        assert len(warned) == 1 and M in warned[0] and "结账" in warned[0]
    assert again == first


def test_edited_kept_figures_are_refused(closed: tuple[Svc, dict[str, str], dict[str, str]]) -> None:
    svc, _, _ = closed
    path = svc.root / "summaries" / f"report-{M}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('"total": 2', '"total": 1', 1), encoding="utf-8")
    result = svc("report", "monthly", "--month", M, "--format", "json", now=LATER)
    assert result.exit_code == 1 and result.stdout == ""
    assert "sha256" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert f"summaries/report-{M}.yaml:" in result.stderr
    # svc check names it too, with its line
    check = svc("check", now=LATER)
    assert check.exit_code == 3 and re.search(rf"summaries/report-{M}\.yaml:\d+: .*sha256", check.stdout)


def test_check_passes_a_closed_month(closed: tuple[Svc, dict[str, str], dict[str, str]]) -> None:
    svc, _, _ = closed
    result = svc("check", now=LATER)
    assert result.exit_code == 0 and result.stdout == "", result.stdout


@pytest.mark.parametrize("branch", ["chaoyang", "haidian"])
def test_a_branch_report_from_the_kept_figures_is_the_branch_report(svc: Svc, branch: str) -> None:
    november(svc)
    store = Store.open(svc.root, 5.0)
    direct = report.monthly(store, M, branch)
    quiet = report.monthly(store, "2026-09", branch)  # a month with nothing: the branch, all zeros
    for month, expected in ((M, direct), ("2026-09", quiet)):
        shown = svc.ok("report", "monthly", "--month", month, "--branch", branch, "--format", "json", now=AFTER)
        assert json.loads(shown.stdout) == expected
    assert (svc.root / "summaries" / "report-2026-09.yaml").is_file()


def test_the_first_report_made_by_cron_without_a_user_is_made_by_svc(closed: tuple[Svc, dict[str, str], dict[str, str]],
                                                                    tmp_path: Path) -> None:
    store = Svc(make_store(tmp_path / "cron"))
    november(store)
    result = store("report", "monthly", "--month", M, now=AFTER, env={"SVC_USER": ""})
    assert result.exit_code == 0, result.stderr
    assert "made_by: svc" in (store.root / "summaries" / f"report-{M}.yaml").read_text(encoding="utf-8")


def test_a_month_closed_on_two_clones_syncs_and_the_one_shared_first_stands(office: Office) -> None:
    a, b = office.a, office.b
    a.open("complaint", "--customer", "甲", now=t(10, "10:00"))
    sync(a)
    sync(b)
    b.open("complaint", "--customer", "乙", now=t(11, "10:00"))  # not yet synced when a closes November
    first = made(a)
    b_before = made(b, now="2026-12-02T09:05:00+08:00")
    assert b_before != first
    sync(a)
    said = sync(b)
    assert "closed on both clones" in said
    # both clones now print the figures shared first, and b is told its records differ from them
    assert made(a, now=LATER) == first
    again = b("report", "monthly", "--month", M, "--format", "json", now=LATER)
    assert again.stdout == first["json"] and "结账" in again.stderr
    sync(a)
    assert (a.root / "summaries" / f"report-{M}.yaml").read_bytes() == \
        (b.root / "summaries" / f"report-{M}.yaml").read_bytes()
    # nothing entered was lost: b's case is on both clones
    assert len(json.loads(a.ok("list", "--format", "json", now=LATER).stdout)) == 2

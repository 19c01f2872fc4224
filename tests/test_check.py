"""`svc check`: silent on a good store; every problem as `path:line: message`, all of
them, exit 3; with --since, history may only have been appended to."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import Svc, make_store
from tests.test_cli import REAL_NAME, case_file

PROBLEM = re.compile(r"^(?P<path>\S+\.yaml):(?P<line>\d+): (?P<message>.+)$")


def commit_all(svc: Svc, message: str) -> None:
    svc.git("add", "-A")
    # --no-verify: someone who bypasses the pre-commit hook svc init installed
    svc.git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "--no-verify", "-qm", message)


def edit(path: Path, old: str, new: str) -> int:
    """Replace the first line equal to `old` by `new`; return its 1-based number."""
    lines = path.read_text(encoding="utf-8").splitlines()
    index = lines.index(old)
    lines[index] = new
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return index + 1


def problems(svc: Svc, *args: str) -> list[str]:
    result = svc("check", *args)
    assert result.exit_code == 3, f"{result.exit_code}\n{result.stdout}{result.stderr}"
    assert "Traceback" not in result.stdout + result.stderr
    assert "problem" in result.stderr
    lines = result.stdout.splitlines()
    assert lines, "check failed without listing a problem"
    return lines


def clean(svc: Svc, *args: str) -> None:
    result = svc("check", *args)
    # from October, the calendar's warning that next year is missing (tests/test_calendar_ahead.py)
    said = "".join(line for line in result.stderr.splitlines(keepends=True) if "calendar.years" not in line)
    assert (result.exit_code, result.stdout, said) == (0, "", ""), result.stdout + result.stderr


def build_demo(svc: Svc) -> dict[str, str]:
    """A small office month, made with every case command."""
    day = lambda d, h=10: f"2026-11-{d:02d}T{h:02d}:00:00+08:00"  # noqa: E731
    ids = {
        "leak": svc.open("complaint", "--customer", "张三", "--phone", "13800138000", "--branch", "chaoyang",
                         "--address", "朝阳区望京花园3-1-502", "--summary", "卫生间漏水", now=day(2)),
        "tap": svc.open("repair", "--customer", "李四", "--phone", "010-65123456", "--branch", "haidian", now=day(2, 11)),
        "press": svc.open("complaint", "--customer", "王五", "--media", "北京晚报", "--reporter", "刘记者", now=day(3)),
        "staff": svc.open("staff-complaint", *REAL_NAME, now=day(3, 11)),
        "ask": svc.open("inquiry", "--customer", "赵六", now=day(3, 12)),
        "old": svc.open("complaint", "--customer", "钱七", "--at", "2026-10-20T10:00:00+08:00", now=day(3, 13)),
    }
    ids["again"] = svc.open("complaint", "--customer", "张三", "--phone", "138 0013 8000", now=day(4))
    svc.ok("follow-up", ids["leak"], "--outcome", "unsatisfied", now=day(5))
    svc.ok("follow-up", ids["leak"], "--outcome", "not-handled", now=day(6))
    svc.ok("assign", ids["leak"], "lina", now=day(6, 11))
    svc.ok("remedy", ids["leak"], "repair", "--detail", "重做防水", "--category", "repair-claim", now=day(7))
    svc.ok("link", ids["again"], ids["leak"], "--note", "同一漏水", now=day(7))
    svc.ok("escalate", ids["tap"], "--reason", "超出权限", now=day(7), user="lijun")
    svc.ok("note", ids["staff"], "已转人力资源部", now=day(7), user="lijun")
    svc.ok("close", ids["ask"], "--resolution", "当场解答", "--satisfaction", "5", now=day(8))
    svc.ok("close", ids["old"], "--resolution", "已赔偿", now=day(8))
    svc.ok("reopen", ids["old"], "--reason", "客户再次来电", now=day(9))
    svc.ok("close", ids["old"], "--resolution", "已解决", now=day(10))
    svc.ok("archive", "--before", "2026-11-09", "--apply", now=day(20), user="admin")
    return ids


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """Built once per module (twenty commits take a while); each test gets a copy."""
    folder = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as mp:
        for name in ("SVC_STORE", "SVC_USER", "SVC_NOW", "SVC_DESK", "SVC_DEBUG"):
            mp.delenv(name, raising=False)
        mp.setenv("GIT_CONFIG_GLOBAL", str(folder / "no-gitconfig"))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        root = make_store(folder / "store")
        ids = build_demo(Svc(root))
    return root, ids


@pytest.fixture
def demo(svc: Svc, demo_template: tuple[Path, dict[str, str]]) -> dict[str, str]:
    template, ids = demo_template
    shutil.rmtree(svc.root)
    shutil.copytree(template, svc.root, symlinks=True)
    return dict(ids)


def test_a_good_store_passes_silently(svc: Svc, demo: dict[str, str]) -> None:
    clean(svc)
    result = svc.ok("check", "--format", "json")
    assert json.loads(result.stdout) == []
    first = svc.git("rev-list", "--max-parents=0", "HEAD").strip()
    clean(svc, "--since", first)
    clean(svc, "--since", "HEAD~5")
    assert svc.git("status", "--porcelain") == ""


def test_new_store_passes(svc: Svc, tmp_path: Path) -> None:
    clean(svc)
    plain = Svc(make_store(tmp_path / "plain", git=False))
    clean(plain)
    plain.open()
    clean(plain)


def test_state_field_that_disagrees_with_history(svc: Svc, demo: dict[str, str]) -> None:
    path = case_file(svc, demo["tap"])
    line = edit(path, "level: cs-director", "level: legal")
    found = problems(svc)
    assert len(found) == 1
    match = PROBLEM.match(found[0])
    assert match, found
    assert match["path"].endswith(f"cases/2026/11/{demo['tap']}.yaml") and int(match["line"]) == line
    assert "level" in match["message"] and "legal" in match["message"] and "cs-director" in match["message"]
    # and commands refuse to build on a file that lies about itself
    result = svc("note", demo["tap"], "x", now="2026-11-21T10:00:00+08:00")
    assert result.exit_code == 1 and "svc check" in result.stderr


def test_status_closed_by_hand(svc: Svc, demo: dict[str, str]) -> None:
    path = case_file(svc, demo["press"])
    line = edit(path, "status: open", "status: closed")
    found = problems(svc)
    assert any(f".yaml:{line}: " in p and "status" in p for p in found), found


def test_duplicate_key_is_reported_with_its_line(svc: Svc, demo: dict[str, str]) -> None:
    path = case_file(svc, demo["leak"])
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("summary: 卫生间漏水\n", "summary: 卫生间漏水\nsummary: 厨房漏水\n"), encoding="utf-8")
    line = path.read_text(encoding="utf-8").splitlines().index("summary: 厨房漏水") + 1
    found = problems(svc)
    assert len(found) == 1
    assert re.search(rf"{demo['leak']}\.yaml:{line}: .*duplicate key.*summary", found[0]), found


def test_copied_case_file_is_a_duplicate_id(svc: Svc, demo: dict[str, str]) -> None:
    source = case_file(svc, demo["leak"])
    copy = source.with_name("C2611-A099.yaml")
    shutil.copy(source, copy)
    found = "\n".join(problems(svc))
    assert f"duplicate ID {demo['leak']}" in found
    assert re.search(rf"{demo['leak']}\.yaml:1: duplicate ID", found)
    assert re.search(r"C2611-A099\.yaml:1: duplicate ID", found)
    assert "does not match the file name" in found


def test_unknown_user_in_an_event(svc: Svc, demo: dict[str, str]) -> None:
    path = case_file(svc, demo["staff"])
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    line = max(i for i, l in enumerate(lines, start=1) if l == "  by: lijun")
    lines[line - 1] = "  by: zhangsan"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = problems(svc)
    shown = found[0].split(':')[0]
    assert found == [f"{shown}:{line}: history[2].by: unknown user 'zhangsan'",
                     f"{shown}: in the work tree (not committed): history[2] (note at 2026-11-07T10:00:00+08:00) "
                     "changed (记录不得涂改)"]


def test_unknown_branch_and_dangling_link(svc: Svc, demo: dict[str, str]) -> None:
    edit(case_file(svc, demo["tap"]), "branch: haidian", "branch: xicheng")
    case_file(svc, demo["leak"]).unlink()
    found = "\n".join(problems(svc))
    assert "unknown branch 'xicheng'" in found
    # the repeat_of and links of "again" point at it, each reported with its line
    dangling = re.findall(rf"{demo['again']}\.yaml:(\d+): (\w+) names {demo['leak']}, which is not in the store", found)
    assert sorted(key for _, key in dangling) == ["links", "repeat_of"], found


def test_an_unreadable_case_is_not_reported_as_missing_by_its_links(svc: Svc, demo: dict[str, str]) -> None:
    path = case_file(svc, demo["leak"])
    path.write_text(path.read_text(encoding="utf-8").replace("customer:\n", "customer: [\n"), encoding="utf-8")
    found = problems(svc)
    assert len(found) == 1 and f"{demo['leak']}.yaml:" in found[0], found


def test_check_lists_every_problem_not_just_the_first(svc: Svc, demo: dict[str, str]) -> None:
    edit(case_file(svc, demo["tap"]), "level: cs-director", "level: legal")
    edit(case_file(svc, demo["press"]), "severity: major", "severity: general")
    leak = case_file(svc, demo["leak"])
    edit(leak, "followup_round: 2", "followup_round: 7")
    edit(leak, "  by: wangfang", "  by: ghost")
    broken = case_file(svc, demo["ask"])
    broken.write_text(broken.read_text(encoding="utf-8").replace("customer:\n", "customer: [\n"), encoding="utf-8")
    (svc.root / "cases" / "2026" / "11" / "notes.txt").write_text("草稿", encoding="utf-8")
    result = svc("check", "--format", "json")
    assert result.exit_code == 3
    found = json.loads(result.stdout)
    assert all(set(p) == {"path", "line", "message"} for p in found)
    assert all(isinstance(p["line"], int) for p in found if "notes.txt" not in p["path"] and "work tree" not in p["message"])
    by_file: dict[str, list[str]] = {}
    for p in found:
        by_file.setdefault(Path(p["path"]).name, []).append(p["message"])
    assert set(by_file) == {f"{demo[k]}.yaml" for k in ("tap", "press", "leak", "ask")} | {"notes.txt"}
    assert len(by_file[f"{demo['leak']}.yaml"]) >= 2  # round and user, in the same file
    assert any("followup_round" in m for m in by_file[f"{demo['leak']}.yaml"])
    assert any("ghost" in m for m in by_file[f"{demo['leak']}.yaml"])
    text = problems(svc)
    assert len(text) == len(found)


def test_a_case_filed_in_the_wrong_month(svc: Svc, demo: dict[str, str]) -> None:
    source = case_file(svc, demo["ask"])
    target = svc.root / "cases" / "2026" / "10" / source.name
    source.rename(target)
    found = "\n".join(problems(svc))
    assert "filed under 2026/10" in found


def test_hidden_temp_files_are_ignored(svc: Svc, demo: dict[str, str]) -> None:
    folder = svc.root / "cases" / "2026" / "11"
    (folder / f".{demo['leak']}.yaml.k2j3.tmp").write_text("id: C2611-A0", encoding="utf-8")
    clean(svc)
    assert svc.ok("list", "--status", "all", "--format", "ids").stdout.count("\n") == len(demo)


# --- --since: history is append-only ----------------------------------------------------------------

def test_since_reports_changed_and_removed_events_deleted_files_and_rewritten_intake(
        svc: Svc, demo: dict[str, str]) -> None:
    base = svc.git("rev-parse", "HEAD").strip()
    # legitimate work after REV is fine
    svc.ok("note", demo["tap"], "上门维修已预约", now="2026-11-21T10:00:00+08:00")
    clean(svc, "--since", base)

    # an event rewritten (the note's text), committed
    staff = case_file(svc, demo["staff"])
    line = edit(staff, "  text: 已转人力资源部", "  text: 无需处理")
    commit_all(svc, "tidy")
    # an event removed (the last note of tap: state still replays fine), not committed
    tap = case_file(svc, demo["tap"])
    tap_text = tap.read_text(encoding="utf-8")
    cut = tap_text.rindex("- at: ")
    tap.write_text(tap_text[:cut], encoding="utf-8")
    # a case file deleted
    svc.git("rm", "-q", str(case_file(svc, demo["press"]).relative_to(svc.root)))
    commit_all(svc, "remove")
    # an intake fact rewritten
    leak = case_file(svc, demo["leak"])
    name_line = edit(leak, "  name: 张三", "  name: 张山")
    commit_all(svc, "rename")

    # each file is consistent in itself, but plain check audits every commit
    plain_check = "\n".join(problems(svc))
    assert re.search(rf"{demo['staff']}\.yaml: commit [0-9a-f]{{10}} \(t, \d{{4}}-\d\d-\d\d\): history\[2\] "
                     r"\(note at .*\) changed", plain_check), plain_check
    assert re.search(rf"{demo['tap']}\.yaml: commit .*: history\[\d+\] .* removed",
                     plain_check), plain_check
    assert re.search(rf"{demo['press']}\.yaml: commit .*: record file deleted without a disposal register entry",
                     plain_check), plain_check
    assert re.search(rf"{demo['leak']}\.yaml: commit .*: customer changed", plain_check), plain_check
    found = [p for p in problems(svc, "--since", base) if f"since {base}" in p]  # what --since adds
    joined = "\n".join(found)
    assert re.search(rf"{demo['staff']}\.yaml:{line - 3}: history\[2\] \(note at .*\) changed since {base}", joined), joined
    assert f"{demo['tap']}.yaml" not in joined  # the removed note was added after REV
    assert re.search(rf"{demo['press']}\.yaml: case file deleted since {base}", joined), joined
    assert re.search(rf"{demo['leak']}\.yaml:{name_line - 1}: customer changed since {base}", joined), joined

    # the removed event that was there at REV is reported too
    found = problems(svc, "--since", "HEAD~3")
    assert any(f"{demo['tap']}.yaml" in p and "removed since" in p for p in found), found


def test_since_reports_a_removed_event_present_at_rev(svc: Svc, demo: dict[str, str]) -> None:
    path = case_file(svc, demo["staff"])
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.rindex("- at: ")], encoding="utf-8")  # drop lijun's note
    assert [p.split(": ", 1)[1] for p in problems(svc)] == [
        "in the work tree (not committed): history[2] (note at 2026-11-07T10:00:00+08:00) removed (记录不得涂改)"]
    found = [p for p in problems(svc, "--since", "HEAD") if "work tree" not in p]
    assert len(found) == 1
    assert re.search(rf"{demo['staff']}\.yaml:\d+: history\[2\] \(note at 2026-11-07T10:00:00\+08:00\) removed since HEAD",
                     found[0]), found


def test_since_json(svc: Svc, demo: dict[str, str]) -> None:
    svc.git("rm", "-q", str(case_file(svc, demo["ask"]).relative_to(svc.root)))
    result = svc("check", "--since", "HEAD", "--format", "json")
    assert result.exit_code == 3
    found = json.loads(result.stdout)
    assert len(found) == 2  # by the history audit (plain check) and by --since
    assert all(p["line"] is None and "deleted" in p["message"] and p["path"].endswith(f"{demo['ask']}.yaml")
               for p in found)


def test_since_needs_a_known_revision_and_git(svc: Svc, tmp_path: Path) -> None:
    result = svc("check", "--since", "no-such-branch")
    assert result.exit_code == 1 and "no-such-branch" in result.stderr
    result = Svc(make_store(tmp_path / "plain", git=False))("check", "--since", "HEAD")
    assert result.exit_code == 1 and "git" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_parallel_check_finds_what_the_serial_one_finds(svc: Svc, monkeypatch: pytest.MonkeyPatch) -> None:
    """Large stores are checked in worker processes; the problems must be the same."""
    from svc import checks
    from svc.store import Store

    first = svc.open("complaint", "--customer", "张三", "--phone", "13800138000")
    second = svc.open("complaint", "--customer", "李四", "--phone", "13900139000")
    folder = svc.root / "cases" / "2026" / "11"
    (folder / "C2611-A077.yaml").write_text("id: C2611-A077\nid: again\n", encoding="utf-8")  # unreadable
    text = (folder / f"{second}.yaml").read_text(encoding="utf-8")
    (folder / f"{second}.yaml").write_text(text.replace("status: open", "status: closed"), encoding="utf-8")
    dup = (folder / f"{first}.yaml").read_text(encoding="utf-8")
    (folder / "C2611-A078.yaml").write_text(dup, encoding="utf-8")  # another file with the first case's ID
    store = Store.open(svc.root)
    serial = sorted(map(str, checks.check_store(store)))
    monkeypatch.setattr(checks, "_PARALLEL_FROM", 1)
    parallel = sorted(map(str, checks.check_store(store)))
    assert parallel == serial
    assert any("duplicate key" in p for p in serial) and any("duplicate ID" in p for p in serial)
    assert any("status is 'closed' but its history gives 'open'" in p for p in serial)

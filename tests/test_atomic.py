"""All or nothing: a write killed at any moment is finished or undone by the next svc
command (the write intent in .svc/), no svc write happens while git is mid-operation, and
an interrupted letter batch never leaves a numbered file without its register entry.

The kills are real: the `svc` program runs in a subprocess and kills itself with SIGKILL
(or sends itself SIGINT, as Ctrl-C does) at a chosen point of its write, through the
test-only SVC_TEST_CRASH hook (svc/intent.py)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from svc.store import INTENT, LOCAL_DIR, Actor, Store
from svc.errors import RefusedError
from tests.conftest import Svc, run_svc
from tests.letters_util import case_with

KILLED = -signal.SIGKILL


def env_of(svc: Svc, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SVC_")}
    env.update({"SVC_STORE": str(svc.root), "SVC_USER": "wangfang", "SVC_NOW": svc.now, **extra})
    return env


def crashed(svc: Svc, point: str, *args: str, signal_name: str | None = None, after: int = 0
            ) -> subprocess.CompletedProcess[str]:
    extra = {"SVC_TEST_CRASH": point, "SVC_TEST_CRASH_AFTER": str(after)}
    if signal_name:
        extra["SVC_TEST_CRASH_SIGNAL"] = signal_name
    return run_svc(*args, env=env_of(svc, **extra))


def intent_file(svc: Svc) -> Path:
    return svc.root / LOCAL_DIR / INTENT


def porcelain(svc: Svc) -> list[str]:
    """What git sees uncommitted, apart from issued letters' files (never committed by design)."""
    out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=svc.root,
                         capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if not line[3:].startswith("letters/")]


def assert_whole(svc: Svc, git: bool = True) -> None:
    """What a user would check after a crash and the next command: no intent left, every
    file parses, nothing of svc's uncommitted, git's objects sound, `svc check` passes."""
    assert not intent_file(svc).exists()
    for path in svc.root.rglob("*.yaml"):
        if ".git" not in path.parts:
            yaml.safe_load(path.read_text(encoding="utf-8"))
    assert not list(svc.root.rglob(".*.tmp"))
    if git:
        assert porcelain(svc) == []
        fsck = subprocess.run(["git", "fsck", "--no-progress"], cwd=svc.root, capture_output=True, text=True)
        assert fsck.returncode == 0 and "error" not in fsck.stderr and "missing" not in fsck.stdout, fsck
    checked = svc("check")
    assert checked.exit_code == 0, checked.stderr


def notes_of(svc: Svc, case_id: str) -> list[str]:
    shown = json.loads(svc.ok("show", case_id, "--format", "json").stdout)
    return [ev.get("text", ev.get("note")) for ev in shown["history"] if ev["action"] == "note"]


def committed_text(svc: Svc, rel: str) -> str | None:
    done = subprocess.run(["git", "show", f"HEAD:{rel}"], cwd=svc.root, capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else None


# --- a killed write is finished or undone ---------------------------------------------------

@pytest.mark.parametrize(("point", "expected", "told"), [
    ("after-intent", "absent", "undid"),  # killed before any file: undone
    ("after-files", "present", "finished"),  # every file written, no commit: committed now
    ("after-commit", "present", "committed"),  # committed, intent not yet removed: nothing to redo
])
def test_a_killed_note_is_whole_or_absent_after_the_next_command(svc: Svc, point: str, expected: str,
                                                                  told: str) -> None:
    case_id = svc.open("complaint", "--customer", "张三", "--phone", "13800138000", "--branch", "chaoyang")
    head = svc.git("rev-parse", "HEAD").strip()
    done = crashed(svc, point, "note", case_id, "客户来电催问进度")
    assert done.returncode == KILLED, done.stderr
    assert intent_file(svc).exists()  # the kill left its intent

    listed = run_svc("list", "--format", "ids", env=env_of(svc))  # a read-only command settles it
    assert listed.returncode == 0 and listed.stdout.split() == [case_id]
    words = {"undid": "已撤销上次中断的写入", "finished": "已完成上次中断的写入", "committed": "上次中断的写入已提交"}
    assert listed.stderr.count("\n") == 1 and words[told] in listed.stderr, listed.stderr
    assert_whole(svc)
    rel = f"cases/2026/11/{case_id}.yaml"
    on_disk = (svc.root / rel).read_text(encoding="utf-8")
    assert committed_text(svc, rel) == on_disk  # the file is what HEAD has, either way
    if expected == "present":
        assert notes_of(svc, case_id) == ["客户来电催问进度"]
        assert svc.git("rev-parse", "HEAD~1").strip() == head  # exactly one commit, on the branch
        assert "Svc-Action: note" in svc.git("log", "-1", "--format=%B")
    else:
        assert notes_of(svc, case_id) == []
        assert svc.git("rev-parse", "HEAD").strip() == head
    # and the next write commits its own change on top, as usual
    svc.ok("note", case_id, "再次来电")
    assert_whole(svc)


def test_the_recovery_line_says_what_happened_in_the_stores_language(svc: Svc) -> None:
    case_id = svc.open("inquiry", "--customer", "张三")
    crashed(svc, "after-files", "note", case_id, "补记")
    zh = run_svc("show", case_id, env=env_of(svc))
    assert zh.returncode == 0
    assert zh.stderr.strip().splitlines()[0] == f"svc: 已完成上次中断的写入（文件均已写好，现已提交）：note {case_id}: note added"

    text = (svc.root / "svc.yaml").read_text(encoding="utf-8").replace("lang: zh", "lang: en")
    (svc.root / "svc.yaml").write_text(text, encoding="utf-8")
    svc.git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "en")
    crashed(svc, "after-intent", "note", case_id, "again")
    en = run_svc("check", env=env_of(svc))
    assert en.returncode == 0
    assert en.stderr.strip().splitlines()[0] == (f"svc: undid an interrupted svc write (its files are back as they were): "
                                 f"note {case_id}: note added")


@pytest.mark.parametrize("point", ["after-intent", "after-files"])
def test_a_killed_open_leaves_a_whole_case_or_none(svc: Svc, point: str) -> None:
    done = crashed(svc, point, "open", "complaint", "--customer", "李四", "--phone", "13911112222",
                   "--branch", "haidian")
    assert done.returncode == KILLED and done.stdout == ""
    checked = run_svc("check", env=env_of(svc))  # `svc check` itself settles it first
    assert checked.returncode == 0, checked.stderr
    assert_whole(svc)
    cases = sorted(p.stem for p in (svc.root / "cases").rglob("*.yaml"))
    assert cases == ([] if point == "after-intent" else ["C2611-A001"])
    # the ID of an undone open is free again; a finished one is taken
    assert svc.open("inquiry", "--customer", "王五") == ("C2611-A001" if point == "after-intent" else "C2611-A002")


@pytest.mark.parametrize(("point", "kept"), [("after-intent", False), ("after-files", True)])
def test_a_store_without_git_is_all_or_nothing_too(svc_nogit: Svc, point: str, kept: bool) -> None:
    svc = svc_nogit
    case_id = svc.open("inquiry", "--customer", "张三")
    before = (svc.root / f"cases/2026/11/{case_id}.yaml").read_text(encoding="utf-8")
    assert crashed(svc, point, "note", case_id, "补记").returncode == KILLED
    assert run_svc("list", env=env_of(svc)).returncode == 0
    assert_whole(svc, git=False)
    after = (svc.root / f"cases/2026/11/{case_id}.yaml").read_text(encoding="utf-8")
    assert (after != before) is kept and (after == before) is not kept
    assert notes_of(svc, case_id) == (["补记"] if kept else [])


def test_a_half_written_multi_file_write_is_put_back_exactly(svc: Svc) -> None:
    """A letter writes its PDF, the case and the register entry: killed after the PDF,
    everything goes back to the byte, and the PDF is removed."""
    case_id = case_with(svc)
    case_file = svc.root / f"cases/2026/11/{case_id}.yaml"
    before = case_file.read_bytes()
    done = crashed(svc, "mid-files", "letter", "handling-notice", case_id)
    assert done.returncode == KILLED
    assert list((svc.root / "letters").rglob("*.pdf"))  # the kill left a numbered PDF...
    assert run_svc("list", env=env_of(svc)).returncode == 0
    assert not (svc.root / "letters").exists() or not list((svc.root / "letters").rglob("*.pdf"))  # ...now gone
    assert case_file.read_bytes() == before and not (svc.root / "register").exists()
    assert_whole(svc)


@pytest.mark.parametrize(("point", "disposed"), [("mid-files", False), ("after-files", True)])
def test_a_killed_disposal_keeps_records_and_register_together(svc: Svc, point: str, disposed: bool) -> None:
    """Retention deletes records and appends to the disposal register in one write: killed
    after the first deletion it is undone to the byte; killed after all, it is finished."""
    # recorded back then: a record's retention runs from when git first saw it
    pids = [svc.ok("patrol", "add", "--area", area, now=when, env={"GIT_COMMITTER_DATE": when}).stdout.strip()
            for when, area in (("2024-02-10T08:00:00+08:00", "3号楼"), ("2024-02-20T08:00:00+08:00", "5号楼"))]
    svc.ok("patrol", "summary", "--month", "2024-02", now="2024-03-01T09:00:00+08:00",
           env={"GIT_COMMITTER_DATE": "2024-03-01T09:00:00+08:00"})
    files = {pid: svc.root / f"patrols/2024/02/{pid}.yaml" for pid in pids}
    contents = {pid: path.read_bytes() for pid, path in files.items()}
    head = svc.git("rev-parse", "HEAD").strip()
    svc.now = "2026-03-02T09:00:00+08:00"
    done = crashed(svc, point, "retention", "apply", "--approved-by", "zhaomin")
    assert done.returncode == KILLED
    assert run_svc("retention", "plan", env=env_of(svc)).returncode == 0
    assert_whole(svc)
    register = svc.root / "registers" / "disposal.yaml"
    if disposed:
        assert not any(path.exists() for path in files.values())
        assert all(pid in register.read_text(encoding="utf-8") for pid in pids)
        assert svc.git("rev-parse", "HEAD~1").strip() == head
    else:
        assert {pid: path.read_bytes() for pid, path in files.items()} == contents
        assert not register.exists() and svc.git("rev-parse", "HEAD").strip() == head


def test_two_commands_never_both_settle_one_intent(svc: Svc) -> None:
    case_id = svc.open("inquiry", "--customer", "张三")
    crashed(svc, "after-files", "note", case_id, "补记")
    procs = [subprocess.Popen([sys.executable, "-m", "svc", "list", "--format", "ids"], env=env_of(svc),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    told = [line for _, err in outputs for line in err.splitlines() if "中断" in line]
    assert len(told) == 1, outputs
    assert notes_of(svc, case_id) == ["补记"]
    assert svc.git("log", "--format=%s").count("note added") == 1
    assert_whole(svc)


def test_a_pending_write_waits_while_head_is_detached_and_is_finished_after(svc: Svc) -> None:
    case_id = svc.open("inquiry", "--customer", "张三")
    branch = svc.git("symbolic-ref", "--short", "HEAD").strip()
    crashed(svc, "after-files", "note", case_id, "补记")
    svc.git("stash", "-q")  # the user hides the file and wanders off on a detached HEAD
    svc.git("checkout", "-q", "--detach")
    waiting = run_svc("list", env=env_of(svc))
    assert waiting.returncode == 0 and "git switch" in waiting.stderr and "尚待处理" in waiting.stderr
    assert intent_file(svc).exists()
    refused = run_svc("note", case_id, "另一条", env=env_of(svc))
    assert refused.returncode == 1 and "git switch" in refused.stderr
    svc.git("switch", "-q", branch)
    svc.git("stash", "pop", "-q")
    settled = run_svc("list", env=env_of(svc))
    assert settled.returncode == 0 and "已完成" in settled.stderr
    assert notes_of(svc, case_id) == ["补记"]
    assert_whole(svc)


# --- letters: no numbered file without its entry, no number given twice -----------------------

def registered(svc: Svc) -> dict[str, dict]:
    out = {}
    for path in sorted((svc.root / "register").rglob("*.yaml")):
        entry = yaml.safe_load(path.read_text(encoding="utf-8"))
        out[entry["number"]] = entry
    return out


def assert_letters_consistent(svc: Svc) -> tuple[list[str], list[str]]:
    """Every numbered file has its register entry (and its sha256); numbers are unique."""
    entries = registered(svc)
    listed = {f["path"]: (number, f["sha256"]) for number, e in entries.items() for f in e["files"]}
    for path in (svc.root / "letters").rglob("*.*") if (svc.root / "letters").exists() else []:
        rel = path.relative_to(svc.root).as_posix()
        assert rel in listed, f"{rel} has no register entry"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == listed[rel][1]
    for rel in listed:
        assert (svc.root / rel).is_file(), f"{rel} is registered but missing"
    cases = [e["case"] for e in entries.values()]
    assert len(set(entries)) == len(entries)
    return sorted(entries), cases


@pytest.mark.parametrize(("point", "after", "issued"), [
    ("mid-files", 3, 1),  # the second letter's PDF is written (letter 1: PDF, case, entry = 3 files): undone
    ("after-files", 1, 2),  # the second letter's files all written: finished
])
def test_a_letter_batch_killed_mid_letter_keeps_numbers_and_entries_together(svc: Svc, point: str, after: int,
                                                                             issued: int) -> None:
    ids = [case_with(svc, name=n, phone=p) for n, p in (("张三", "13800138000"), ("李四", "13911112222"),
                                                        ("王五", "13700001111"))]
    done = crashed(svc, point, "letter", "handling-notice", *ids, after=after)
    assert done.returncode == KILLED
    assert len(done.stdout.splitlines()) == 1  # the first letter was reported as made
    assert run_svc("letter", "list", env=env_of(svc)).returncode == 0
    numbers, cases = assert_letters_consistent(svc)
    assert numbers == [f"BJ01/2026/A00{i}" for i in range(1, issued + 1)]
    assert cases == ids[:issued]
    assert_whole(svc)
    # the rest of the batch gets the next numbers; none is given twice
    rest = ids[issued:]
    made = run_svc("letter", "handling-notice", *rest, env=env_of(svc))
    assert made.returncode == 0, made.stderr
    numbers, cases = assert_letters_consistent(svc)
    assert numbers == ["BJ01/2026/A001", "BJ01/2026/A002", "BJ01/2026/A003"] and sorted(cases) == sorted(ids)
    assert_whole(svc)


@pytest.mark.parametrize(("point", "issued"), [("mid-files", 1), ("after-commit", 2)])
def test_ctrl_c_in_a_letter_batch_settles_before_it_exits(svc: Svc, point: str, issued: int) -> None:
    ids = [case_with(svc, name=n, phone=p) for n, p in (("张三", "13800138000"), ("李四", "13911112222"),
                                                        ("王五", "13700001111"))]
    skip = 3 if point == "mid-files" else 1
    done = crashed(svc, point, "letter", "handling-notice", *ids, signal_name="INT", after=skip)
    assert done.returncode == 130 and "interrupted" in done.stderr and "Traceback" not in done.stderr
    assert not intent_file(svc).exists()  # settled in-process: nothing for the next command to do
    numbers, _ = assert_letters_consistent(svc)
    assert numbers == [f"BJ01/2026/A00{i}" for i in range(1, issued + 1)]
    assert_whole(svc)
    more = run_svc("letter", "handling-notice", ids[2], env=env_of(svc))
    assert more.returncode == 0
    numbers, _ = assert_letters_consistent(svc)
    assert numbers == [f"BJ01/2026/A00{i}" for i in range(1, issued + 2)]


# --- no write while git is mid-operation --------------------------------------------------------

def untouched(svc: Svc, head: str, files: list[Path]) -> None:
    assert sorted(p for p in svc.root.rglob("*.yaml") if ".git" not in p.parts) == files
    assert svc.git("rev-parse", "HEAD").strip() == head
    assert not intent_file(svc).exists()


def yaml_files(svc: Svc) -> list[Path]:
    return sorted(p for p in svc.root.rglob("*.yaml") if ".git" not in p.parts)


def test_no_write_on_a_detached_head(svc: Svc) -> None:
    case_id = svc.open("inquiry", "--customer", "张三")
    svc.git("checkout", "-q", "--detach")
    head, files, text = svc.git("rev-parse", "HEAD").strip(), yaml_files(svc), svc.git("status", "--porcelain")
    for args in (("note", case_id, "补记"), ("open", "inquiry", "--customer", "李四")):
        done = run_svc(*args, env=env_of(svc))
        assert done.returncode == 1 and done.stdout == ""
        assert done.stderr.count("\n") == 1 and "git switch" in done.stderr and "未写入任何内容" in done.stderr
        untouched(svc, head, files)
        assert svc.git("status", "--porcelain") == text
    assert run_svc("list", env=env_of(svc)).returncode == 0  # reading is fine


def test_no_write_while_a_rebase_is_stopped(svc: Svc) -> None:
    case_id = svc.open("inquiry", "--customer", "张三")
    svc.ok("note", case_id, "第一条")
    # a rebase that stops half-way, as a killed `svc sync`'s pull --rebase leaves it
    stopped = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "rebase", "-q", "--exec", "false",
                              "HEAD~1"], cwd=svc.root, capture_output=True, text=True)
    assert stopped.returncode != 0 and (svc.root / ".git" / "rebase-merge").is_dir()
    head, files = svc.git("rev-parse", "HEAD").strip(), yaml_files(svc)
    done = run_svc("note", case_id, "第二条", env=env_of(svc))
    assert done.returncode == 1 and "svc sync" in done.stderr and "git rebase --abort" in done.stderr
    untouched(svc, head, files)
    letter = run_svc("letter", "handling-notice", case_id, env=env_of(svc))
    assert letter.returncode == 1 and not (svc.root / "letters").exists() and not (svc.root / "register").exists()
    subprocess.run(["git", "rebase", "--abort"], cwd=svc.root, check=True)
    svc.ok("note", case_id, "第二条")  # back on the branch: writes work again


def test_no_write_while_a_merge_is_under_way(svc: Svc) -> None:
    case_id = svc.open("inquiry", "--customer", "张三")
    branch = svc.git("symbolic-ref", "--short", "HEAD").strip()
    svc.git("switch", "-q", "-c", "side")
    (svc.root / "notes.txt").write_text("side\n", encoding="utf-8")
    svc.git("add", "notes.txt")
    svc.git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "side")
    svc.git("switch", "-q", branch)
    svc.git("-c", "user.name=t", "-c", "user.email=t@t", "merge", "-q", "--no-commit", "--no-ff", "side")
    assert (svc.root / ".git" / "MERGE_HEAD").exists()
    head, files = svc.git("rev-parse", "HEAD").strip(), yaml_files(svc)
    done = run_svc("close", case_id, "--resolution", "已答复", env=env_of(svc))
    assert done.returncode == 1 and "git merge --abort" in done.stderr
    untouched(svc, head, files)


def test_the_guard_can_be_bypassed_explicitly_by_an_operation_that_runs_there(svc: Svc) -> None:
    """`svc sync`'s own recovery writes while git is mid-rebase: it says so explicitly."""
    svc.open("inquiry", "--customer", "张三")
    svc.git("checkout", "-q", "--detach")
    store = Store.open(svc.root)
    path = svc.root / "notes.yaml"
    actor = Actor("wangfang", "王芳", "assistant")
    with store.locked(), pytest.raises(RefusedError):
        store.write({path: "a: b\n"}, "refused", actor)
    assert not path.exists()
    with store.locked(), store.git_operations_allowed():
        store.write({path: "a: b\n"}, "allowed\n", actor)
    assert svc.git("log", "-1", "--format=%s").strip() == "allowed"
    with store.locked(), pytest.raises(RefusedError):  # only inside the `with`
        store.write({path: "a: c\n"}, "refused again", actor)


def test_start_up_without_an_intent_does_not_load_the_recovery_code(svc: Svc) -> None:
    probe = ("import sys; from svc.cli import cli\n"
             "try:\n    cli.main(args=sys.argv[1:], prog_name='svc')\nexcept SystemExit:\n    pass\n"
             "print('LOADED' if 'svc.intent' in sys.modules else 'NOT LOADED')")
    done = subprocess.run([sys.executable, "-c", probe, "list"], env=env_of(svc), capture_output=True, text=True)
    assert done.stdout.strip().endswith("NOT LOADED"), done


COMMANDS = {
    "follow-up": ("follow-up", "{case}", "--outcome", "unsatisfied", "--note", "客户仍不满意"),
    "close": ("close", "{case}", "--resolution", "已修复", "--satisfaction", "5"),
    "duty add": ("duty", "add", "8:50 接3号楼业主电话，报卫生间漏水"),
    "handover": ("handover", "--to", "lina", "--equipment", "电话、电脑正常", "--note", "{case} 等工程部回复"),
}


@pytest.mark.parametrize(("command", "point"), [
    ("follow-up", "after-intent"), ("close", "after-files"), ("duty add", "mid-files"), ("handover", "after-commit")])
def test_every_kind_of_write_killed_is_whole_or_absent(svc: Svc, command: str, point: str) -> None:
    """The other writes the issue names, each killed at one point of its write."""
    cases = []
    if command == "handover":  # (a fresh complaint's 3-minute callback would refuse the handover)
        svc.ok("duty", "add", "9:00 接班")
    else:
        cases = [case_with(svc)]
    head = svc.git("rev-parse", "HEAD").strip()
    args = [a.format(case=cases[0] if cases else "") for a in COMMANDS[command]]
    done = crashed(svc, point, *args)
    assert done.returncode == KILLED, done.stderr
    listed = run_svc("list", "--status", "all", "--format", "ids", env=env_of(svc))
    assert listed.returncode == 0 and listed.stdout.split() == cases
    assert_whole(svc)
    commits = svc.git("rev-list", f"{head}..HEAD").split()
    assert len(commits) == (0 if point == "after-intent" else 1)
    if commits:
        assert f"Svc-Action: {command.split()[0]}" in svc.git("log", "-1", "--format=%B")


def test_a_letter_killed_with_a_relative_out_folder_is_undone_from_anywhere(svc: Svc, tmp_path: Path) -> None:
    case_id = case_with(svc)
    work = tmp_path / "desk"
    work.mkdir()
    env = env_of(svc, SVC_TEST_CRASH="mid-files")
    done = run_svc("letter", "handling-notice", case_id, "--out", "out", env=env, cwd=work)
    assert done.returncode == KILLED and list((work / "out").glob("*.pdf"))
    assert run_svc("list", env=env_of(svc), cwd=tmp_path).returncode == 0  # another folder
    assert list((work / "out").glob("*.pdf")) == [] and not (svc.root / "register").exists()
    assert_whole(svc)


def test_code_holding_the_lock_settles_once_git_is_back_on_its_branch(svc: Svc) -> None:
    """What `svc sync`'s own recovery does: it holds the lock across git's operation and
    settles the pending write afterwards with `settle_pending`."""
    case_id = svc.open("inquiry", "--customer", "张三")
    branch = svc.git("symbolic-ref", "--short", "HEAD").strip()
    crashed(svc, "after-files", "note", case_id, "补记")
    svc.git("checkout", "-q", "--detach")
    store = Store.open(svc.root)
    told: list[str] = []
    store.notify = told.append
    with store.locked():  # entering waits for git, once
        assert intent_file(svc).exists() and len(told) == 1 and "git switch" in told[0]
        svc.git("switch", "-q", branch)
        store.settle_pending()
    assert not intent_file(svc).exists() and "已完成" in told[-1]
    assert notes_of(svc, case_id) == ["补记"]
    assert_whole(svc)


def test_an_unreadable_intent_is_named_and_stops_writes_not_reads(svc: Svc) -> None:
    case_id = svc.open("inquiry", "--customer", "张三")
    intent_file(svc).write_text("{not json", encoding="utf-8")
    listed = run_svc("list", "--format", "ids", env=env_of(svc))
    assert listed.returncode == 0 and listed.stdout.split() == [case_id]
    assert "intent.json" in listed.stderr and listed.stderr.count("\n") == 1
    head = svc.git("rev-parse", "HEAD").strip()
    refused = run_svc("note", case_id, "补记", env=env_of(svc))
    assert refused.returncode == 1 and "intent.json" in refused.stderr and "Traceback" not in refused.stderr
    assert refused.stderr.count("\n") == 2 and "未写入任何内容" in refused.stderr
    assert svc.git("rev-parse", "HEAD").strip() == head and porcelain(svc) == []

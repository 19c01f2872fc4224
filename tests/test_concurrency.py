"""Several `svc` processes at once, a held lock, and a writer killed mid-write: real
processes, real files, real git."""

from __future__ import annotations

import fcntl
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from svc.store import Store
from tests.conftest import Svc, run_svc


def svc_env(svc: Svc, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SVC_")}
    env.update({"SVC_STORE": str(svc.root), "SVC_USER": "wangfang", "SVC_NOW": "2026-11-05T09:30:00+08:00", **extra})
    return env


def case_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "cases").rglob("*.yaml") if not p.name.startswith("."))


def test_twenty_opens_at_once_get_twenty_ids_files_and_commits(svc: Svc) -> None:
    before = int(svc.git("rev-list", "--count", "HEAD"))
    env = svc_env(svc)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "svc", "--wait", "60", "open", "complaint", "--customer", f"客户{i}",
             "--phone", f"1380013{i:04d}", "--branch", "chaoyang"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        for i in range(20)
    ]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    for p in procs:
        p.stdout.close()  # type: ignore[union-attr]
        p.stderr.close()  # type: ignore[union-attr]
    for code, out, err in results:
        assert code == 0, err
        assert "Traceback" not in err
    ids = [out.strip() for _, out, _ in results]
    assert len(set(ids)) == 20
    assert sorted(ids) == [f"C2611-A{n:03d}" for n in range(1, 21)]
    assert [p.stem for p in case_files(svc.root)] == sorted(ids)
    assert int(svc.git("rev-list", "--count", "HEAD")) == before + 20
    for case_id in ids:  # each commit holds exactly its own case
        assert svc.git("log", "--format=%s", "--", f"cases/2026/11/{case_id}.yaml").strip().startswith(
            f"open {case_id}: ")
    assert svc.git("status", "--porcelain") == ""
    check = run_svc("check", env=env)
    said = "".join(line for line in check.stderr.splitlines(keepends=True) if "calendar.years" not in line)
    assert (check.returncode, check.stdout, said) == (0, "", "")  # but the calendar's warning ahead


def test_a_held_lock_makes_writers_give_up_with_75_but_readers_go_on(svc: Svc) -> None:
    case_id = svc.open()
    path = svc.root / "cases" / "2026" / "11" / f"{case_id}.yaml"
    before = path.read_bytes()
    head = svc.git("rev-parse", "HEAD")
    env = svc_env(svc)
    with open(svc.root / ".svc" / "lock", "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        started = time.monotonic()
        done = run_svc("--wait", "0.5", "note", case_id, "客户来电", env=env)
        elapsed = time.monotonic() - started
        assert done.returncode == 75, done.stderr
        assert "busy" in done.stderr and "Traceback" not in done.stderr
        assert done.stdout == ""
        assert 0.5 <= elapsed < 5
        opened = run_svc("--wait", "0", "open", "complaint", env=env)
        assert opened.returncode == 75 and opened.stdout == ""
        # reading needs no lock
        shown = run_svc("show", case_id, "--format", "json", env=env)
        assert shown.returncode == 0 and case_id in shown.stdout
        # in-process too: --wait applies to every writer
        assert svc("--wait", "0.2", "close", case_id, "--resolution", "x").exit_code == 75
        assert svc("--wait", "0.2", "archive", "--apply").exit_code == 75
    assert path.read_bytes() == before
    assert svc.git("rev-parse", "HEAD") == head
    assert len(case_files(svc.root)) == 1
    done = run_svc("--wait", "0.5", "note", case_id, "客户来电", env=env)
    assert done.returncode == 0, done.stderr


def test_a_writer_waits_for_a_lock_that_is_released(svc: Svc) -> None:
    case_id = svc.open()
    env = svc_env(svc)
    with open(svc.root / ".svc" / "lock", "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        proc = subprocess.Popen([sys.executable, "-m", "svc", "--wait", "20", "note", case_id, "等锁"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        time.sleep(1.0)
        assert proc.poll() is None  # still waiting
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "等锁" in svc.ok("show", case_id).stdout


NOTE_LOOP = textwrap.dedent("""
    import datetime as dt, sys
    from pathlib import Path
    from svc import workflow
    from svc.actions import Context, change_case, resolve_actor
    from svc.store import Store

    store = Store.open(Path(sys.argv[1]), 30.0)
    case_id = sys.argv[2]
    ctx = Context(store, resolve_actor(store, "wangfang"), dt.datetime.fromisoformat("2026-11-06T10:00:00+08:00"))
    print("ready", flush=True)
    n = 0
    while True:
        n += 1
        text = f"第{n}次备注 " + "很长的备注内容" * (n % 40)
        change_case(ctx, case_id, "note", None, lambda case, when: workflow.note(case, text, when, "wangfang"))
""")


def test_a_writer_killed_at_random_never_leaves_a_broken_case_file(svc: Svc) -> None:
    ids = [svc.open("complaint", "--customer", "张三"), svc.open("repair", "--customer", "李四")]
    store = Store.open(svc.root)
    rng = random.Random(20261105)
    env = svc_env(svc)
    for round_no in range(8):
        case_id = ids[round_no % 2]
        # its own process group, so the kill takes its `git commit` down with it, as a crash would
        proc = subprocess.Popen([sys.executable, "-c", NOTE_LOOP, str(svc.root), case_id],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                start_new_session=True)
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n", proc.stderr.read()  # type: ignore[union-attr]
        time.sleep(rng.uniform(0.05, 0.6))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()  # type: ignore[union-attr]
        assert proc.returncode == -signal.SIGKILL, f"round {round_no}: the writer died by itself"
        for path in case_files(svc.root):
            record, problems = store.parse(path)
            assert record is not None and problems == [], f"round {round_no}: {path}: {problems}"
        # git's own locks, if the kill hit `git commit`, are git's to leave; an operator removes them
        for lock in [*(svc.root / ".git").glob("*.lock"), *(svc.root / ".git" / "refs").rglob("*.lock")]:
            lock.unlink()
    # leftover hidden temp files do not bother check, list or the next writer
    check = run_svc("check", env=env)
    assert (check.returncode, check.stdout) == (0, ""), check.stdout + check.stderr
    listed = run_svc("list", "--format", "ids", env=env)
    assert listed.returncode == 0 and listed.stdout.split() == ids
    for case_id in ids:
        done = run_svc("note", case_id, "事后补记", env={**env, "SVC_NOW": "2026-11-07T10:00:00+08:00"})
        assert done.returncode == 0, done.stderr
    # whatever a kill left uncommitted went into those commits; only hidden temp files may remain
    for line in svc.git("status", "--porcelain", "--untracked-files=all").splitlines():
        assert line.startswith("?? ") and Path(line[3:]).name.startswith(".") and line.endswith(".tmp"), line
    notes = sum(1 for p in case_files(svc.root) for line in p.read_text(encoding="utf-8").splitlines()
                if line.startswith("  text: 第"))
    assert notes > 0, "the writer never got a note in: the test proves nothing"

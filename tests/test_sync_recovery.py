"""A killed `svc sync` is finished by the next one, every commit kept (README, "Many clones,
one history"). The kill lands at a chosen moment here: the merge driver kills its own
process group (svc sync, git pull, git rebase) the first time git calls it, which leaves
what a power cut leaves mid-rebase: a detached HEAD, .git/rebase-merge, a half-made pick."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.killharness import Office

KILL_GROUP = f"{shlex.quote(sys.executable)} -c 'import os, signal; os.killpg(0, signal.SIGKILL)'"


@pytest.fixture
def office(tmp_path: Path) -> Office:
    return Office(tmp_path / "office")


def _case_with_changes_on_both_sides(office: Office) -> str:
    a, b = office.a, office.b
    case = office.open_case(a)
    office.svc(a, "sync")
    office.svc(b, "sync")
    office.svc(b, "note", case, "B 台备注", now=office.tick())
    office.svc(b, "sync")
    office.svc(a, "note", case, "A 台备注", now=office.tick())
    office.svc(a, "open", "repair", "--customer", "甲", "--summary", "报修", now=office.tick())
    return case


def _kill_sync_in_rebase(office: Office) -> None:
    a = office.a
    driver = office.git(a, "config", "merge.svc.driver").stdout.strip()
    office.git(a, "config", "merge.svc.driver", KILL_GROUP)
    proc = subprocess.Popen([sys.executable, "-m", "svc", "sync"], cwd=a, env=office.svc_env("wangfang", office.now()),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    assert proc.wait(timeout=120) == -9
    office.git(a, "config", "merge.svc.driver", driver)
    assert (a / ".git" / "rebase-merge").is_dir()
    assert office.git(a, "symbolic-ref", "-q", "HEAD", check=False).returncode != 0  # detached


def _texts(office: Office, where: Path, rev: str) -> str:
    files = office.git(where, "ls-tree", "-r", "--name-only", rev, "cases").stdout.split()
    return "".join(office.git(where, "show", f"{rev}:{name}").stdout for name in files)


def test_sync_killed_mid_rebase_then_commits_on_detached_head_all_reach_branch_and_remote(office: Office) -> None:
    """The issue's measured failure: commands run after the kill commit on the detached HEAD
    (unless a guard refuses them); the next sync must keep them, not abort them away."""
    case = _case_with_changes_on_both_sides(office)
    _kill_sync_in_rebase(office)
    a = office.a
    made = []
    for args in (["note", case, "断电后补记"], ["open", "inquiry", "--customer", "乙", "--summary", "咨询"]):
        done = office.svc(a, *args, now=office.tick(), check=False)
        if done.returncode == 0:  # today they commit on the detached HEAD; a guard may refuse them
            made.append(args[-1])
    synced = office.svc(a, "sync", check=False)
    assert synced.returncode == 0, synced.stderr
    assert "interrupted" in synced.stderr or "中断" in synced.stderr
    assert office.git(a, "symbolic-ref", "HEAD").stdout.strip() == "refs/heads/main"
    assert office.git(a, "status", "--porcelain").stdout == ""
    assert not (a / ".git" / "rebase-merge").exists()
    assert office.git(a, "rev-parse", "main").stdout == office.git(office.remote, "rev-parse", "main").stdout
    everything = _texts(office, office.remote, "main")
    for text in ["B 台备注", "A 台备注", "报修", *made]:
        assert text in everything
    assert office.git(a, "fsck", "--no-dangling").returncode == 0
    assert office.git(a, "for-each-ref", "refs/svc/keep/").stdout == ""  # held only until they were on the branch
    assert office.svc(a, "check", check=False).returncode == 0


def test_uncommitted_change_found_mid_rebase_is_kept_in_a_commit(office: Office) -> None:
    case = _case_with_changes_on_both_sides(office)
    _kill_sync_in_rebase(office)
    a = office.a
    (a / "svc.yaml").write_text((a / "svc.yaml").read_text(encoding="utf-8") + "# 手工改动\n", encoding="utf-8")
    synced = office.svc(a, "sync", check=False)
    assert synced.returncode == 0, synced.stderr
    rescued = office.git(a, "for-each-ref", "--format=%(refname)", "refs/svc/rescued/").stdout.split()
    assert len(rescued) == 1
    assert "# 手工改动" in office.git(a, "show", f"{rescued[0]}:svc.yaml").stdout
    assert "A 台备注" in _texts(office, office.remote, "main") and case


def test_stale_index_lock_of_a_killed_git_is_removed_and_named(office: Office) -> None:
    lock = office.a / ".git" / "index.lock"
    lock.write_bytes(b"")
    old = time.time() - 60
    os.utime(lock, (old, old))
    synced = office.svc(office.a, "sync", check=False)
    assert synced.returncode == 0, synced.stderr
    assert "index.lock" in synced.stderr
    assert not lock.exists()


def test_a_lock_younger_than_a_live_git_would_hold_it_is_waited_for_then_removed(office: Office) -> None:
    lock = office.a / ".git" / "refs" / "heads" / "main.lock"
    lock.write_text("0" * 40 + "\n")
    started = time.monotonic()
    synced = office.svc(office.a, "sync", check=False)
    assert synced.returncode == 0, synced.stderr
    assert time.monotonic() - started >= 1.5  # it waited for the lock to be old enough to be stale
    assert not lock.exists()


def test_sync_refuses_a_detached_head_it_did_not_leave(office: Office) -> None:
    office.open_case(office.a)
    office.git(office.a, "checkout", "-q", "--detach", "HEAD~1")
    done = office.svc(office.a, "sync", check=False)
    assert done.returncode == 1
    assert "git checkout" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_push_killed_on_the_remote_side_is_redone(office: Office) -> None:
    """A stale ref lock in the (local) remote, as a push killed on the server's side leaves it."""
    office.open_case(office.a)
    lock = office.remote / "refs" / "heads" / "main.lock"
    lock.write_text("0" * 40 + "\n")
    old = time.time() - 60
    os.utime(lock, (old, old))
    done = office.svc(office.a, "sync", check=False)
    assert done.returncode == 0, done.stderr
    assert not lock.exists()
    assert office.git(office.a, "rev-parse", "main").stdout == office.git(office.remote, "rev-parse", "main").stdout


def test_commit_dropped_by_a_hand_run_rebase_abort_is_found_in_the_reflog(office: Office) -> None:
    """After the kill someone commits on the detached HEAD, then runs `git rebase --abort`
    (which drops that commit); the journal says a sync was interrupted, so the next sync
    looks at HEAD's reflog since it began and puts the commit back on the branch."""
    _case_with_changes_on_both_sides(office)
    _kill_sync_in_rebase(office)
    a = office.a
    (a / ".git" / "index.lock").unlink(missing_ok=True)  # what the person does first
    office.git(a, "rebase", "--quit")
    office.git(a, "reset", "-q", "--hard")
    (a / "handbook.txt").write_text("值班手册\n", encoding="utf-8")
    office.git(a, "add", "handbook.txt")
    office.git(a, "-c", "user.name=手工", "-c", "user.email=hand@x.invalid", "commit", "-qm", "handbook")
    office.git(a, "checkout", "-q", "main")  # the commit is now on no branch
    assert office.git(a, "branch", "--contains", "HEAD@{1}").stdout.strip() == ""
    synced = office.svc(a, "sync", check=False)
    assert synced.returncode == 0, synced.stderr
    assert office.git(office.remote, "show", "main:handbook.txt").stdout == "值班手册\n"
    assert "A 台备注" in _texts(office, office.remote, "main")

"""Tamper checks on by default (记录不得涂改): plain `svc check` audits every commit of the
store's history (incrementally, from the state in .svc/audit.json), the pre-commit hook
svc init and svc setup install refuses a hand commit that alters records, the server's
pre-receive hook refuses such a push (and any push that rewrites or deletes the branch),
and svc sync does not publish one. Real git throughout: real commits (hooks and all), a
real bare repository and real pushes."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from svc import yamlio
from tests.conftest import Svc, make_store
from tests.test_clones import (  # noqa: F401  (office is a fixture)
    Office,
    assert_converged,
    case_path,
    day,
    git,
    hand_commit,
    head,
    history,
    office,
    open_case,
    sync,
)

MET_AT = day(5, "10:02")


def forged_met(tmp_path: Path) -> str:
    """The case file a forger wants: callback-3min met at 10:02, before the 10:30 note that
    was really the next event. Made by svc itself in a scratch store, so that the forged
    file is a perfectly consistent record; only its history was never recorded that way."""
    scratch = Svc(make_store(tmp_path / "scratch"))
    case = open_case(scratch, "张三", day(5, "10:00"))
    scratch.ok("met", case, "callback-3min", "--at", MET_AT, now=day(5, "10:05"))
    scratch.ok("note", case, "已致电客户", now=day(5, "10:30"))
    return case_path(scratch, case).read_text(encoding="utf-8")


def overdue_case(clone: Svc) -> str:
    case = open_case(clone, "张三", day(5, "10:00"))
    clone.ok("note", case, "已致电客户", now=day(5, "10:30"))
    return case


def bypass(cwd: Path, message: str) -> None:
    """A hand commit by someone who skips the pre-commit hook (git commit --no-verify)."""
    git(cwd, "add", "-A")
    git(cwd, "-c", "user.name=手工", "-c", "user.email=hand@example.invalid", "commit", "--no-verify", "-qm", message)


def check_problems(clone: Svc, *args: str) -> str:
    result = clone("check", *args)
    assert result.exit_code == 3, result.stdout + result.stderr
    return result.stdout


INSERTED = "history[5] (met at 2026-11-05T10:02:00+08:00) inserted by hand between older entries"


# --- the forged deadline ------------------------------------------------------------------------

def test_a_met_event_inserted_between_older_events_is_reported_and_refused(svc: Svc, tmp_path: Path) -> None:
    case = overdue_case(svc)
    path = case_path(svc, case)
    path.write_text(forged_met(tmp_path), encoding="utf-8")
    result = svc("check", "--format", "json")
    found = json.loads(result.stdout)  # the forged file replays cleanly: only its history tells
    assert result.exit_code == 3 and len(found) == 1
    assert found[0]["message"].startswith(f"in the work tree (not committed): {INSERTED}")
    rel = f"cases/2026/11/{case}.yaml"
    assert f"{rel}: in the work tree (not committed): {INSERTED}" in check_problems(svc)

    before = head(svc.root)
    done = hand_commit(svc.root, "补录回拨")  # the pre-commit hook svc init installed
    assert done.returncode != 0
    assert f"{rel}: in this commit: {INSERTED}" in done.stderr, done.stderr
    assert "commit refused" in done.stderr
    assert head(svc.root) == before

    bypass(svc.root, "补录回拨")
    forged = head(svc.root)
    found = check_problems(svc)
    assert f"{rel}: commit {forged[:10]} (手工, " in found and INSERTED in found, found
    since = check_problems(svc, "--since", "HEAD~1")
    assert INSERTED in since and since.count(rel) == 1, since  # named once, not by both audits
    assert INSERTED in check_problems(svc)  # and again: a finding stays until the commit leaves the history

    # put right by taking the unpublished commit back: the audit starts again where history parted
    git(svc.root, "reset", "-q", "--hard", before)
    assert (svc("check").exit_code, svc("check").stdout) == (0, "")


def test_an_event_appended_by_hand_at_the_end_is_allowed(svc: Svc) -> None:
    case = overdue_case(svc)
    path = case_path(svc, case)
    with path.open("a", encoding="utf-8") as out:  # a paper note written down afterwards
        out.write(f"- at: '{day(5, '12:00')}'\n  by: lina\n  action: note\n  text: 纸质记录补录\n")
    done = hand_commit(svc.root, "paper note")
    assert done.returncode == 0, done.stderr
    assert (svc("check").exit_code, svc("check").stdout) == (0, "")


def test_the_server_refuses_the_forgery_svc_sync_does_not_push_it(office: Office, tmp_path: Path) -> None:
    a, b = office.a, office.b
    said = a.ok("hook", "install", "--server", str(office.remote)).stderr
    assert "pre-receive hook installed" in said
    case = overdue_case(a)
    sync(a)
    served = git(office.remote, "rev-parse", "main").stdout.strip()
    case_path(a, case).write_text(forged_met(tmp_path), encoding="utf-8")
    bypass(a.root, "补录回拨")

    result = a("sync")
    assert result.exit_code == 3, result.stderr
    assert INSERTED in result.stderr and "refusing to push" in result.stderr
    assert git(office.remote, "rev-parse", "main").stdout.strip() == served

    done = git(a.root, "push", "origin", "HEAD:main", check=False)
    assert done.returncode != 0 and "pre-receive hook declined" in done.stderr
    assert INSERTED in done.stderr and f"cases/2026/11/{case}.yaml" in done.stderr
    assert git(office.remote, "rev-parse", "main").stdout.strip() == served
    sync(b)
    assert history(b, case)[-1]["text"] == "已致电客户"


def test_the_server_refuses_rewritten_history_and_a_deleted_branch(office: Office) -> None:
    a = office.a
    a.ok("hook", "install", "--server", str(office.remote))
    case = overdue_case(a)
    sync(a)
    served = git(office.remote, "rev-parse", "main").stdout.strip()
    # the last note taken back and another written instead: only a forced push would carry it
    git(a.root, "reset", "-q", "--hard", "HEAD~1")
    a.ok("note", case, "客户未接电话", now=day(5, "10:40"))
    done = git(a.root, "push", "--force", "origin", "HEAD:main", check=False)
    assert done.returncode != 0 and "not a fast-forward" in done.stderr, done.stderr
    done = git(a.root, "push", "origin", ":main", check=False)
    assert done.returncode != 0 and "deleting a branch" in done.stderr, done.stderr
    assert git(office.remote, "rev-parse", "main").stdout.strip() == served


def _one_case_on_both_behind_the_servers_hook(office: Office) -> str:
    office.a.ok("hook", "install", "--server", str(office.remote))
    case = open_case(office.a, "张三", day(5, "09:00"))
    sync(office.a)
    sync(office.b)
    return case


def test_a_sync_whose_merge_placed_remote_events_between_local_ones_passes(office: Office) -> None:
    a, b = office.a, office.b
    case = _one_case_on_both_behind_the_servers_hook(office)
    a.ok("note", case, "A 10:30 致电", now=day(5, "10:30"))
    a.ok("note", case, "A 12:00 回访", now=day(5, "12:00"))
    b.ok("note", case, "B 11:00 客户来电", now=day(5, "11:00"), user="lina")
    sync(b)  # B's 11:00 note reaches the server first
    sync(a)  # A's rebase puts its 10:30 note before it: in time order, not at the end
    sync(b)
    texts = [ev.get("text") for ev in history(a, case)[-3:]]
    assert texts == ["A 10:30 致电", "B 11:00 客户来电", "A 12:00 回访"]
    assert_converged(office, a, b)  # a clean plain check on both, the server accepted every push
    # and from scratch, not only incrementally
    for clone in (a, b):
        result = clone("check", "--full")
        assert (result.exit_code, result.stdout) == (0, ""), result.stdout


# --- registers and summaries --------------------------------------------------------------------

def _summary(svc: Svc) -> Path:
    svc.ok("patrol", "add", "--area", "3号楼", "--at", "2026-10-12T09:00", now="2026-10-12T10:00:00+08:00")
    svc.ok("patrol", "summary", "--month", "2026-10", now="2026-11-02T09:00:00+08:00")
    return svc.root / "summaries" / "patrol-2026-10.yaml"


@pytest.mark.parametrize("how", ["edit", "delete"])
def test_a_monthly_summary_never_changes_or_disappears(svc: Svc, how: str) -> None:
    path = _summary(svc)
    if how == "edit":
        path.write_text(path.read_text(encoding="utf-8").replace("patrols: 1", "patrols: 2"), encoding="utf-8")
        said = "monthly summary changed"
    else:
        path.unlink()
        said = "monthly summary deleted"
    assert f"summaries/patrol-2026-10.yaml: in the work tree (not committed): {said}" in check_problems(svc)
    done = hand_commit(svc.root, "fix summary")
    assert done.returncode != 0 and said in done.stderr, done.stderr
    bypass(svc.root, "fix summary")
    assert f"summaries/patrol-2026-10.yaml: commit {head(svc.root)[:10]} (手工, " in check_problems(svc)


def _letter(svc: Svc) -> Path:
    case = overdue_case(svc)
    svc.ok("letter", "handling-notice", case, now=day(5, "11:00"))
    return svc.root / "register" / "2026" / "BJ01-2026-A001.yaml"


@pytest.mark.parametrize("how", ["edit", "delete"])
def test_the_letter_register_is_append_only(svc: Svc, how: str) -> None:
    path = _letter(svc)
    node = yamlio.loads(path.read_text(encoding="utf-8"), "entry")
    if how == "edit":
        node["recipient"] = "别人"
        path.write_text(yamlio.dumps(node), encoding="utf-8")
        said = "letter register entry: recipient changed"
    else:
        path.unlink()
        said = "letter register entry deleted"
    done = hand_commit(svc.root, "tidy register")
    assert done.returncode != 0 and said in done.stderr, done.stderr
    bypass(svc.root, "tidy register")
    found = check_problems(svc)
    assert f"register/2026/BJ01-2026-A001.yaml: commit {head(svc.root)[:10]} (手工, " in found and said in found
    # svc's own signature for the letter is an addition, and allowed
    if how == "edit":
        git(svc.root, "reset", "-q", "--hard", "HEAD~1")
        svc.ok("letter", "signed", "BJ01/2026/A001", "--by", "赵刚", now=day(6))
        assert (svc("check").exit_code, svc("check").stdout) == (0, "")


def test_a_forged_disposal_register_entry_is_reported(svc: Svc) -> None:
    patrol = svc.ok("patrol", "add", "--area", "3号楼", now=day(3)).stdout.strip()
    path = svc.root / "patrols" / "2026" / "11" / f"{patrol}.yaml"
    assert path.exists()
    path.unlink()
    register = svc.root / "registers" / "disposal.yaml"
    register.parent.mkdir(exist_ok=True)
    register.write_text(
        "register: disposal\nentries:\n"
        f"- record: {patrol}\n  kind: patrol\n  period: 2026-11\n  required_retention_months: 24\n"
        "  cut_off: '2026-12-01'\n  disposable_on: '2028-12-01'\n  kept_days: 800\n  sha256: '0'\n"
        "  approved_by: lijun\n  disposed_by: lijun\n  disposed_at: '2026-11-05T10:00:00+08:00'\n",
        encoding="utf-8")
    said = f"entries[1] ({patrol}) added by hand (only svc adds entries here)"
    done = hand_commit(svc.root, "dispose")
    assert done.returncode != 0 and said in done.stderr, done.stderr
    bypass(svc.root, "dispose")
    assert f"registers/disposal.yaml: commit {head(svc.root)[:10]} (手工, " in check_problems(svc)
    # and the register cannot lose an entry either
    register.write_text("register: disposal\nentries: []\n", encoding="utf-8")
    assert f"entries[1] ({patrol}) removed" in check_problems(svc)


def test_a_hand_deleted_case_is_reported(svc: Svc) -> None:
    case = overdue_case(svc)
    git(svc.root, "rm", "-q", str(case_path(svc, case).relative_to(svc.root)))
    done = hand_commit(svc.root, "remove")
    assert done.returncode != 0 and "record file deleted without a disposal register entry" in done.stderr
    bypass(svc.root, "remove")
    assert f"cases/2026/11/{case}.yaml: commit {head(svc.root)[:10]} (手工, " in check_problems(svc)


# --- the incremental state, users and roles, installing hooks -------------------------------------

def state(svc: Svc) -> dict[str, object]:
    return json.loads((svc.root / ".svc" / "audit.json").read_text(encoding="utf-8"))


def test_check_keeps_where_it_got_to_and_does_not_walk_again(svc: Svc) -> None:
    case = overdue_case(svc)
    assert svc("check").exit_code == 0
    assert state(svc)["head"] == head(svc.root)
    # a finding planted in the state is reported: the second run took the state, not the history
    planted = dict(state(svc))
    planted["findings"] = [{"path": "cases/x.yaml", "commit": head(svc.root), "message": "planted"}]
    (svc.root / ".svc" / "audit.json").write_text(json.dumps(planted), encoding="utf-8")
    assert "cases/x.yaml: planted" in check_problems(svc)
    # a new commit is walked on its own (the planted finding is still kept)...
    svc.ok("note", case, "再次致电", now=day(5, "11:00"))
    assert "planted" in check_problems(svc)
    assert state(svc)["head"] == head(svc.root)
    # ...and --full walks everything again from the first commit
    assert svc("check", "--full").exit_code == 0
    assert state(svc)["findings"] == []
    assert ".svc/" in (svc.root / ".gitignore").read_text(encoding="utf-8")  # never committed


def test_changes_of_users_and_roles_are_listed_with_who_and_when(svc: Svc) -> None:
    config = svc.root / "svc.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("lina: {name: 李娜, role: assistant}",
                                                                 "lina: {name: 李娜, role: supervisor}"),
                      encoding="utf-8")
    done = git(svc.root, "-c", "user.name=周行", "-c", "user.email=z@example.invalid", "commit", "-qam", "lina promoted")
    assert done.returncode == 0
    result = svc("check", now="2026-09-05T09:30:00+08:00")  # before October: no calendar warning either
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")  # information, on request
    said = svc.ok("check", "--users").stderr
    assert f"svc: svc.yaml: commit {head(svc.root)[:10]} (周行, " in said
    assert "user lina: role assistant -> supervisor" in said
    assert "user wangfang added (role assistant)" in said  # when the office declared its users


def test_init_and_setup_install_the_pre_commit_hook_and_leave_a_foreign_one(office: Office) -> None:
    hook = office.a.root / ".git" / "hooks" / "pre-commit"
    assert "svc hook pre-commit" in hook.read_text(encoding="utf-8")
    assert hook.stat().st_mode & stat.S_IXUSR
    assert "svc hook pre-commit" in (office.b.root / ".git" / "hooks" / "pre-commit").read_text(encoding="utf-8")
    git(office.remote.parent, "clone", "-q", str(office.remote), str(office.remote.parent / "c"))
    c = Svc(office.remote.parent / "c")
    own = c.root / ".git" / "hooks" / "pre-commit"
    own.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    own.chmod(0o755)
    said = c.ok("setup", "--desk", "C").stderr
    assert "pre-commit hook not installed" in said and "not svc's" in said
    assert own.read_text(encoding="utf-8") == "#!/bin/sh\nexit 0\n"
    result = c("hook", "install")
    assert result.exit_code == 1 and "svc hook pre-commit" in result.stderr
    assert c("hook", "install", "--server", str(c.root)).exit_code == 1  # not a bare repository
    assert c("hook", "install", "--server", str(c.root / "nowhere")).exit_code == 1


def test_the_hook_runs_the_svc_on_path_once_the_installing_one_is_gone(svc: Svc, tmp_path: Path) -> None:
    hook = svc.root / ".git" / "hooks" / "pre-commit"
    text = hook.read_text(encoding="utf-8")
    first = text.splitlines()[2]
    assert first.startswith("if [ -x ")
    hook.write_text(text.replace(first, "if false; then :; fi"), encoding="utf-8")  # as if the venv were gone
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "svc").write_text('#!/bin/sh\necho "svc on PATH: $*" >&2\nexit 1\n', encoding="utf-8")
    (bin_dir / "svc").chmod(0o755)
    (svc.root / "notes.txt").write_text("x\n", encoding="utf-8")
    done = hand_commit(svc.root, "notes", env={"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"})
    assert done.returncode != 0 and "svc on PATH: hook pre-commit" in done.stderr
    git_only = str(Path(shutil.which("git") or "/usr/bin/git").parent)
    done = hand_commit(svc.root, "notes", env={"PATH": git_only})
    assert done.returncode != 0 and "cannot find svc" in done.stderr  # refused, never let through unchecked


def test_a_merge_commit_of_two_clones_passes_and_the_server_takes_it(office: Office) -> None:
    """Not only svc sync's rebase: a plain `git pull` merge through the driver brings the
    other clone's events into the middle of the history, and that is no forgery."""
    a, b = office.a, office.b
    case = _one_case_on_both_behind_the_servers_hook(office)
    a.ok("note", case, "A 10:30 致电", now=day(5, "10:30"))
    b.ok("note", case, "B 11:00 客户来电", now=day(5, "11:00"), user="lina")
    b.ok("note", case, "B 12:00 回访", now=day(5, "12:00"), user="lina")
    sync(b)
    ident = ["-c", "user.name=a", "-c", "user.email=a@example.invalid"]
    git(a.root, *ident, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main")
    assert len(git(a.root, "log", "-1", "--format=%P").stdout.split()) == 2  # a merge commit
    texts = [ev.get("text") for ev in history(a, case)[-3:]]
    assert texts == ["A 10:30 致电", "B 11:00 客户来电", "B 12:00 回访"]
    result = a("check", "--full")
    assert (result.exit_code, result.stdout) == (0, ""), result.stdout
    git(a.root, "push", "-q", "origin", "HEAD:main")
    sync(b)
    assert_converged(office, a, b)

"""How svc commits (svc/gitrepo.py's Git.commit): exactly its own paths on top of HEAD,
through git fast-import where it can and `git commit` where it must, with the author
date the event's time; a refused commit leaves nothing behind."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest

from svc.gitrepo import Git, GitError
from tests.conftest import Svc

AUTHOR = ("王芳 (wangfang)", "wangfang@bj01.invalid")


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def test_a_commit_holds_only_its_paths_and_leaves_other_staged_work_staged(svc: Svc) -> None:
    (svc.root / "README.txt").write_text("staged by hand\n", encoding="utf-8")
    git(svc.root, "add", "README.txt")
    case_id = svc.open("complaint", "--customer", "张三")
    assert git(svc.root, "show", "--name-only", "--format=", "HEAD").split() == [f"cases/2026/11/{case_id}.yaml"]
    assert git(svc.root, "status", "--porcelain") == "A  README.txt\n"
    assert git(svc.root, "fsck", "--no-progress") == ""


def test_the_author_date_is_the_event_and_the_committer_date_the_recording(svc: Svc) -> None:
    svc.open("complaint", "--customer", "张三", "--at", "2026-11-04T16:20:00+08:00")
    author, committed, who, subject = git(svc.root, "log", "-1", "--format=%aI|%cI|%an <%ae>|%s").strip().split("|")
    assert author == "2026-11-04T16:20:00+08:00"
    recorded = dt.datetime.fromisoformat(committed)
    assert abs((dt.datetime.now(dt.timezone.utc) - recorded).total_seconds()) < 600  # the real clock, not SVC_NOW's
    assert who == "王芳 (wangfang) <wangfang@bj01.invalid>"
    assert subject.startswith("open C2611-A001: complaint opened")


def test_commits_leave_loose_objects_not_a_pack_each(svc: Svc) -> None:
    packs = set((svc.root / ".git" / "objects" / "pack").glob("*.pack"))
    for _ in range(5):
        svc.open("repair", "--customer", "李四")
    assert set((svc.root / ".git" / "objects" / "pack").glob("*.pack")) == packs
    assert len(git(svc.root, "log", "--format=%H").split()) == 7


@pytest.mark.parametrize("state", ["detached", "merging", "crlf"])
def test_what_fast_import_cannot_take_goes_through_git_commit(svc: Svc, state: str) -> None:
    """A detached HEAD, an unfinished merge, a file git would store otherwise."""
    repo = Git(svc.root)
    path = svc.root / "cases" / "note.yaml"
    text = "a: 1\r\nb: 2\r\n" if state == "crlf" else "a: 1\n"
    path.write_text(text, encoding="utf-8", newline="")
    if state == "detached":
        git(svc.root, "checkout", "-q", "--detach")
    if state == "merging":
        (svc.root / ".git" / "MERGE_HEAD").write_text(git(svc.root, "rev-parse", "HEAD"), encoding="utf-8")
        with pytest.raises(GitError, match="merge"):  # git commit's own refusal
            repo.commit(["cases/note.yaml"], "note", AUTHOR)
        return
    repo.commit(["cases/note.yaml"], "note", AUTHOR, "2026-11-04T16:20:00+08:00")
    assert git(svc.root, "log", "-1", "--format=%s|%aI").strip() == "note|2026-11-04T16:20:00+08:00"
    assert git(svc.root, "show", "HEAD:cases/note.yaml") == ("a: 1\nb: 2\n" if state == "crlf" else "a: 1\n")
    assert git(svc.root, "status", "--porcelain", "--", "cases") == ""


def test_a_branch_moved_under_the_commit_is_refused_and_nothing_is_left(svc: Svc,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    first = svc.open("complaint", "--customer", "张三")
    before = git(svc.root, "rev-parse", "HEAD").strip()
    parent = git(svc.root, "rev-parse", "HEAD~1").strip()
    from svc import indexscan

    real = indexscan.read_head
    monkeypatch.setattr(indexscan, "read_head", lambda root: (real(root)[0], parent))  # as if HEAD moved after
    result = svc("note", first, "回访")
    assert result.exit_code == 1 and "fast-import" in result.stderr
    assert git(svc.root, "rev-parse", "HEAD").strip() == before
    assert git(svc.root, "status", "--porcelain") == ""  # the file put back, the path unstaged


# --- the journal of svc's own commits (svc/indexscan.py) -------------------------------------------

def git_diff(root: Path, old: str, new: str) -> set[str]:
    out = git(root, "diff", "--name-only", "--no-renames", old, new, "--", "cases")
    return {p for p in out.split() if p.endswith(".yaml")}


def test_the_journal_says_what_git_diff_says_about_svcs_own_commits(svc: Svc) -> None:
    from svc import indexscan

    root = str(svc.root)
    start = git(svc.root, "rev-parse", "HEAD").strip()
    first = svc.open("complaint", "--customer", "张三")
    svc.ok("note", first, "回访")
    second = svc.open("repair", "--customer", "李四")
    head = git(svc.root, "rev-parse", "HEAD").strip()
    assert indexscan.journalled_between(root, start, head) == git_diff(svc.root, start, head) == {
        f"cases/2026/11/{first}.yaml", f"cases/2026/11/{second}.yaml"}
    middle = git(svc.root, "rev-parse", "HEAD~1").strip()
    assert indexscan.journalled_between(root, middle, head) == {f"cases/2026/11/{second}.yaml"}
    # a commit svc did not make breaks the chain: git is asked instead
    (svc.root / "cases" / "2026" / "11" / f"{first}.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    git(svc.root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "by hand")
    third = svc.open("repair", "--customer", "王五")
    head = git(svc.root, "rev-parse", "HEAD").strip()
    assert indexscan.journalled_between(root, start, head) is None
    assert indexscan.committed_between(root, start, head) == git_diff(svc.root, start, head) == {
        f"cases/2026/11/{first}.yaml", f"cases/2026/11/{second}.yaml", f"cases/2026/11/{third}.yaml"}


def test_a_garbled_or_cut_journal_only_sends_the_index_to_git(svc: Svc, monkeypatch: pytest.MonkeyPatch) -> None:
    from svc import indexscan

    monkeypatch.setattr(indexscan, "JOURNAL_KEEP", 2)
    start = git(svc.root, "rev-parse", "HEAD").strip()
    ids = [svc.open("repair", "--customer", "李四") for _ in range(3)]
    head = git(svc.root, "rev-parse", "HEAD").strip()
    journal = svc.root / ".svc" / "index-journal"
    assert len(journal.read_text(encoding="utf-8").splitlines()) == 2  # the oldest line dropped
    assert indexscan.journalled_between(str(svc.root), start, head) is None
    journal.write_text("nonsense\n\t\t\n", encoding="utf-8")
    assert indexscan.committed_between(str(svc.root), start, head) == {f"cases/2026/11/{i}.yaml" for i in ids}
    assert json.loads(svc.ok("list", "--format", "json").stdout)[-1]["id"] == ids[-1]


def test_now_and_then_a_commit_lets_git_pack_its_loose_objects(svc: Svc, monkeypatch: pytest.MonkeyPatch) -> None:
    """As `git commit` does with `git gc --auto`: a desk that never syncs stays tidy."""
    from svc import gitrepo

    calls: list[tuple[tuple[str, ...], int]] = []
    real = Git.run

    def run(self: Git, *args: str, **kw: object) -> subprocess.CompletedProcess[str]:
        done = real(self, *args, **kw)  # type: ignore[arg-type]
        calls.append((args, done.returncode))
        return done

    monkeypatch.setattr(Git, "run", run)
    monkeypatch.setattr(gitrepo, "TIDY_EVERY", 2 ** 200)  # no commit id is a multiple
    svc.open("repair", "--customer", "李四")
    assert not [args for args, _ in calls if args[0] == "gc"]
    monkeypatch.setattr(gitrepo, "TIDY_EVERY", 1)  # every one is
    svc.open("repair", "--customer", "王五")
    assert [(args, code) for args, code in calls if args[0] == "gc"] == [(("gc", "--auto", "--quiet"), 0)]
    assert git(svc.root, "status", "--porcelain") == "" and git(svc.root, "fsck", "--no-progress") == ""

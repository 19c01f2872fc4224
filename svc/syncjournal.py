"""A killed `svc sync` is finished by the next one, and no commit is dropped.

`svc sync` is `git pull --rebase` then `git push`. Killed (kill -9, a power cut) while the
rebase runs, git leaves the clone on the rebase's detached HEAD with its state in
.git/rebase-merge, perhaps half a pick in the work tree and a stale .git/index.lock; svc
commands may even have committed on that detached HEAD since. `git rebase --abort`
would drop those commits. So sync keeps a journal, `.svc/sync-journal`: before it pulls,
the branch and its tip; and the next `svc sync` first looks for what a killed one left:

1. stale lock files of a killed git (`*.lock` under .git, removed only when no git process
   is working in the repository);
2. an unfinished rebase: any uncommitted change is kept in a commit (refs/svc/rescued/...),
   git's rebase state is dropped, and the work tree is reset to the detached HEAD's commit;
3. every commit to keep (the detached HEAD, the branch tip the journal recorded) that the
   branch does not hold yet, not even as a rebased copy, is put on the branch by rebasing
   the branch onto it (through the merge driver, as the pull's own rebase does); each is
   held by a ref (refs/svc/keep/...) until it is there, so even a kill during the
   recovery loses nothing.

A push killed mid-way is safe to redo: the remote takes a push whole or not at all (its
objects wait in a quarantine until the ref moves), and the next sync pulls and pushes again.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

from svc.errors import LockedError, SvcError
from svc.gitrepo import Git
from svc.store import LOCAL_DIR, Store

JOURNAL = "sync-journal"
KEEP_REFS = "refs/svc/keep/"
RESCUED_REFS = "refs/svc/rescued/"
# A lock file younger than this may be a live git's: wait until it is this old, then look for one
STALE_AGE = 2.0
# When some git process cannot be looked into (another user's), only a lock this old is stale
STALE_AGE_BLIND = 600.0
REBASE_DIRS = ("rebase-merge", "rebase-apply")
_LOCK_IN_MESSAGE = re.compile(r"Unable to create '([^']+\.lock)': File exists")

MESSAGES: dict[str, dict[str, str]] = {
    "zh": {
        "lock": "已删除被中断的 git 留下的锁文件 {path}",
        "rescued": "中断的同步留下了未提交的改动，已保存在提交 {commit}（{ref}），可用 git show {commit} 查看",
        "rebase": "上次同步在变基（rebase）中被中断，已恢复",
        "kept": "分支 {branch} 已包含被中断的同步的全部提交，以及之后在分离的 HEAD 上做的提交",
        "attached": "已回到分支 {branch}",
        "no-branch": "上次同步被中断，但不知道它在哪个分支上；请用 git checkout 分支名 回到分支，再运行 svc sync",
        "failed": "上次被中断的同步留下的提交无法并入分支 {branch}（{cause}）；这些提交保存在 {refs}，"
                  "下次 svc sync 会再试",
        "detached": "HEAD 不在任何分支上（分离的 HEAD），也不是被中断的同步留下的；请先用 git checkout 分支名 回到分支",
        "temps": "已删除被中断的 git 合并留下的 {count} 个临时文件（.merge_file_*）",
        "locked": "锁文件 {path} 存在，且有 git 进程正在这个仓库中运行；请稍后再试",
    },
    "en": {
        "lock": "removed {path}, left by a git that was killed",
        "rescued": "uncommitted changes left by the interrupted sync are kept in commit {commit} ({ref}); "
                   "see git show {commit}",
        "rebase": "the last sync was interrupted during its rebase; recovered",
        "kept": "{branch} holds every commit of the interrupted sync again, and those made on the detached HEAD since",
        "attached": "back on branch {branch}",
        "no-branch": "the last sync was interrupted, and which branch it was on is unknown; "
                     "run git checkout BRANCH, then svc sync",
        "failed": "the commits left by the interrupted sync could not be put on {branch} ({cause}); "
                  "they are kept at {refs} and the next svc sync tries again",
        "detached": "HEAD is on no branch (detached) and no interrupted sync left it so; run git checkout BRANCH first",
        "temps": "removed {count} temporary file(s) (.merge_file_*) left by a git killed while merging",
        "locked": "{path} exists and a git process is working in this repository; try again shortly",
    },
}


def say(store: Store, key: str, **values: object) -> str:
    table = MESSAGES.get(store.config.lang, MESSAGES["zh"])
    return table[key].format(**values)


# --- the journal --------------------------------------------------------------------------

def _journal_path(store: Store) -> Path:
    return store.root / LOCAL_DIR / JOURNAL


def read_journal(store: Store) -> dict[str, Any] | None:
    """The journal of an unfinished sync, or None. An unreadable one (a torn write cannot
    happen: it is replaced whole) counts as present and empty."""
    try:
        text = _journal_path(store).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError:
        return {}
    try:
        node = json.loads(text)
    except ValueError:
        return {}
    return node if isinstance(node, dict) else {}


def write_journal(store: Store, **entry: Any) -> None:
    """Record a sync step (durably: it must outlive a power cut as git's own files do)."""
    from svc.filecache import write_atomic

    (store.root / LOCAL_DIR).mkdir(exist_ok=True)
    write_atomic(_journal_path(store), json.dumps({**entry, "at": time.time()}, sort_keys=True) + "\n")


def clear_journal(store: Store) -> None:
    try:
        _journal_path(store).unlink()
    except FileNotFoundError:
        pass


# --- stale locks ----------------------------------------------------------------------------

def git_dir(git: Git) -> Path:
    dot_git = git.root / ".git"
    if dot_git.is_dir():
        return dot_git
    found = git.run("rev-parse", "--absolute-git-dir", check=False).stdout.strip()
    return Path(found) if found else dot_git


def _lock_files(folder: Path) -> list[Path]:
    """The *.lock files of a git directory (not inside objects/, where git keeps none that block)."""
    found = []
    for top, dirs, files in os.walk(folder):
        if Path(top) == folder and "objects" in dirs:
            dirs.remove("objects")
        found += [Path(top) / name for name in files if name.endswith(".lock")]
    info = folder / "objects" / "info"
    if info.is_dir():
        found += [p for p in info.iterdir() if p.name.endswith(".lock")]
    return found


def git_working_in(folders: list[Path]) -> bool | None:
    """Whether a git process works in one of `folders` (True), none does (False), or
    some git process could not be looked into (None). Linux's /proc; elsewhere None."""
    proc = Path("/proc")
    if not (proc / "self").exists():
        return None
    roots = [str(f.resolve()) for f in folders]
    me, blind = os.getpid(), False
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            argv0 = (entry / "cmdline").read_bytes().split(b"\0", 1)[0]
        except OSError:
            continue
        if not os.path.basename(argv0).startswith(b"git"):
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except FileNotFoundError:  # it has just ended
            continue
        except OSError:
            blind = True
            continue
        if any(cwd == root or cwd.startswith(root + os.sep) for root in roots):
            return True
        try:  # a git run elsewhere on this repository (git -C, GIT_DIR)
            environ = (entry / "environ").read_bytes()
        except OSError:
            environ = b""
        if any(f"GIT_DIR={root}".encode() in environ for root in roots):
            return True
    return None if blind else False


def clear_stale_locks(store: Store, folder: Path, only: list[Path] | None = None) -> list[str]:
    """Remove the lock files a killed git left in `folder` (a .git directory or a bare
    repository): only when no git process works there, and each lock unchanged since."""
    locks = only if only is not None else _lock_files(folder)
    seen: dict[Path, tuple[int, float]] = {}
    for lock in locks:
        try:
            st = lock.stat()
        except FileNotFoundError:
            continue
        seen[lock] = (st.st_ino, st.st_mtime)
    if not seen:
        return []
    youngest = max(mtime for _, mtime in seen.values())
    wait = STALE_AGE - (time.time() - youngest)
    if wait > 0:  # a live git holds a lock for milliseconds; one this young may still be in use
        time.sleep(wait)
    working = git_working_in([folder, store.root] if folder.parent == store.root else [folder])
    if working:
        raise LockedError(say(store, "locked", path=next(iter(seen))))
    said = []
    for lock, (ino, mtime) in seen.items():
        try:
            st = lock.stat()
        except FileNotFoundError:
            continue
        if (st.st_ino, st.st_mtime) != (ino, mtime):
            continue  # taken again meanwhile: a live git's
        if working is None and time.time() - mtime < STALE_AGE_BLIND:
            raise LockedError(say(store, "locked", path=lock))
        lock.unlink(missing_ok=True)
        said.append(say(store, "lock", path=lock))
    return said


def lock_named(output: str) -> Path | None:
    """The lock file a failed git command could not create, from its message."""
    found = _LOCK_IN_MESSAGE.search(output)
    return Path(found.group(1)) if found else None


# --- recovering an interrupted sync ----------------------------------------------------------

def _identity_lines(git: Git, *revs: str) -> list[tuple[str, str]]:
    """(commit, identity) of the commits `revs` select, merges left out. The identity is what
    a rebase keeps of a commit: its author, author date and message."""
    done = git.run("log", "--no-merges", "--format=%H%x1f%an%x1f%ae%x1f%ad%x1f%B%x1e", "--date=raw", *revs, "--",
                   check=False)
    out = []
    for chunk in done.stdout.split("\x1e"):
        chunk = chunk.strip("\n")
        if chunk:
            sha, rest = chunk.split("\x1f", 1)
            out.append((sha, rest.strip()))
    return out


def missing_from(git: Git, commits: list[str], branch: str) -> list[str]:
    """The commits reachable from `commits` that `branch` holds neither as they are nor as a
    rebased copy (same author, author date and message)."""
    only_there = _identity_lines(git, *commits, "--not", branch)
    if not only_there:
        return []
    on_branch = {identity for _, identity in _identity_lines(git, branch, "--not", *commits)}
    return [sha for sha, identity in only_there if identity not in on_branch]


def _exists(git: Git, rev: str) -> bool:
    return git.run("cat-file", "-e", f"{rev}^{{commit}}", check=False).returncode == 0


def _existing(git: Git, shas: list[str]) -> list[str]:
    """Those of `shas` that name a commit in this repository (one git process)."""
    if not shas:
        return []
    done = git.run("cat-file", "--batch-check=%(objecttype)", check=False, input_text="\n".join(shas) + "\n")
    kinds = done.stdout.splitlines()
    return [sha for sha, kind in zip(shas, kinds) if kind == "commit"]


def _reflog_since(git: Git, since: float) -> list[str]:
    """The commits HEAD pointed at since `since` (unix time), from its reflog; but not a
    commit svc took back itself (a write whose commit failed half-way: "svc: commit taken back")."""
    done = git.run("log", "-g", "--format=%H%x1f%gd%x1f%gs", "--date=unix", "HEAD", check=False)
    out: list[str] = []
    taken_back = False
    for line in done.stdout.splitlines():  # newest first
        parts = line.split("\x1f")
        if len(parts) != 3:
            continue
        sha, selector, subject = parts
        found = re.search(r"@\{(\d+)\}", selector)
        if found is None or int(found.group(1)) < since:
            break
        if not taken_back:
            out.append(sha)
        taken_back = subject.startswith("svc: commit taken back")
    return out


def _rescue_uncommitted(git: Git, head: str) -> str | None:
    """Keep every tracked or staged change (against HEAD) in a commit under refs/svc/rescued/,
    through a temporary index, so resetting the work tree destroys nothing. Its commit, or None."""
    changed = set(git.run("diff", "--name-only", "-z", "HEAD", check=False).stdout.split("\0"))
    changed |= set(git.run("diff", "--cached", "--name-only", "-z", "HEAD", check=False).stdout.split("\0"))
    changed.discard("")
    if not changed:
        return None
    index = git_dir(git) / "svc-rescue-index"
    env = {"GIT_INDEX_FILE": str(index)}
    try:
        git.run("read-tree", head, env=env)
        present = [p for p in sorted(changed) if (git.root / p).is_file()]
        gone = [p for p in sorted(changed) if not (git.root / p).exists()]
        if present:
            git.run("add", "-f", "--", *present, env=env)
        if gone:
            git.run("rm", "-q", "--cached", "--ignore-unmatch", "--", *gone, env=env)
        tree = git.run("write-tree", env=env).stdout.strip()
    finally:
        index.unlink(missing_ok=True)
    if tree == git.run("rev-parse", f"{head}^{{tree}}").stdout.strip():
        return None
    ident = {"GIT_AUTHOR_NAME": "svc", "GIT_AUTHOR_EMAIL": "svc@localhost.invalid",
             "GIT_COMMITTER_NAME": "svc", "GIT_COMMITTER_EMAIL": "svc@localhost.invalid"}
    commit = git.run("commit-tree", tree, "-p", head, "-m", "svc sync: changes left uncommitted by an interrupted sync",
                     env=ident).stdout.strip()
    git.run("update-ref", f"{RESCUED_REFS}{time.strftime('%Y%m%dT%H%M%S')}-{commit[:10]}", commit)
    return commit


def _clear_merge_temps(store: Store, git: Git) -> list[str]:
    """The temporary files (.merge_file_*) a git killed while merging left in the work tree:
    the versions it handed the merge driver, copies of what is in git. Removed when no git works here."""
    temps = list(git.root.glob(".merge_file_*"))
    if not temps or git_working_in([git_dir(git), git.root]) is not False:
        return []
    for temp in temps:
        temp.unlink(missing_ok=True)
    return [say(store, "temps", count=len(temps))]


def _head_branch(git: Git) -> str | None:
    done = git.run("symbolic-ref", "-q", "HEAD", check=False)
    name = done.stdout.strip()
    return name.removeprefix("refs/heads/") if done.returncode == 0 and name.startswith("refs/heads/") else None


def recover(store: Store, git: Git, ident: dict[str, str]) -> list[str]:
    """Finish what a killed sync left (see the module's notes); what was done, one line each.
    Raises SvcError when it cannot, with every commit still kept."""
    folder = git_dir(git)
    said = clear_stale_locks(store, folder)
    journal = read_journal(store)
    rebase_dir = next((folder / name for name in REBASE_DIRS if (folder / name).is_dir()), None)
    branch = _head_branch(git)
    if journal is None and rebase_dir is None:
        if branch is None and git.head() is not None:
            raise SvcError(say(store, "detached"))
        return said
    journal = journal or {}
    said += _clear_merge_temps(store, git)
    keep: list[str] = [sha for sha in journal.get("keep", []) if isinstance(sha, str)]
    target = journal.get("branch") if isinstance(journal.get("branch"), str) else None
    if rebase_dir is not None:
        try:
            named = (rebase_dir / "head-name").read_text(encoding="utf-8").strip()
        except OSError:
            named = ""
        if named.startswith("refs/heads/"):
            target = named.removeprefix("refs/heads/")
        head = git.run("rev-parse", "-q", "--verify", "HEAD", check=False).stdout.strip()
        if head:
            rescued = _rescue_uncommitted(git, head)
            if rescued:
                said.append(say(store, "rescued", commit=rescued[:10], ref=RESCUED_REFS + "..."))
            keep.append(head)
        if git.run("rebase", "--quit", check=False).returncode != 0 or rebase_dir.exists():
            shutil.rmtree(rebase_dir, ignore_errors=True)
        git.run("reset", "-q", "--hard", "HEAD")
        said.append(say(store, "rebase"))
    if branch is None:
        head = git.head()
        if head:
            keep.append(head)
    target = target or branch
    if target is None or not _exists(git, f"refs/heads/{target}"):
        raise SvcError(say(store, "no-branch"))
    tip = journal.get("tip")
    if isinstance(tip, str):
        keep.append(tip)
    since = journal.get("since")
    if isinstance(since, (int, float)):  # HEAD's commits since the sync began (a rebase aborted by hand)
        keep += _reflog_since(git, float(since) - 1)
    keep = _existing(git, list(dict.fromkeys(keep)))
    if keep and not missing_from(git, keep, f"refs/heads/{target}"):
        keep = []
    # each commit to keep is held by a ref (and listed in the journal) before anything moves
    for sha in keep:
        git.run("update-ref", f"{KEEP_REFS}{sha}", sha)
    write_journal(store, branch=target, tip=journal.get("tip"), keep=keep, step="recover", since=since)
    moved = 0
    for sha in keep:
        missing = missing_from(git, [sha], f"refs/heads/{target}")
        if not missing:
            continue
        # the branch's commits that `sha` lacks are replayed on top of it; those it holds as
        # rebased copies come out empty and are dropped
        done = git.run("rebase", "--quiet", "--empty=drop", sha, target, env=ident, check=False)
        if done.returncode != 0:
            git.run("rebase", "--abort", check=False)
            detail = (done.stderr or done.stdout).strip().splitlines()
            told = [line.removeprefix("svc merge: ") for line in detail if line.startswith("svc merge: ")]
            cause = told[-1] if told else detail[-1] if detail else str(done.returncode)
            raise SvcError(say(store, "failed", branch=target, cause=cause, refs=KEEP_REFS + "*"))
        moved += len(missing)
    if _head_branch(git) != target:
        git.run("checkout", "-q", target)
        said.append(say(store, "attached", branch=target))
    if moved and branch is None:
        said.append(say(store, "kept", branch=target))
    for sha in keep:
        git.run("update-ref", "-d", f"{KEEP_REFS}{sha}", check=False)
    clear_journal(store)
    return said

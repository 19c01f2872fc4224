"""Looking at the work tree for the case index (svc/index.py) with the standard library
alone: reading the index's files, statting case files and folders, reading HEAD.

Kept apart from the index so that the entry point (svc/boot.py) can run `look`, the
quick look a complaint's repeat check needs, in a child process while the parent is
still importing click and svc.
"""

from __future__ import annotations

import marshal
import os

from svc.boot import LOCAL_DIR
from svc.filecache import RACY_NS, write_atomic

VERSION = 10  # of the index's files; another version is rebuilt
CASES_DIR = "cases"  # svc.store.CASES.folder

# (the index's stamp and commit, the commit HEAD is at now, case files to read again)
Look = tuple[int, str, str, list[str]]


def part_path(root: str, name: str) -> str:
    return os.path.join(root, LOCAL_DIR, f"index-{name}.marshal")


def read_part(root: str, name: str) -> object:
    """An index file's data, or None when it is missing or garbled."""
    try:
        with open(part_path(root, name), "rb") as handle:
            return marshal.loads(handle.read())  # marshal.load(handle) reads in small pieces: 7x slower
    except (OSError, EOFError, ValueError, TypeError):
        return None


def meta_of(data: object) -> dict | None:
    """The meta file's data when it is of this version."""
    return data if isinstance(data, dict) and data.get("version") == VERSION else None


def stat(path: str | os.PathLike[str]) -> tuple[int, int]:
    """(mtime in ns, size); (0, -1) for a file that is gone."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return (0, -1)
    return (st.st_mtime_ns, st.st_size)


def mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def subdirs(path: str) -> list[str]:
    try:
        return sorted(e.name for e in os.scandir(path) if e.is_dir() and not e.name.startswith("."))
    except OSError:
        return []


def names(path: str) -> list[str]:
    try:
        return [n for n in os.listdir(path) if not n.startswith(".")]
    except OSError:
        return []


def split(joined: str) -> list[str]:
    return joined.split("\0") if joined else []


def scan_dirs(root: str, old: dict[str, tuple[int, str]], stamp: int
              ) -> tuple[set[str], dict[str, tuple[int, str]], bool]:
    """Case files added or removed since the folders were recorded in `old` (folder rel:
    (mtime, its yaml names joined by NULs)) at `stamp`, found by the folders' mtimes
    (creating, renaming or deleting a file moves its folder's mtime); a folder changed
    close to the recording is listed again, as git does with racy files.

    Returns the files added or removed, the folders as they are now, and whether a
    folder was racy (worth recording again later)."""
    base = os.path.join(root, CASES_DIR)
    changed: set[str] = set()
    seen: dict[str, tuple[int, str]] = {}
    racy = False

    def moved(rel: str, when: int) -> bool:
        nonlocal racy
        before = old.get(rel)
        if before is not None and before[0] == when and when >= stamp - RACY_NS:
            racy = True
        return before is None or before[0] != when or when >= stamp - RACY_NS

    top = mtime(base)
    years = sorted({rel.split("/")[1] for rel in old if rel.count("/") == 1} if not moved(CASES_DIR, top)
                   else subdirs(base))
    seen[CASES_DIR] = (top, "")
    for year in years:
        year_rel = f"{CASES_DIR}/{year}"
        when = mtime(os.path.join(base, year))
        if when < 0:
            continue
        seen[year_rel] = (when, "")
        months = (sorted(rel.rsplit("/", 1)[1] for rel in old if rel.startswith(year_rel + "/"))
                  if not moved(year_rel, when) else subdirs(os.path.join(base, year)))
        for month in months:
            month_rel = f"{year_rel}/{month}"
            folder = os.path.join(base, year, month)
            when = mtime(folder)
            if when < 0:
                continue
            if moved(month_rel, when):
                now = sorted(n for n in names(folder) if n.endswith(".yaml"))
                before = set(split(old.get(month_rel, (0, ""))[1]))
                changed |= {f"{month_rel}/{n}" for n in before.symmetric_difference(now)}
                seen[month_rel] = (when, "\0".join(now))
            else:
                seen[month_rel] = old[month_rel]
    for rel, (_, joined) in old.items():  # folders gone
        if rel not in seen:
            changed |= {f"{rel}/{n}" for n in split(joined)}
    return changed, seen, racy


def read_head(root: str) -> tuple[str | None, str | None]:
    """HEAD read from .git as git does: the branch it names (None: detached) and its
    commit (None: an unborn branch). OSError when .git is not a folder (a worktree) or
    cannot be read: ask git then."""
    dot_git = os.path.join(root, ".git")
    with open(os.path.join(dot_git, "HEAD"), encoding="utf-8") as handle:
        ref = handle.read().strip()
    if not ref.startswith("ref: "):
        return None, ref or None
    name = ref[5:]
    loose = os.path.join(dot_git, name)
    if os.path.isfile(loose):
        with open(loose, encoding="utf-8") as handle:
            return name, handle.read().strip() or None
    with open(os.path.join(dot_git, "packed-refs"), encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if line.endswith(" " + name) and not line.startswith(("#", "^")):
                return name, line.split(" ", 1)[0]
    return name, None


def git_head(root: str) -> str | None:
    """HEAD's commit (read_head)."""
    return read_head(root)[1]


# svc's own commits, one line each: parent, commit and the paths it changed, tab-separated.
# Written by every svc write (svc/store.py, under the store's lock) and read before asking
# `git diff`, so that svc's own commits cost the index no git process.
JOURNAL = "index-journal"
JOURNAL_KEEP = 200  # the newest lines kept; a reader that misses a line asks git


def journal(root: str, parent: str, made: str, paths: list[str]) -> None:
    """Record svc's commit `made` of `paths` on top of `parent`. The file is replaced
    whole, so a reader never sees half a line; a failure only costs a `git diff`."""
    if any(c in p for p in paths for c in "\t\n"):
        return
    path = os.path.join(root, LOCAL_DIR, JOURNAL)
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines(keepends=True)
    except OSError:
        lines = []
    lines = [*lines[-(JOURNAL_KEEP - 1):], "\t".join([parent, made, *paths]) + "\n"]
    try:
        write_atomic(path, "".join(lines), durable=False)
    except OSError:
        pass


def journalled_between(root: str, old: str, new: str) -> set[str] | None:
    """The case files svc's own commits changed from `old` to `new`, when the journal
    links one to the other; None when it does not (a pull, a commit by hand...)."""
    try:
        with open(os.path.join(root, LOCAL_DIR, JOURNAL), encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    after: dict[str, list[tuple[str, list[str]]]] = {}
    for line in lines:
        fields = line.split("\t")
        if len(fields) >= 2:
            after.setdefault(fields[0], []).append((fields[1], fields[2:]))
    paths: dict[str, set[str]] = {old: set()}  # commit reached: the paths changed on the way
    todo = [old]
    while todo:
        at = todo.pop()
        if at == new:
            return {p for p in paths[at] if p.startswith(CASES_DIR + "/") and p.endswith(".yaml")}
        for made, changed in after.get(at, []):
            if made not in paths:
                paths[made] = paths[at] | set(changed)
                todo.append(made)
    return None


def committed_between(root: str, old: str, new: str) -> set[str] | None:
    """Case files changed from one commit to another (None: git could not say)."""
    journalled = journalled_between(root, old, new)
    if journalled is not None:
        return journalled
    import subprocess

    try:
        done = subprocess.run(["git", "diff", "--name-only", "-z", "--no-renames", old, new, "--", CASES_DIR],
                              cwd=root, capture_output=True, env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    except OSError:
        return None
    if done.returncode != 0:
        return None
    return {p for p in done.stdout.decode("utf-8", "surrogateescape").split("\0") if p.endswith(".yaml")}


def look(root: str) -> Look | None:
    """The case files that may hold something other than what the index says, among
    those a repeat complaint can be found in: files added or removed (the folders'
    mtimes), files committed since the index was brought up to date, files off git's
    copy, and every open or recently closed case (the `recent` part) whose stat moved.
    This stats some 17,000 files at 100,000 cases, not all of them as `git diff-files`
    does. None when the index cannot be used so (missing, another version, no git)."""
    meta = meta_of(read_part(root, "meta"))
    recent = read_part(root, "recent")
    if meta is None or not isinstance(recent, dict) or meta["head"] is None:
        return None
    try:
        head = git_head(root)
    except OSError:
        return None
    if head is None:
        return None
    stamp = meta["stamp"]
    limit = stamp - RACY_NS
    changed, _, _ = scan_dirs(root, meta["dirs"], stamp)
    for rel, st in meta["dirty"].items():
        if stat(os.path.join(root, rel)) != st or st[0] >= limit:
            changed.add(rel)
    overlay = meta["overlay"]
    for rel, entry in overlay.items():
        if entry is not None and (stat(os.path.join(root, rel)) != entry[:2] or entry[0] >= limit):
            changed.add(rel)
    for rel, entry in recent.items():
        if rel not in overlay and (stat(os.path.join(root, rel)) != entry[:2] or entry[0] >= limit):
            changed.add(rel)
    if head != meta["head"]:
        committed = committed_between(root, meta["head"], head)
        if committed is None:
            return None
        changed |= committed
    return stamp, meta["head"], head, sorted(changed)

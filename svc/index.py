"""A per-clone index of case rows, so listing and the agenda do not parse YAML.

Kept in `.svc/index.marshal` (never committed), it maps each case file to its size,
mtime and the row `svc list` / `svc due` / repeat detection need. Before each use it is
brought up to date: in a git store from the commit it was built at (`git diff` to HEAD)
plus `git status` (hand edits, uncommitted files), so git's own stat cache does the work;
elsewhere by comparing every file's size and mtime. Only changed files are parsed again.
An index that cannot be read is rebuilt; it is a cache, never the truth.
"""

from __future__ import annotations

import marshal
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterable


from svc.store import CASES, LOCAL_DIR, Store

VERSION = 6
Progress = Callable[[int, int], None]


def row_of(case: Any) -> dict[str, Any]:
    """What the index keeps of a case: its list row (confidential fields already hidden),
    its deadlines and its phone digits (for repeat complaints)."""
    from svc import render, workflow

    row = render.list_row(case, reveal=False)
    row["deadlines"] = [dict(d) for d in case.get("deadlines") or []]
    row["level"] = case.level
    phone = case.phone
    row["phone_digits"] = workflow.normalize_phone(phone) if phone else None
    if row["status"] == "open":  # its `svc list --format json` line, ready (most listings are of open cases)
        row["json"] = render.json_line({k: row[k] for k in render.LIST_KEYS})
    return row


def _row(store: Store, rel: str) -> Any:
    """One file's row, or None when it cannot be read."""
    record, _ = store.parse(store.root / rel, CASES, fast=True)
    return row_of(record.view) if record is not None else None


def _parse_row(args: tuple[str, str]) -> tuple[str, Any]:
    """`_row` in a worker process (a first build)."""
    root, rel = args
    return rel, _row(Store.in_worker(root), rel)


FIXED_PARTS = ("open", "closed", "files")
RACY_NS = 2_000_000_000  # a file or folder changed this close to a recording is looked at again


def phone_part(digits: str) -> str:
    """Phone numbers are kept in 100 small parts by their last two digits, so that the
    repeat check of `svc open` reads one of them, not the map of every phone."""
    return f"phones-{digits[-2:]}"


class CaseIndex:
    """Rows in files under .svc/: the open cases' rows (what the agenda and the default
    listing read), the other cases' rows, the phone map in 100 parts, and `files` (what
    is known of each case file); plus a small meta file read every time: the commit it
    was brought up to date at, the case folders' mtimes and names, and the files that
    differ from git's copy. A change touches only the parts it must, and an unchanged
    store costs one `git diff-files` and a stat of each month folder."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.folder = store.root / LOCAL_DIR
        self.head: str | None = None
        self.dirty: dict[str, tuple[int, int]] = {}  # rel: (mtime, size) of files parsed off git's copy
        self.dirs: dict[str, tuple[int, list[str]]] = {}  # folder rel: (mtime, yaml names)
        self.unreadable_rels: list[str] = []
        self.phone_parts: list[str] = []
        self.stamp = 0
        self._racy = False
        self._want: tuple[str, ...] = ()
        self._parts: dict[str, dict[str, Any]] = {}
        self._changed_parts: set[str] = set()

    @property
    def files(self) -> dict[str, tuple[int, int, str | None, str | None]]:
        """rel: (mtime, size, part, phone digits) of every case file indexed."""
        return self.part("files")

    # --- files -------------------------------------------------------------------------------

    def _file(self, name: str) -> Path:
        return self.folder / f"index-{name}.marshal"

    def _read(self, name: str) -> Any:
        try:
            return marshal.loads(self._file(name).read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            return None

    def _write(self, name: str, data: Any) -> None:
        try:
            self.folder.mkdir(exist_ok=True)
            tmp = self._file(name).with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(marshal.dumps(data))
            os.replace(tmp, self._file(name))
        except OSError:
            pass  # a read-only store still lists; it just parses again next time

    def part(self, name: str) -> dict[str, Any]:
        if name not in self._parts:
            data = self._read(name)
            self._parts[name] = data if isinstance(data, dict) else {}
        return self._parts[name]

    def _load_meta(self) -> bool:
        meta = self._read("meta")
        if not isinstance(meta, dict) or meta.get("version") != VERSION:
            return False
        self.head, self.dirty, self.dirs = meta["head"], meta["dirty"], meta["dirs"]
        self.unreadable_rels, self.phone_parts, self.stamp = meta["unreadable"], meta["phone_parts"], meta["stamp"]
        return all(self._file(name).exists() for name in (*FIXED_PARTS, *self.phone_parts))

    def _save(self) -> None:
        files = self.files
        self.unreadable_rels = sorted(rel for rel, st in files.items() if st[2] is None)
        self.phone_parts = sorted(name for name, data in self._parts.items() if name.startswith("phones-") and data)
        for name in sorted(self._changed_parts):
            if name.startswith("phones-") and not self._parts[name]:
                self._file(name).unlink(missing_ok=True)
            else:
                self._write(name, self._parts[name])
        self._write("meta", {"version": VERSION, "head": self.head, "dirty": self.dirty, "dirs": self.dirs,
                             "unreadable": self.unreadable_rels, "phone_parts": self.phone_parts,
                             "stamp": self.stamp})

    # --- bringing it up to date -----------------------------------------------------------------

    def refresh(self, progress: Progress | None = None, want: tuple[str, ...] = ()) -> "CaseIndex":
        """Bring the index up to date; `want` names parts the caller will read, loaded
        while git looks at the work tree."""
        self._want = want
        loaded = self._load_meta()
        stamp = time.time_ns()
        git = self.store.git
        changed = self._changed_by_git(loaded) if git is not None else self._changed_by_stat(loaded)
        if changed is None:  # no usable index: every file
            for stale in self.folder.glob("index-phones-*.marshal"):
                stale.unlink(missing_ok=True)
            self._parts = {name: {} for name in FIXED_PARTS}
            self._changed_parts = set(FIXED_PARTS)
            self.dirs = {}
            changed = {self.store.rel(p) for p in self.store.paths(CASES)}
            if git is not None:
                self._scan_dirs()  # record the folders for next time
        if changed or self._changed_parts:
            self._reparse(sorted(changed), progress)
        if changed or self._changed_parts or self._racy:
            self.stamp = stamp
            self._save()
        return self

    def _changed_by_git(self, loaded: bool) -> set[str] | None:
        """Files to parse again: those changed between the commit indexed and HEAD; those
        git sees changed in the work tree or staged (`git diff-files`, `git diff-index
        --cached`, run while the folders are looked at); files added or removed (a
        folder's mtime moves); and files parsed off git's copy before (the dirty ones),
        by their own stat."""
        git = self.store.git
        assert git is not None
        if not loaded or self.head is None:
            return self._start_over()
        modified = git.start("diff-files", "--name-only", "-z", "--", CASES.folder)
        staged = git.start("diff-index", "--cached", "--name-only", "-z", "HEAD", "--", CASES.folder)
        head = self._read_head()
        changed = self._scan_dirs()
        for name in self._want:  # while git works
            self.part(name)
        for rel in changed:  # a file added or removed by hand is off git's copy until committed
            self.dirty[rel] = _stat(self.store.root / rel)
        for rel, st in list(self.dirty.items()):
            now = _stat(self.store.root / rel)
            if now != st or st[0] >= self.stamp - RACY_NS:
                changed.add(rel)
                self.dirty[rel] = now
        out, ok = git.finish(modified)
        cached, cached_ok = git.finish(staged)  # an edit already `git add`ed is off HEAD, not off git's index
        if not ok or not cached_ok:
            return self._start_over()
        in_work_tree = {rel for rel in (out + "\0" + cached).split("\0") if rel.endswith(".yaml")}
        for rel in in_work_tree:
            now = _stat(self.store.root / rel)
            if self.dirty.get(rel) != now:
                changed.add(rel)
                self.dirty[rel] = now
        if head != self.head:
            if head is None:
                return self._start_over()
            diff = git.run("diff", "--name-only", "-z", "--no-renames", self.head, head, "--", CASES.folder,
                           check=False)
            if diff.returncode != 0:  # history rewritten: start again
                return self._start_over()
            committed = {p for p in diff.stdout.split("\0") if p.endswith(".yaml")}
            changed |= committed
            for rel in committed - in_work_tree:  # its work-tree copy is the committed one now
                self.dirty.pop(rel, None)
            self.head = head
        for rel in [rel for rel, st in self.dirty.items() if st[1] < 0]:  # gone
            del self.dirty[rel]
        return changed

    def _start_over(self) -> None:
        git = self.store.git
        assert git is not None
        self.head = git.run("rev-parse", "-q", "--verify", "HEAD", check=False).stdout.strip() or None
        status = git.run("status", "--porcelain", "-z", "--untracked-files=all", "--no-renames", "--",
                         CASES.folder, check=False).stdout
        dirty = {entry[3:] for entry in status.split("\0") if len(entry) > 3 and entry[3:].endswith(".yaml")}
        self.dirty = {rel: _stat(self.store.root / rel) for rel in dirty}
        return None

    def _read_head(self) -> str | None:
        """HEAD's commit, read from .git like git does (no process for the common case)."""
        dot_git = self.store.root / ".git"
        try:
            ref = (dot_git / "HEAD").read_text(encoding="utf-8").strip()
            if not ref.startswith("ref: "):
                return ref or None
            name = ref[5:]
            loose = dot_git / name
            if loose.is_file():
                return loose.read_text(encoding="utf-8").strip() or None
            packed = (dot_git / "packed-refs").read_text(encoding="utf-8")
            for line in packed.splitlines():
                if line.endswith(" " + name) and not line.startswith(("#", "^")):
                    return line.split(" ", 1)[0]
            return None  # an unborn branch
        except OSError:  # .git is a file (a worktree) or unreadable: ask git
            git = self.store.git
            assert git is not None
            return git.run("rev-parse", "-q", "--verify", "HEAD", check=False).stdout.strip() or None

    def _scan_dirs(self) -> set[str]:
        """Case files added or removed since the last look, found by the folders' mtimes
        (creating, renaming or deleting a file moves its folder's mtime); a folder
        changed close to the last look is listed again, as git does with racy files."""
        base = self.store.root / CASES.folder
        changed: set[str] = set()
        old = self.dirs
        seen: dict[str, tuple[int, list[str]]] = {}

        def moved(rel: str, mtime: int) -> bool:
            before = old.get(rel)
            if before is not None and before[0] == mtime and mtime >= self.stamp - RACY_NS:
                self._racy = True  # look again, and record a later stamp when nothing else moved
            return before is None or before[0] != mtime or mtime >= self.stamp - RACY_NS

        top = _mtime(base)
        years = sorted({rel.split("/")[1] for rel in old if rel.count("/") == 1} if not moved(CASES.folder, top)
                       else _subdirs(base))
        seen[CASES.folder] = (top, [])
        for year in years:
            year_rel = f"{CASES.folder}/{year}"
            mtime = _mtime(base / year)
            if mtime < 0:
                continue
            seen[year_rel] = (mtime, [])
            months = (sorted(rel.rsplit("/", 1)[1] for rel in old if rel.startswith(year_rel + "/"))
                      if not moved(year_rel, mtime) else _subdirs(base / year))
            for month in months:
                month_rel = f"{year_rel}/{month}"
                mtime = _mtime(base / year / month)
                if mtime < 0:
                    continue
                if moved(month_rel, mtime):
                    names = sorted(n for n in _names(base / year / month) if n.endswith(".yaml"))
                    before = set(old.get(month_rel, (0, []))[1])
                    changed |= {f"{month_rel}/{n}" for n in before.symmetric_difference(names)}
                    seen[month_rel] = (mtime, names)
                else:
                    seen[month_rel] = old[month_rel]
        for rel, (_, names) in old.items():  # folders gone
            if rel not in seen:
                changed |= {f"{rel}/{n}" for n in names}
        self.dirs = seen
        return changed

    def _changed_by_stat(self, loaded: bool) -> set[str] | None:
        if not loaded:
            return None
        files = self.files
        seen = {self.store.rel(path): _stat(path) for path in self.store.paths(CASES)}
        changed = {rel for rel, st in seen.items() if rel not in files or files[rel][:2] != st
                   or st[0] >= self.stamp - RACY_NS}
        changed |= set(files) - set(seen)
        return changed

    def _reparse(self, rels: list[str], progress: Progress | None) -> None:
        root = str(self.store.root)
        todo = [rel for rel in rels if os.path.exists(os.path.join(root, rel))]
        present = set(todo)
        for rel in rels:
            if rel not in present:
                self._drop(rel)
        results: Iterable[tuple[str, Any]]
        pool = None
        if len(todo) > 2000 and (os.cpu_count() or 1) > 1:
            from concurrent.futures import ProcessPoolExecutor

            pool = ProcessPoolExecutor(max_workers=os.cpu_count())
            results = pool.map(_parse_row, [(root, rel) for rel in todo], chunksize=500)
        else:
            results = ((rel, _row(self.store, rel)) for rel in todo)
        files = self.files
        self._changed_parts.add("files")
        for n, (rel, row) in enumerate(results, 1):
            self._drop(rel)
            mtime, size = _stat(self.store.root / rel)
            if row is None:  # unreadable: the commands report it, svc check says why
                files[rel] = (mtime, size, None, None)
            else:
                name = "open" if row["status"] == "open" else "closed"
                self.part(name)[rel] = row
                self._changed_parts.add(name)
                phone = row.get("phone_digits")
                if phone:
                    self.part(phone_part(phone)).setdefault(phone, []).append(rel)
                    self._changed_parts.add(phone_part(phone))
                files[rel] = (mtime, size, name, phone)
            if progress is not None and (n % 500 == 0 or n == len(todo)):
                progress(n, len(todo))
        if pool is not None:
            pool.shutdown()

    def _drop(self, rel: str) -> None:
        old = self.files.pop(rel, None)
        self._changed_parts.add("files")
        if old is None:
            return
        _, _, name, phone = old
        if name is not None:
            self.part(name).pop(rel, None)
            self._changed_parts.add(name)
        if phone:
            bucket = self.part(phone_part(phone))
            holders = bucket.get(phone, [])
            if rel in holders:
                holders.remove(rel)
                if not holders:
                    del bucket[phone]
                self._changed_parts.add(phone_part(phone))

    # --- reading -----------------------------------------------------------------------------

    def rows(self, status: str | None = None) -> list[dict[str, Any]]:
        """Rows of the cases with `status` (open, or any other), or all."""
        if status == "open":
            return list(self.part("open").values())
        closed = [row for row in self.part("closed").values() if status is None or row["status"] == status]
        return closed if status is not None else list(self.part("open").values()) + closed

    def with_phone(self, digits: str) -> list[Path]:
        return [self.store.root / rel for rel in self.part(phone_part(digits)).get(digits, [])]

    def unreadable(self) -> list[Path]:
        """Case files that fail to parse (svc check says why)."""
        return [self.store.root / rel for rel in self.unreadable_rels]


def _mtime(path: Path) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def _subdirs(path: Path) -> list[str]:
    try:
        return sorted(e.name for e in os.scandir(path) if e.is_dir() and not e.name.startswith("."))
    except OSError:
        return []


def _names(path: Path) -> list[str]:
    try:
        return [n for n in os.listdir(path) if not n.startswith(".")]
    except OSError:
        return []


def _stat(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except FileNotFoundError:
        return (0, -1)
    return (st.st_mtime_ns, st.st_size)


__all__ = ["CaseIndex", "row_of"]

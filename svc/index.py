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
from pathlib import Path
from typing import Any, Callable, Iterable


from svc.store import CASES, LOCAL_DIR, Store

VERSION = 3
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
    return row


def _parse_row(args: tuple[str, str]) -> tuple[str, Any]:
    """Parse one file into its row (runs in worker processes for a first build)."""
    root, rel = args
    store = _worker_store(root)
    record, problems = store.parse(Path(root) / rel, CASES, fast=True)
    return rel, (row_of(record.view) if record is not None else None)


_STORES: dict[str, Store] = {}


def _worker_store(root: str) -> Store:
    if root not in _STORES:
        _STORES[root] = Store.open(Path(root))
    return _STORES[root]


class CaseIndex:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.path = store.root / LOCAL_DIR / "index.marshal"
        self.files: dict[str, tuple[int, int, Any]] = {}
        self.head: str | None = None
        self.dirty: dict[str, tuple[int, int]] = {}

    # --- loading and saving ------------------------------------------------------------------

    def _load(self) -> bool:
        try:
            data = marshal.loads(self.path.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            return False
        if not isinstance(data, dict) or data.get("version") != VERSION:
            return False
        self.files, self.head, self.dirty = data["files"], data["head"], data["dirty"]
        return True

    def _save(self) -> None:
        data = {"version": VERSION, "files": self.files, "head": self.head, "dirty": self.dirty}
        try:
            (self.store.root / LOCAL_DIR).mkdir(exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(marshal.dumps(data))
            os.replace(tmp, self.path)
        except OSError:
            pass  # a read-only store still lists; it just parses again next time

    # --- bringing it up to date -----------------------------------------------------------------

    def refresh(self, progress: Progress | None = None) -> "CaseIndex":
        loaded = self._load()
        git = self.store.git
        if git is not None:
            changed = self._changed_by_git(loaded)
        else:
            changed = self._changed_by_stat(loaded)
        if changed is None:  # no usable index: every file
            self.files = {}
            changed = {self.store.rel(p) for p in self.store.paths(CASES)}
        if changed:
            self._reparse(sorted(changed), progress)
            self._save()
        return self

    def _changed_by_git(self, loaded: bool) -> set[str] | None:
        git = self.store.git
        assert git is not None
        head = git.run("rev-parse", "-q", "--verify", "HEAD", check=False).stdout.strip() or None
        status = git.run("status", "--porcelain", "-z", "--untracked-files=all", "--no-renames", "--",
                         CASES.folder, check=False).stdout
        dirty_now = {entry[3:] for entry in status.split("\0") if len(entry) > 3 and entry[3:].endswith(".yaml")}
        dirty_stats = {rel: _stat(self.store.root / rel) for rel in dirty_now}
        if not loaded or (self.head and head and self.head != head and not self._known(self.head)):
            self.head, self.dirty = head, dirty_stats
            return None
        changed: set[str] = set()
        if self.head != head:
            if self.head is None or head is None:
                self.head, self.dirty = head, dirty_stats
                return None
            diff = git.run("diff", "--name-only", "-z", "--no-renames", self.head, head, "--", CASES.folder,
                           check=False)
            if diff.returncode != 0:
                self.head, self.dirty = head, dirty_stats
                return None
            changed |= {p for p in diff.stdout.split("\0") if p.endswith(".yaml")}
        changed |= {rel for rel, st in dirty_stats.items() if self.dirty.get(rel) != st}
        changed |= set(self.dirty) - set(dirty_stats)  # edits since undone or committed
        self.head, self.dirty = head, dirty_stats
        return changed

    def _known(self, commit: str) -> bool:
        git = self.store.git
        assert git is not None
        return git.run("cat-file", "-e", f"{commit}^{{commit}}", check=False).returncode == 0

    def _changed_by_stat(self, loaded: bool) -> set[str] | None:
        if not loaded:
            return None
        seen: dict[str, tuple[int, int]] = {}
        for path in self.store.paths(CASES):
            seen[self.store.rel(path)] = _stat(path)
        changed = {rel for rel, st in seen.items() if rel not in self.files or self.files[rel][:2] != st}
        changed |= set(self.files) - set(seen)
        return changed

    def _reparse(self, rels: list[str], progress: Progress | None) -> None:
        root = str(self.store.root)
        todo = [rel for rel in rels if (self.store.root / rel).exists()]
        for rel in rels:
            if rel not in todo:
                self.files.pop(rel, None)
        results: Iterable[tuple[str, Any]]
        if len(todo) > 2000 and (os.cpu_count() or 1) > 1:
            from concurrent.futures import ProcessPoolExecutor

            pool = ProcessPoolExecutor(max_workers=os.cpu_count())
            results = pool.map(_parse_row, [(root, rel) for rel in todo], chunksize=500)
        else:
            pool = None
            _STORES[root] = self.store
            results = map(_parse_row, [(root, rel) for rel in todo])
        for n, (rel, row) in enumerate(results, 1):
            stat = _stat(self.store.root / rel)
            self.files[rel] = (stat[0], stat[1], row)  # None: unreadable, reported by the commands
            if progress is not None and (n % 500 == 0 or n == len(todo)):
                progress(n, len(todo))
        if pool is not None:
            pool.shutdown()

    # --- reading -----------------------------------------------------------------------------

    def rows(self) -> list[dict[str, Any]]:
        return [entry[2] for entry in self.files.values() if entry[2] is not None]

    def unreadable(self) -> list[Path]:
        """Case files that fail to parse (svc check says why)."""
        return [self.store.root / rel for rel, entry in sorted(self.files.items()) if entry[2] is None]


def _stat(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except FileNotFoundError:
        return (0, -1)
    return (st.st_mtime_ns, st.st_size)


__all__ = ["CaseIndex", "row_of"]

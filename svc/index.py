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

VERSION = 4
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


PARTS = ("open", "closed", "phones")


class CaseIndex:
    """Rows in three files under .svc/: the open cases' rows (what the agenda and the
    default listing read), the other cases' rows, and a phone map for repeat complaints;
    plus a small meta file (what was indexed, from which commit). A change touches only
    the parts it must, so the usual case - an open case changed - stays cheap."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.folder = store.root / LOCAL_DIR
        self.head: str | None = None
        self.dirty: dict[str, tuple[int, int]] = {}
        self.stats: dict[str, tuple[int, int, str | None, str | None]] = {}  # rel: mtime, size, part, phone
        self._parts: dict[str, dict[str, Any]] = {}
        self._changed_parts: set[str] = set()

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
        self.head, self.dirty, self.stats = meta["head"], meta["dirty"], meta["stats"]
        return all(self._file(name).exists() for name in PARTS)

    def _save(self) -> None:
        for name in sorted(self._changed_parts):
            self._write(name, self._parts[name])
        self._write("meta", {"version": VERSION, "head": self.head, "dirty": self.dirty, "stats": self.stats})

    # --- bringing it up to date -----------------------------------------------------------------

    def refresh(self, progress: Progress | None = None) -> "CaseIndex":
        loaded = self._load_meta()
        git = self.store.git
        changed = self._changed_by_git(loaded) if git is not None else self._changed_by_stat(loaded)
        if changed is None:  # no usable index: every file
            self.stats = {}
            self._parts = {name: {} for name in PARTS}
            self._changed_parts = set(PARTS)
            changed = {self.store.rel(p) for p in self.store.paths(CASES)}
        if changed or self._changed_parts:
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
        if not loaded or self.head is None or head is None:
            self.head, self.dirty = head, dirty_stats
            return None
        changed: set[str] = set()
        if self.head != head:
            diff = git.run("diff", "--name-only", "-z", "--no-renames", self.head, head, "--", CASES.folder,
                           check=False)
            if diff.returncode != 0:  # history rewritten: start again
                self.head, self.dirty = head, dirty_stats
                return None
            changed |= {p for p in diff.stdout.split("\0") if p.endswith(".yaml")}
        changed |= {rel for rel, st in dirty_stats.items() if self.dirty.get(rel) != st}
        changed |= set(self.dirty) - set(dirty_stats)  # edits since undone or committed
        self.head, self.dirty = head, dirty_stats
        return changed

    def _changed_by_stat(self, loaded: bool) -> set[str] | None:
        if not loaded:
            return None
        seen = {self.store.rel(path): _stat(path) for path in self.store.paths(CASES)}
        changed = {rel for rel, st in seen.items() if rel not in self.stats or self.stats[rel][:2] != st}
        changed |= set(self.stats) - set(seen)
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
            _STORES[root] = self.store
            results = map(_parse_row, [(root, rel) for rel in todo])
        for n, (rel, row) in enumerate(results, 1):
            self._drop(rel)
            mtime, size = _stat(self.store.root / rel)
            if row is None:  # unreadable: the commands report it, svc check says why
                self.stats[rel] = (mtime, size, None, None)
            else:
                name = "open" if row["status"] == "open" else "closed"
                self.part(name)[rel] = row
                self._changed_parts.add(name)
                phone = row.get("phone_digits")
                if phone:
                    self.part("phones").setdefault(phone, []).append(rel)
                    self._changed_parts.add("phones")
                self.stats[rel] = (mtime, size, name, phone)
            if progress is not None and (n % 500 == 0 or n == len(todo)):
                progress(n, len(todo))
        if pool is not None:
            pool.shutdown()

    def _drop(self, rel: str) -> None:
        old = self.stats.pop(rel, None)
        if old is None:
            return
        _, _, name, phone = old
        if name is not None:
            self.part(name).pop(rel, None)
            self._changed_parts.add(name)
        if phone:
            holders = self.part("phones").get(phone, [])
            if rel in holders:
                holders.remove(rel)
                self._changed_parts.add("phones")

    # --- reading -----------------------------------------------------------------------------

    def rows(self, status: str | None = None) -> list[dict[str, Any]]:
        """Rows of the cases with `status` (open, or any other), or all."""
        if status == "open":
            return list(self.part("open").values())
        closed = [row for row in self.part("closed").values() if status is None or row["status"] == status]
        return closed if status is not None else list(self.part("open").values()) + closed

    def with_phone(self, digits: str) -> list[Path]:
        return [self.store.root / rel for rel in self.part("phones").get(digits, [])]

    def unreadable(self) -> list[Path]:
        """Case files that fail to parse (svc check says why)."""
        return [self.store.root / rel for rel, st in sorted(self.stats.items()) if st[2] is None]


def _stat(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except FileNotFoundError:
        return (0, -1)
    return (st.st_mtime_ns, st.st_size)


__all__ = ["CaseIndex", "row_of"]

"""A per-clone index of case rows, so listing and the agenda do not parse YAML.

Kept in `.svc/index-*.marshal` (never committed): per case file its size, mtime and the
row `svc list` / `svc due` / repeat detection need, in parts (see CaseIndex). Before each
use it is brought up to date: in a git store from the commit it was built at (svc's own
commits from its journal, others by `git diff` to HEAD), `git diff-files` and `git
diff-index --cached` (hand edits, staged files), the month folders' mtimes (files added or
removed) and the stat of files off git's copy; elsewhere by comparing every file's size
and mtime. Only changed files are parsed again. The repeat check of `svc open` takes a
narrower look instead (`phone_holders`). An index that cannot be read is rebuilt; it is a
cache, never the truth.
"""

from __future__ import annotations

import datetime as dt
import marshal
import os
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NamedTuple

from svc import agenda, boot, filecache, indexscan
from svc.indexscan import RACY_NS, VERSION
from svc.model import Holder, holder_of
from svc.schema import Problem
from svc.store import CASES, LOCAL_DIR, Store

Progress = Callable[[int, int], None]


def row_of(case: Any) -> dict[str, Any]:
    """What the index keeps of a case: its list row (confidential fields already hidden),
    its deadlines and its phone digits (for repeat complaints)."""
    from svc import render, workflow

    row = render.list_row(case, reveal=False)
    # each deadline's due time also as seconds since the epoch: the agenda's sort key
    row["deadlines"] = [{**d, "due_ts": dt.datetime.fromisoformat(d["due"]).timestamp()}
                        for d in case.get("deadlines") or []]
    row["level"] = case.level
    phone = case.phone
    row["phone_digits"] = workflow.normalize_phone(phone) if phone else None
    return row


# What `svc list` filters and sorts the open cases by, in this order, then the case's
# `svc list --format json` line: most listings are of the open cases, and a part of
# these small tuples loads several times faster than the open cases' rows.
LINE_KEYS = ("opened_at", "id", "kind", "severity", "level", "branch", "assignee")


def line_of(row: dict[str, Any]) -> tuple[Any, ...]:
    """The line is UTF-8 bytes: loaded without decoding, written as they are."""
    from svc import render

    return (*(row[k] for k in LINE_KEYS), render.json_line({k: row[k] for k in render.LIST_KEYS}).encode())


# Parts made from each open case's row, for the commands that read only them
DERIVED = {"lines": line_of, "agenda": agenda.entry_of}


def _row(store: Store, rel: str) -> Any:
    """One file's row, or None when it cannot be read."""
    record, _ = store.parse(store.root / rel, CASES, fast=True)
    return row_of(record.view) if record is not None else None


def _parse_row(args: tuple[str, str]) -> tuple[str, Any]:
    """`_row` in a worker process (a first build)."""
    root, rel = args
    return rel, _row(Store.in_worker(root), rel)


FIXED_PARTS = ("open", "closed", "files", "recent", *DERIVED)
OVERLAY_MAX = 300  # files kept changed in the meta file before they are folded into the big parts
assert boot.DIFF_FILES[-1] == CASES.folder == boot.DIFF_STAGED[-1] == indexscan.CASES_DIR
# The `recent` part keeps the stat of every file that could hold a repeat complaint: open
# cases, unreadable files and cases closed within RECENT_DAYS of the latest closing the
# index has seen (more than the 90 days of the repeat rule: the records' own clock, so
# that a repeat check at any time near it can use the part, and SVC_NOW tests too).
RECENT_DAYS = 100
DAY_S = 86_400
_NOT_DIGITS = re.compile(rb"[^0-9]")

def _closed_ts(row: Any) -> float | None:
    closed = row.get("closed_at") if row is not None else None
    return dt.datetime.fromisoformat(closed).timestamp() if closed else None


def phone_part(digits: str) -> str:
    """Phone numbers are kept in 100 small parts by their last two digits, so that the
    repeat check of `svc open` reads one of them, not the map of every phone."""
    return f"phones-{digits[-2:]}"


class CaseIndex:
    """Rows in files under .svc/: the open cases' rows, the other cases' rows, the open
    cases' DERIVED tuples (the default listing's lines, the agenda's entries), the phone
    map in 100 parts (what the repeat rule needs of each case with the phone), `files`
    (what is known of each case file) and `recent` (the stat of each file a repeat can be
    found in); plus a small meta file read every time: the commit it was brought up to
    date at, the case folders' mtimes and names, and the files that differ from git's
    copy. An unchanged store costs one `git diff-files` and a stat of each month folder.

    A few changed files (a command's own write, a pull of a few cases) go into the meta
    file's overlay: their entries shadow the big parts until OVERLAY_MAX of them are
    folded in at once, so a small change never reads or rewrites megabytes."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.folder = store.root / LOCAL_DIR
        self.head: str | None = None
        self.dirty: dict[str, tuple[int, int]] = {}  # rel: (mtime, size) of files parsed off git's copy
        self.dirs: dict[str, tuple[int, str]] = {}  # folder rel: (mtime, its yaml names joined by NULs)
        self.unreadable_rels: list[str] = []
        self.phone_parts: list[str] = []
        self.stamp = 0
        # rel: (mtime, size, part, phone digits, row), or None for a file gone; shadows the parts
        self.overlay: dict[str, tuple[int, int, str | None, str | None, Any] | None] = {}
        # the `recent` part holds every file closed at or after this time (seconds): the
        # latest closing seen less RECENT_DAYS
        self.recent_since = 0.0
        self._meta_changed = False
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
        return Path(indexscan.part_path(str(self.store.root), name))

    def _read(self, name: str) -> Any:
        return indexscan.read_part(str(self.store.root), name)

    def _write(self, name: str, data: Any) -> None:
        try:
            filecache.write_atomic(self._file(name), marshal.dumps(data), durable=False)
        except OSError:
            pass  # a read-only store still lists; it just parses again next time

    def part(self, name: str) -> dict[str, Any]:
        if name not in self._parts:
            data = self._read(name)
            self._parts[name] = data if isinstance(data, dict) else {}
        return self._parts[name]

    def _load_meta(self) -> bool:
        meta = indexscan.meta_of(self._read("meta"))
        if meta is None:
            return False
        self.head, self.dirty, self.dirs = meta["head"], meta["dirty"], meta["dirs"]
        self.unreadable_rels, self.phone_parts, self.stamp = meta["unreadable"], meta["phone_parts"], meta["stamp"]
        self.overlay, self.recent_since = meta["overlay"], meta["recent_since"]
        return all(self._file(name).exists() for name in (*FIXED_PARTS, *self.phone_parts))

    def _save(self) -> None:
        if self._changed_parts:
            files = self.files
            self.unreadable_rels = sorted(rel for rel, st in files.items() if st[2] is None)
            touched = {name for name in self._changed_parts if name.startswith("phones-")}
            self.phone_parts = sorted(set(self.phone_parts) - touched | {name for name in touched if self._parts[name]})
        for name in sorted(self._changed_parts):
            if name.startswith("phones-") and not self._parts[name]:
                self._file(name).unlink(missing_ok=True)
            else:
                self._write(name, self._parts[name])
        self._write("meta", {"version": VERSION, "head": self.head, "dirty": self.dirty, "dirs": self.dirs,
                             "unreadable": self.unreadable_rels, "phone_parts": self.phone_parts,
                             "stamp": self.stamp, "overlay": self.overlay,
                             "recent_since": self.recent_since})

    # --- bringing it up to date -----------------------------------------------------------------

    def refresh(self, progress: Progress | None = None, want: tuple[str, ...] = ()) -> CaseIndex:
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
            self.phone_parts, self.overlay = [], {}
            self.dirs, self.recent_since = {}, 0.0
            changed = {self.store.rel(p) for p in self.store.paths(CASES)}
            if git is not None:
                self._scan_dirs()  # record the folders for next time
        if changed or self._changed_parts:
            self._reparse(sorted(changed), progress)
        if changed or self._changed_parts or self._meta_changed or self._racy:
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
        modified = git.start(*boot.DIFF_FILES)  # started at start-up, most likely
        staged = git.start(*boot.DIFF_STAGED)
        head = git.head()
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
            committed = indexscan.committed_between(str(self.store.root), self.head, head)
            if committed is None:  # history rewritten: start again
                return self._start_over()
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

    def _scan_dirs(self) -> set[str]:
        """Case files added or removed since the last look (indexscan.scan_dirs)."""
        changed, self.dirs, racy = indexscan.scan_dirs(str(self.store.root), self.dirs, self.stamp)
        self._racy |= racy  # look again, and record a later stamp when nothing else moved
        return changed

    def _changed_by_stat(self, loaded: bool) -> set[str] | None:
        if not loaded:
            return None
        known = {rel: st[:2] for rel, st in self.files.items()}
        for rel, entry in self.overlay.items():
            if entry is None:
                known.pop(rel, None)
            else:
                known[rel] = entry[:2]
        seen = {self.store.rel(path): _stat(path) for path in self.store.paths(CASES)}
        changed = {rel for rel, st in seen.items() if known.get(rel) != st or st[0] >= self.stamp - RACY_NS}
        changed |= set(known) - set(seen)
        return changed

    def _reparse(self, rels: list[str], progress: Progress | None) -> None:
        root = str(self.store.root)
        todo = [rel for rel in rels if os.path.exists(os.path.join(root, rel))]
        present = set(todo)
        if not self._changed_parts and len(self.overlay.keys() | rels) <= OVERLAY_MAX:
            for rel in rels:  # a small change: into the overlay, the big parts untouched
                self.overlay[rel] = self._entry(rel, _row(self.store, rel)) if rel in present else None
            self._meta_changed = True
            return
        self._fold()
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
        for n, (rel, row) in enumerate(results, 1):
            self._put(rel, self._entry(rel, row))
            if progress is not None and (n % 500 == 0 or n == len(todo)):
                progress(n, len(todo))
        if pool is not None:
            pool.shutdown()
        self._prune_recent()

    def _entry(self, rel: str, row: Any) -> tuple[int, int, str | None, str | None, Any]:
        """What is kept of a file: its stat, part and phone, and its row (None: unreadable;
        the commands report it, svc check says why)."""
        mtime, size = _stat(self.store.root / rel)
        if row is None:
            return (mtime, size, None, None, None)
        return (mtime, size, "open" if row["status"] == "open" else "closed", row.get("phone_digits"), row)

    def _fold(self) -> None:
        """Move the overlay into the big parts."""
        for rel, entry in self.overlay.items():
            self._drop(rel)
            if entry is not None:
                self._put(rel, entry)
        if self.overlay:
            self.overlay = {}
            self._changed_parts.add("files")

    def _prune_recent(self) -> None:
        """Drop from the `recent` part the files closed before it starts now."""
        recent, since = self.part("recent"), self.recent_since
        for rel in [rel for rel, (_, _, closed) in recent.items() if closed is not None and closed < since]:
            del recent[rel]
            self._changed_parts.add("recent")

    def _put(self, rel: str, entry: tuple[int, int, str | None, str | None, Any]) -> None:
        self._drop(rel)
        mtime, size, name, phone, row = entry
        self.files[rel] = (mtime, size, name, phone)
        if name is not None:
            self.part(name)[rel] = row
            self._changed_parts.add(name)
        if name == "open":
            for derived, make in DERIVED.items():
                self.part(derived)[rel] = make(row)
                self._changed_parts.add(derived)
        closed = _closed_ts(row)
        if closed is not None:
            self.recent_since = max(self.recent_since, closed - RECENT_DAYS * DAY_S)
        if name != "closed" or (closed is not None and closed >= self.recent_since):
            self.part("recent")[rel] = (mtime, size, closed)
            self._changed_parts.add("recent")
        if phone:
            self.part(phone_part(phone)).setdefault(phone, {})[rel] = holder_of(row)
            self._changed_parts.add(phone_part(phone))

    def _drop(self, rel: str) -> None:
        old = self.files.pop(rel, None)
        self._changed_parts.add("files")
        if old is None:
            return
        if self.part("recent").pop(rel, None) is not None:
            self._changed_parts.add("recent")
        _, _, name, phone = old
        if name is not None:
            self.part(name).pop(rel, None)
            self._changed_parts.add(name)
        if name == "open":
            for derived in DERIVED:
                self.part(derived).pop(rel, None)
                self._changed_parts.add(derived)
        if phone:
            bucket = self.part(phone_part(phone))
            holders = bucket.get(phone, {})
            if holders.pop(rel, None) is not None:
                if not holders:
                    del bucket[phone]
                self._changed_parts.add(phone_part(phone))

    # --- reading -----------------------------------------------------------------------------

    def _part_rows(self, name: str) -> list[dict[str, Any]]:
        part, overlay = self.part(name), self.overlay
        if not overlay:
            return list(part.values())
        return [row for rel, row in part.items() if rel not in overlay] + [
            entry[4] for entry in overlay.values() if entry is not None and entry[2] == name]

    def rows(self, status: str | None = None) -> list[dict[str, Any]]:
        """Rows of the cases with `status` (open, or any other), or all."""
        if status == "open":
            return self._part_rows("open")
        closed = [row for row in self._part_rows("closed") if status is None or row["status"] == status]
        return closed if status is not None else self._part_rows("open") + closed

    def derived(self, name: str) -> list[tuple[Any, ...]]:
        """The open cases' tuples of a DERIVED part ("lines": `line_of`, "agenda": `agenda.entry_of`)."""
        part, overlay = self.part(name), self.overlay
        if not overlay:
            return list(part.values())
        make = DERIVED[name]
        return [made for rel, made in part.items() if rel not in overlay] + [
            make(entry[4]) for entry in overlay.values() if entry is not None and entry[2] == "open"]

    def holders(self, digits: str) -> dict[str, Holder]:
        """rel: what the repeat rule needs, of each case the index has with this phone."""
        overlay = self.overlay
        found = {rel: holder for rel, holder in self.part(phone_part(digits)).get(digits, {}).items()
                 if rel not in overlay}
        found.update((rel, holder_of(entry[4])) for rel, entry in overlay.items()
                     if entry is not None and entry[3] == digits)
        return found

    def unreadable(self) -> list[Path]:
        """Case files that fail to parse (svc check says why)."""
        rels = [rel for rel in self.unreadable_rels if rel not in self.overlay]
        rels += [rel for rel, entry in self.overlay.items() if entry is not None and entry[4] is None]
        return [self.store.root / rel for rel in sorted(rels)]

    def unreadable_problems(self) -> list[Problem]:
        """Why each unreadable case file fails, `path:line: message` (its first problem;
        they are few, and read again only to say why)."""
        problems = []
        for path in self.unreadable():
            _, found = self.store.parse(path, CASES)
            problems.append(found[0] if found else Problem(self.store.shown(path), None, "cannot be read"))
        return problems


_stat = indexscan.stat


class PhoneLook(NamedTuple):
    holders: list[Holder]  # of each case that has the phone
    unreadable: list[str]  # rels of case files that hold its digits but cannot be read


def phone_holders(store: Store, digits: str, since: float) -> PhoneLook:
    """What the repeat rule needs of each case that has this phone now (repeat
    complaints, for `svc open`); a case closed before `since` may be left out. Also the
    files that hold the phone's digits but cannot be read: a repeat there is not counted.

    Rather than git's stat of every case file (0.2 s of CPU at 100,000 cases), this
    takes indexscan's look (run by the entry point in a child process while svc was being
    imported, or here): files added or removed, committed since the index was brought up
    to date, off git's copy, and each open or recently closed case whose stat moved.
    Those of them whose digits hold the phone are read again. The one edit this misses is
    one not yet committed that reopens by hand a case closed more than RECENT_DAYS ago
    (`svc reopen` and every commit are seen). The index itself is left as it is: the next
    `svc list` or `svc due` brings it up to date."""
    index = CaseIndex(store)
    git = store.git
    root = str(store.root)
    look = None
    if git is not None and index._load_meta() and since >= index.recent_since:
        look = boot.take_look(root)
        if look is None or look[:2] != (index.stamp, index.head):  # none, or of another state of the index
            look = indexscan.look(root)
    if look is None or look[:2] != (index.stamp, index.head):
        return _whole(store, digits)
    assert git is not None
    _, _, seen, changed = look
    head = git.head()
    if head != seen:  # another svc committed before this one took the lock
        committed = indexscan.committed_between(root, seen, head) if head else None
        if committed is None:
            return _whole(store, digits)
        changed = [*changed, *committed]
    found = index.holders(digits)
    for rel in changed:
        found.pop(rel, None)
    from svc import workflow

    unreadable = _holding(store, digits, [store.rel(p) for p in index.unreadable() if store.rel(p) not in changed])
    holding = _holding(store, digits, sorted(set(changed)))
    for rel in holding:
        # ruamel is imported already (for the write): a few files are read sooner through it
        # than through PyYAML, whose import alone takes longer
        record, _ = store.parse(store.root / rel, CASES, fast=len(holding) > 3)
        case = record.view if record is not None else None
        if case is None:
            unreadable.append(rel)
        elif case.phone and workflow.normalize_phone(case.phone) == digits:
            found[rel] = holder_of(case.fields)
    return PhoneLook(list(found.values()), sorted(unreadable))


def _whole(store: Store, digits: str) -> PhoneLook:
    """`phone_holders` from the whole index brought up to date."""
    index = CaseIndex(store).refresh()
    return PhoneLook(list(index.holders(digits).values()),
                     _holding(store, digits, [store.rel(p) for p in index.unreadable()]))


def _holding(store: Store, digits: str, rels: list[str]) -> list[str]:
    """The files whose digits hold the phone's (a quick test before parsing): its digits
    stand in a row, but for a trunk 0 that normalizing adds."""
    core = (digits[1:] if digits.startswith("0") else digits).encode()
    found = []
    for rel in rels:
        try:
            if core in _NOT_DIGITS.sub(b"", (store.root / rel).read_bytes()):
                found.append(rel)
        except OSError:
            continue
    return found


__all__ = ["CaseIndex", "phone_holders", "row_of"]

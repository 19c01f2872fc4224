"""The store: a directory with svc.yaml and one YAML file per record.

Reads are lock-free (every write is an atomic rename). Every change runs under the
store lock and, in a git store, ends in one commit of exactly the files it touched;
if the commit fails the files are put back, so nothing is ever half-done.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import os
import re
import sys
import time
from contextlib import contextmanager
from functools import lru_cache
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator


from svc import boot
from svc.config import CONFIG_NAME, Config, load_config
from svc.errors import LockedError, NotFoundError, RecordError, RefusedError, SvcError, in_chinese
from svc.gitrepo import Git
from svc.model import CASE_KEYS, Case, State, plain
from svc.schema import Problem

if TYPE_CHECKING:
    from ruamel.yaml.comments import CommentedMap

LOCAL_DIR = boot.LOCAL_DIR
INTENT = "intent.json"  # a write's intent in LOCAL_DIR while it runs (svc/intent.py)
DESK = re.compile(r"^[A-Z]{1,2}$")


@dataclass(frozen=True)
class RecordKind:
    """A kind of record file: its ID letter, its folder, its schema check and typed view.

    IDs read `<letter><yymm>-<desk><number>` and files live at
    `<folder>/<yyyy>/<mm>/<ID>.yaml`, filed by the month the record was made.
    """

    name: str
    letter: str
    folder: str
    checker: str  # "module:function" that checks a raw node, imported on first use
    viewer: str  # "module:class" of the typed view

    def check(self, raw: Any, shown: str) -> list[Problem]:
        return _named(self.checker)(raw, shown)

    def view(self, fields: dict[str, Any]) -> Any:
        return _named(self.viewer)(fields)

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(rf"^{self.letter}(\d{{2}})(\d{{2}})-([A-Z]{{1,2}})(\d{{3,}})$")

    @property
    def example(self) -> str:
        return f"{self.letter}2611-A001"


@lru_cache(maxsize=None)
def _named(name: str) -> Any:
    """What "module:attribute" names (a command about cases never imports svc.patrols)."""
    import importlib

    module, attribute = name.split(":")
    return getattr(importlib.import_module(module), attribute)


CASES = RecordKind("case", "C", "cases", "svc.model:check_case_node", "svc.model:Case")
PROJECTS = RecordKind("project", "P", "projects", "svc.projects:check_project_node", "svc.projects:Project")
PATROLS = RecordKind("patrol record", "X", "patrols", "svc.patrols:check_patrol_node", "svc.patrols:Patrol")
HOLDS = RecordKind("hold", "H", "holds", "svc.retention:check_hold_node", "svc.retention:Hold")
KINDS = (CASES, PROJECTS, PATROLS, HOLDS)


def kind_of(record_id: str) -> RecordKind | None:
    """The kind whose IDs look like `record_id` (C..., P..., X..., H...)."""
    for kind in KINDS:
        if kind.pattern.match(record_id.strip().upper()):
            return kind
    return None
CASE_ID = CASES.pattern


def find_root(explicit: str | None, cwd: Path) -> Path:
    """--store (or SVC_STORE, which click maps onto it) wins; else the nearest svc.yaml up."""
    found = boot.store_root(explicit, str(cwd))
    if found is not None:
        return Path(found)
    if explicit:
        root = Path(explicit).expanduser()
        raise SvcError(f"{root} is not a store (no {CONFIG_NAME}); create one with: svc init {root} --office CODE")
    raise SvcError("no store here: no svc.yaml in this folder or above; use --store PATH, SVC_STORE, or svc init")


@dataclass
class Record:
    path: Path
    raw: Any  # a CommentedMap when read round-trip, a plain dict when read fast
    view: Any  # the typed view of its kind (Case, Project, ...)

    @property
    def case(self) -> Case:
        return self.view


@dataclass(frozen=True)
class Actor:
    id: str
    name: str
    role: str | None


_IN_WORKER: dict[str, "Store"] = {}


class Store:
    def __init__(self, root: Path, config: Config, wait: float = 5.0) -> None:
        self.root = root
        self.config = config
        self.wait = wait
        self.git = Git(root) if Git.present(root) else None
        self._folders_checked: set[Path] = set()  # folders of the store known not to be links
        # Where the one-line news of a settled interrupted write goes (the CLI points it at stderr).
        self.notify: Callable[[str], None] = _to_stderr
        self._guarded = True  # refuse writes while git is mid-operation (see `git_operations_allowed`)
        self._told: set[str] = set()

    @classmethod
    def open(cls, root: Path, wait: float = 5.0) -> "Store":
        return cls(root, load_config(root), wait)

    @classmethod
    def in_worker(cls, root: str) -> "Store":
        """The store at `root`, opened once per worker process (parallel parsing hands
        workers the root, not the store)."""
        if root not in _IN_WORKER:
            _IN_WORKER[root] = cls.open(Path(root))
        return _IN_WORKER[root]

    # --- paths and IDs ---------------------------------------------------------------

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def shown(self, path: Path) -> str:
        """How a record's path is printed in messages: as the user can open it."""
        absolute = path.absolute()
        try:
            return str(absolute.relative_to(Path.cwd()))
        except ValueError:
            return str(absolute)

    def path_of(self, record_id: str, kind: RecordKind = CASES) -> Path:
        match = kind.pattern.match(record_id)
        if not match:
            raise NotFoundError(f"{record_id!r} is not a {kind.name} ID (they look like {kind.example})")
        yy, mm = match.group(1), match.group(2)
        return self.root / kind.folder / f"20{yy}" / mm / f"{record_id}.yaml"

    def case_path(self, case_id: str) -> Path:
        return self.path_of(case_id, CASES)

    def desk(self) -> str:
        env = os.environ.get("SVC_DESK")
        source = "SVC_DESK"
        value = env
        if value is None:
            path = self.root / LOCAL_DIR / "desk"
            source = str(path)
            if path.is_file():
                value = path.read_text(encoding="utf-8").strip()
            elif self.git is not None and self.git.run("remote", check=False).stdout.strip():
                # a clone: desk A is the first clone's; two clones on one letter would collide
                raise SvcError("this clone has no desk letter for new IDs; run: svc setup --desk B "
                               "(a letter no other clone of the store uses)")
            else:
                value = "A"
        value = value.strip().upper()
        if not DESK.match(value):
            raise SvcError(f"{source}: desk {value!r} must be one or two letters, such as A or BK")
        return value

    def new_id(self, made_at: dt.datetime, kind: RecordKind = CASES) -> str:
        """Next free ID for this desk in the month of `made_at` (call under the lock)."""
        desk = self.desk()
        stem = f"{kind.letter}{made_at:%y%m}-{desk}"
        folder = self.root / kind.folder / f"{made_at:%Y}" / f"{made_at:%m}"
        taken = 0
        if folder.is_dir():
            pattern = re.compile(re.escape(stem) + r"(\d+)\.yaml$")
            for name in os.listdir(folder):
                if match := pattern.match(name):
                    taken = max(taken, int(match.group(1)))
        return f"{stem}{taken + 1:03d}"

    def paths(self, kind: RecordKind = CASES) -> list[Path]:
        base = self.root / kind.folder
        if not base.is_dir():
            return []
        return sorted(p for p in base.glob("*/*/*.yaml") if not p.name.startswith("."))

    def resolve(self, text: str, kind: RecordKind = CASES) -> str:
        """A full ID, or the unique record of `kind` whose ID ends with `text` (e.g. A017)."""
        wanted = text.strip().upper()
        if kind.pattern.match(wanted):
            if not self.path_of(wanted, kind).is_file():
                raise NotFoundError(f"no {kind.name} {wanted}")
            return wanted
        if not re.match(r"^[A-Z0-9-]+$", wanted):
            raise NotFoundError(f"{text!r} is not a {kind.name} ID (they look like {kind.example})")
        found = sorted(
            p.stem for p in self.paths(kind)
            if p.stem == wanted or p.stem.endswith(wanted) and p.stem[-len(wanted) - 1] in ("-", kind.letter)
        )
        if not found:
            raise NotFoundError(f"no {kind.name} {wanted}")
        if len(found) > 1:
            listed = ", ".join(found[:6]) + (" ..." if len(found) > 6 else "")
            raise NotFoundError(f"{wanted} is ambiguous: {listed}; give the full ID")
        return found[0]

    def resolve_any(self, text: str, exclude: tuple[RecordKind, ...] = ()) -> str:
        """A full ID of any kind (X2611-A001, P2611-A001, ...), or a case by its ending."""
        kind = kind_of(text)
        if kind is not None and kind not in exclude:
            return self.resolve(text, kind)
        return self.resolve(text, CASES)

    # --- reading -----------------------------------------------------------------------

    def link_in(self, path: Path) -> Path | None:
        """The symbolic link on the way from the store's folder to `path` (the file or
        one of its folders), or None. A link could lead a read or a write outside the
        store, or let two paths be one record: svc neither reads nor writes through one."""
        if os.path.islink(path):
            return path
        folder = path.parent
        checked = self._folders_checked
        while folder != self.root and folder not in checked:
            if os.path.islink(folder):
                return folder
            if folder.parent == folder or self.root not in folder.parents:
                break  # not under the store
            checked.add(folder)
            folder = folder.parent
        return None

    def refuse_links(self, paths: Iterable[Path]) -> None:
        """RecordError for the first of `paths` that is, or is in, a symbolic link."""
        for path in paths:
            link = self.link_in(path)
            if link is not None:
                raise in_chinese(RecordError(self.shown(link), None, _LINK), f"{self.shown(link)}: {_LINK_ZH}")

    def parse(self, path: Path, kind: RecordKind = CASES, text: str | None = None,
              fast: bool = False) -> tuple[Record | None, list[Problem]]:
        """Read and validate one record file. `fast` reads through libyaml; a file with
        problems is always read again round-trip so that each problem has its line."""
        shown = self.shown(path)
        link = self.link_in(path)
        if link is not None:
            return None, [Problem(self.shown(link) if link != path else shown, None, _LINK)]
        try:
            if text is None:
                text = read_text(path)
            from svc import yamlio  # here, not at import: listing from the index never parses

            raw = yamlio.loads_fast(text, shown) if fast else yamlio.loads(text, shown)
        except UnicodeDecodeError:
            return None, [Problem(shown, None, "not UTF-8 text")]
        except OSError as exc:
            return None, [Problem(shown, None, exc.strerror or str(exc))]
        except RecordError as exc:
            return None, [Problem(exc.path, exc.line, exc.message)]
        problems = kind.check(raw, shown)
        if problems and fast:
            return self.parse(path, kind, text)
        if problems:
            return None, problems
        # a fast read is plain dicts and lists already; a round-trip read is copied out of ruamel's types
        return Record(path, raw, kind.view(raw if type(raw) is dict else plain(raw))), []

    def precise(self, record: Record, kind: RecordKind = CASES) -> Record:
        """The same record read round-trip (with line numbers), if it was read fast."""
        if hasattr(record.raw, "lc"):  # a ruamel CommentedMap: read round-trip already
            return record
        again, _ = self.parse(record.path, kind)
        return again or record

    def load(self, record_id: str, kind: RecordKind = CASES) -> Record:
        path = self.path_of(self.resolve(record_id, kind), kind)
        record, problems = self.parse(path, kind)
        if record is None:
            first = problems[0]
            raise RecordError(first.path, first.line, first.message)
        return record

    def iter_records(self, kind: RecordKind = CASES, problems: list[Problem] | None = None) -> Iterator[Record]:
        """Every readable record of `kind`; unreadable ones are added to `problems` (or raise)."""
        for path in self.paths(kind):
            try:
                text = read_text(path)
            except (OSError, UnicodeDecodeError):
                text = None  # parse words the error
            record, found = self.parse(path, kind, text, fast=True)
            if record is None:
                if problems is None:
                    raise RecordError(found[0].path, found[0].line, found[0].message)
                problems.extend(found)
                continue
            yield record

    def iter_cases(self, problems: list[Problem] | None = None) -> Iterator[Record]:
        return self.iter_records(CASES, problems)

    # --- writing -----------------------------------------------------------------------

    @contextmanager
    def locked(self, wait: float | None = None) -> Iterator[None]:
        """Hold the store lock (waiting `wait`, default --wait, then LockedError). A write a
        killed svc left half-done is settled first (svc/intent.py), so that whoever holds
        the lock starts from a store where every write is whole."""
        folder = self.root / LOCAL_DIR
        patience = self.wait if wait is None else wait
        try:
            folder.mkdir(exist_ok=True)
            handle = open(folder / "lock", "a+")
        except OSError as exc:
            raise SvcError(f"cannot lock the store {self.root}: {exc.strerror}") from None
        try:
            deadline = time.monotonic() + max(patience, 0.0)
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES, errno.EAGAIN):
                        raise
                    if time.monotonic() >= deadline:
                        raise LockedError(
                            f"the store is busy (locked by another svc) after waiting {patience:g}s; try again"
                        ) from None
                    time.sleep(0.02)
            self.settle_pending()
            yield
        finally:
            handle.close()

    # --- interrupted writes and git's own operations ------------------------------------

    def intent_pending(self) -> bool:
        """A write intent is in .svc/ (one stat: the start-up cost when there is none)."""
        return os.path.exists(os.path.join(self.root, LOCAL_DIR, INTENT))

    def recover_pending(self, wait: float = 0.0) -> None:
        """Settle a write a killed svc left half-done (svc/intent.py): finish it or undo it,
        and say so in one line. Every command runs this first (svc/env.py); `svc sync`'s own
        recovery calls `settle_pending` once git is back on its branch. Takes the store lock, waiting
        `wait` seconds; when a live svc holds the lock it is that one's to settle, and nothing
        is done here (every write settles a pending intent under the lock before it writes)."""
        if not self.intent_pending():
            return
        try:
            with self.locked(wait):
                pass  # locked() settles it
        except LockedError:
            return
        except SvcError as exc:  # e.g. git refused the commit: say so, let a reading command go on
            self._tell_once(str(exc))

    def settle_pending(self) -> None:
        """Settle a pending intent, if any: finish or undo it and say so in one line
        (IntentError when it cannot be settled; while git is mid-operation it waits, and says
        so once). Call while holding `locked()` (which calls it on entry): code that holds the
        lock across git operations, as `svc sync`'s recovery does, calls it again once git is
        back on its branch. The lock is not re-entrant: `recover_pending` inside `locked()`
        would find it busy and do nothing."""
        if not self.intent_pending():
            return
        from svc import intent as intents

        lang = self.config.lang
        try:
            pending = intents.load(self.root, lang)
            if pending is None:
                return
            why = self.git_operation()
            if why is not None:
                self._tell_once(intents.told(lang, "waiting", pending.subject, why))
                return
            try:
                outcome = intents.settle(self, pending, forward=True)
            except (SvcError, OSError) as exc:
                cause = exc.strerror or str(exc) if isinstance(exc, OSError) else str(exc)
                raise intents.IntentError(intents.told(lang, "failed", pending.subject, cause)) from None
        except intents.IntentError as exc:
            if str(exc) in self._told:  # said at start-up already: the write's refusal points to it
                raise intents.IntentError("未写入任何内容：上次中断的写入尚待处理（见上一行）" if lang == "zh" else
                                          "nothing written: an interrupted svc write is pending (see above)") from None
            raise
        self.notify(intents.told(lang, outcome, pending.subject))

    def _tell_once(self, line: str) -> None:
        if line not in self._told:
            self._told.add(line)
            self.notify(line)

    def git_operation(self) -> str | None:
        """Why no svc write may happen now, with what to run: git is in the middle of a
        rebase, merge, cherry-pick, revert or bisect, or HEAD is detached. None when
        writing is fine (or the store has no git)."""
        if self.git is None:
            return None
        dot_git = self.root / ".git"
        if dot_git.is_file():  # a linked worktree: .git names the real folder
            text = dot_git.read_text(encoding="utf-8").strip()
            if text.startswith("gitdir:"):
                dot_git = (self.root / text[7:].strip()).resolve()
        zh = self.config.lang == "zh"
        for name, en, cn in (
            ("rebase-merge", "a git rebase is under way (an interrupted svc sync?); run `svc sync` to finish it, "
                             "or `git rebase --abort`", "git 变基（rebase）未完成（svc sync 被中断？）；请运行 `svc sync` 完成，"
                             "或 `git rebase --abort`"),
            ("rebase-apply", "a git rebase is under way; run `svc sync` to finish it, or `git rebase --abort`",
             "git 变基（rebase）未完成；请运行 `svc sync` 完成，或 `git rebase --abort`"),
            ("MERGE_HEAD", "a git merge is under way; finish it (git commit) or run `git merge --abort`",
             "git 合并（merge）未完成；请完成合并（git commit）或运行 `git merge --abort`"),
            ("CHERRY_PICK_HEAD", "a git cherry-pick is under way; finish it or run `git cherry-pick --abort`",
             "git cherry-pick 未完成；请完成或运行 `git cherry-pick --abort`"),
            ("REVERT_HEAD", "a git revert is under way; finish it or run `git revert --abort`",
             "git revert 未完成；请完成或运行 `git revert --abort`"),
            ("sequencer", "a git cherry-pick or revert is under way; finish it or run `git cherry-pick --abort`",
             "git cherry-pick 或 revert 未完成；请完成或运行 `git cherry-pick --abort`"),
            ("BISECT_LOG", "a git bisect is under way; run `git bisect reset`",
             "git bisect 未结束；请运行 `git bisect reset`"),
        ):
            if (dot_git / name).exists():
                return cn if zh else en
        from svc import indexscan

        try:
            branch, _ = indexscan.read_head(str(self.root))
        except OSError:
            done = self.git.run("symbolic-ref", "-q", "HEAD", check=False)
            branch = done.stdout.strip() or None
        if branch is None:
            return ("HEAD 处于游离状态（不在任何分支上）；请运行 `git switch 分支名`（通常是 main）" if zh
                    else "HEAD is detached (not on a branch); run `git switch BRANCH` (usually main)")
        return None

    def refuse_git_operation(self) -> None:
        """Refuse a write while git is mid-operation (exit 1, with what to run), unless
        the caller runs inside that operation on purpose (`git_operations_allowed`)."""
        if not self._guarded:
            return
        why = self.git_operation()
        if why is not None:
            zh = self.config.lang == "zh"
            raise RefusedError(f"{'未写入任何内容' if zh else 'nothing written'}: {why}")

    @contextmanager
    def git_operations_allowed(self) -> Iterator[None]:
        """Let writes happen while git is mid-operation: for the steps of an operation that
        legitimately runs there (svc sync's own recovery). Nothing else may use it."""
        self._guarded = False
        try:
            yield
        finally:
            self._guarded = True

    # --- writing -----------------------------------------------------------------------

    def write(self, changes: dict[Path, str | None], message: str, actor: Actor, when: str | None = None,
              added: dict[Path, bytes] | None = None) -> None:
        """Write (or, with None, delete) files and commit them as one change; `added` are
        files only ever created, not committed (an issued letter's PDF), that belong to it.

        Call under `locked()`. A write intent (svc/intent.py) is recorded first, so that a
        kill at any moment is finished or undone by the next svc command; if anything fails
        here, every file is put back as it was (unless the commit was made).
        """
        import hashlib

        from svc import intent as intents

        self.refuse_git_operation()
        if self.intent_pending():  # left by a write that could not be settled (locked() said why)
            raise RefusedError("上次中断的写入尚未处理；未写入任何内容" if self.config.lang == "zh" else
                               "an interrupted svc write is still pending; nothing written")
        self.refuse_links(changes)
        added = added or {}
        before: dict[Path, str | None] = {
            path: path.read_text(encoding="utf-8") if path.exists() else None for path in changes
        }
        branch = head = None
        if self.git is not None:
            from svc import indexscan

            try:
                branch, head = indexscan.read_head(str(self.root))
            except OSError:
                head = self.git.head()
        pending = intents.Intent(
            message, self.author(actor), when, branch, head,
            [(self.rel(p), before[p], text) for p, text in changes.items()],
            [(self._lasting(p), hashlib.sha256(data).hexdigest()) for p, data in added.items()])
        intents.begin(self.root, pending)
        try:
            intents.crash_point("after-intent")
            for path, data in added.items():
                from svc.yamlio import write_atomic

                write_atomic(path, data)
                intents.crash_point("mid-files")
            _put_files(changes, intents.crash_point)
            intents.crash_point("after-files")
            if self.git is not None:
                rels = [self.rel(p) for p in changes]
                parent, made = self.git.commit(rels, message, self.author(actor), when)
                intents.crash_point("after-commit")
                if parent and made:
                    from svc import indexscan

                    indexscan.journal(str(self.root), parent, made, rels)
        except BaseException:
            try:
                intents.settle(self, pending, forward=False)  # back, unless the commit was made
            except BaseException:
                pass  # the intent stays; the next command settles it
            raise
        intents.end(self.root)

    def _lasting(self, path: Path) -> str:
        """`path` as the intent keeps it: from the root when inside the store, else absolute
        (a letter's --out folder, given relative to where that command ran)."""
        absolute = path.absolute()
        try:
            return absolute.relative_to(self.root.absolute()).as_posix()
        except ValueError:
            return str(absolute)

    def author(self, actor: Actor) -> tuple[str, str]:
        user = self.config.user(actor.id)
        email = user.email if user and user.email else f"{actor.id}@{self.config.office.lower()}.invalid"
        return (f"{actor.name} ({actor.id})" if actor.name != actor.id else actor.id, email)


_LINK = "is a symbolic link; svc reads and writes no links in the store (one can point outside it): " \
        "put the file itself there"
_LINK_ZH = "是符号链接；svc 不读写仓库中的链接（链接可能指向仓库之外），请放入文件本身"


def read_text(path: Path) -> str:
    """A record's text; OSError (ELOOP) when the file is a symbolic link."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with open(fd, encoding="utf-8") as handle:
        return handle.read()


def _to_stderr(line: str) -> None:
    sys.stderr.write(f"svc: {line}\n")


def _put_files(contents: dict[Path, str | None], after_each: Callable[[str], None] | None = None) -> None:
    """Write each file atomically; None deletes it."""
    for path, text in contents.items():
        if text is None:
            if path.exists():
                path.unlink()
        else:
            from svc.yamlio import write_atomic

            write_atomic(path, text)
        if after_each is not None:
            after_each("mid-files")


# --- building and updating case files ---------------------------------------------------

def put_fields(raw: "CommentedMap", values: dict[str, Any], order: tuple[str, ...]) -> None:
    """Store `values` in `raw`, touching only keys whose value changes; a new key goes
    where `order` puts it, and None removes a key."""
    for key, value in values.items():
        if value is None:
            if key in raw:
                del raw[key]
            continue
        if key in raw:
            if plain(raw[key]) != value:
                raw[key] = value
            continue
        position = 0
        for i, existing in enumerate(raw.keys()):
            if existing in order and order.index(existing) < order.index(key):
                position = i + 1
        raw.insert(position, key, value)


def put_state(raw: "CommentedMap", state: State) -> None:
    """Store a case's replayed `state` in `raw`."""
    put_fields(raw, state.as_fields(), CASE_KEYS)


def ordered_node(fields: dict[str, Any], order: tuple[str, ...]) -> "CommentedMap":
    """A new record's mapping: keys in `order`, empty values left out."""
    from ruamel.yaml.comments import CommentedMap

    node = CommentedMap()
    for key in order:
        value = fields.get(key)
        if isinstance(value, dict):
            value = CommentedMap((k, v) for k, v in value.items() if v not in (None, ""))
        if value in (None, "", [], {}):
            continue
        node[key] = value
    return node


def new_case_node(fields: dict[str, Any]) -> "CommentedMap":
    """A case mapping with keys in canonical order and empty intake left out."""
    return ordered_node(fields, CASE_KEYS)

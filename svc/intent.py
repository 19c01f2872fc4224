"""The write intent: a command's files and its commit land together or not at all.

Before a write touches any record file, it writes `.svc/intent.json` (per clone, never
committed, like SQLite's hot journal): the paths, each one's previous and new content,
the sha256 of any other file it adds (an issued letter's PDF or DOCX), HEAD and its
branch, and the commit's message, author and date. Then the files, then the commit, then
the intent is removed. A write that fails in-process settles its own intent; one that was
killed (kill -9, a power cut) leaves it for the next svc command, which settles it under
the store lock before it does anything else:

- **already committed** (HEAD holds every new content): the work tree and git's index are
  brought in line with that commit; nothing else changes;
- **rolled forward** when every file is on disk with its new content (and every added
  letter file has its sha256): the commit the killed command was about to make is made,
  with its message, author and date;
- **rolled back** otherwise: every file is put back exactly as it was (a new one removed),
  the paths are unstaged, and added letter files are removed (so no numbered letter is
  left without its register entry).

While git is in the middle of something (a rebase, a merge, a detached HEAD) nothing is
settled: the intent waits until `svc sync` or the user has finished it.

The intent file is written whole (temp file, fsync, rename), so it is there complete or
not at all. Only the standard library is imported here; the store imports this module
only when the file exists (start-up pays one stat).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from svc.errors import SvcError
from svc.filecache import write_atomic

if TYPE_CHECKING:
    from svc.store import Store

VERSION = 1

# Test-only: `SVC_TEST_CRASH=<point>` makes the process kill itself with SIGKILL at that point
# of a write (after-intent, mid-files, after-files, after-commit), so that tests can crash a
# real subprocess deterministically. SVC_TEST_CRASH_AFTER=N lets the point pass N times first
# (the third letter of a batch); SVC_TEST_CRASH_SIGNAL=INT sends SIGINT instead (Ctrl-C).
# Read once at import; unset, `crash_point` costs one compare.
_CRASH_AT = os.environ.get("SVC_TEST_CRASH") or None
_CRASH_SKIP = [int(os.environ.get("SVC_TEST_CRASH_AFTER") or 0)] if _CRASH_AT else [0]
_CRASH_SIGNAL = getattr(signal, "SIG" + (os.environ.get("SVC_TEST_CRASH_SIGNAL") or "KILL")) if _CRASH_AT else None


def crash_point(name: str) -> None:
    """Test-only: die here, as kill -9 would, when SVC_TEST_CRASH names this point."""
    if _CRASH_AT != name:
        return
    if _CRASH_SKIP[0] > 0:
        _CRASH_SKIP[0] -= 1
        return
    os.kill(os.getpid(), _CRASH_SIGNAL)


class IntentError(SvcError):
    """An interrupted write that cannot be settled now (it stays pending)."""


@dataclass
class Intent:
    message: str
    author: tuple[str, str]
    when: str | None
    branch: str | None  # the branch HEAD was on (None: no git)
    head: str | None  # the commit HEAD was at (None: no git, or no commit yet)
    files: list[tuple[str, str | None, str | None]]  # (path from the root, before, after); None: absent
    added: list[tuple[str, str]] = field(default_factory=list)  # (path, sha256) of files only ever added

    @property
    def subject(self) -> str:
        return self.message.splitlines()[0] if self.message else ""

    def to_json(self) -> str:
        return json.dumps({"version": VERSION, "message": self.message, "author": list(self.author),
                           "when": self.when, "branch": self.branch, "head": self.head,
                           "files": [list(f) for f in self.files], "added": [list(a) for a in self.added]},
                          ensure_ascii=True)  # a stray surrogate must not stop the intent

    @classmethod
    def from_json(cls, text: str) -> "Intent":
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ValueError("not a version-1 intent")
        return cls(str(data["message"]), (str(data["author"][0]), str(data["author"][1])), data["when"],
                   data["branch"], data["head"], [(str(p), b, a) for p, b, a in data["files"]],
                   [(str(p), str(h)) for p, h in data.get("added", [])])


def path_of(root: Path) -> Path:
    from svc.store import INTENT, LOCAL_DIR

    return root / LOCAL_DIR / INTENT


def begin(root: Path, intent: Intent) -> None:
    """Record `intent` durably before any file of it is written."""
    path = path_of(root)
    path.parent.mkdir(exist_ok=True)
    write_atomic(path, intent.to_json())


def end(root: Path) -> None:
    """The write is settled: forget its intent."""
    try:
        path_of(root).unlink()
    except FileNotFoundError:
        pass


def load(root: Path, lang: str = "en") -> Intent | None:
    path = path_of(root)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return Intent.from_json(text)
    except (ValueError, KeyError, TypeError, IndexError):
        if lang == "zh":
            raise IntentError(f"{path}：不是 svc 能读的写入意图；请先确认没有写了一半的文件（git status），"
                              f"再把它移走") from None
        raise IntentError(f"{path}: not an intent svc can read; move it away once nothing is half-written "
                          f"(git status shows what is)") from None


def _absolute(root: Path, rel: str) -> Path:
    path = Path(rel)
    return path if path.is_absolute() else root / path


def _content(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return "\0unreadable"  # never equal to a content svc wrote


def _sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _put(path: Path, text: str | None) -> None:
    if text is None:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
    elif _content(path) != text:
        write_atomic(path, text)


def on_disk(root: Path, intent: Intent) -> bool:
    """Every file of the intent is on disk with its new content."""
    return all(_content(_absolute(root, rel)) == after for rel, _, after in intent.files) and all(
        _sha(_absolute(root, rel)) == sha for rel, sha in intent.added)


def committed(store: "Store", intent: Intent) -> bool:
    """HEAD has moved on and holds every new content of the intent: its commit was made."""
    git = store.git
    if git is None:
        return False
    head = git.head()
    if head is None or head == intent.head:
        return False
    blobs = git.blobs([f"HEAD:{rel}" for rel, _, _ in intent.files])
    return all(blob == after for blob, (_, _, after) in zip(blobs, intent.files))


def roll_back(store: "Store", intent: Intent) -> None:
    """Put every file back exactly as it was; unstage; remove the added files that are ours."""
    root = store.root
    for rel, before, _ in intent.files:
        _put(_absolute(root, rel), before)
    for rel, sha in intent.added:
        path = _absolute(root, rel)
        if _sha(path) == sha:
            path.unlink()
    if store.git is not None and intent.files:
        store.git.unstage([rel for rel, _, _ in intent.files])


def settle(store: "Store", intent: Intent, forward: bool) -> str:
    """Finish or undo `intent`: "committed" (found made), "completed" (rolled forward, only
    when `forward` allows it) or "undone". Call under the store lock; the intent file is
    removed when it is settled."""
    root = store.root
    outcome = "undone"
    if store.git is not None and committed(store, intent):
        for rel, _, after in intent.files:  # the commit is the truth; the files follow it
            _put(_absolute(root, rel), after)
        store.git.unstage([rel for rel, _, _ in intent.files])  # the index as HEAD: nothing staged is left
        outcome = "committed"
    elif forward and on_disk(root, intent):
        if store.git is not None:
            paths = [rel for rel, _, _ in intent.files]
            parent, made = store.git.commit(paths, intent.message, intent.author, intent.when)
            if parent and made:
                from svc import indexscan

                indexscan.journal(str(root), parent, made, paths)
        outcome = "completed"
    else:
        roll_back(store, intent)
    end(root)
    return outcome


_TOLD = {
    "committed": {"en": "an interrupted svc write had been committed; its files are in line again: {subject}",
                  "zh": "上次中断的写入已提交，文件已与提交一致：{subject}"},
    "completed": {"en": "finished an interrupted svc write (all its files were written; now committed): {subject}",
                  "zh": "已完成上次中断的写入（文件均已写好，现已提交）：{subject}"},
    "undone": {"en": "undid an interrupted svc write (its files are back as they were): {subject}",
               "zh": "已撤销上次中断的写入（文件已恢复原样）：{subject}"},
    "waiting": {"en": "an interrupted svc write is pending until git is back on a branch ({why}): {subject}",
                "zh": "上次中断的写入尚待处理，需先让 git 回到正常分支（{why}）：{subject}"},
    "failed": {"en": "an interrupted svc write could not be settled ({why}); it stays pending: {subject}",
               "zh": "上次中断的写入无法完成（{why}），仍待处理：{subject}"},
}


def told(lang: str, what: str, subject: str, why: str = "") -> str:
    """The one line that says what became of an interrupted write, in the store's language."""
    return _TOLD[what]["zh" if lang == "zh" else "en"].format(subject=subject, why=why)


def describe(intent: Intent) -> dict[str, Any]:
    """What a pending intent would do, for messages and tests."""
    return {"subject": intent.subject, "files": [rel for rel, _, _ in intent.files],
            "added": [rel for rel, _ in intent.added], "head": intent.head, "branch": intent.branch}

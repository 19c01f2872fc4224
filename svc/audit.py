"""The tamper audit (记录不得涂改): every commit's changes to records, registers, summaries and
svc.yaml, judged against the commit before it, from git's objects alone (so the server's
pre-receive hook runs it in a bare repository too).

The rule, per commit and per changed file:

- Records (cases, projects, patrols, holds, duty logs): the events of the parent's version
  stay, unchanged and in order; a case's intake facts are never rewritten. Events may be
  added by
  * svc's own commits (a message with an `Svc-Action:` trailer) anywhere in time order: a
    commit `svc sync` rebased through the merge driver may place its events between events
    another clone recorded first. An event placed between older ones must be by the user
    the commit was made for (its `Svc-User:`), as the merge driver's are;
  * a merge commit: each added event is in another parent's version (or is the merge
    driver's note of a change it could not apply);
  * a hand commit (no trailers): only at the end. A hand-written event between older ones
    is how an overdue deadline is made to look met, so it is reported.
  A record file is deleted only through a disposal-register entry (patrol records and duty
  logs are audited for that by checks.audit_patrols / audit_duty) or when moved.
- The letter register (register/): an entry is never removed and its fields never change;
  only `signed` may be added, once.
- The disposal register (registers/disposal.yaml): entries are only added, never changed or
  removed; a hand commit may not add one (svc retention apply does, or a merge brings it).
- Monthly summaries (summaries/): once written, never changed or removed.
- svc.yaml: changes of users and roles are listed (information, with who and when).

`svc check` walks the commits it has not verified yet and keeps where it got to, and what
it found, in .svc/audit.json (per clone, never committed).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from svc import yamlio
from svc.errors import RecordError
from svc.gitrepo import Git
from svc.schema import Problem

RECORD_FOLDERS = ("cases", "projects", "patrols", "holds", "duty")
DELETION_AUDITED_ELSEWHERE = ("patrols", "duty")  # checks.audit_patrols / audit_duty, with retention dates
LETTERS = "register"
DISPOSALS = "registers/disposal.yaml"
SUMMARIES = "summaries"
CONFIG = "svc.yaml"
AREAS = (*RECORD_FOLDERS, LETTERS, "registers", SUMMARIES, CONFIG)
STATE_NAME = "audit.json"
STATE_VERSION = 1
ZERO = "0" * 40
MERGE_NOTE = "merge: not applied"
_CHUNK = 4000  # blobs read per `git cat-file --batch`
_INTAKE: tuple[str, ...] | None = None


def _intake_keys() -> tuple[str, ...]:
    global _INTAKE
    if _INTAKE is None:
        from svc.model import INTAKE_KEYS

        _INTAKE = ("id", "kind", "opened_at", *INTAKE_KEYS)
    return _INTAKE


@dataclass
class Commit:
    sha: str
    parents: list[str]
    author: str
    date: str
    action: str  # the Svc-Action trailer ("" for a hand commit)
    user: str  # the Svc-User trailer
    changes: list[tuple[str, str, str, str]] = field(default_factory=list)  # status, old blob, new blob, path

    @property
    def label(self) -> str:
        if not self.sha:
            return "in the work tree (not committed)"
        if self.sha == "staged":
            return "in this commit"
        return f"commit {self.sha[:10]} ({self.author}, {self.date[:10]})"


@dataclass(frozen=True)
class Finding:
    path: str
    commit: str
    message: str

    def problem(self) -> Problem:
        return Problem(self.path, None, self.message)


@dataclass
class Result:
    findings: list[Finding] = field(default_factory=list)
    config: list[tuple[str, str]] = field(default_factory=list)  # (commit, change of users or roles): information
    walked: int = 0  # commits verified by this run


# --- reading git ---------------------------------------------------------------------------------

_FORMAT = "%x01%H%x02%P%x02%an%x02%aI%x02%(trailers:key=Svc-Action,valueonly,separator=%x2C)%x02" \
          "%(trailers:key=Svc-User,valueonly,separator=%x2C)"


def _in_areas(path: str) -> bool:
    return path == CONFIG or path.split("/", 1)[0] in AREAS[:-1]


def commits(git: Git, revs: list[str]) -> list[Commit]:
    """The commits `revs` name (git log syntax), oldest first, each with its changes to the
    audited files against its first parent, in one `git log --raw`."""
    done = git.run("-c", "core.quotePath=false", "log", "--reverse", "--topo-order", "--no-renames", "--raw",
                   "--no-abbrev", "--diff-merges=first-parent", f"--format={_FORMAT}", *revs, "--", check=False)
    if done.returncode != 0:
        return []
    out: list[Commit] = []
    for line in done.stdout.splitlines():
        if line.startswith("\x01"):
            sha, parents, author, date, action, user = line[1:].split("\x02")
            out.append(Commit(sha, parents.split(), author, date, action.strip(), user.strip()))
        elif line.startswith(":") and out:
            meta, path = line.split("\t", 1)
            if not _in_areas(path):
                continue
            parts = meta.split()
            out[-1].changes.append((parts[4][:1], parts[2], parts[3], path))
    return out


class Blobs:
    """Blob texts by object name (or `rev:path`), read in batches through one process each."""

    def __init__(self, git: Git) -> None:
        self.git = git
        self.texts: dict[str, str | None] = {}
        self.nodes: dict[str, Any] = {}

    def load(self, specs: Iterable[str]) -> None:
        wanted = sorted({s for s in specs if s and s != ZERO and s not in self.texts})
        for i in range(0, len(wanted), _CHUNK):
            chunk = wanted[i:i + _CHUNK]
            self.texts.update(zip(chunk, self.git.blobs(chunk)))

    def get(self, spec: str) -> str | None:
        if spec not in self.texts:
            self.load([spec])
        return self.texts.get(spec)

    def parsed(self, spec: str) -> Any:
        """The blob parsed, once: a file's new version in one commit is its old one in the next."""
        if spec not in self.nodes:
            if len(self.nodes) > 20000:
                self.nodes.clear()
            self.nodes[spec] = _parse(self.get(spec))
        return self.nodes[spec]

    def forget(self) -> None:
        self.texts.clear()


def _parse(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return yamlio.loads_fast(text, "-")
    except (RecordError, RecursionError, ValueError):
        return None


def _identity(item: Any) -> str:
    return json.dumps(item, ensure_ascii=False, sort_keys=True, default=str)


def _what(i: int, item: Any, key: str = "history") -> str:
    if isinstance(item, dict) and "action" in item:
        return f"{key}[{i + 1}] ({item.get('action')} at {item.get('at')})"
    if isinstance(item, dict) and "record" in item:
        return f"{key}[{i + 1}] ({item.get('record')})"
    return f"{key}[{i + 1}]"


# --- judging one change ---------------------------------------------------------------------------

def _kept(before: list[Any], after: list[Any]) -> tuple[int | None, list[int]]:
    """Where `before` stops being a subsequence of `after` (None: it is one), and the
    positions in `after` of the items `before` did not have."""
    ids_after = [_identity(x) for x in after]
    matched: set[int] = set()
    j = 0
    for i, item in enumerate(before):
        wanted = _identity(item)
        while j < len(ids_after) and ids_after[j] != wanted:
            j += 1
        if j == len(ids_after):
            return i, []
        matched.add(j)
        j += 1
    return None, [k for k in range(len(after)) if k not in matched]


def _judge_list(commit: Commit, key: str, before: list[Any], after: list[Any], others: list[list[Any]],
                *, hand_may_add: bool, by_user: bool) -> list[str]:
    """An append-only list (a record's history, the disposal register's entries)."""
    lost, added = _kept(before, after)
    if lost is not None:
        ids_after = {_identity(x) for x in after}
        if _identity(before[lost]) in ids_after:
            verb = "moved"
        else:
            verb = "removed" if len(after) < len(before) else "changed"
        return [f"{_what(lost, before[lost], key)} {verb} (记录不得涂改)"]
    if not added:
        return []
    merge = len(commit.parents) > 1
    known = {_identity(x) for other in others for x in other}
    last_old = max((k for k in range(len(after)) if k not in set(added)), default=-1)
    problems = []
    for k in added:
        item = after[k]
        if merge:
            note = isinstance(item, dict) and item.get("action") == "note" and \
                str(item.get("text", "")).startswith(MERGE_NOTE)
            if _identity(item) not in known and not note:
                problems.append(f"{_what(k, item, key)} added by a merge, but no side of it has it")
        elif not commit.action:
            if not hand_may_add:
                problems.append(f"{_what(k, item, key)} added by hand (only svc adds entries here)")
            elif k < last_old:
                problems.append(f"{_what(k, item, key)} inserted by hand between older entries "
                                f"(记录不得涂改: only svc and merges of clones place an event there)")
        elif by_user and k < last_old and commit.user and isinstance(item, dict) and item.get("by") != commit.user:
            problems.append(f"{_what(k, item, key)} by {item.get('by')} placed between older events in a "
                            f"commit svc made for {commit.user}")
    return problems


def _blocks(text: str | None) -> dict[str, str] | None:
    """The text of each top-level key of a file as svc writes it (block style, lists at
    the key's column), or None."""
    if text is None:
        return None
    out: dict[str, str] = {}
    key = None
    lines: list[str] = []
    for line in text.splitlines(keepends=True):
        if line[:1] not in (" ", "-", "#", "\n", "") and ":" in line:
            if key is not None:
                out[key] = "".join(lines)
            key, lines = line.split(":", 1)[0], [line]  # the key's line holds a one-line value
            if key in out:
                return None
            continue
        if key is None:
            continue  # a comment at the top
        lines.append(line)
    if key is not None:
        out[key] = "".join(lines)
    return out


def _only_appended(path: str, old_text: str | None, new_text: str | None) -> bool:
    """True when, by the text alone, the new version only appends events at the end and
    keeps a case's intake facts: the old history's text is a prefix of the new one's, ending
    where a new event begins. False means: parse both and judge (svc check's speed on a
    long history comes from not parsing the common case)."""
    old, new = _blocks(old_text), _blocks(new_text)
    if old is None or new is None or "history" not in old or "history" not in new:
        return False
    before, after = old["history"], new["history"]
    if not after.startswith(before) or not (len(after) == len(before) or after[len(before):].startswith("- ")):
        return False
    if before.strip() in ("history:", "history: []"):
        return False  # an empty history: parse it
    if path.startswith("cases/"):
        return all(old.get(key) == new.get(key) for key in _intake_keys())
    return True


def _judge_record(commit: Commit, path: str, old: Any, new: Any, others: list[Any]) -> list[str]:
    if not isinstance(old, dict) or not isinstance(new, dict):
        return []  # unreadable versions are for the other checks
    before, after = old.get("history"), new.get("history")
    if not isinstance(before, list) or not isinstance(after, list):
        return []
    other_histories = [o["history"] for o in others if isinstance(o, dict) and isinstance(o.get("history"), list)]
    problems = _judge_list(commit, "history", before, after, other_histories, hand_may_add=True, by_user=True)
    if path.split("/", 1)[0] in DELETION_AUDITED_ELSEWHERE:
        # an event changed or removed there is reported by checks.audit_patrols / audit_duty
        problems = [p for p in problems if "(记录不得涂改)" not in p or "inserted" in p]
    if path.startswith("cases/"):
        for key in _intake_keys():
            if _identity(old.get(key)) != _identity(new.get(key)) and not any(
                    isinstance(o, dict) and _identity(o.get(key)) == _identity(new.get(key)) for o in others):
                problems.append(f"{key} changed (intake facts are never rewritten)")
    return problems


def _judge_letter(old: Any, new: Any) -> list[str]:
    if not isinstance(old, dict) or not isinstance(new, dict):
        return []
    problems = []
    for key in sorted(set(old) | set(new), key=str):
        if key in old and _identity(old[key]) != _identity(new.get(key)):
            problems.append(f"letter register entry: {key} {'removed' if key not in new else 'changed'} "
                            "(发文登记不得涂改)")
        elif key not in old and key != "signed":
            problems.append(f"letter register entry: {key} added after the letter was issued")
    return problems


def _judge_disposals(commit: Commit, old: Any, new: Any, others: list[Any]) -> list[str]:
    if not isinstance(old, dict) or not isinstance(new, dict):
        return []
    before, after = old.get("entries") or [], new.get("entries") or []
    if not isinstance(before, list) or not isinstance(after, list):
        return []
    other_entries = [o.get("entries") or [] for o in others if isinstance(o, dict)]
    return _judge_list(commit, "entries", before, after, other_entries, hand_may_add=False, by_user=False)


def _users(node: Any) -> dict[str, dict[str, Any]]:
    users = node.get("users") if isinstance(node, dict) else None
    if not isinstance(users, dict):
        return {}
    return {str(k): (v if isinstance(v, dict) else {}) for k, v in users.items()}


def _config_changes(commit: Commit, old: Any, new: Any) -> list[str]:
    before, after = _users(old), _users(new)
    out = []
    for uid in sorted(set(before) | set(after)):
        if uid not in before:
            out.append(f"user {uid} added (role {after[uid].get('role')}) / 新增用户")
        elif uid not in after:
            out.append(f"user {uid} removed (was {before[uid].get('role')}) / 删除用户")
        elif before[uid].get("role") != after[uid].get("role"):
            out.append(f"user {uid}: role {before[uid].get('role')} -> {after[uid].get('role')} / 角色变更")
        elif before[uid].get("name") != after[uid].get("name"):
            out.append(f"user {uid}: name {before[uid].get('name')} -> {after[uid].get('name')} / 姓名变更")
    return [f"{CONFIG}: {commit.label}: {line}" for line in out]


def judge(git: Git, commit: Commit, blobs: Blobs, work_tree: Path | None = None) -> tuple[list[Finding], list[str]]:
    """The findings of one commit (or of the staged or work-tree changes: a pseudo-commit
    whose new blobs are ZERO, read from `work_tree`), and its svc.yaml user changes."""

    def new_text(old_sha: str, new_sha: str, path: str) -> str | None:
        if new_sha == ZERO and work_tree is not None:
            try:
                return (work_tree / path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                return None
        return blobs.get(new_sha)

    others = commit.parents[1:]
    findings: list[Finding] = []
    config: list[str] = []
    added_names = {Path(p).name for status, _, _, p in commit.changes if status == "A"}
    disposed: set[str] | None = None
    for status, old_sha, new_sha, path in commit.changes:
        folder = path.split("/", 1)[0]
        said: list[str] = []
        other_nodes = [_parse(blobs.get(f"{p}:{path}")) for p in others] if status != "A" else []
        if status == "D":
            if any(o is None for o in other_nodes):
                continue  # a merge taking the other side's deletion, which was judged on its side
            if folder in RECORD_FOLDERS and folder not in DELETION_AUDITED_ELSEWHERE and path.endswith(".yaml"):
                if Path(path).name in added_names:
                    continue  # moved
                if disposed is None:
                    disposed = _disposed_at(commit, blobs, work_tree)
                if Path(path).stem not in disposed:
                    said.append("record file deleted without a disposal register entry (记录不得销毁); restore it with git")
            elif folder == LETTERS:
                said.append("letter register entry deleted (发文登记不得删除)")
            elif path == DISPOSALS:
                said.append("the disposal register deleted (销毁清册不得删除)")
            elif folder == SUMMARIES:
                said.append("monthly summary deleted (月度汇总一经生成不得更改)")
            elif path == CONFIG:
                config += _config_changes(commit, _parse(blobs.get(old_sha)), None)
        elif status == "M" or status == "T":
            if folder == SUMMARIES:
                if not any(_identity(o) == _identity(_parse(new_text(old_sha, new_sha, path))) for o in other_nodes
                           if o is not None):
                    said.append("monthly summary changed (月度汇总一经生成不得更改)")
            else:
                if folder in RECORD_FOLDERS and path.endswith(".yaml") and not others and \
                        _only_appended(path, blobs.get(old_sha), new_text(old_sha, new_sha, path)):
                    continue  # the common case, told from the text without parsing it
                old = blobs.parsed(old_sha)
                new = blobs.parsed(new_sha) if new_sha != ZERO else _parse(new_text(old_sha, new_sha, path))
                if folder in RECORD_FOLDERS and path.endswith(".yaml"):
                    said = _judge_record(commit, path, old, new, other_nodes)
                elif folder == LETTERS:
                    if not any(_identity(o) == _identity(new) for o in other_nodes if o is not None):
                        said = _judge_letter(old, new)
                elif path == DISPOSALS:
                    said = _judge_disposals(commit, old, new, other_nodes)
                elif path == CONFIG:
                    config += _config_changes(commit, old, new)
        elif status == "A":
            if path == DISPOSALS and not commit.action and len(commit.parents) < 2:
                new = _parse(new_text(old_sha, new_sha, path))
                said = _judge_disposals(commit, {"entries": []}, new, [])
            elif path == CONFIG and commit.parents:
                config += _config_changes(commit, None, _parse(new_text(old_sha, new_sha, path)))
        findings += [Finding(path, commit.sha, f"{commit.label}: {what}") for what in said]
    return findings, config


def _disposed_at(commit: Commit, blobs: Blobs, work_tree: Path | None) -> set[str]:
    """The records the disposal register names as of `commit`."""
    if not commit.sha and work_tree is not None:
        try:
            text: str | None = (work_tree / DISPOSALS).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
    elif commit.sha == "staged":
        text = blobs.get(f":{DISPOSALS}")
    else:
        text = blobs.get(f"{commit.sha}:{DISPOSALS}")
    node = _parse(text)
    entries = node.get("entries") if isinstance(node, dict) else None
    return {str(e.get("record")) for e in entries or [] if isinstance(e, dict)}


def _needed(commit: Commit) -> Iterator[str]:
    """The blobs judging `commit` reads: an added file is read only where its content matters."""
    deletes = False
    for status, old, new, path in commit.changes:
        if status == "A":
            if path in (DISPOSALS, CONFIG):
                yield new
            continue
        yield from [f"{p}:{path}" for p in commit.parents[1:]]
        if status == "D":
            deletes = True
            if path == CONFIG:
                yield old
        else:
            yield from (old, new)
    if deletes and commit.sha not in ("", "staged"):
        yield f"{commit.sha}:{DISPOSALS}"


def audit_commits(git: Git, found: list[Commit]) -> Result:
    result = Result()
    blobs = Blobs(git)
    for start in range(0, len(found), 500):  # blobs read in batches, a few hundred commits at a time
        batch = found[start:start + 500]
        blobs.load(spec for commit in batch for spec in _needed(commit))
        for commit in batch:
            findings, config = judge(git, commit, blobs)
            result.findings += findings
            result.config += [(commit.sha, line) for line in config]
        blobs.forget()
    result.walked = len(found)
    return result


# --- uncommitted and staged changes ----------------------------------------------------------------

def _pending(git: Git, cached: bool) -> list[tuple[str, str, str, str]]:
    args = ["-c", "core.quotePath=false", "diff-index", "--no-renames", "--no-abbrev"]
    if cached:
        args.append("--cached")
    done = git.run(*args, "HEAD", "--", *AREAS, check=False)
    out = []
    for line in done.stdout.splitlines():
        if line.startswith(":") and "\t" in line:
            meta, path = line.split("\t", 1)
            parts = meta.split()
            out.append((parts[4][:1], parts[2], parts[3], path))
    return out


def audit_work_tree(git: Git, root: Path) -> list[Finding]:
    """Hand changes to committed files not committed yet: judged as a hand commit would be."""
    head = git.head()
    if head is None:
        return []
    commit = Commit("", [head], "", "", "", "", _pending(git, cached=False))
    if not commit.changes:
        return []
    return judge(git, commit, Blobs(git), work_tree=root)[0]


def audit_staged(git: Git) -> list[Finding]:
    """What `git commit` is about to commit (the pre-commit hook): a hand commit, or a
    merge's when a merge is being concluded."""
    head = git.head()
    if head is None:
        return []
    parents = [head]
    git_dir = Path(git.run("rev-parse", "--git-dir").stdout.strip())
    git_dir = git_dir if git_dir.is_absolute() else git.root / git_dir
    merge_head = git_dir / "MERGE_HEAD"
    if merge_head.exists():
        parents += merge_head.read_text(encoding="utf-8").split()
    # a commit a rebase replays keeps its own message (and its trailers): judged as svc's
    action = "rebase" if (git_dir / "rebase-merge").exists() or (git_dir / "rebase-apply").exists() else ""
    commit = Commit("staged", parents, "", "", action, "", [])
    for status, old, new, path in _pending(git, cached=True):
        commit.changes.append((status, old, new, path))
    return judge(git, commit, Blobs(git))[0]


# --- incremental state -----------------------------------------------------------------------------

def _state_path(root: Path) -> Path:
    from svc.store import LOCAL_DIR

    return root / LOCAL_DIR / STATE_NAME


def read_state(root: Path) -> dict[str, Any]:
    try:
        state = json.loads(_state_path(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) and state.get("version") == STATE_VERSION else {}


def _write_state(root: Path, state: dict[str, Any]) -> None:
    from svc.filecache import write_atomic

    try:
        write_atomic(_state_path(root), json.dumps(state, ensure_ascii=False, indent=1) + "\n", durable=False)
    except OSError:
        pass  # a read-only clone is still checked, in full each time


def _is_ancestor(git: Git, a: str, b: str) -> bool:
    return git.run("merge-base", "--is-ancestor", a, b, check=False).returncode == 0


def audit_history(git: Git, root: Path, full: bool = False) -> Result:
    """Every commit of HEAD's history verified once: from the commit the last run reached
    (when it is still in HEAD's history), else from where that history and HEAD part (the
    commits after it were rewritten, by a rebase or a reset), else from the first commit.
    The findings of commits still in HEAD's history are kept and reported every time."""
    head = git.head()
    if head is None:
        return Result()
    state = {} if full else read_state(root)
    verified = state.get("head")
    kept: list[Finding] = [Finding(**f) for f in state.get("findings", [])]
    config: list[tuple[str, str]] = [(c, line) for c, line in state.get("config", [])]
    if verified == head:
        return Result(kept, config, 0)
    revs = [head]
    if verified and git.run("cat-file", "-e", f"{verified}^{{commit}}", check=False).returncode == 0:
        if _is_ancestor(git, verified, head):
            revs = [head, f"^{verified}"]
        else:
            base = git.run("merge-base", verified, head, check=False).stdout.strip()
            if base:
                revs = [head, f"^{base}"]
                kept = [f for f in kept if _is_ancestor(git, f.commit, base)]
                config = [c for c in config if _is_ancestor(git, c[0], base)]
            else:
                kept, config = [], []
    else:
        kept, config = [], []
    fresh = audit_commits(git, commits(git, revs))
    state = {"version": STATE_VERSION, "head": head,
             "findings": [f.__dict__ for f in kept + fresh.findings], "config": [list(c) for c in config + fresh.config]}
    _write_state(root, state)
    return Result(kept + fresh.findings, config + fresh.config, fresh.walked)


def pushed_commits(git: Git, new: str) -> list[Commit]:
    """The commits a push brings that the repository does not have on any ref yet."""
    return commits(git, [new, "--not", "--all"])


def problems_of(findings: Iterable[Finding]) -> Iterator[Problem]:
    for finding in findings:
        yield finding.problem()


def env_without_git_vars() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}


# --- what svc check, svc sync and the hooks call -----------------------------------------------------

def verify(root: Path, git: Git, full: bool = False) -> Result:
    """svc check's audit: HEAD's history (incrementally) and the work tree's hand changes."""
    result = audit_history(git, root, full)
    result.findings = result.findings + audit_work_tree(git, root)
    return result


def unpushed_findings(git: Git, root: Path, upstream: str) -> list[Finding]:
    """The findings in commits `upstream` does not have yet (what a push would publish)."""
    result = audit_history(git, root)
    if not result.findings:
        return []
    done = git.run("rev-list", "HEAD", "--not", upstream, check=False)
    if done.returncode != 0:
        return result.findings
    unpushed = set(done.stdout.split())
    return [f for f in result.findings if f.commit in unpushed]


def pre_receive(git: Git, updates: list[tuple[str, str, str]]) -> list[str]:
    """Why the server refuses a push (empty: it accepts): a deleted branch, a branch moved
    other than forward (history rewritten), or a pushed commit the audit finds against."""
    refusals: list[str] = []
    for old, new, ref in updates:
        if not ref.startswith("refs/heads/"):
            continue
        if new == ZERO:
            refusals.append(f"{ref}: deleting a branch of the records is refused (记录不得销毁)")
            continue
        if old != ZERO and not _is_ancestor(git, old, new):
            refusals.append(f"{ref}: not a fast-forward: the push would rewrite history the server has "
                            "(记录不得涂改); run svc sync, which puts this clone's commits after the server's")
            continue
        for finding in audit_commits(git, pushed_commits(git, new)).findings:
            refusals.append(str(finding.problem()))
    return refusals

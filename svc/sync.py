"""Many clones, one history: the merge driver set-up, svc sync, and reading a record's
history back out of git (svc log, svc show --at)."""

from __future__ import annotations

import datetime as dt
import json
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from svc import yamlio
from svc.errors import NotFoundError, RecordError, SvcError
from svc.gitrepo import Git, GitError
from svc.model import ReplayError, plain
from svc.store import KINDS, LOCAL_DIR, Store, put_fields

DRIVER_NAME = "svc"
ATTRIBUTES = "*.yaml text eol=lf merge=svc\n"


def driver_command() -> str:
    """How git calls us: this very interpreter, so the driver works from any venv."""
    return f"{shlex.quote(sys.executable)} -m svc merge-file %O %A %B %P"


def setup(store: Store, desk: str | None) -> list[str]:
    """Register the merge driver in this clone's git config (and set its desk letter)."""
    git = _git(store)
    done = []
    git.run("config", f"merge.{DRIVER_NAME}.name", "svc: unite record histories")
    git.run("config", f"merge.{DRIVER_NAME}.driver", driver_command())
    done.append("merge driver registered in .git/config")
    done.append(_install_hook(git))
    # A store holds a file per record, 100,000 of them in time: git's settings for many
    # files keep its index small to rewrite (split, prefix-compressed) on every commit.
    for key, value in (("core.splitIndex", "true"), ("index.version", "4"), ("core.untrackedCache", "true")):
        git.run("config", key, value)
    attributes = store.root / ".gitattributes"
    current = attributes.read_text(encoding="utf-8") if attributes.exists() else ""
    if "merge=svc" not in current:
        lines = [line for line in current.splitlines() if not line.startswith("*.yaml")]
        yamlio.write_atomic(attributes, "\n".join([*lines, ATTRIBUTES.strip()]) + "\n")
        done.append(".gitattributes: *.yaml merge=svc (commit it)")
    if desk:
        from svc.store import DESK

        if not DESK.match(desk.upper()):
            raise SvcError(f"--desk {desk!r} must be one or two letters, such as B or BK")
        (store.root / LOCAL_DIR).mkdir(exist_ok=True)
        yamlio.write_atomic(store.root / LOCAL_DIR / "desk", desk.upper() + "\n")
        done.append(f"this clone's desk is {desk.upper()}")
    return done


def _install_hook(git: Git) -> str:
    """The pre-commit hook that refuses a hand commit altering records; a hook of the
    clone's own is kept (and said so), never overwritten."""
    from svc import hooks

    try:
        return hooks.install(git, "pre-commit")
    except SvcError as exc:
        return f"pre-commit hook not installed: {exc}"


def driver_ready(store: Store) -> str | None:
    """Why merging records would fail in this clone, or None when it is set up."""
    git = _git(store)
    configured = git.run("config", "--get", f"merge.{DRIVER_NAME}.driver", check=False).stdout.strip()
    attributes = store.root / ".gitattributes"
    if not configured:
        return "the svc merge driver is not set up in this clone"
    if not attributes.exists() or "merge=svc" not in attributes.read_text(encoding="utf-8"):
        return ".gitattributes does not send *.yaml to the svc merge driver"
    return None


def _git(store: Store) -> Git:
    if store.git is None:
        raise SvcError("this store is not a git repository (svc init without --no-git makes one)")
    return store.git


def sync(store: Store, remote: str, branch: str | None, attempts: int = 3,
         now: dt.datetime | None = None) -> list[str]:
    """Pull (rebasing, through the merge driver) and push, retrying when the remote moved.
    A sync killed earlier is finished first (svc/syncjournal.py). Two records under one ID
    and a disposal against a change are settled on the way (svc/reconcile.py); `now`
    (SVC_NOW or the clock) dates the notes that say so, else each note takes its record's
    last event time."""
    from svc import syncjournal

    git = _git(store)
    why = driver_ready(store)
    if why:
        raise SvcError(f"refusing to sync: {why}; run: svc setup (then commit .gitattributes)")
    # rebasing rewrites this clone's unpushed commits, which needs a committer; a desk or
    # cron job with no git identity still syncs (the authors, who made the records, stay)
    ident: dict[str, str] = {}
    if git.run("var", "GIT_COMMITTER_IDENT", check=False).returncode != 0:
        ident = {"GIT_COMMITTER_NAME": "svc", "GIT_COMMITTER_EMAIL": f"svc@{store.config.office.lower()}.invalid"}
    # a sync killed earlier is finished first, every commit of it and since kept
    said = syncjournal.recover(store, git, ident)
    # a write killed while the clone was off its branch waited for it: now it is back on it,
    # finish or undo that write before anything is pulled or pushed (we hold the lock)
    store.settle_pending()
    if git.run("status", "--porcelain", "--untracked-files=no", check=False).stdout.strip():
        raise SvcError("the clone has uncommitted changes to tracked files; commit or restore them first")
    branch = branch or git.run("rev-parse", "--abbrev-ref", "HEAD").stdout.strip()
    try:
        said += _pull_push(store, git, remote, branch, ident, attempts, now)
    except SvcError:
        if git.head() == git.run("rev-parse", "-q", "--verify", f"refs/heads/{branch}", check=False).stdout.strip():
            syncjournal.clear_journal(store)  # stopped cleanly, on the branch: nothing to recover
        raise
    syncjournal.clear_journal(store)
    return said


def _pull_push(store: Store, git: Git, remote: str, branch: str, ident: dict[str, str], attempts: int,
               now: dt.datetime | None) -> list[str]:
    from svc import reconcile, syncjournal

    said: list[str] = []
    since = time.time()
    retried_lock = False
    clashes = reconcile.pending(store)  # renumbered by a sync that did not get to its notes
    attempt = 0
    while attempt < attempts:
        attempt += 1
        clashes += reconcile.renumber_clashes(store, git, remote, branch, ident)
        parted = reconcile.parted_at(git)
        tip = git.run("rev-parse", "-q", "--verify", f"refs/heads/{branch}", check=False).stdout.strip()
        syncjournal.write_journal(store, branch=branch, tip=tip or None, step="pull", remote=remote, since=since)
        pulled = git.run("pull", "--rebase", "--quiet", remote, branch, env=ident, check=False)
        settled = reconcile.resolve_disposals(store, git, ident) if pulled.returncode != 0 else []
        if settled is None:
            git.run("rebase", "--abort", check=False)
            if not retried_lock and _cleared_lock(store, git, remote, pulled.stderr):
                retried_lock, attempt = True, attempt - 1
                continue
            if attempt < attempts and reconcile.clash_stopped(pulled.stderr):
                continue  # the remote moved after the look for clashes: look again
            detail = (pulled.stderr or pulled.stdout).strip().splitlines()
            told = [line.removeprefix("svc merge: ") for line in detail if line.startswith("svc merge: ")]
            cause = told[-1] if told else detail[-1] if detail else pulled.returncode
            raise SvcError(f"pull from {remote} failed: {cause}; nothing changed")
        # what the merge driver resolved (a change that no longer applied) is said, not swallowed
        said += [line.removeprefix("svc merge: ") for line in pulled.stderr.splitlines() if line.startswith("svc merge: ")]
        said += settled or []
        if clashes:
            said += reconcile.note_renumbered(store, clashes, now)
            clashes = []
        said += reconcile.restore_protected(store, git, parted, now)
        _refuse_tampered(store, git)
        syncjournal.write_journal(store, branch=branch, tip=git.head(), step="push", remote=remote, since=since)
        pushed = git.run("push", "--quiet", remote, f"HEAD:{branch}", check=False)
        if pushed.returncode != 0 and not retried_lock and _cleared_lock(store, git, remote, pushed.stderr):
            retried_lock = True
            pushed = git.run("push", "--quiet", remote, f"HEAD:{branch}", check=False)
        if pushed.returncode == 0:
            said.append(f"in sync with {remote}/{branch}" + (f" (after {attempt} tries)" if attempt > 1 else ""))
            return said
        # the server refused (its hook): retrying cannot help; but a ref another clone's push
        # moved meanwhile ("failed to update ref", "cannot lock ref"): pull again and retry
        raced = "failed to update ref" in pushed.stderr or "cannot lock ref" in pushed.stderr
        if "[remote rejected]" in pushed.stderr and not raced:
            told = [line[len("remote:"):].strip() for line in pushed.stderr.splitlines() if line.startswith("remote:")]
            reason = "\n".join(line for line in told if line) or pushed.stderr.strip().splitlines()[-1]
            raise SvcError(f"push to {remote} refused by the server; the commits stay in this clone:\n{reason}")
        time.sleep(0.2 * attempt)
    raise SvcError(f"push to {remote} kept being rejected after {attempts} tries; run svc sync again")


def _refuse_tampered(store: Store, git: Git) -> None:
    """svc check's history audit before anything is published: a commit of this clone that
    alters records is not pushed (the server's hook would refuse it too)."""
    from svc import audit
    from svc.errors import ProblemsFound

    found = audit.unpushed_findings(git, store.root, "FETCH_HEAD")
    if found:
        lines = "\n".join(str(f.problem()) for f in found)
        raise ProblemsFound(f"{lines}\nrefusing to push: {len(found)} change{'s' if len(found) != 1 else ''} to records "
                            "in commits not pushed yet are not allowed (记录不得涂改); the commits stay in this clone")


def _cleared_lock(store: Store, git: Git, remote: str, output: str) -> bool:
    """A pull or push refused for a lock file a killed git left, in this clone or in a remote
    that is a folder on this machine (a push killed mid-way on the remote's side): removed
    when stale (see svc/syncjournal.py), so the step can be redone. Whether one was."""
    from svc import syncjournal

    lock = syncjournal.lock_named(output)
    if lock is None or not lock.is_absolute():
        return False
    url = git.run("remote", "get-url", remote, check=False).stdout.strip() or remote
    folders = [syncjournal.git_dir(git)]
    local = Path(url.removeprefix("file://"))
    if not local.is_absolute():
        local = store.root / local
    if "://" not in url.removeprefix("file://") and ":" not in url.split("/", 1)[0] and local.is_dir():
        folders.append(local.resolve() / ".git" if (local / ".git").is_dir() else local.resolve())
    for folder in folders:
        if lock.resolve().is_relative_to(folder):
            return bool(syncjournal.clear_stale_locks(store, folder, only=[lock]))
    return False


# --- history from git ----------------------------------------------------------------------

@dataclass(frozen=True)
class LogEntry:
    commit: str
    author: str
    date: str
    subject: str
    events: list[dict[str, Any]]


def log(store: Store, path: Path) -> list[LogEntry]:
    """The commits that changed a record, newest first, with the events each added."""
    git = _git(store)
    rel = store.rel(path)
    done = git.run("log", "--format=%H%x1f%an%x1f%aI%x1f%s", "--", rel)
    rows = [line.split("\x1f") for line in done.stdout.splitlines() if line]
    texts = git.blobs([f"{row[0]}:{rel}" for row in rows])
    schema = next((kind.check for kind in KINDS if rel.startswith(f"{kind.folder}/")), None)
    counts = []
    for text in texts:
        node = yamlio.loads_fast(text, rel) if text else None
        if isinstance(node, dict) and schema is not None:
            schema(node, rel)  # numbers as numbers (round: 1), as svc show gives them
        counts.append(plain(node.get("history") or []) if isinstance(node, dict) else [])
    entries = []
    for i, row in enumerate(rows):
        # by identity: a rebased or merged commit may insert events before the newest ones
        before = {json.dumps(ev, sort_keys=True) for ev in (counts[i + 1] if i + 1 < len(counts) else [])}
        added = [ev for ev in counts[i] if json.dumps(ev, sort_keys=True) not in before]
        entries.append(LogEntry(row[0], row[1], row[2], row[3], added))
    return entries


def at_revision(store: Store, path: Path, when: str) -> str:
    """A record's text as it was at a git revision, or at the end of a date."""
    if len(when) == 10 and when[4] == "-" and when[7] == "-":  # a date
        return _as_of(store, path, when)
    git = _git(store)
    rel = store.rel(path)
    try:
        rev = git.verify_rev(when)
    except SvcError:
        raise SvcError(f"--at {when!r} is neither a git revision nor a date (YYYY-MM-DD)") from None
    text = git.show(rev, rel)
    if text is None:
        raise NotFoundError(f"{path.stem} did not exist at {when}")
    return text


def _as_of(store: Store, path: Path, when: str) -> str:
    """The record with the events that had happened by the end of a date (office time),
    its state replayed from them. Not a commit's copy: after svc sync the commit made that
    day may hold another desk's later events, and one desk's events of that day may have
    been committed after them."""
    from svc.merge import KINDS as REPLAYS

    try:
        end = dt.datetime.combine(dt.date.fromisoformat(when), dt.time.max, tzinfo=store.config.tz)
    except ValueError:
        raise SvcError(f"--at {when!r} is not a date (YYYY-MM-DD)") from None
    shown = store.shown(path)
    folder = store.rel(path).split("/")[0]
    record, problems = store.parse(path, next(k for k in KINDS if k.folder == folder))
    if record is None:
        raise RecordError(problems[0].path, problems[0].line, problems[0].message)
    node, kind = record.raw, REPLAYS[folder]
    history = node["history"]
    happened = sum(1 for ev in history if dt.datetime.fromisoformat(str(ev["at"])) <= end)  # times never go back
    if not happened:
        raise NotFoundError(f"{path.stem} did not exist yet on {when}")
    del history[happened:]
    try:
        state = kind.state(kind.replay(plain(history)))
    except ReplayError as exc:
        raise RecordError(shown, None, f"history[{exc.index + 1}]: {exc.message}") from None
    put_fields(node, state, kind.order)
    return yamlio.dumps(node)


__all__ = ["GitError", "setup", "sync", "log", "at_revision", "driver_ready"]

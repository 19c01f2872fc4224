"""The few git operations the store needs, run through the git command."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path
from typing import Any

from svc.errors import SvcError


class GitError(SvcError):
    pass


# `git commit` runs `git gc --auto` after every commit; svc's commits ask for it after one in
# TIDY_EVERY (by the commit's id), so that a desk that never syncs does not pile up loose
# objects for years. Cheap: git only counts one folder of objects, and packs in the background.
TIDY_EVERY = 64

# What git keeps while an operation that a commit must not step into is under way
_UNDER_WAY = ("MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD", "rebase-merge", "rebase-apply")


def _failure(command: str, output: str, code: int) -> GitError:
    """git's own "fatal:"/"error:" line names the cause (e.g. a stale index.lock); the last is advice."""
    detail = output.strip().splitlines()
    cause = [line for line in detail if line.startswith(("fatal:", "error:"))] or detail[-1:]
    hint = ""
    if any("index.lock" in line for line in detail):
        hint = " (a git or svc command was killed; if none is running now, delete .git/index.lock)"
    return GitError(f"git {command} failed: {cause[0] if cause else code}{hint}")


def _raw_date(seconds: float, offset: Any) -> str:
    """A date as fast-import's raw format writes it: seconds and the zone, e.g. +0800."""
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{int(seconds)} {sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


class Git:
    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def present(root: Path) -> bool:
        """The store is a git repository of its own (not a folder inside another one)."""
        return (root / ".git").exists()

    def run(self, *args: str, env: dict[str, str] | None = None, check: bool = True,
            input_text: str | None = None, input_bytes: bytes | None = None) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, **(env or {})}
        full_env.setdefault("GIT_TERMINAL_PROMPT", "0")
        try:
            done = subprocess.run(
                ["git", *args], cwd=self.root, env=full_env, capture_output=True,
                input=input_bytes if input_bytes is not None else (input_text or "").encode("utf-8"),
            )
        except FileNotFoundError:
            raise GitError("git is not installed; install git, or use a store made with --no-git") from None
        result = subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode("utf-8", "replace"),
                                             done.stderr.decode("utf-8", "replace"))
        if check and result.returncode != 0:
            raise _failure(args[0], result.stderr or result.stdout, result.returncode)
        return result

    def start(self, *args: str) -> subprocess.Popen[bytes] | None:
        """Start a read-only git command to collect later with `finish` (so that Python
        can do other work while git stats the work tree); one the entry point started
        already (svc/boot.py) is taken instead."""
        from svc import boot

        early = boot.take(str(self.root), args)
        if early is not None:
            return early
        try:
            return subprocess.Popen(["git", *args], cwd=self.root, stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
        except FileNotFoundError:
            raise GitError("git is not installed; install git, or use a store made with --no-git") from None

    @staticmethod
    def finish(process: subprocess.Popen[bytes] | None) -> tuple[str, bool]:
        """The output of a command from `start`, and whether it succeeded."""
        assert process is not None
        out, _ = process.communicate()
        return out.decode("utf-8", errors="replace"), process.returncode == 0

    def head(self) -> str | None:
        """HEAD's commit, read from .git like git does (no process for the common case)."""
        from svc import indexscan

        try:
            return indexscan.git_head(str(self.root))
        except OSError:  # .git is a file (a worktree) or unreadable: ask git
            return self.run("rev-parse", "-q", "--verify", "HEAD", check=False).stdout.strip() or None

    def init(self) -> None:
        self.run("init", "-q")

    def commit(self, paths: list[str], message: str, author: tuple[str, str], when: str | None = None
               ) -> tuple[str | None, str | None]:
        """Commit exactly `paths` (added, changed or deleted) as `author`, on top of HEAD;
        anything else staged stays staged. Returns HEAD before and after: the commit's
        parent and the commit (None: unknown), whose difference is exactly `paths`.

        The author date is when it happened (`when`, the event time); the committer
        date stays the real time it was recorded.
        """
        planned = self._import_stream(paths, message, author, when)
        if planned is not None:
            # Two processes at once, and neither looks at the whole work tree: git's index
            # takes our paths while fast-import makes the commit from HEAD's tree (and moves
            # the branch only if it is still at HEAD). `git commit -- paths` scans the work
            # tree (0.3 s at 100,000 files); write-tree + commit-tree + update-ref cost three
            # processes more. When either fails, the caller puts the files back and unstages
            # the paths; a commit made while the index failed is taken back first.
            stream, ref, head = planned
            staging = subprocess.Popen(["git", "update-index", "--add", "--remove", "--", *paths], cwd=self.root,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
            try:
                self.run("fast-import", "--quiet", "--done", input_bytes=stream)
            finally:
                output, _ = staging.communicate()
            if staging.returncode != 0:
                made = self.head()
                self.run("update-ref", "-m", "svc: commit taken back", ref, head, made or "", check=False)
                raise _failure("update-index", output.decode("utf-8", "replace"), staging.returncode)
            made = self.head()
            if made and int(made, 16) % TIDY_EVERY == 0:
                self.run("gc", "--auto", "--quiet", check=False)
            return head, made
        name, email = author
        env = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
               "GIT_COMMITTER_EMAIL": email}
        if when:
            env["GIT_AUTHOR_DATE"] = when
        before = self.head()
        self.run("add", "-A", "--", *paths)  # no commit yet, a detached HEAD, a merge under way...
        self.run("commit", "-q", "--no-verify", "-m", message, "--", *paths, env=env)
        return before, self.head()

    def _import_stream(self, paths: list[str], message: str, author: tuple[str, str], when: str | None
                       ) -> tuple[bytes, str, str] | None:
        """The `git fast-import` stream of the commit, with the branch and the commit it
        starts from; or None when it must go through
        `git commit`: no commit yet, HEAD not on a branch, a merge, rebase, cherry-pick
        or revert under way, an ident git would refuse, or a file `git add` would store
        otherwise than as it is (carriage returns, an executable bit, a link)."""
        import datetime as dt
        import time

        from svc import indexscan

        dot_git = self.root / ".git"
        try:
            branch, head = indexscan.read_head(str(self.root))
        except OSError:
            return None
        if branch is None or not branch.startswith("refs/heads/") or head is None or any(
                (dot_git / name).exists() for name in _UNDER_WAY):
            return None
        name, email = author
        if any(c in name + email for c in "<>\n") or any(c in p for p in paths for c in '\n"'):
            return None
        try:
            authored = dt.datetime.fromisoformat(when) if when else dt.datetime.now().astimezone()
        except ValueError:
            return None
        if authored.utcoffset() is None:
            return None
        now = time.time()
        committed = dt.datetime.fromtimestamp(now).astimezone()
        if os.environ.get("GIT_COMMITTER_DATE"):  # honoured as `git commit` honours it (imports, tests)
            try:
                committed = dt.datetime.fromisoformat(os.environ["GIT_COMMITTER_DATE"])
            except ValueError:
                return None  # a form only git reads: let `git commit` read it
            if committed.utcoffset() is None:
                return None
        out = [f"commit {branch}\n".encode(),
               f"author {name} <{email}> {_raw_date(authored.timestamp(), authored.utcoffset())}\n".encode(),
               f"committer {name} <{email}> {_raw_date(committed.timestamp(), committed.utcoffset())}\n"
               .encode()]
        text = message.encode("utf-8")
        out += [f"data {len(text)}\n".encode(), text, f"\nfrom {head}\n".encode()]
        for rel in paths:
            path = self.root / rel
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                out.append(f"D {rel}\n".encode())
                continue
            if not stat.S_ISREG(st.st_mode) or st.st_mode & 0o111:
                return None
            data = path.read_bytes()
            if b"\r" in data:
                return None
            out += [f"M 100644 inline {rel}\ndata {len(data)}\n".encode(), data, b"\n"]
        out.append(b"done\n")
        return b"".join(out), branch, head

    def unstage(self, paths: list[str]) -> None:
        self.run("reset", "-q", "--", *paths, check=False)

    def show(self, rev: str, path: str) -> str | None:
        done = self.run("show", f"{rev}:{path}", check=False)
        return done.stdout if done.returncode == 0 else None

    def verify_rev(self, rev: str) -> str:
        done = self.run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
        if done.returncode != 0:
            raise SvcError(f"no such git revision: {rev}")
        return done.stdout.strip()

    def changes(self, prefix: str) -> list[tuple[str, str, str, str]]:
        """Every change to files under `prefix`, oldest first: (commit, date, status A/M/D, path)."""
        done = self.run("log", "--reverse", "--no-renames", "--format=@%H %aI", "--name-status", "--", prefix,
                        check=False)
        if done.returncode != 0:  # a repository without commits yet
            return []
        out, commit, date = [], "", ""
        for line in done.stdout.splitlines():
            if line.startswith("@"):
                commit, date = line[1:].split(" ", 1)
            elif "\t" in line:
                status, path = line.split("\t", 1)
                out.append((commit, date, status[:1], path))
        return out

    def blobs(self, specs: list[str]) -> list[str | None]:
        """The contents of many `rev:path` objects through one `git cat-file --batch`."""
        if not specs:
            return []
        done = subprocess.run(["git", "cat-file", "--batch"], cwd=self.root, input="\n".join(specs).encode() + b"\n",
                              capture_output=True)
        data, out, pos = done.stdout, [], 0
        for _ in specs:
            end = data.index(b"\n", pos)
            header = data[pos:end].decode()
            pos = end + 1
            if header.endswith("missing"):
                out.append(None)
                continue
            size = int(header.split()[2])
            out.append(data[pos:pos + size].decode("utf-8", errors="replace"))
            pos += size + 1
        return out

    def files_at(self, rev: str, prefix: str) -> list[str]:
        done = self.run("ls-tree", "-r", "--name-only", "-z", rev, "--", prefix)
        return [p for p in done.stdout.split("\0") if p]

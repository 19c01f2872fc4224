"""The few git operations the store needs, run through the git command."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from svc.errors import SvcError


class GitError(SvcError):
    pass


class Git:
    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def present(root: Path) -> bool:
        """The store is a git repository of its own (not a folder inside another one)."""
        return (root / ".git").exists()

    def run(self, *args: str, env: dict[str, str] | None = None, check: bool = True,
            input_text: str | None = None) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, **(env or {})}
        full_env.setdefault("GIT_TERMINAL_PROMPT", "0")
        try:
            done = subprocess.run(
                ["git", *args], cwd=self.root, env=full_env, capture_output=True, text=True,
                input=input_text, encoding="utf-8", errors="replace",
            )
        except FileNotFoundError:
            raise GitError("git is not installed; install git, or use a store made with --no-git") from None
        if check and done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()
            # git's own "fatal:"/"error:" line names the cause (e.g. a stale index.lock); the last is advice
            cause = [line for line in detail if line.startswith(("fatal:", "error:"))] or detail[-1:]
            hint = ""
            if any("index.lock" in line for line in detail):
                hint = " (a git or svc command was killed; if none is running now, delete .git/index.lock)"
            raise GitError(f"git {args[0]} failed: {cause[0] if cause else done.returncode}{hint}")
        return done

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
        dot_git = self.root / ".git"
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
            return self.run("rev-parse", "-q", "--verify", "HEAD", check=False).stdout.strip() or None

    def init(self) -> None:
        self.run("init", "-q")

    def commit(self, paths: list[str], message: str, author: tuple[str, str], when: str | None = None) -> None:
        """Commit exactly `paths` (added, changed or deleted) as `author`.

        The author date is when it happened (`when`, the event time); the committer
        date stays the real time it was recorded.
        """
        name, email = author
        env = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }
        if when:
            env["GIT_AUTHOR_DATE"] = when
        head = self.head()
        if head and self.run("diff-index", "--cached", "--quiet", "HEAD", "--", check=False).returncode == 0:
            # Nothing else is staged, so the index with our paths updated is exactly the
            # commit: plumbing skips the work-tree scan `git commit -- paths` makes (0.3 s
            # at 100,000 files), and the index's cached trees make write-tree cheap.
            self.run("update-index", "--add", "--remove", "--", *paths)
            tree = self.run("write-tree").stdout.strip()
            commit = self.run("commit-tree", tree, "-p", head, "-F", "-", env=env, input_text=message).stdout.strip()
            subject = message.splitlines()[0] if message else ""
            self.run("update-ref", "-m", f"commit: {subject}", "HEAD", commit, head)
            return
        self.run("add", "-A", "--", *paths)  # something else is staged (or no commit yet): commit only ours
        self.run("commit", "-q", "--no-verify", "-m", message, "--", *paths, env=env)

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

"""The git hooks svc ships: short shell shims that call `svc hook pre-commit` / `svc hook
pre-receive` (the svc on PATH, else the Python that installed them), so that the work
itself is in the package and survives a rebuilt virtual environment."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from svc.errors import SvcError
from svc.gitrepo import Git

MARK = "svc hook"  # how an installed hook is known to be svc's


def shim(name: str) -> str:
    """The hook file: the svc that installed it while it is there (a rebuilt virtual
    environment at the same place included), else the svc on PATH; without any, it refuses."""
    import svc

    python = shlex.quote(sys.executable)
    package = shlex.quote(str(Path(svc.__file__).resolve().parent))
    return (f"#!/bin/sh\n"
            f"# svc {name} hook (installed by svc; the checks are `svc hook {name}`, see the README)\n"
            f"if [ -x {python} ] && [ -d {package} ]; then exec {python} -m svc hook {name} \"$@\"; fi\n"
            f"if command -v svc >/dev/null 2>&1; then exec svc hook {name} \"$@\"; fi\n"
            f"echo \"svc: the {name} hook cannot find svc (install it, or put it on PATH); refused\" >&2\n"
            f"exit 1\n")


def hooks_dir(git: Git) -> Path:
    """Where git looks for this repository's hooks (core.hooksPath respected)."""
    where = Path(git.run("rev-parse", "--git-path", "hooks").stdout.strip())
    return where if where.is_absolute() else git.root / where


def install(git: Git, name: str) -> str:
    """Install the hook `name`; a hook that is not svc's is left alone (and said so)."""
    from svc.filecache import write_atomic

    folder = hooks_dir(git)
    target = folder / name
    if target.exists():
        current = target.read_text(encoding="utf-8", errors="replace")
        if f"{MARK} {name}" not in current:
            raise SvcError(f"{target} is there already and is not svc's: left as it is; add the line "
                           f"`svc hook {name}` to it (其中加入 svc hook {name})")
        if current == shim(name):
            return f"{name} hook already installed ({target})"
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(target, shim(name))
    target.chmod(0o755)
    return f"{name} hook installed: {target}"


def install_server(path: Path) -> str:
    """The pre-receive hook in the shared (bare) repository every clone pushes to."""
    if not path.is_dir():
        raise SvcError(f"--server {path}: no such folder (the bare repository the clones push to)")
    git = Git(path)
    bare = git.run("rev-parse", "--is-bare-repository", check=False)
    if bare.returncode != 0:
        raise SvcError(f"--server {path} is not a git repository")
    if bare.stdout.strip() != "true":
        raise SvcError(f"--server {path} is not a bare repository (the clones push to a bare one: git init --bare)")
    said = install(git, "pre-receive")
    git.run("config", "receive.denyNonFastForwards", "true")
    git.run("config", "receive.denyDeletes", "true")
    return said

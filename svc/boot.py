"""The `svc` program's entry point: it starts git's look at the work tree first, then
imports the rest.

A command that reads the case index (list, due, a complaint's open, handover) must ask
git which case files differ from the last commit; on a large store that `git diff-files`
stats every file (about 0.12 s at 100,000 cases here). Importing svc and click takes
about as long. Started here, before any import, git's stat and Python's imports run at
once; the index collects git's answer with `take` when it gets there. When the command
turns out not to need it (a usage error, another store), the answer is never read and
git finishes on its own.

Only the standard library's cheapest modules may be imported here (not even typing).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess

# (store root, *git arguments) -> the running git process
_STARTED: dict[tuple[str, ...], subprocess.Popen[bytes]] = {}

# What the index runs (svc/index.py asks for exactly these)
DIFF_FILES = ("diff-files", "--name-only", "-z", "--", "cases")
DIFF_STAGED = ("diff-index", "--cached", "--name-only", "-z", "HEAD", "--", "cases")

CONFIG_NAME = "svc.yaml"  # what makes a folder a store (svc.config.CONFIG_NAME)
_VALUED = {"--store", "--as", "--wait"}  # the root group's options that take a value


def _command(argv: list[str]) -> tuple[list[str], str | None]:
    """The command's words after the root group's options, and --store's value."""
    store = None
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in _VALUED:
            if arg == "--store" and i + 1 < len(argv):
                store = argv[i + 1]
            i += 2
        elif arg.startswith("--store="):
            store = arg.split("=", 1)[1]
            i += 1
        elif arg.startswith("-"):
            i += 1
        else:
            return argv[i:], store
    return [], store


def reads_index(words: list[str]) -> bool:
    """Whether the command refreshes the case index (a guess from its words; a wrong
    guess costs only time)."""
    if not words:
        return False
    if words[0] in ("list", "due"):
        return True
    if words[0] == "open":  # repeat complaints are found through the index's phone map
        return words[1:2] == ["complaint"] and any(w == "--phone" or w.startswith("--phone=") for w in words)
    return words[0] == "handover" and words[1:2] != ["show"]


def store_root(explicit: str | None, cwd: str) -> str | None:
    """The store's folder: `explicit` (--store, or SVC_STORE) when it holds svc.yaml, else
    the nearest folder at or above `cwd` that does; None when there is none (svc.store's
    find_root says why). Here, not in svc.store, so that it runs before the imports."""
    if explicit:
        root = os.path.expanduser(explicit)
        return root if os.path.isfile(os.path.join(root, CONFIG_NAME)) else None
    folder = cwd
    while True:
        if os.path.isfile(os.path.join(folder, CONFIG_NAME)):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def start(argv: list[str]) -> None:
    words, explicit = _command(argv)
    if not reads_index(words):
        return
    root = store_root(explicit or os.environ.get("SVC_STORE") or None, os.getcwd())
    # only where an index exists to be refreshed (a first build asks git other things)
    if root is None or not os.path.isdir(os.path.join(root, ".git")) \
            or not os.path.isfile(os.path.join(root, ".svc", "index-meta.marshal")):
        return
    import subprocess

    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    for args in (DIFF_FILES, DIFF_STAGED):
        try:
            _STARTED[(os.path.realpath(root), *args)] = subprocess.Popen(
                ["git", *args], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        except OSError:  # no git: the command itself will say so
            return


def take(root: str, args: tuple[str, ...]) -> subprocess.Popen[bytes] | None:
    """The process started for `args` in the store at `root`, once; or None."""
    return _STARTED.pop((os.path.realpath(root), *args), None)


def main() -> None:
    start(sys.argv[1:])
    from svc.cli import main as run

    run()

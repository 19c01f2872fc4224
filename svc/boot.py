"""The `svc` program's entry point: it starts the look at the work tree a command needs
first, then imports the rest.

A command that reads the whole case index (list, due, handover) must ask git which case
files differ from the last commit; on a large store that `git diff-files` stats every
file (about 0.12 s at 100,000 cases here). Importing svc and click takes about as long.
Started here, before any import, git's stat and Python's imports run at once; the index
collects git's answer with `take` when it gets there.

A complaint's `svc open` needs less: the repeat check looks only at the files that can
hold a repeat (svc/indexscan.py's `look`). A child process forked here makes that look
while this one imports; the index collects it with `take_look`.

When the command turns out not to need what was started (a usage error, another store),
it is never read and finishes on its own. Only the standard library's cheapest modules
may be imported here (not even typing).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess

# (store root, *git arguments) -> the running git process
_STARTED: dict[tuple[str, ...], subprocess.Popen[bytes]] = {}
# store root -> (the child making indexscan's look, the pipe it writes it to)
_LOOKS: dict[str, tuple[int, int]] = {}

# What the index runs (svc/index.py asks for exactly these)
DIFF_FILES = ("diff-files", "--name-only", "-z", "--", "cases")
DIFF_STAGED = ("diff-index", "--cached", "--name-only", "-z", "HEAD", "--", "cases")

CONFIG_NAME = "svc.yaml"  # what makes a folder a store (svc.config.CONFIG_NAME)
LOCAL_DIR = ".svc"  # the store's own, never committed: lock, caches, the case index (svc.store.LOCAL_DIR)
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
    return words[0] == "handover" and words[1:2] != ["show"]


def finds_repeats(words: list[str]) -> bool:
    """Whether the command looks for repeat complaints (through the index's phone map)."""
    return words[:2] == ["open", "complaint"] and any(w == "--phone" or w.startswith("--phone=") for w in words)


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
    refresh, look = reads_index(words), finds_repeats(words)
    if not refresh and not look:
        return
    root = store_root(explicit or os.environ.get("SVC_STORE") or None, os.getcwd())
    # only where an index exists to be refreshed (a first build asks git other things)
    if root is None or not os.path.isdir(os.path.join(root, ".git")) \
            or not os.path.isfile(os.path.join(root, LOCAL_DIR, "index-meta.marshal")):
        return
    if look:
        _start_look(root)
        return
    import subprocess

    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    for args in (DIFF_FILES, DIFF_STAGED):
        try:
            _STARTED[(os.path.realpath(root), *args)] = subprocess.Popen(
                ["git", *args], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        except OSError:  # no git: the command itself will say so
            return


def _start_look(root: str) -> None:
    """Fork a child that makes indexscan's look and writes it, marshalled, to a pipe.
    The child may import (subprocess, when HEAD moved): `start` runs first thing in the
    program, before any thread exists that could hold an import lock."""
    import marshal

    from svc import indexscan

    try:
        read_end, write_end = os.pipe()
        pid = os.fork()
    except (AttributeError, OSError):  # no fork (Windows): the index looks itself
        return
    if pid == 0:
        status = 1
        try:
            os.close(read_end)
            data = marshal.dumps(indexscan.look(root))
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
            status = 0
        finally:
            os._exit(status)  # nothing of the parent's (buffers, atexit) runs twice
    os.close(write_end)
    _LOOKS[os.path.realpath(root)] = (pid, read_end)


def take_look(root: str) -> tuple | None:
    """The look started for the store at `root`, once; None when none was started or
    the child failed."""
    entry = _LOOKS.pop(os.path.realpath(root), None)
    if entry is None:
        return None
    pid, read_end = entry
    try:
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
    except OSError:
        return None
    if status != 0:
        return None
    import marshal

    try:
        found = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None
    return found if isinstance(found, tuple) else None


def take(root: str, args: tuple[str, ...]) -> subprocess.Popen[bytes] | None:
    """The process started for `args` in the store at `root`, once; or None."""
    return _STARTED.pop((os.path.realpath(root), *args), None)


def main() -> None:
    start(sys.argv[1:])
    from svc.cli import main as run

    run()

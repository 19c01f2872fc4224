"""Strict, round-trip YAML for records and config.

Reading: every plain scalar is text (so phone `0108`, answer `NO` and code `1e5` stay
exactly as typed) except `null`/`~`/empty; duplicate keys are errors; every node keeps
its line so problems read `path:line: message`. The schema layer converts the few
numeric fields. Writing: round-trip (comments, order and quoting of untouched lines are
kept), strings that any YAML 1.1 or 1.2 reader would take for a number, boolean, date
or null are quoted, long lines are never folded, and files are replaced atomically.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from svc.errors import RecordError
from svc.schema import line_of  # noqa: F401 - where callers have always found it

_NULL = ("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"))


def loads(text: str, path: str) -> Any:
    """Parse YAML text strictly; errors become RecordError(path, line, message)."""
    from svc import yamlrt  # ruamel, imported on first use

    return yamlrt.loads(text, path)


def dumps(data: Any) -> str:
    """YAML text of `data`, round-trip (see the module's notes on quoting)."""
    from svc import yamlrt

    return yamlrt.dumps(data)


def load_file(path: Path, shown: str | None = None) -> Any:
    shown = shown or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RecordError(shown, None, "not UTF-8 text") from None
    except OSError as exc:
        raise RecordError(shown, None, exc.strerror or str(exc)) from None
    return loads(text, shown)


def loads_fast(text: str, path: str) -> Any:
    """Parse like `loads`, faster, as plain dicts and lists without line information
    (through libyaml: svc/yamlfast.py)."""
    from svc import yamlfast

    return yamlfast.loads(text, path)


def _file_mode(path: Path) -> int:
    """The mode `path` has, or the one a new file gets from the umask."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomic(path: Path, data: str | bytes, durable: bool = True) -> None:
    """Replace `path` with `data` (text as UTF-8) so that a reader or a crash never sees half
    a file. `durable=False` skips the fsync, for files that can be made again at any time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # a hidden name of its own, as tempfile.mkstemp makes (whose import costs a write 8 ms)
    tmp = str(path.parent / f".{path.name}.{os.urandom(6).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, _file_mode(path))  # keep the file readable as before
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    if not durable:
        return
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)

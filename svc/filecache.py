"""Writing files whole, and keeping parsed files' data by their stat, with the standard
library alone (the entry point's forked look, svc/indexscan.py, uses it too).

`write_atomic` replaces any file svc writes: records, svc.yaml, the index, caches. The
caches keep a parsed file's data in the store's .svc/ folder with the file's size and
mtime, so that a small command starts without importing a YAML parser: svc.yaml
(config.py) and the shipped official calendar (calendar.py). Any change to the file
misses the cache.
"""

from __future__ import annotations

import marshal
import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# A file changed this recently may change again within the same mtime tick, unseen by its
# stat: it is not cached, and the index looks at such a file again.
RACY_NS = 2_000_000_000


def _file_mode(path: str | os.PathLike[str]) -> int:
    """The mode `path` has, or the one a new file gets from the umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomic(path: str | os.PathLike[str], data: str | bytes, durable: bool = True) -> None:
    """Replace `path` with `data` (text as UTF-8) so that a reader or a crash never sees half
    a file. `durable=False` skips the fsync, for files that can be made again at any time."""
    folder, name = os.path.split(os.fspath(path))
    folder = folder or "."  # a bare name (git hands a merge driver one) is in the current folder
    os.makedirs(folder, exist_ok=True)
    # a hidden name of its own, as tempfile.mkstemp makes (whose import costs a write 8 ms)
    tmp = os.path.join(folder, f".{name}.{os.urandom(6).hex()}.tmp")
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
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def stamp_of(path: str) -> list[int] | None:
    """The file's [mtime, size], or None when it cannot be statted."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size]


def cached(cache: str, stamp: list[int] | None) -> Any:
    """The data kept in `cache` for a file of this stamp, or None."""
    if stamp is None:
        return None
    try:
        with open(cache, "rb") as handle:
            kept_stamp, data = marshal.loads(handle.read())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return data if kept_stamp == stamp else None


def dumps(stamp: list[int], data: Any) -> bytes | None:
    """What `keep` writes; None when the data is not plain (marshal refuses it). Call it
    before the data is changed in place."""
    try:
        return marshal.dumps([stamp, data])
    except ValueError:
        return None


def keep(cache: str, stamp: list[int], blob: bytes) -> None:
    """Write `dumps`'s blob to `cache` (best effort: a read-only store reads the file every time)."""
    if stamp[0] >= time.time_ns() - RACY_NS:
        return
    try:
        write_atomic(cache, blob, durable=False)
    except OSError:
        pass

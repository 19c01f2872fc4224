"""A parsed file's data kept in the store's .svc/ folder with the file's size and mtime,
so that a small command starts without importing a YAML parser: svc.yaml (config.py) and
the shipped official calendar (calendar.py). Any change to the file misses the cache.
"""

from __future__ import annotations

import marshal
import os
import time
from typing import Any

RACY_NS = 2_000_000_000  # a file changed this recently is not cached: a same-size edit in the same tick would go unseen


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
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        tmp = f"{cache}.{os.getpid()}.tmp"
        with open(tmp, "wb") as handle:
            handle.write(blob)
        os.replace(tmp, cache)
    except OSError:
        pass

"""Strict, round-trip YAML for records and config.

Reading: every plain scalar is text (so phone `0108`, answer `NO` and code `1e5` stay
exactly as typed) except `null`/`~`/empty; duplicate keys are errors; every node keeps
its line so problems read `path:line: message`. The schema layer converts the few
numeric fields. Writing: round-trip (comments, order and quoting of untouched lines are
kept), strings that any YAML 1.1 or 1.2 reader would take for a number, boolean, date
or null are quoted, long lines are never folded, and files are replaced atomically.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from svc.errors import RecordError
from svc.filecache import write_atomic  # noqa: F401 - where callers have always found it
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




def mapping_or_none(text: str | None) -> dict[str, Any] | None:
    """A mapping read fast from text found in git (a blob, an old version), or None when there
    is no text, it does not parse, or it is not a mapping: for audits that judge what they can
    read and leave the unreadable to the checks that name it."""
    if text is None:
        return None
    try:
        node = loads_fast(text, "-")
    except RecordError:
        return None
    return node if isinstance(node, dict) else None

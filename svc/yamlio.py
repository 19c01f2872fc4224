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
import tempfile
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


# --- the fast path for bulk reads ----------------------------------------------------------
# ruamel's pure-Python scanner costs ~8 ms for a case file; PyYAML's libyaml binding reads
# the same file in under 1 ms. Listing and checking many records read through it with the
# same rules (text scalars, null only, duplicate keys refused); a file with any problem is
# read again through ruamel for exact line numbers, and all writing stays round-trip.
try:
    import yaml as _pyyaml
    from yaml.constructor import ConstructorError as _ConstructorError
    from yaml.constructor import SafeConstructor as _SafeConstructor
    from yaml.cyaml import CParser as _CParser
    from yaml.resolver import BaseResolver as _PyBaseResolver
except ImportError:  # no libyaml: every read goes through ruamel
    _FastLoader = None
else:

    class _FastResolver(_PyBaseResolver):
        pass

    _FastResolver.add_implicit_resolver(_NULL[0], _NULL[1], list("~nN") + [""])

    class _FastConstructor(_SafeConstructor):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if not isinstance(key_node.value, str):  # a list or mapping as a key: ruamel words it
                    raise _ConstructorError(None, None, "found a complex key", key_node.start_mark)
                if key_node.value in seen:
                    raise _ConstructorError(None, None, f"found duplicate key \"{key_node.value}\"", key_node.start_mark)
                seen.add(key_node.value)
            return super().construct_mapping(node, deep)

    class _FastLoader(_CParser, _FastConstructor, _FastResolver):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _FastConstructor.__init__(self)
            _FastResolver.__init__(self)


    _STR = "tag:yaml.org,2002:str"
    _MAP = "tag:yaml.org,2002:map"
    _SEQ = "tag:yaml.org,2002:seq"
    _NULLS = frozenset(("", "~", "null", "Null", "NULL"))  # what _NULL matches
    from yaml.nodes import ScalarNode as _ScalarNode
    from yaml.nodes import SequenceNode as _SequenceNode

    class _NodeReader(_CParser):
        """libyaml's parser and composer with the resolver cut to what a record uses:
        a plain scalar is null or text. Turning the nodes into values is `_value`, a
        walk that is several times cheaper than PyYAML's general constructor."""

        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            if kind is _ScalarNode:
                return _NULL[0] if implicit[0] and value in _NULLS else _STR
            return _SEQ if kind is _SequenceNode else _MAP

        def descend_resolver(self, parent: Any, index: Any) -> None:
            pass  # no path resolvers

        def ascend_resolver(self) -> None:
            pass

    class _Irregular(Exception):
        """A tag, key or alias the walk leaves to the general constructor."""

    def _value(node: Any) -> Any:
        tag = node.tag
        if tag == _STR:
            return node.value
        if tag == _MAP:
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = key_node.value
                if key_node.tag != _STR or key in out:
                    raise _Irregular
                out[key] = _value(value_node)
            return out
        if tag == _SEQ:
            return [_value(item) for item in node.value]
        if tag == _NULL[0] and type(node) is _ScalarNode:
            return None
        raise _Irregular


def loads_fast(text: str, path: str) -> Any:
    """Parse like `loads`, faster, as plain dicts and lists without line information."""
    if _FastLoader is None:
        return loads(text, path)
    try:
        node = _NodeReader(text).get_single_node()
        return None if node is None else _value(node)
    except (_Irregular, RecursionError, _pyyaml.YAMLError):
        pass  # explicit tags, duplicate keys, aliases, errors: the general path words them
    try:
        return _pyyaml.load(text, Loader=_FastLoader)
    except _pyyaml.YAMLError:
        return loads(text, path)  # ruamel words the error, with its line


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
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _file_mode(path))  # mkstemp makes 0600; keep the file readable as before
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

"""Strict, round-trip YAML for records and config.

Reading: every plain scalar is text (so phone `0108`, answer `NO` and code `1e5` stay
exactly as typed) except `null`/`~`/empty; duplicate keys are errors; every node keeps
its line so problems read `path:line: message`. The schema layer converts the few
numeric fields. Writing: round-trip (comments, order and quoting of untouched lines are
kept), strings that any YAML 1.1 or 1.2 reader would take for a number, boolean, date
or null are quoted, long lines are never folded, and files are replaced atomically.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarstring import LiteralScalarString

from svc.errors import RecordError
from svc.schema import line_of  # noqa: F401 - where callers have always found it

_NULL = ("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"))


class TextResolver(VersionedResolver):
    """Resolves plain scalars to text, except null."""

    @property
    def versioned_resolver(self) -> dict[Any, list[Any]]:  # type: ignore[override]
        return {"": [_NULL], "~": [_NULL], "n": [_NULL], "N": [_NULL]}


# Anything a YAML 1.1 reader (PyYAML, yq) or a 1.2 reader would not read back as the
# same string: numbers (incl. octal, hex, sexagesimal), booleans, null, dates.
_AMBIGUOUS = re.compile(
    r"""^(?:
        [-+]?(?:0|[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?
      | [-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
      | [-+]?0[oxb][0-9a-fA-F_]+
      | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?
      | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
      | y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
      | ~|null|Null|NULL
      | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ].*)?
      | =|<<
    )$""",
    re.VERBOSE,
)


class _Representer(RoundTripRepresenter):
    pass


# Characters a literal block (or a single-quoted scalar) carries through unchanged: a
# reader normalizes \r, \x85, \u2028 and \u2029 to line breaks and refuses control
# characters, and ruamel writes a requested literal block without checking. Text with
# anything else is written double-quoted, where every character is escaped safely.
_BLOCK_SAFE = re.compile("^[\t\n\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]*$")


def _represent_str(representer: RoundTripRepresenter, data: str) -> Any:
    style = None
    if not _BLOCK_SAFE.match(data):
        return representer.represent_scalar("tag:yaml.org,2002:str", data, style='"')
    if "\n" in data:
        return representer.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    if _AMBIGUOUS.match(data):
        style = "'"
    return representer.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Representer.add_representer(str, _represent_str)


def _reader() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Resolver = TextResolver
    yaml.allow_duplicate_keys = False
    yaml.preserve_quotes = True
    return yaml


def _writer() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Representer = _Representer
    yaml.width = 1 << 16
    yaml.indent(mapping=2, sequence=2, offset=0)
    yaml.allow_unicode = True
    return yaml


_READER = _reader()
_WRITER = _writer()


def loads(text: str, path: str) -> Any:
    """Parse YAML text strictly; errors become RecordError(path, line, message)."""
    try:
        return _READER.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "malformed YAML"
        if "duplicate key" in problem:
            problem = problem.split(" with value")[0]
        raise RecordError(path, line, problem.strip()) from None
    except YAMLError as exc:
        raise RecordError(path, None, f"malformed YAML: {exc}") from None


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
        return _pyyaml.load(text, Loader=_FastLoader)  # noqa: S506 - a safe constructor
    except _pyyaml.YAMLError:
        return loads(text, path)  # ruamel words the error, with its line


def dumps(data: Any) -> str:
    out = io.StringIO()
    _WRITER.dump(_literal_multiline(data), out)
    return out.getvalue()


def _literal_multiline(data: Any) -> Any:
    """Multi-line text is written as a literal block so diffs stay line by line."""
    if isinstance(data, CommentedMap):
        for key, value in data.items():
            data[key] = _literal_multiline(value)
        return data
    if isinstance(data, CommentedSeq):
        for i, value in enumerate(data):
            data[i] = _literal_multiline(value)
        return data
    if (isinstance(data, str) and "\n" in data and not isinstance(data, LiteralScalarString)
            and _BLOCK_SAFE.match(data)):
        return LiteralScalarString(data)
    return data


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

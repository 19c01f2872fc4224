"""The round-trip half of `yamlio`, on ruamel.yaml: strict reads with line numbers, and
writes that keep untouched lines as they were. Imported only when a command reads a
record to change it, prints YAML, or meets a file the fast reader cannot take, so that
listing never pays for ruamel's import.
"""

from __future__ import annotations

import io
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.scalarstring import LiteralScalarString

from svc.errors import RecordError
from svc.yamlguard import may_hold_surrogates, refuse_irregular, refuse_surrogates
from svc.yamlio import _NULL


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
    def ignore_aliases(self, data: Any) -> bool:
        # one list in two places (a hold's records, kept in its event too) is written out
        # twice: svc reads no anchors or aliases (svc/yamlguard.py)
        return True


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
    """Parse YAML text strictly; errors become RecordError(path, line, message). Anchors,
    aliases, tags, deep nesting and lone surrogates are errors (svc/yamlguard.py)."""
    refuse_irregular(text, path)
    try:
        node = _READER.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "malformed YAML"
        if "duplicate key" in problem:
            problem = problem.split(" with value")[0]
        raise RecordError(path, line, problem.strip()) from None
    except YAMLError as exc:
        raise RecordError(path, None, f"malformed YAML: {exc}") from None
    if may_hold_surrogates(text):
        refuse_surrogates(node, path)
    return node


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



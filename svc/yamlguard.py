"""What a record or svc.yaml may not use of YAML, found before any reader builds values.

No svc record needs anchors (`&a`), aliases (`*a`), tags (`!x`, `!!int`) or nesting more
than MAX_DEPTH deep. Aliases let a few hundred bytes expand into gigabytes ("billion
laughs") and deep nesting exhausts Python's stack, so both readers (libyaml's and ruamel's)
are guarded by `refuse_irregular`, which looks at the parser's event stream: events are
never expanded, so its time and memory are linear in the file's size.

Looking at the events costs as much as reading the file. Most files cannot hold any of
these, and a few string searches tell so: an anchor, alias or tag needs `&`, `*` or `!`;
flow nesting needs `[` or `{`; block nesting needs indentation (see `_may_be_deep`). Only
a file that fails these searches is looked at event by event.
"""

from __future__ import annotations

import re
from typing import Any

from svc.errors import RecordError

MAX_DEPTH = 20  # a case file nests 4 deep (history > event > list > item); svc.yaml 4

# A block collection nested d deep starts at a column of at least (d - 1) // 2: each
# mapping in a mapping is indented, a sequence in a sequence or a mapping in a sequence
# follows a "- " (or "? ", ": ") on its line. Such a column is a run of these at a
# line's start.
_RUN = "[ ?:-]"


def _may_be_deep(text: str) -> bool:
    flow = text.count("[") + text.count("{")
    if flow >= MAX_DEPTH:
        return True
    # depth <= 2 * run + 1 + flow, so no run of `least` keeps it within MAX_DEPTH
    least = (MAX_DEPTH - 1 - flow) // 2 + 1
    return re.search(f"^{_RUN}{{{least},}}", text, re.MULTILINE) is not None


def may_be_irregular(text: str) -> bool:
    """False when `text` certainly holds no anchor, alias, tag or deep nesting."""
    return "&" in text or "*" in text or "!" in text or _may_be_deep(text)


def refuse_irregular(text: str, path: str) -> None:
    """Raise RecordError(path, line, ...) at the first anchor, alias, explicit tag or
    nesting deeper than MAX_DEPTH. Malformed YAML is left to the reader, which words it."""
    if not may_be_irregular(text):
        return
    try:
        events = _libyaml_events(text)
    except ImportError:
        events = None
    if events is not None:
        try:
            _walk(events, path)
            return
        except _TooDeep as exc:  # libyaml's own bound (1,000), met while it scans ahead
            raise RecordError(path, exc.line, _DEEP) from None
        except _Malformed:
            pass  # libyaml stopped early; ruamel may read further: look with its parser
    _walk(_ruamel_events(text), path)


class _Malformed(Exception):
    pass


class _TooDeep(Exception):
    def __init__(self, line: int | None) -> None:
        self.line = line


_DEEP = f"nested more than {MAX_DEPTH} deep; no svc record needs that / 嵌套超过 {MAX_DEPTH} 层，记录不需要这么深"


def _libyaml_events(text: str) -> Any:
    from yaml import YAMLError
    from yaml.cyaml import CParser

    parser = CParser(text)

    def events() -> Any:
        try:
            while parser.check_event():
                yield parser.get_event()
        except YAMLError as exc:
            if "nesting depth" in str(exc):
                mark = getattr(exc, "problem_mark", None)
                raise _TooDeep(mark.line + 1 if mark is not None else None) from None
            raise _Malformed from None
        finally:
            parser.dispose()

    return events()


def _ruamel_events(text: str) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    def events() -> Any:
        try:
            yield from YAML(typ="rt").parse(text)
        except YAMLError:
            return  # the reader words the error

    return events()


def _walk(events: Any, path: str) -> None:
    depth = 0
    for event in events:
        name = type(event).__name__
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if name == "AliasEvent":
            raise RecordError(path, line, f"YAML alias *{event.anchor} is not allowed (svc refuses anchors and "
                                          "aliases); write the value out / 不允许使用 YAML 别名，请直接写出内容")
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise RecordError(path, line, f"YAML anchor &{anchor} is not allowed (svc refuses anchors and "
                                          "aliases); write the value out / 不允许使用 YAML 锚点，请直接写出内容")
        tag = getattr(event, "tag", None)
        if tag is not None and _explicit(event):
            tag = tag.replace("tag:yaml.org,2002:", "!!")
            raise RecordError(path, line, f"YAML tag {tag} is not allowed; write the value without a tag "
                                          "/ 不允许使用 YAML 标签，请去掉标签")
        if name in ("MappingStartEvent", "SequenceStartEvent"):
            depth += 1
            if depth > MAX_DEPTH:
                raise RecordError(path, line, _DEEP)
        elif name in ("MappingEndEvent", "SequenceEndEvent"):
            depth -= 1


def _explicit(event: Any) -> bool:
    """Whether the event's tag was written in the file (a reader may fill in others)."""
    implicit = getattr(event, "implicit", None)
    if isinstance(implicit, tuple):  # a scalar: (plain, quoted)
        return not any(implicit)
    return implicit is False


_SURROGATE = re.compile("[\ud800-\udfff]")


def refuse_surrogates(node: Any, path: str) -> None:
    """A `\\uDCxx` escape gives text that is not Unicode (what a non-UTF-8 terminal
    leaves); no printer, JSON writer or git can carry it. RecordError at its line."""
    from svc.schema import line_of

    def walk(value: Any, parent: Any, key: Any, where: str) -> None:
        if isinstance(value, str):
            if _SURROGATE.search(value):
                line = line_of(parent, key) if parent is not None else None
                raise RecordError(path, line, f"{where or 'the file'} is not valid text (a lone surrogate, left by a "
                                              "terminal that is not UTF-8); retype it / 不是有效文字（非 UTF-8 终端"
                                              "留下的代理字符），请重新输入")
        elif isinstance(value, dict):
            for sub_key, sub in value.items():
                if isinstance(sub_key, str) and _SURROGATE.search(sub_key):
                    raise RecordError(path, line_of(value, sub_key), "a key is not valid text (a lone surrogate); "
                                                                     "retype it / 键不是有效文字，请重新输入")
                walk(sub, value, sub_key, f"{where}.{sub_key}" if where else str(sub_key))
        elif isinstance(value, list):
            for i, sub in enumerate(value):
                walk(sub, value, i, f"{where}[{i + 1}]")

    walk(node, None, None, "")


def may_hold_surrogates(text: str) -> bool:
    return "\\u" in text or "\\U" in text

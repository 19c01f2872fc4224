"""A small schema checker for YAML nodes loaded by `yamlio`.

Each check collects every problem (it never stops at the first) as `Problem(path,
line, message)`. Integer fields are converted in place so that a round-trip dump
writes them back as plain numbers; times and dates stay text and are only checked.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Callable



def line_of(node: Any, key: Any = None) -> int | None:
    """1-based line of a mapping key (or of the node itself), if known."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        if key is not None:
            if isinstance(node, dict):  # a CommentedMap is a dict; a CommentedSeq a list
                return lc.key(key)[0] + 1
            return lc.item(key)[0] + 1
        return lc.line + 1
    except (KeyError, IndexError, TypeError, AttributeError):
        return None


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


@dataclass(frozen=True)
class Spec:
    type: str  # text | int | time | date | enum | map | list | any
    required: bool = False
    choices: tuple[str, ...] = ()
    fields: dict[str, "Spec"] = field(default_factory=dict)
    item: "Spec | None" = None
    low: int | None = None
    high: int | None = None
    open_keys: bool = False  # map whose keys are free (e.g. users by id); values use `item`
    check: Callable[[Any], str | None] | None = None


def text(required: bool = False, check: Callable[[Any], str | None] | None = None) -> Spec:
    return Spec("text", required, check=check)


def integer(required: bool = False, low: int | None = None, high: int | None = None) -> Spec:
    return Spec("int", required, low=low, high=high)


def time(required: bool = False) -> Spec:
    return Spec("time", required)


def date(required: bool = False) -> Spec:
    return Spec("date", required)


def enum(choices: tuple[str, ...] | list[str], required: bool = False) -> Spec:
    return Spec("enum", required, choices=tuple(choices))


def mapping(fields: dict[str, Spec], required: bool = False) -> Spec:
    return Spec("map", required, fields=fields)


def keyed(item: Spec, required: bool = False) -> Spec:
    return Spec("map", required, item=item, open_keys=True)


def seq(item: Spec, required: bool = False) -> Spec:
    return Spec("list", required, item=item)


_INT = re.compile(r"^[-+]?[0-9]+$")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z)$")


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "text"


def validate(node: Any, spec: Spec, path: str, where: str, parent: Any, key: Any) -> list[Problem]:
    """Check `node` (found under `parent[key]`) against `spec`."""
    line = line_of(parent, key) if parent is not None else line_of(node)
    problems: list[Problem] = []

    def bad(message: str, at: int | None = line) -> None:
        problems.append(Problem(path, at, message))

    if node is None:
        if spec.required:
            bad(f"{where} must not be empty")
        return problems
    kind = spec.type
    if kind in ("text", "enum", "time", "date", "int") and not isinstance(node, (str, int)):
        bad(f"{where} must be a single value, not {_type_name(node)}")
        return problems
    if kind in ("text", "enum", "time", "date") and not isinstance(node, str):
        # only an explicit tag (!!int 0108) makes a number here: phones and codes are text
        bad(f"{where} must be text; write it without a YAML tag, e.g. '{node}'")
        return problems
    if kind == "text":
        if spec.check is not None and (msg := spec.check(node)):
            bad(f"{where} {msg}")
    elif kind == "enum":
        if str(node) not in spec.choices:
            bad(f"{where} is {node!r}; expected one of: {', '.join(spec.choices)}")
    elif kind == "int":
        if isinstance(node, str):
            if not _INT.match(node):
                bad(f"{where} must be a whole number, not {node!r}")
                return problems
            value = int(node)
            parent[key] = value
        else:
            value = node
        if spec.low is not None and value < spec.low or spec.high is not None and value > spec.high:
            if spec.high is None:
                bad(f"{where} must be at least {spec.low}, not {value}")
            elif spec.low is None:
                bad(f"{where} must be at most {spec.high}, not {value}")
            else:
                bad(f"{where} must be between {spec.low} and {spec.high}, not {value}")
    elif kind == "time":
        ok = isinstance(node, str) and bool(_TIME.match(node)) and node.startswith("20")
        if ok:
            try:
                dt.datetime.fromisoformat(node)
            except ValueError:
                ok = False
        if not ok:
            bad(f"{where} must be a time with its UTC offset such as 2026-03-01T09:30:00+08:00, not {node!r}")
    elif kind == "date":
        try:
            dt.date.fromisoformat(str(node))
            if len(str(node)) != 10 or not str(node).startswith("20"):
                raise ValueError
        except ValueError:
            bad(f"{where} must be a date such as 2026-03-01, not {node!r}")
    elif kind == "map":
        if not isinstance(node, dict):
            bad(f"{where} must be a mapping, not {_type_name(node)}")
            return problems
        if spec.open_keys:
            assert spec.item is not None
            for sub_key in list(node.keys()):
                problems += validate(node[sub_key], spec.item, path, f"{where}.{sub_key}", node, sub_key)
            return problems
        for sub_key in list(node.keys()):
            if sub_key not in spec.fields:
                known = ", ".join(spec.fields)
                bad(f"unknown key {where + '.' if where else ''}{sub_key} (known: {known})", line_of(node, sub_key))
        for name, sub in spec.fields.items():
            label = f"{where}.{name}" if where else name
            if name not in node:
                if sub.required:
                    bad(f"{label} is missing", line_of(node) if parent is not None else 1)
                continue
            problems += validate(node[name], sub, path, label, node, name)
    elif kind == "list":
        if not isinstance(node, list):
            bad(f"{where} must be a list, not {_type_name(node)}")
            return problems
        assert spec.item is not None
        for i in range(len(node)):
            problems += validate(node[i], spec.item, path, f"{where}[{i + 1}]", node, i)
    return problems


def check_root(node: Any, spec: Spec, path: str) -> list[Problem]:
    if not isinstance(node, dict):
        return [Problem(path, 1, "expected a mapping of keys at the top of the file")]
    return validate(node, spec, path, "", None, None)


__all__ = ["Problem", "Spec", "check_root", "check_record", "event_spec", "line_of", "validate"]


def event_spec(fields: dict[str, Spec]) -> Spec:
    """An event: when, by whom, what, and the action's own fields."""
    return mapping({"at": time(True), "by": text(True), "action": text(True), **fields})


# --- the fast yes/no check ------------------------------------------------------------------
# Bulk reads (listing, the index, `svc check` over 100,000 files) mostly meet valid files. A
# spec compiled into closures answers "valid?" several times faster than `validate`, which
# builds each problem's message and line; only a file that fails is walked again by it.

_Check = Callable[[Any], bool]
_COMPILED: dict[int, tuple[Spec, _Check]] = {}


def _compiled(spec: Spec) -> _Check:
    hit = _COMPILED.get(id(spec))
    if hit is None or hit[0] is not spec:
        hit = _COMPILED[id(spec)] = (spec, _compile(spec))
    return hit[1]


def _compile(spec: Spec) -> _Check:
    kind = spec.type
    if kind == "text":
        extra = spec.check
        return (lambda v: type(v) is str) if extra is None else (lambda v: type(v) is str and not extra(v))
    if kind == "enum":
        choices = frozenset(spec.choices)
        return lambda v: type(v) is str and v in choices
    if kind == "time":
        def is_time(v: Any) -> bool:
            if type(v) is not str or not v.startswith("20") or not _TIME.match(v):
                return False  # years 2000-2099 only: what svc takes in (svc/timeutil.py)
            try:
                dt.datetime.fromisoformat(v)
            except ValueError:
                return False
            return True
        return is_time
    if kind == "date":
        def is_date(v: Any) -> bool:
            if type(v) is not str or len(v) != 10 or not v.startswith("20"):
                return False
            try:
                dt.date.fromisoformat(v)
            except ValueError:
                return False
            return True
        return is_date
    if kind == "int":
        low, high = spec.low, spec.high
        return lambda v: (type(v) is int and (low is None or v >= low) and (high is None or v <= high))
    if kind == "list":
        assert spec.item is not None
        item = _member(spec.item)
        return lambda v: type(v) is list and all(item(v, i, x) for i, x in enumerate(v))
    if kind == "map":
        if spec.open_keys:
            assert spec.item is not None
            value = _member(spec.item)
            return lambda v: type(v) is dict and all(value(v, k, x) for k, x in list(v.items()))
        known = frozenset(spec.fields)
        required = frozenset(name for name, sub in spec.fields.items() if sub.required)
        members = [(name, _member(sub)) for name, sub in spec.fields.items()]
        return lambda v: (type(v) is dict and known.issuperset(v) and required.issubset(v)
                          and all(ok(v, name, v[name]) for name, ok in members if name in v))
    return lambda v: True  # any


def _member(spec: Spec) -> Callable[[Any, Any, Any], bool]:
    """The check of a value held in a list or mapping (`container[key]`): empty passes
    unless required, and a whole number written as text becomes a number in place, as
    `validate` converts it."""
    check, required, whole = _compiled(spec), spec.required, spec.type == "int"

    def ok(container: Any, key: Any, x: Any) -> bool:
        if x is None:
            return not required
        if whole and type(x) is str and _INT.match(x):
            x = container[key] = int(x)
        return check(x)
    return ok


_EVENT_SPECS: dict[tuple[int, str], tuple[dict[str, Spec], Spec]] = {}


def _event_spec_of(events: dict[str, dict[str, Spec]], action: str) -> Spec:
    key = (id(events), action)
    hit = _EVENT_SPECS.get(key)
    if hit is None or hit[0] is not events[action]:
        hit = _EVENT_SPECS[key] = (events[action], event_spec(events[action]))
    return hit[1]


def record_ok(node: Any, spec: Spec, events: dict[str, dict[str, Spec]]) -> bool:
    """True when `check_record` would find nothing (converting integers the same way)."""
    if type(node) is not dict or not _compiled(spec)(node):
        return False
    history = node.get("history")
    if type(history) is not list:
        return True  # absent where allowed; anything else failed the fields above
    for event in history:
        action = event.get("action") if type(event) is dict else None
        if action not in events:
            return False
        if not _compiled(_event_spec_of(events, action))(event):
            return False
    return True


def check_record(node: Any, spec: Spec, events: dict[str, dict[str, Spec]], path: str) -> list[Problem]:
    """Every schema problem of a record file: its fields, and each event of its
    `history:` against the fields its action takes."""
    if record_ok(node, spec, events):
        return []
    problems = check_root(node, spec, path)
    history = node.get("history") if isinstance(node, dict) else None
    if isinstance(history, list):
        for i, event in enumerate(history):
            where = f"history[{i + 1}]"
            if not isinstance(event, dict):
                continue  # reported by the schema above
            action = event.get("action")
            fields = events.get(action) if isinstance(action, str) else None
            if fields is None:
                problems.append(Problem(path, line_of(event, "action") or line_of(history, i),
                                        f"{where}.action is {action!r}; expected one of: {', '.join(events)}"))
                continue
            problems += validate(event, _event_spec_of(events, action), path, where, history, i)
    return problems

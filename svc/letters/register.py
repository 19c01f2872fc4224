"""The outgoing-letter register (发文登记): one YAML record per issued letter.

    register/2026/BJ01-2026-A001.yaml

An outgoing number reads `<office>/<year>/<desk><sequence>` (BJ01/2026/A001): each
clone issues from its own desk letter (as case IDs do), so clones merged through git
never hand out the same number. Letters print it as `<code>〔2026〕A001号`.

An entry records the number, when and by whom it was issued, the case, the template,
the recipient and each file written with its sha256; `svc letter signed` adds who
signed for it (签收), once.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from svc import schema as s
from svc import yamlio
from svc.errors import NotFoundError, RecordError
from svc.model import plain
from svc.schema import Problem
from svc.store import Store

FOLDER = "register"
_SHA = re.compile(r"^[0-9a-f]{64}$")
_PRINTED = re.compile(r"^(?P<code>.+?)〔(?P<year>\d{4})〕(?P<seq>[A-Z]{1,2}\d+)号$")
_NUMBER = re.compile(r"^(?P<office>.+)[/-](?P<year>\d{4})[/-](?P<seq>[A-Z]{1,2}\d{3,})$")

def _sha(value: Any) -> str | None:
    return None if _SHA.match(str(value)) else "must be 64 hex digits"


ENTRY_SPEC = s.mapping(
    {
        "number": s.text(True),
        "printed": s.text(True),
        "issued_at": s.time(True),
        "issued_by": s.text(True),
        "case": s.text(True),
        "template": s.text(True),
        "title": s.text(True),
        "lang": s.enum(("zh", "en"), True),
        "recipient": s.text(True),
        "revealed": s.enum(("yes",)),
        "files": s.seq(s.mapping({"path": s.text(True), "sha256": s.text(True, check=_sha)}), True),
        "signed": s.mapping({"by": s.text(True), "at": s.time(True), "recorded_by": s.text(True)}),
    }
)
KEYS = tuple(ENTRY_SPEC.fields)


@dataclass
class Entry:
    path: Path
    raw: Any
    fields: dict[str, Any]

    @property
    def number(self) -> str:
        return str(self.fields["number"])


def file_name(number: str) -> str:
    return number.replace("/", "-") + ".yaml"


def entry_path(store: Store, number: str) -> Path:
    match = _NUMBER.match(number)
    assert match, number
    return store.root / FOLDER / match.group("year") / file_name(number)


def next_number(store: Store, year: int) -> str:
    """The next free number of this clone's desk in `year` (call under the store lock)."""
    desk = store.desk()
    office = store.config.office
    folder = store.root / FOLDER / f"{year:04d}"
    pattern = re.compile(re.escape(f"{office}-{year:04d}-{desk}") + r"(\d+)\.yaml$")
    taken = 0
    if folder.is_dir():
        for path in folder.iterdir():
            if match := pattern.match(path.name):
                taken = max(taken, int(match.group(1)))
    return f"{office}/{year:04d}/{desk}{taken + 1:03d}"


def entry_text(fields: dict[str, Any]) -> str:
    node = CommentedMap()
    for key in KEYS:
        value = fields.get(key)
        if value not in (None, "", [], {}):
            node[key] = value
    return yamlio.dumps(node)


def parse(store: Store, path: Path) -> tuple[Entry | None, list[Problem]]:
    shown = store.shown(path)
    try:
        raw = yamlio.loads(path.read_text(encoding="utf-8"), shown)
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(shown, None, str(exc))]
    except RecordError as exc:
        return None, [Problem(exc.path, exc.line, exc.message)]
    problems = s.check_root(raw, ENTRY_SPEC, shown)
    if not problems:
        expected = file_name(str(raw["number"]))
        if path.name != expected or not _NUMBER.match(str(raw["number"])):
            problems.append(Problem(shown, s.line_of(raw, "number"),
                                    f"number {raw['number']} does not belong in a file named {path.name}"))
    if problems:
        return None, problems
    return Entry(path, raw, plain(raw)), []


def paths(store: Store) -> list[Path]:
    base = store.root / FOLDER
    if not base.is_dir():
        return []
    return sorted(p for p in base.glob("*/*.yaml") if not p.name.startswith("."))


def entries(store: Store, problems: list[Problem] | None = None) -> list[Entry]:
    """Every readable entry, oldest number first; unreadable ones go to `problems` (or raise)."""
    out: list[Entry] = []
    for path in paths(store):
        entry, found = parse(store, path)
        if entry is None:
            if problems is None:
                first = found[0]
                raise RecordError(first.path, first.line, first.message)
            problems.extend(found)
            continue
        out.append(entry)
    out.sort(key=lambda e: (e.fields["issued_at"], e.number))
    return out


def normalize(text: str) -> str:
    """A number as typed or as printed on the paper, in its register form."""
    raw = text.strip()
    printed = _PRINTED.match(raw)
    if printed:
        return f"{printed.group('year')}/{printed.group('seq')}"
    if raw.lower().startswith("no."):
        raw = raw[3:].strip()
    number = _NUMBER.match(raw)
    if number:
        return f"{number.group('office')}/{number.group('year')}/{number.group('seq')}"
    return raw.upper()


def find(store: Store, text: str) -> Entry:
    """The entry whose number is `text`, its printed form, or a unique ending of it (A001)."""
    wanted = normalize(text)
    all_entries = entries(store)
    exact = [e for e in all_entries if e.number == wanted]
    if exact:
        return exact[0]
    found = [e for e in all_entries if e.number.endswith("/" + wanted)]
    if not found:
        raise NotFoundError(f"no letter {text} in the register")
    if len(found) > 1:
        listed = ", ".join(e.number for e in found[:6])
        raise NotFoundError(f"{text} is ambiguous: {listed}; give the full number")
    return found[0]


def signed_fields(entry: Entry, by: str, at: dt.datetime, recorded_by: str) -> str:
    """The entry's text with its receipt added, keeping everything else as it was."""
    raw = entry.raw
    raw["signed"] = CommentedMap([("by", by), ("at", at.isoformat()), ("recorded_by", recorded_by)])
    return yamlio.dumps(raw)

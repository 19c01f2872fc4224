"""`svc check`: every check is a function returning problems; none stops at the first."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from svc import duty, yamlio
from svc import schema as s
from svc.config import CONFIG_NAME
from svc.errors import RecordError
from svc.keeping import register_entries
from svc.model import INTAKE_KEYS, ReplayError, plain, replay
from svc.patrols import replay_patrol
from svc.projects import replay_project
from svc.retention_audit import audit_disposals
from svc.retention import (
    MINIMUM_MONTHS,
    REGISTER_PATH,
    check_register_node,
    replay_hold,
)
from svc.schema import Problem, line_of
from svc.store import (
    CASE_ID,
    CASES,
    HOLDS,
    KINDS,
    PATROLS,
    PROJECTS,
    Record,
    RecordKind,
    Store,
    kind_of,
    read_text,
)

_CASE_FILE = re.compile(r"^\d{4}/\d{2}/[^/]+\.yaml$")


def check_store(store: Store, since: str | None = None, full: bool = False,
                info: list[str] | None = None) -> list[Problem]:
    """Every problem of the store; `info` collects what is said without being a problem
    (changes of users and roles in svc.yaml). `full` verifies git history from the start."""
    problems: list[Problem] = []
    for path in _stray_files(store):
        folder = path.relative_to(store.root).parts[0]
        problems.append(Problem(store.shown(path), None, f"not where a record file belongs ({folder}/YYYY/MM/ID.yaml)"))
    cases: list[CaseRefs] = []
    for found, refs in _check_cases(store):
        problems += found
        cases += refs
    problems += check_unique_ids(store, cases)
    problems += check_links(store, cases)
    for record in store.iter_records(PROJECTS, problems):
        found = check_project(store, record)
        if found:
            found = check_project(store, store.precise(record, PROJECTS))
        problems += found
    for kind, derive in ((PATROLS, _patrol_state), (HOLDS, _hold_state)):
        for record in store.iter_records(kind, problems):
            found = check_derived(store, record, kind, derive)
            if found:
                found = check_derived(store, store.precise(record, kind), kind, derive)
            problems += found
    problems += check_retention(store)
    problems += check_duty(store)
    problems += check_closings(store)
    audited: list[Problem] = []
    if store.git is not None:
        problems += audit_patrols(store)
        problems += audit_disposals(store)
        problems += audit_duty(store)
        audited = _audit_history(store, full, info)
        problems += audited
    if since is not None:  # an event both name is named once, by --since (it has the line)
        changed = check_since(store, since)
        named = {_event_named(problem) for problem in changed} - {None}
        problems = [problem for problem in problems
                    if problem not in audited or _event_named(problem) not in named] + changed
    return problems


_EVENT = re.compile(r"history\[\d+\] \([^)]*\)")


def _event_named(problem: Problem) -> tuple[str, str] | None:
    """The record and the event a problem is about (`history[5] (note at …)`), if it names one."""
    found = _EVENT.search(problem.message)
    return (problem.path, found.group()) if found else None


# What the store-wide case checks (unique IDs, links) need of each case file.
CaseRefs = tuple[str, str, list[str], list[str]]  # rel, id, links, repeat_of

_PARALLEL_FROM = 2000  # below this, starting worker processes costs more than it saves


def _check_cases(store: Store) -> Iterator[tuple[list[Problem], list[CaseRefs]]]:
    """Every case file checked on its own, in worker processes for a large store (one
    per core): parsing is most of `svc check`'s time and each file stands alone."""
    rels = [store.rel(p) for p in store.paths(CASES)]
    cores = os.cpu_count() or 1
    if len(rels) < _PARALLEL_FROM or cores < 2:
        yield _check_case_files(store, rels)
        return
    from concurrent.futures import ProcessPoolExecutor

    size = max(200, len(rels) // (cores * 8))
    chunks = [rels[i:i + size] for i in range(0, len(rels), size)]
    root = str(store.root)
    with ProcessPoolExecutor(max_workers=cores) as pool:
        yield from pool.map(_check_chunk, [(root, chunk) for chunk in chunks])


def _check_chunk(args: tuple[str, list[str]]) -> tuple[list[Problem], list[CaseRefs]]:
    root, rels = args
    return _check_case_files(Store.in_worker(root), rels)


def _check_case_files(store: Store, rels: list[str]) -> tuple[list[Problem], list[CaseRefs]]:
    problems: list[Problem] = []
    refs: list[CaseRefs] = []
    for rel in rels:
        path = store.root / rel
        try:
            text: str | None = read_text(path)
        except (OSError, UnicodeDecodeError):
            text = None  # parse words the error
        record, found = store.parse(path, CASES, text, fast=True)
        if record is None:
            problems += found
            continue
        found = check_case(store, record)
        if found:  # read again round-trip, so every problem carries its line
            found = check_case(store, store.precise(record))
        problems += found
        raw = record.raw
        refs.append((rel, str(record.case.id), [str(t) for t in raw.get("links") or []],
                     [str(t) for t in raw.get("repeat_of") or []]))
    return problems, refs


def _stray_files(store: Store) -> list[Path]:
    out = []
    for folder in (CASES.folder, PROJECTS.folder, PATROLS.folder, HOLDS.folder, duty.FOLDER):
        base = store.root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.is_dir() or path.name.startswith("."):
                continue
            rel = path.relative_to(base).as_posix()
            if not _CASE_FILE.match(rel):
                out.append(path)
    return out


def _patrol_state(raw: Any) -> dict[str, Any]:
    return {"findings": replay_patrol(plain(raw["history"])) or None}


def _hold_state(raw: Any) -> dict[str, Any]:
    return {"status": replay_hold(plain(raw["history"]))}


def check_derived(store: Store, record: Record, kind: RecordKind, derive: Any) -> list[Problem]:
    """A record whose stored state must equal what its history replays to; its ID must
    match its file, and its events' users must be known."""
    shown = store.shown(record.path)
    raw = record.raw
    problems: list[Problem] = []
    record_id = raw.get("id")
    if not kind.pattern.match(str(record_id)) or record.path.stem != record_id:
        problems.append(Problem(shown, line_of(raw, "id"), f"id {record_id!r} does not match the file name {record.path.name}"))
    try:
        state = derive(raw)
    except ReplayError as exc:
        problems.append(Problem(shown, line_of(raw["history"], exc.index), f"history[{exc.index + 1}]: {exc.message}"))
        return problems
    for key, value in state.items():
        if plain(raw.get(key)) != value:
            problems.append(Problem(shown, line_of(raw, key) if key in raw else line_of(raw, "history"),
                                    f"{key} does not match what its history gives"))
    users = store.config.users
    if users:
        for i, ev in enumerate(raw["history"]):
            if ev.get("by") not in users:
                problems.append(Problem(shown, line_of(ev, "by"), f"history[{i + 1}].by: unknown user {ev.get('by')!r}"))
    return problems


def check_retention(store: Store) -> list[Problem]:
    """The policy may lengthen the two years, never shorten them; the register must read."""
    problems: list[Problem] = []
    config_path = str(store.root / CONFIG_NAME)
    if store.config.patrol_retention_months < MINIMUM_MONTHS:
        node = yamlio.load_file(store.root / CONFIG_NAME, config_path)
        line = line_of(node.get("retention") or {}, "patrol_months")
        problems.append(Problem(config_path, line,
                                f"retention.patrol_months is {store.config.patrol_retention_months}, shorter than the "
                                f"regulation's {MINIMUM_MONTHS} (保存期两年); svc keeps {MINIMUM_MONTHS}"))
    register = store.root / REGISTER_PATH
    if register.exists():
        try:
            node = yamlio.load_file(register, store.shown(register))
            problems += check_register_node(node, store.shown(register))
        except RecordError as exc:
            problems.append(Problem(exc.path, exc.line, exc.message))
    return problems


def _audit_history(store: Store, full: bool, info: list[str] | None) -> list[Problem]:
    """Every commit's changes to records, registers and summaries (svc/audit.py)."""
    from svc import audit

    assert store.git is not None
    result = audit.verify(store.root, store.git, full)
    if info is not None:
        info += [line for _, line in result.config]
    return [Problem(store.shown(store.root / f.path), None, f.message) for f in result.findings]


def audit_patrols(store: Store) -> list[Problem]:
    """Patrol records are evidence: in git history, none may be deleted other than through
    the disposal register on or after its disposable date, and none may have an event
    changed or removed (记录不得涂改)."""
    register = {e["record"]: e for e in register_entries(store)}
    return _audit_folder(store, PATROLS.folder, "patrol record", register, " (保存期两年)")


def audit_duty(store: Store) -> list[Problem]:
    """The duty log: no page torn out, no entry altered (不得撕页, 记录不得涂改), in git
    history as in the work tree. No rule ever disposes of it."""
    return _audit_folder(store, duty.FOLDER, "duty log", {}, " (不得撕页)")


def check_duty(store: Store) -> list[Problem]:
    """Each day's duty log: its schema, its seals (an edited or removed event breaks the
    chain), times within the day, signatures by a supervisor, acceptances by the person
    a handover was to."""
    problems: list[Problem] = []
    tz, users = store.config.tz, store.config.users
    for path in duty.day_files(store.root):
        shown = store.shown(path)
        try:
            text = path.read_text(encoding="utf-8")
            node = yamlio.loads_fast(text, shown)
        except (RecordError, UnicodeDecodeError) as exc:
            problems.append(Problem(shown, getattr(exc, "line", None), getattr(exc, "message", "not UTF-8 text")))
            continue
        found = s.check_root(node, duty.DAY_SPEC, shown)
        if found:
            problems += s.check_root(yamlio.loads(text, shown), duty.DAY_SPEC, shown)  # with lines
            continue
        try:
            day = dt.date.fromisoformat(str(node["date"]))
        except ValueError:
            continue  # the schema said so
        belongs = duty.day_path(store.root, day)
        if path != belongs:
            problems.append(Problem(shown, None, f"the log of {day.isoformat()} belongs in {store.rel(belongs)}"))
        found_day = duty.check_day(plain(node["history"]), day, tz, users)
        if found_day:
            raw = yamlio.loads(text, shown)  # again round-trip, for the lines
            for index, message in found_day:
                line = line_of(raw["history"], index) if index is not None else None
                problems.append(Problem(shown, line, message))
    return problems


def _audit_folder(store: Store, folder: str, what: str, register: dict[str, Any], rule: str) -> list[Problem]:
    """Records under `folder` kept as evidence, audited through git history: a deletion
    needs a disposal register entry on or after its date (`rule` names the rule a deletion
    breaks); no event may be changed or removed."""
    assert store.git is not None
    problems: list[Problem] = []
    changes = store.git.changes(folder)
    versions: dict[str, list[tuple[str, str]]] = defaultdict(list)
    deleted: dict[str, tuple[str, str]] = {}
    for commit, date, status, path in changes:
        if not path.endswith(".yaml"):
            continue
        if status == "D":
            deleted[path] = (commit, date)
        else:
            versions[path].append((commit, date))
            deleted.pop(path, None)
    for path in sorted(versions):  # committed, but gone from the work tree without a commit
        if not (store.root / path).exists() and path not in deleted:
            deleted[path] = ("", "")
    for path, (commit, date) in sorted(deleted.items()):
        record_id = Path(path).stem
        entry = register.get(record_id)
        where = f"in commit {commit[:10]} ({date[:10]})" if commit else "from the work tree (not committed)"
        if entry is None:
            problems.append(Problem(path, None, f"{what} {record_id} deleted {where} without a disposal "
                                                f"register entry{rule}; restore it with git"))
        elif date and date[:10] < entry["disposable_on"]:
            problems.append(Problem(path, None, f"{what} {record_id} deleted {where}, before its retention "
                                                f"ended on {entry['disposable_on']}"))
    specs = [f"{commit}:{path}" for path, seen in sorted(versions.items()) for commit, _ in seen]
    texts = iter(store.git.blobs(specs))
    for path, seen in sorted(versions.items()):
        histories = []
        for commit, _ in seen:
            histories.append((commit, _history_of(next(texts))))
        current = store.root / path
        if current.exists():
            histories.append(("work tree", _history_of(current.read_text(encoding="utf-8", errors="replace"))))
        for (_, before), (label_, after) in zip(histories, histories[1:]):
            if before is None or after is None:
                continue
            if not _kept_in_order(before, after):
                where = "in the work tree" if label_ == "work tree" else f"in commit {label_[:10]}"
                problems.append(Problem(path, None, f"history altered {where}: an event was changed or removed"))
                break
    return problems


def _history_of(text: str | None) -> list[Any] | None:
    node = yamlio.mapping_or_none(text)
    return plain(node.get("history")) if node is not None and isinstance(node.get("history"), list) else None


def check_project(store: Store, record: Record) -> list[Problem]:
    """A project file: ID and filing, replay of its visits, known users and branch."""
    shown = store.shown(record.path)
    raw = record.raw
    project = record.view
    problems: list[Problem] = []
    if not PROJECTS.pattern.match(project.id):
        problems.append(Problem(shown, line_of(raw, "id"), f"id {project.id!r} is not a project ID (like P2611-A001)"))
    elif record.path.stem != project.id:
        problems.append(Problem(shown, line_of(raw, "id"), f"id {project.id} does not match the file name"))
    try:
        state = replay_project(plain(raw["history"]))
    except ReplayError as exc:
        problems.append(Problem(shown, line_of(raw["history"], exc.index), f"history[{exc.index + 1}]: {exc.message}"))
    else:
        for key, value in state.as_fields().items():
            if plain(raw.get(key)) != value:
                problems.append(Problem(shown, line_of(raw, key) if key in raw else line_of(raw, "history"),
                                        f"{key} is {_show(plain(raw.get(key)))} but its history gives {_show(value)}"))
    users, branches = store.config.users, store.config.branches
    if users:
        for i, ev in enumerate(raw["history"]):
            if ev.get("by") not in users:
                problems.append(Problem(shown, line_of(ev, "by"), f"history[{i + 1}].by: unknown user {ev.get('by')!r}"))
    if branches and project.fields.get("branch") and project.fields["branch"] not in branches:
        problems.append(Problem(shown, line_of(raw, "branch"), f"unknown branch {project.fields['branch']!r}"))
    return problems


def check_closings(store: Store) -> list[Problem]:
    """Each closed month's kept figures (summaries/report-YYYY-MM.yaml) read, name their
    month and match their sha256: a report of the month prints them (svc/closing.py)."""
    from svc.closing import read_closing

    folder = store.root / "summaries"
    problems: list[Problem] = []
    for path in sorted(folder.glob("report-*.yaml")) if folder.is_dir() else []:
        month = path.stem.removeprefix("report-")
        try:
            read_closing(store, month)
        except RecordError as exc:
            problems.append(Problem(exc.path, exc.line, exc.message))
    return problems


def calendar_warnings(store: Store, now: dt.datetime) -> list[str]:
    """Working-day deadlines need this year's official holidays (published each November),
    and from October next year's; a warning, not a problem: the records are fine, the
    calendar needs its new year (svc/calendar.py, coverage_warnings)."""
    from svc.calendar import coverage_warnings

    return coverage_warnings(store.config.calendar, now, store.config.lang)


def check_case(store: Store, record: Record) -> list[Problem]:
    shown = store.shown(record.path)
    raw = record.raw
    case = record.case
    problems: list[Problem] = []

    def add(line: int | None, message: str) -> None:
        problems.append(Problem(shown, line, message))

    if not CASE_ID.match(case.id):
        add(line_of(raw, "id"), f"id {case.id!r} is not a case ID (like C2611-A001)")
    elif record.path.stem != case.id:
        add(line_of(raw, "id"), f"id {case.id} does not match the file name {record.path.name}")
    local = case.opened_at.astimezone(store.config.tz)
    expected = f"{local:%Y}/{local:%m}"
    actual = "/".join(record.path.parts[-3:-1])
    if actual != expected:
        add(line_of(raw, "opened_at"), f"opened {local:%Y-%m} (office time) but filed under {actual}")
    if CASE_ID.match(case.id) and case.id[1:5] != f"{local:%y%m}":
        add(line_of(raw, "id"), f"id {case.id} does not match the month it was opened ({local:%Y-%m})")
    history = raw["history"]
    if history and history[0].get("at") != raw.get("opened_at"):
        add(line_of(history[0], "at"), "the open event's time differs from opened_at")
    try:
        state = replay(plain(history))
    except ReplayError as exc:
        add(line_of(history, exc.index), f"history[{exc.index + 1}]: {exc.message}")
        state = None
    if state is not None:
        for key, value in state.as_fields().items():
            stored = plain(raw.get(key))
            if stored != value:
                add(line_of(raw, key) if key in raw else line_of(raw, "history"),
                    f"{key} is {_show(stored)} but its history gives {_show(value)}")
    users = store.config.users
    branches = store.config.branches
    if users:
        for i, ev in enumerate(history):
            for key in ("by", "to") if ev.get("action") == "assign" else ("by",):
                if ev.get(key) not in users:
                    add(line_of(ev, key), f"history[{i + 1}].{key}: unknown user {ev.get(key)!r}")
    if branches and case.branch and case.branch not in branches:
        add(line_of(raw, "branch"), f"unknown branch {case.branch!r}")
    return problems


def _show(value: Any) -> str:
    return "empty" if value is None else repr(value)


def check_unique_ids(store: Store, cases: list[CaseRefs]) -> list[Problem]:
    by_id: dict[str, list[str]] = defaultdict(list)
    for rel, case_id, _, _ in cases:
        by_id[case_id].append(rel)
    problems = []
    for case_id, same in sorted(by_id.items()):
        if len(same) > 1:
            paths = [store.root / rel for rel in same]
            where = ", ".join(store.shown(p) for p in paths)
            for path in paths:  # read round-trip again for the line
                raw = _precise_raw(store, path)
                problems.append(Problem(store.shown(path), line_of(raw, "id"), f"duplicate ID {case_id} (in {where})"))
    return problems


def _precise_raw(store: Store, path: Path) -> Any:
    record, _ = store.parse(path, CASES)
    return record.raw if record is not None else None


def check_links(store: Store, cases: list[CaseRefs]) -> list[Problem]:
    # a file that exists but cannot be read is reported once, as itself, not as a dangling target
    known = {case_id for _, case_id, _, _ in cases} | {p.stem for kind in KINDS for p in store.paths(kind)}
    known |= {e["record"] for e in register_entries(store)}  # disposed of by the rule: not dangling
    problems = []
    for rel, _, links, repeat_of in cases:
        for key, targets in (("links", links), ("repeat_of", repeat_of)):
            for i, target in enumerate(targets):
                if kind_of(target) is not None and target not in known:
                    path = store.root / rel
                    raw = _precise_raw(store, path)  # read round-trip again for the line
                    problems.append(Problem(store.shown(path), line_of(raw[key], i) if raw else None,
                                            f"{key} names {target}, which is not in the store"))
    return problems


def check_since(store: Store, rev: str) -> list[Problem]:
    """Records must not be altered (记录不得涂改): since `rev`, events may only be appended,
    intake facts stay as they were, no record file is deleted (but for patrol records
    disposed of through the register), and the register only grows."""
    if store.git is None:
        from svc.errors import SvcError

        raise SvcError("--since needs a git store (this store has no .git)")
    commit = store.git.verify_rev(rev)
    disposed = {e["record"] for e in register_entries(store)}
    problems: list[Problem] = []
    for kind in KINDS:
        for rel in store.git.files_at(commit, kind.folder):
            if not rel.endswith(".yaml"):
                continue
            path = store.root / rel
            shown = store.shown(path)
            if not path.exists():
                if not (kind is PATROLS and path.stem in disposed):
                    problems.append(Problem(shown, None, f"{kind.name} file deleted since {rev}"))
                continue
            old, new = _versions(store, commit, rel, path)
            if old is None or new is None:
                continue  # unreadable files are reported by the other checks
            problems += _appended_only(shown, old, new, "history", rev)
            if kind is CASES:
                for key in ("id", "kind", "opened_at", *INTAKE_KEYS):
                    if plain(old.get(key)) != plain(new.get(key)):
                        problems.append(Problem(shown, line_of(new, key) if key in new else None,
                                                f"{key} changed since {rev} (intake facts are never rewritten)"))
    register = store.root / REGISTER_PATH
    if store.git.show(commit, REGISTER_PATH) is not None:
        if not register.exists():
            problems.append(Problem(store.shown(register), None, f"the disposal register was deleted since {rev}"))
        else:
            old, new = _versions(store, commit, REGISTER_PATH, register)
            if old is not None and new is not None:
                problems += _appended_only(store.shown(register), old, new, "entries", rev)
    return problems


def _versions(store: Store, commit: str, rel: str, path: Path) -> tuple[Any, Any]:
    assert store.git is not None
    try:
        old = yamlio.loads(store.git.show(commit, rel) or "", f"{rel}@{commit[:10]}")
        new = yamlio.load_file(path, store.shown(path))
    except RecordError:
        return None, None
    return (old if isinstance(old, dict) else None), (new if isinstance(new, dict) else None)


def _appended_only(shown: str, old: Any, new: Any, key: str, rev: str) -> list[Problem]:
    """Every item of old[key] is still there, unchanged and in the same order, in new[key].

    New items may stand between old ones: merging two clones unites their events by time
    (svc merge-file), so one clone's earlier event can land before the other's later one.
    """
    problems = []
    before = plain(old.get(key) or [])
    raw_after = new.get(key) or []
    after = plain(raw_after)
    j = 0  # where the next old item is looked for
    for i, item in enumerate(before):
        found = next((k for k in range(j, len(after)) if after[k] == item), None)
        if found is not None:
            j = found + 1
            continue
        what = f"{key}[{i + 1}]"
        if isinstance(item, dict) and "action" in item:
            what += f" ({item.get('action')} at {item.get('at')})"
        if j >= len(after):
            problems.append(Problem(shown, line_of(new, key), f"{what} removed since {rev}"))
        else:
            problems.append(Problem(shown, line_of(raw_after, j), f"{what} changed since {rev}"))
        j += 1
    return problems


def _kept_in_order(before: list[Any], after: list[Any]) -> bool:
    """`before` is a subsequence of `after`: nothing changed or removed, only added."""
    rest = iter(after)
    return all(any(item == other for other in rest) for item in before)

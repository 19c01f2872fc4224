"""Patrol records, monthly summaries, holds and disposal: what those commands do to the
store (load under the lock, apply the rules in `patrols` and `retention`, write, commit)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any, Callable

from svc import deadlines, workflow, yamlio
from svc.actions import Context, message, new_case
from svc.errors import RecordError, RefusedError
from svc.model import plain
from svc.patrols import (
    DEFAULT_CHECKLIST,
    MANAGER_ROLES,
    PATROL_KEYS,
    Patrol,
    checklist,
    replay_patrol,
)
from svc.retention import (
    HOLD_KEYS,
    Candidate,
    check_hold_node,
    refuse_clock_ahead,
    words,
    MINIMUM_MONTHS,
    REGISTER_PATH,
    SUMMARY_DIR,
    Facts,
    Plan,
    check_register_node,
    cut_off,
    disposable_on,
    month_of,
    plan,
    replay_hold,
    sha256,
)
from svc.schema import Problem, line_of
from svc.store import CASES, HOLDS, PATROLS, Record, Store, ordered_node, put_fields
from svc.timeutil import stamp


# The patrol finding's clock: its length and whether a manager may extend it are the rule's.
FIX_RULE = deadlines.RULES["patrol-fix-7d"]


def _moment(ctx: Context, at: dt.datetime | None, after: dt.datetime | None = None) -> dt.datetime:
    moment = workflow.not_future(at, ctx.now)
    if after is not None and moment < after:
        raise RefusedError(f"{stamp(moment)} is before the record's last event ({stamp(after)})")
    return moment


# --- patrol records ---------------------------------------------------------------------------

def add_patrol(ctx: Context, area: str, problems: list[str], skipped: list[str], at: dt.datetime | None) -> str:
    store = ctx.store
    area = workflow.need_text(area, "--area")
    moment = _moment(ctx, at)
    items = store.config.patrol_checklist or DEFAULT_CHECKLIST
    results = checklist(tuple(items), problems, skipped)
    with store.locked():
        month = month_of(moment, store.config.tz)
        if summary_path(store, month).exists():
            raise RefusedError(f"{month} is cut off (its summary exists); a late sheet would be missing from the "
                               "summary. Record it with a note on an existing patrol of that month instead")
        patrol_id = _fresh_patrol_id(store, moment)
        first = workflow.event("patrol", moment, ctx.actor.id)
        node = {"id": patrol_id, "area": area, "patrolled_at": stamp(moment), "patroller": ctx.actor.id,
                "checklist": results, "history": [first]}
        path = store.path_of(patrol_id, PATROLS)
        bad = sum(1 for r in results if r["result"] == "problem")
        commit = message(f"patrol add {patrol_id}: {area}, {bad} checklist problem{'s' if bad != 1 else ''}",
                         ctx.actor, first["at"], "patrol-add", [patrol_id])
        store.write({path: yamlio.dumps(ordered_node(node, PATROL_KEYS))}, commit, ctx.actor, first["at"])
    return patrol_id


def _fresh_patrol_id(store: Store, moment: dt.datetime) -> str:
    """The next patrol ID, never one of a record disposed of (its number is free in the folder,
    but the register, the history and the cases that linked it still name it)."""
    patrol_id = store.new_id(moment, PATROLS)
    register = store.root / REGISTER_PATH
    disposed = register.read_text(encoding="utf-8") if register.exists() else ""  # a text search: no YAML parse
    while patrol_id in disposed:
        stem = patrol_id.rstrip("0123456789")
        patrol_id = f"{stem}{int(patrol_id[len(stem):]) + 1:03d}"
    return patrol_id


def _change_patrol(ctx: Context, ref: str, at: dt.datetime | None, make: Any, subject: str) -> Patrol:
    """Load a patrol under the lock, let `make(patrol, moment)` return events (and extra
    files to write), append, replay, write and commit."""
    store = ctx.store
    with store.locked():
        record = store.load(ref, PATROLS)
        patrol: Patrol = record.view
        moment = _moment(ctx, at, patrol.last_event_at)
        events, extra = make(patrol, moment)
        history = record.raw["history"]
        for ev in events:
            history.append(ev)
        try:
            findings = replay_patrol(plain(history))
        except Exception as exc:  # a ReplayError: the rules in the make function should have refused
            raise RefusedError(f"refused: {exc}") from None
        put_fields(record.raw, {"findings": findings or None}, PATROL_KEYS)
        changes: dict[Path, str | None] = {record.path: yamlio.dumps(record.raw), **extra}
        records = [patrol.id] + [p.stem for p in extra]
        store.write(changes, message(subject.format(id=patrol.id), ctx.actor, events[0]["at"], "patrol", records),
                    ctx.actor, events[0]["at"])
    return store.load(patrol.id, PATROLS).view


def add_finding(ctx: Context, ref: str, category: str, place: str, description: str, settled: str | None,
                at: dt.datetime | None) -> int:
    number: list[int] = []

    def make(patrol: Patrol, moment: dt.datetime) -> tuple[list[dict[str, Any]], dict[Path, str]]:
        no = len(patrol.findings) + 1
        number.append(no)
        due = None if settled else stamp(deadlines.due_from(FIX_RULE, moment, ctx.store.config.calendar))
        return [workflow.event("finding", moment, ctx.actor.id, no=no, category=category,
                               place=workflow.need_text(place, "--place"),
                               description=workflow.need_text(description, "--description"),
                               settled=(settled or "").strip() or None, due=due)], {}

    _change_patrol(ctx, ref, at, make, "patrol finding {id}")
    return number[0]


def route_finding(ctx: Context, ref: str, no: int, to: str, department: str | None,
                  at: dt.datetime | None) -> str | None:
    """Route a finding: a repair opens a repair case linked to the patrol record."""
    opened: list[str] = []

    def make(patrol: Patrol, moment: dt.datetime) -> tuple[list[dict[str, Any]], dict[Path, str]]:
        finding = patrol.finding(no)
        if finding["status"] != "open" or finding.get("route"):
            raise RefusedError(f"finding {no} of {patrol.id} is {finding.get('route') or finding['status']} already")
        extra: dict[Path, str] = {}
        case_id = None
        if to == "department" and not (department or "").strip():
            raise RefusedError("--department is needed to route a finding to another department")
        if to == "repair":
            intake = {"channel": "patrol", "summary": f"{patrol.fields['area']} {finding['place']}：{finding['description']}",
                      "customer": {"address": f"{patrol.fields['area']} {finding['place']}"}}
            made = new_case(ctx, "repair", intake, None, moment)
            # the new case links back to the patrol record
            text = made.text.replace("history:\n", f"links:\n- {patrol.id}\nhistory:\n", 1)
            node = yamlio.loads(text, str(made.path))
            node["history"].append(workflow.event("link", moment, ctx.actor.id, to=patrol.id))
            extra[made.path] = yamlio.dumps(node)
            case_id = made.id
            opened.append(made.id)
        return [workflow.event("route", moment, ctx.actor.id, no=no, to=to,
                               department=(department or "").strip() or None, case=case_id)], extra

    _change_patrol(ctx, ref, at, make, "patrol route {id}: finding " + f"{no} to {to}")
    return opened[0] if opened else None


def extend_finding(ctx: Context, ref: str, no: int, until: dt.date, reason: str, at: dt.datetime | None) -> None:
    if not FIX_RULE.extendable or ctx.actor.role not in MANAGER_ROLES:
        raise RefusedError(f"only a manager ({', '.join(MANAGER_ROLES)}) may extend a finding's 7 days; "
                           f"{ctx.actor.id} is {ctx.actor.role or 'not a declared user'}")

    def make(patrol: Patrol, moment: dt.datetime) -> tuple[list[dict[str, Any]], dict[Path, str]]:
        finding = patrol.finding(no)
        if finding["status"] != "open":
            raise RefusedError(f"finding {no} of {patrol.id} is {finding['status']}; only open findings are extended")
        cal = ctx.store.config.calendar
        new_due = dt.datetime.combine(until, cal.closes, tzinfo=cal.tz)
        if finding.get("due") and new_due <= dt.datetime.fromisoformat(finding["due"]):
            raise RefusedError(f"--until {until} does not extend the due time {finding['due']}")
        return [workflow.event("extend", moment, ctx.actor.id, no=no, due=stamp(new_due),
                               reason=workflow.need_text(reason, "--reason"))], {}

    _change_patrol(ctx, ref, at, make, "patrol extend {id}: finding " + f"{no} until {until}")


def settle_step(ctx: Context, ref: str, no: int, action: str, note_text: str | None, at: dt.datetime | None) -> None:
    """`fixed` (by whoever fixed it) or `verified` (on site, by someone else)."""

    def make(patrol: Patrol, moment: dt.datetime) -> tuple[list[dict[str, Any]], dict[Path, str]]:
        finding = patrol.finding(no)
        wanted = "open" if action == "fixed" else "fixed"
        if finding["status"] != wanted:
            raise RefusedError(f"finding {no} of {patrol.id} is {finding['status']}; {action} needs it {wanted}")
        if action == "verified" and finding.get("fixed_by") == ctx.actor.id:
            raise RefusedError(f"{ctx.actor.id} fixed finding {no}; someone else must verify it on site")
        return [workflow.event(action, moment, ctx.actor.id, no=no, note=(note_text or "").strip() or None)], {}

    _change_patrol(ctx, ref, at, make, f"patrol {action} " + "{id}: finding " + str(no))


# --- monthly summaries -------------------------------------------------------------------------

def summary_path(store: Store, month: str) -> Path:
    return store.root / SUMMARY_DIR / f"patrol-{month}.yaml"


def month_patrols(store: Store, month: str) -> list[Patrol]:
    tz = store.config.tz
    return [r.view for r in store.iter_records(PATROLS) if month_of(r.view.patrolled_at, tz) == month]


def read_summary(store: Store, month: str) -> dict[str, Any]:
    path = summary_path(store, month)
    return plain(yamlio.load_file(path, store.shown(path)))


def summarize(store: Store, month: str) -> dict[str, Any]:
    """The month's figures: patrols and findings by category and by area, still-open findings."""
    patrols = month_patrols(store, month)
    by_category: dict[str, int] = {}
    by_area: dict[str, dict[str, int]] = {}
    still_open = []
    for patrol in patrols:
        area = by_area.setdefault(patrol.fields["area"], {"patrols": 0, "findings": 0})
        area["patrols"] += 1
        for finding in patrol.findings:
            by_category[finding["category"]] = by_category.get(finding["category"], 0) + 1
            area["findings"] += 1
            if finding["status"] in ("open", "fixed"):
                still_open.append({"record": patrol.id, "no": finding["no"], "status": finding["status"],
                                   "category": finding["category"], "place": finding["place"],
                                   "due": finding.get("due")})
    return {
        "month": month,
        "patrols": len(patrols),
        "findings": sum(by_category.values()),
        "by_category": dict(sorted(by_category.items())),
        "by_area": dict(sorted(by_area.items())),
        "open_findings": still_open,
        "records": [p.id for p in sorted(patrols, key=lambda p: p.id)],
    }


def write_summary(ctx: Context, month: str,
                  before_write: Callable[[dict[str, Any]], None] | None = None) -> tuple[Path, dict[str, Any]]:
    """Cut the month off: refused before it has ended (office time) or twice.
    `before_write` gets the summary as it will be stored, before anything is written
    (its print: a print that fails leaves the month open, to be tried again)."""
    store = ctx.store
    start = cut_off(month)
    if ctx.now.astimezone(store.config.tz).date() < start:
        raise RefusedError(f"{month} has not ended yet (office time); its summary can be made from {start}")
    with store.locked():
        path = summary_path(store, month)
        if path.exists():
            raise RefusedError(f"{month} is already cut off: {store.shown(path)}")
        figures = summarize(store, month)
        node = {"summary": "patrol", **figures, "made_at": stamp(ctx.now), "made_by": ctx.actor.id}
        if before_write is not None:
            before_write(node)
        store.write({path: yamlio.dumps(ordered_node(node, tuple(node)))},
                    message(f"patrol summary {month}: {figures['patrols']} patrols, {figures['findings']} findings",
                            ctx.actor, stamp(ctx.now), "patrol-summary", figures["records"]),
                    ctx.actor, stamp(ctx.now))
    return path, figures


# --- holds ---------------------------------------------------------------------------------------

def new_hold(ctx: Context, records: list[str], reason: str, moment: dt.datetime, case: str | None = None) -> tuple[str, Path, str]:
    """A hold's file (call under the lock)."""
    store = ctx.store
    hold_id = store.new_id(moment, HOLDS)
    first = workflow.event("hold", moment, ctx.actor.id, records=records, reason=reason, case=case)
    node = {"id": hold_id, "status": "active", "records": records, "reason": reason, "case": case, "history": [first]}
    return hold_id, store.path_of(hold_id, HOLDS), yamlio.dumps(ordered_node(node, HOLD_KEYS))


def add_hold(ctx: Context, refs: list[str], reason: str, at: dt.datetime | None) -> str:
    store = ctx.store
    reason = workflow.need_text(reason, "--reason")
    records = list(dict.fromkeys(store.resolve_any(ref, exclude=(HOLDS,)) for ref in refs))
    moment = _moment(ctx, at)
    with store.locked():
        hold_id, path, text = new_hold(ctx, records, reason, moment)
        store.write({path: text}, message(f"hold {hold_id}: {', '.join(records)}", ctx.actor, stamp(moment), "hold",
                                          [hold_id, *records]), ctx.actor, stamp(moment))
    return hold_id


def release_hold(ctx: Context, ref: str, reason: str, at: dt.datetime | None) -> Record:
    store = ctx.store
    reason = workflow.need_text(reason, "--reason")
    with store.locked():
        record = store.load(ref, HOLDS)
        if not record.view.active:
            raise RefusedError(f"{record.view.id} is released already")
        moment = _moment(ctx, at, dt.datetime.fromisoformat(record.raw["history"][-1]["at"]))
        record.raw["history"].append(workflow.event("release", moment, ctx.actor.id, reason=reason))
        put_fields(record.raw, {"status": replay_hold(plain(record.raw["history"]))}, HOLD_KEYS)
        store.write({record.path: yamlio.dumps(record.raw)},
                    message(f"hold release {record.view.id}", ctx.actor, stamp(moment), "hold-release",
                            [record.view.id, *record.view.records]), ctx.actor, stamp(moment))
    return store.load(record.view.id, HOLDS)


def legal_holds(ctx: Context, case: dict[str, Any], moment: dt.datetime) -> dict[Path, str]:
    """A case at legal holds the patrol records it links (a new hold for any not yet held by it)."""
    if case.get("level") != "legal":
        return {}
    linked = [r for r in case.get("links") or [] if PATROLS.pattern.match(r)]
    if not linked:
        return {}
    store = ctx.store
    # once held for this case, a record is not held again by it: a released hold stays released
    held = {r for h in store.iter_records(HOLDS, []) if h.view.fields.get("case") == case["id"]
            for r in h.view.records}
    missing = [r for r in linked if r not in held]
    if not missing:
        return {}
    reason = f"case {case['id']} is with legal (法务中心)"
    _, path, text = new_hold(ctx, missing, reason, moment, case=case["id"])
    return {path: text}


# --- the retention plan and disposal ---------------------------------------------------------------

def retention_months(store: Store) -> int:
    """The policy, never below the regulation's two years (check reports a shorter one)."""
    return max(store.config.patrol_retention_months, MINIMUM_MONTHS)


def facts(store: Store) -> Facts:
    """Holds, open links and summaries, failing closed: a hold, case or summary that cannot
    be read keeps what it might protect, and names the file (path:line)."""
    lang = store.config.lang
    holds: dict[str, list[str]] = {}
    doubts: dict[str, list[str]] = {}
    doubt_all: list[str] = []
    unreadable: list[Problem] = []
    for record in store.iter_records(HOLDS, unreadable):
        if record.view.active:
            for target in record.view.records:
                holds.setdefault(target, []).append(f"{record.view.id} ({record.view.fields['reason']})")
    # no hold file says which records it may hold once it cannot be read: it keeps them all
    doubt_all += [words(lang, "unreadable-hold", where=_where(p), why=p.message) for p in _first_per_file(unreadable)]
    for rel, text in _committed_versions(store, HOLDS.folder).items():
        fields = _readable(text, check_hold_node)
        if fields is not None and fields.get("status") == "active":
            for target in fields.get("records") or []:
                holds.setdefault(str(target), []).append(
                    words(lang, "committed-hold", hold=f"{fields.get('id')} ({fields.get('reason')})"))
    open_links: dict[str, list[str]] = {}
    unreadable = []
    for record in store.iter_cases(unreadable):
        if record.case.status == "open":
            for target in record.case.get("links") or []:
                open_links.setdefault(target, []).append(record.case.id)
    for problem in _first_per_file(unreadable):
        reason = words(lang, "unreadable-case", where=_where(problem), why=problem.message)
        named = _patrol_ids_in(Path(problem.path))
        if named is None:
            doubt_all.append(reason)
        for target in named or ():
            doubts.setdefault(target, []).append(reason)
    from svc.model import check_case_node

    for rel, text in _committed_versions(store, CASES.folder).items():
        fields = _readable(text, check_case_node)
        if fields is not None and fields.get("status") == "open":
            for target in fields.get("links") or []:
                open_links.setdefault(str(target), []).append(f"{fields.get('id')} (HEAD)")
    summarized, month_doubts = _summaries(store)
    return Facts(summarized, holds, open_links, doubts, tuple(doubt_all), month_doubts, store.git is not None, lang)


def _where(problem: Problem) -> str:
    return f"{problem.path}:{problem.line}" if problem.line else problem.path


def _first_per_file(problems: list[Problem]) -> list[Problem]:
    return list({p.path: p for p in reversed(problems)}.values())[::-1]


_PATROL_ID = re.compile(rb"X\d{4}-[A-Z]{1,2}\d{3,}")


def _patrol_ids_in(path: Path) -> set[str] | None:
    """The patrol IDs an unreadable file mentions (None: not even its bytes can be read)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return {m.decode() for m in _PATROL_ID.findall(data)}


def _readable(text: str | None, check: Any) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        node = yamlio.loads_fast(text, "-")
    except Exception:  # a committed version that does not read protects nothing more than the work tree
        return None
    if not isinstance(node, dict) or check(node, "-"):
        return None
    return node


def _committed_versions(store: Store, folder: str) -> dict[str, str | None]:
    """HEAD's text of every file under `folder` changed or deleted in the work tree and not
    committed: a hand edit that drops a hold or a link must not count until it is committed."""
    if store.git is None:
        return {}
    changed = [rel for rel, state in _uncommitted(store, folder).items() if state != "??"]
    if not changed:
        return {}
    return dict(zip(changed, store.git.blobs([f"HEAD:{rel}" for rel in changed])))


def _uncommitted(store: Store, folder: str) -> dict[str, str]:
    """Files under `folder` that differ from HEAD (staged or not), with git's two-letter state."""
    assert store.git is not None
    done = store.git.run("status", "--porcelain=v1", "-z", "--no-renames", "--untracked-files=all", "--", folder,
                         check=False)
    out: dict[str, str] = {}
    for entry in done.stdout.split("\0"):
        if len(entry) > 3:
            out[entry[3:]] = entry[:2]
    return out


def _first_seen(store: Store, folder: str) -> dict[str, dt.datetime]:
    """When git first saw each file under `folder`: the committer date of the latest commit that
    added it (a file deleted and added again starts again), all in one `git log`."""
    assert store.git is not None
    done = store.git.run("log", "--no-renames", "--diff-filter=A", "--format=@%cI", "--name-only", "--", folder,
                         check=False)
    seen: dict[str, dt.datetime] = {}
    when: dt.datetime | None = None
    for line in done.stdout.splitlines():
        if line.startswith("@"):
            when = dt.datetime.fromisoformat(line[1:])
        elif line and when is not None:
            seen.setdefault(line, when)  # newest first: the latest add
    return seen


def _summaries(store: Store) -> tuple[frozenset[str], dict[str, list[str]]]:
    """Months with a readable summary of that month; a summary that cannot be read keeps its month."""
    folder = store.root / SUMMARY_DIR
    if not folder.is_dir():
        return frozenset(), {}
    months: set[str] = set()
    doubts: dict[str, list[str]] = {}
    for path in sorted(folder.glob("patrol-*.yaml")):
        month = path.stem.removeprefix("patrol-")
        try:
            node = yamlio.load_file(path, store.shown(path))
            if not isinstance(node, dict) or str(node.get("month")) != month:
                raise RecordError(store.shown(path), line_of(node, "month") if isinstance(node, dict) else None,
                                  f"not the summary of {month}")
        except RecordError as exc:
            where = f"{exc.path}:{exc.line}" if exc.line else exc.path
            doubts.setdefault(month, []).append(words(store.config.lang, "unreadable-summary", where=where,
                                                      why=exc.message, month=month))
            continue
        months.add(month)
    return frozenset(months), doubts


def candidates(store: Store) -> list[Candidate]:
    """Every patrol record file, with what the plan must doubt about it: a file that cannot be
    read, whose `id:` is not its file name, that differs from HEAD or that git never saw."""
    lang = store.config.lang
    seen = _first_seen(store, PATROLS.folder) if store.git is not None else {}
    dirty = _uncommitted(store, PATROLS.folder) if store.git is not None else {}
    out = []
    for path in store.paths(PATROLS):
        rel, shown = store.rel(path), store.shown(path)
        doubts: list[str] = []
        stated = None
        try:
            text: str | None = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
        record, problems = store.parse(path, PATROLS, text, fast=True)
        if record is None:
            doubts.append(words(lang, "unreadable-record", where=_where(problems[0]), why=problems[0].message))
        else:
            stated = record.view.patrolled_at
            if record.view.id != path.stem:
                doubts.append(words(lang, "id-mismatch", where=shown, record_id=record.view.id, name=path.name))
        if store.git is not None:
            if rel in dirty and dirty[rel] != "??":
                doubts.append(words(lang, "uncommitted", where=shown))
            elif rel not in seen:
                doubts.append(words(lang, "never-committed", where=shown))
        out.append(Candidate(path.stem, shown, stated, seen.get(rel), sha256(text) if text is not None else "",
                             tuple(doubts)))
    return out


def retention_plan(store: Store, now: dt.datetime) -> Plan:
    return plan(candidates(store), facts(store), retention_months(store), now, store.config.tz)


def register_text(store: Store, entries: list[dict[str, Any]]) -> str:
    path = store.root / REGISTER_PATH
    if path.exists():
        node = yamlio.load_file(path, store.shown(path))
        check_register_node(node, store.shown(path))  # numbers back to numbers: old entries are written unchanged
    else:
        node = yamlio.loads("# 销毁清册 (disposal register): every record disposed of under the retention rule.\n"
                            "# Append-only; never disposed of itself.\nregister: disposal\nentries: []\n", REGISTER_PATH)
    for entry in entries:
        node["entries"].append(entry)
    return yamlio.dumps(node)


def register_entries(store: Store) -> list[dict[str, Any]]:
    path = store.root / REGISTER_PATH
    if not path.exists():
        return []
    node = yamlio.load_file(path, store.shown(path))
    check_register_node(node, store.shown(path))  # whole numbers as numbers (in --format json too)
    return plain(node.get("entries") or [])


def read_plan(path: Path, lang: str) -> dict[str, str]:
    """The records a saved plan (`svc retention plan --format json`) lists as disposable,
    with the sha256 of the content the approver saw."""
    try:
        node = json.loads(path.read_text(encoding="utf-8"))
        listed = {str(item["id"]): str(item["sha256"]) for item in node["disposable"]}
    except OSError as exc:
        raise RefusedError(words(lang, "plan-unreadable", where=str(path), why=exc.strerror or str(exc))) from None
    except (ValueError, KeyError, TypeError) as exc:
        why = f"line {exc.lineno}: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else f"no {exc}"
        raise RefusedError(words(lang, "plan-unreadable", where=str(path), why=why)) from None
    return listed


def apply_disposal(ctx: Context, approved_by: str, machine_now: dt.datetime,
                   approved_plan: dict[str, str] | None = None) -> tuple[list[dict[str, Any]], int]:
    """Re-check the plan now and dispose of exactly the disposable records, in one commit.

    Refused when the clock runs ahead of the machine's. With `approved_plan` (record ->
    sha256, from a saved plan), only those records go, and only if every one of them is
    still disposable with the very content listed; otherwise nothing goes. Returns the
    register entries written and how many disposable records were left out of the plan."""
    store = ctx.store
    lang = store.config.lang
    refuse_clock_ahead(ctx.now, machine_now, lang)
    store.config.check_user(approved_by)
    approver = store.config.user(approved_by)
    if store.config.users and approver is not None and approver.role not in ("cs-director", "center-director", "admin", "supervisor"):
        raise RefusedError(f"{approved_by} ({approver.role}) cannot approve a disposal; a director, supervisor or admin must")
    with store.locked():
        current = retention_plan(store, ctx.now)
        doubted = [item for item in current.blocked if item.doubts]
        if doubted:  # something that might protect a record cannot be read: keep, refuse, explain
            raise RefusedError(words(lang, "apply-doubt", first=doubted[0].doubts[0], count=len(doubted)))
        chosen = current.disposable
        left = 0
        if approved_plan is not None:
            now_disposable = {item.id: item for item in current.disposable}
            blocked = {item.id: item for item in current.blocked}
            for record_id, digest in approved_plan.items():
                if record_id not in now_disposable:
                    reason = "; ".join(blocked[record_id].reasons) if record_id in blocked else "not in the store"
                    raise RefusedError(words(lang, "plan-blocked", record_id=record_id, reason=reason))
                if now_disposable[record_id].sha256 != digest:
                    raise RefusedError(words(lang, "plan-changed", record_id=record_id))
            chosen = [item for item in current.disposable if item.id in approved_plan]
            left = len(current.disposable) - len(chosen)
        if not chosen:
            return [], left
        months = retention_months(store)
        changes: dict[Path, str | None] = {}
        entries = []
        for item in chosen:
            path = store.path_of(item.id, PATROLS)
            text = path.read_text(encoding="utf-8")
            # the file removed is the file the plan listed: same name, same id, same content
            record, _ = store.parse(path, PATROLS, text, fast=True)
            if record is None or record.view.id != path.stem or sha256(text) != item.sha256:
                raise RefusedError(words(lang, "plan-changed", record_id=item.id))
            start = cut_off(item.period)
            entries.append({
                "record": item.id,
                "kind": "patrol",
                "period": item.period,
                "required_retention_months": months,
                "cut_off": start.isoformat(),
                "disposable_on": disposable_on(item.period, months).isoformat(),
                "kept_days": (ctx.now.astimezone(store.config.tz).date() - start).days,
                "sha256": item.sha256,
                "approved_by": approved_by,
                "disposed_by": ctx.actor.id,
                "disposed_at": stamp(ctx.now),
            })
            changes[path] = None
        changes[store.root / REGISTER_PATH] = register_text(store, entries)
        ids = [e["record"] for e in entries]
        store.write(changes, message(f"retention: dispose of {len(ids)} patrol record{'s' if len(ids) != 1 else ''}"
                                     f" (approved by {approved_by})", ctx.actor, stamp(ctx.now), "dispose", ids),
                    ctx.actor, stamp(ctx.now))
    return entries, left

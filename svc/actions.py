"""What each command does to the store: load under the lock, apply a rule, write,
commit. Commands call these; these call the rules in `workflow` and the `Store`."""

from __future__ import annotations

import datetime as dt
import getpass
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from svc import deadlines, workflow
from svc.config import CONFIG_NAME, parse_config
from svc.errors import RefusedError, SvcError
from svc.gitrepo import Git
from svc.labels import label
from svc.model import Case, ReplayError, State, plain, replay
from svc.store import DESK, LOCAL_DIR, Actor, Record, Store, new_case_node, ordered_node, put_fields, put_state
from svc.timeutil import stamp, zone


@dataclass(frozen=True)
class Context:
    store: Store
    actor: Actor
    now: dt.datetime


def resolve_actor(store: Store, as_user: str | None) -> Actor:
    users = store.config.users
    if not as_user:
        if users:
            raise SvcError(f"who is acting? give --as USER or set SVC_USER (users: {', '.join(sorted(users))})")
        name = getpass.getuser()
        return Actor(name, name, None)
    if users:
        user = users.get(as_user)
        if user is None:
            raise SvcError(f"unknown user {as_user!r}; svc.yaml declares: {', '.join(sorted(users))}")
        return Actor(user.id, user.name, user.role)
    return Actor(as_user, as_user, None)


# --- init ---------------------------------------------------------------------------------

GITIGNORE = (
    "# svc's per-clone files: lock, desk, index (never committed)\n.svc/\n"
    "# a write killed before its rename leaves a hidden temp file; it is never a record\n.*.tmp\n"
)
GITATTRIBUTES = "*.yaml text eol=lf merge=svc\n"


def init_store(path: Path, office: str, name: str | None, lang: str, timezone: str,
               use_git: bool, desk: str | None, now: dt.datetime) -> Path:
    if (path / CONFIG_NAME).exists():
        raise SvcError(f"{path} is already a store ({CONFIG_NAME} exists)")
    zone(timezone)
    if desk and not DESK.match(desk.upper()):
        raise SvcError(f"--desk {desk!r} must be one or two letters, such as A or BK")
    config = {
        "office": office,
        "name": name or office,
        "lang": lang,
        "timezone": timezone,
        "users": {},
        "branches": {},
    }
    text = _config_text(config)
    from svc import yamlio  # here: reading commands never need ruamel
    parse_config(yamlio.loads(text, CONFIG_NAME), CONFIG_NAME)  # refuse a bad office code before anything is written
    path.mkdir(parents=True, exist_ok=True)
    (path / "cases").mkdir(exist_ok=True)
    (path / LOCAL_DIR).mkdir(exist_ok=True)
    yamlio.write_atomic(path / CONFIG_NAME, text)
    yamlio.write_atomic(path / ".gitignore", GITIGNORE)
    yamlio.write_atomic(path / ".gitattributes", GITATTRIBUTES)
    (path / "cases" / ".keep").touch()
    # The first clone's desk letter; every other clone picks its own with svc setup --desk.
    yamlio.write_atomic(path / LOCAL_DIR / "desk", (desk or "A").upper() + "\n")
    if use_git:
        git = Git(path)
        if not Git.present(path):
            git.init()
        git.commit([CONFIG_NAME, ".gitignore", ".gitattributes", "cases/.keep"],
                   f"init store {office}\n\nSvc-Action: init\n", ("svc", f"svc@{office.lower()}.invalid"))
        from svc import sync

        sync.setup(Store(path, parse_config(yamlio.loads(text, CONFIG_NAME), CONFIG_NAME)), None)
    return path


def _config_text(config: dict[str, Any]) -> str:
    from svc import yamlio  # here: reading commands never need ruamel
    from ruamel.yaml.comments import CommentedMap

    head = CommentedMap((k, config[k]) for k in ("office", "name", "lang", "timezone"))
    return (
        "# svc store configuration: see `svc init --help` and the README\n"
        + yamlio.dumps(head)
        + "# users:\n"
        "#   wangfang: {name: 王芳, role: assistant}\n"
        "#   lijun: {name: 李军, role: cs-director}\n"
        "users: {}\n"
        "# branches:\n"
        "#   chaoyang: {name: 朝阳分公司, manager: 赵总}\n"
        "branches: {}\n"
    )


# --- commit messages ------------------------------------------------------------------------

# One English phrase per event, for commit messages and logs (never personal data).
DESCRIPTIONS = {
    "open": "opened ({severity}, at {level})",
    "escalate": "escalated {from} -> {to}",
    "follow-up": "round {round} {outcome}",
    "urging-notice": "urging notice issued",
    "assign": "assigned to {to}",
    "remedy": "{type} remedy",
    "link": "linked to {to}",
    "approve": "{what} approved",
    "deadline": "{rule} due {due}",
    "met": "{rule} met",
    "defer": "deferred until {until}",
    "letter": "letter {number} ({template}) issued",
    "close": "closed",
    "reopen": "reopened",
    "archive": "archived",
    "note": "note added",
    "penalty": "penalty recorded",
    "notify": "handling notice sent",
    "feedback": "branch feedback received",
    "repaired": "repair done",
}


def describe(ev: dict[str, Any]) -> str:
    return DESCRIPTIONS.get(ev["action"], ev["action"]).format_map(ev)


def message(subject: str, actor: Actor, at: str, action: str, records: list[str]) -> str:
    """A commit message: what happened, by whom and when, and trailers for `svc log`."""
    role = f", {actor.role}" if actor.role else ""
    trailers = "".join(f"Svc-Record: {r}\n" for r in records)
    return f"{subject}\n\nby {actor.name} ({actor.id}{role}) at {at}\n\nSvc-Action: {action}\n{trailers}Svc-User: {actor.id}\n"


def commit_message(verb: str, case_id: str, events: list[dict[str, Any]], actor: Actor) -> str:
    seen: list[str] = []
    for ev in events:
        if ev["action"] != "note" or len(events) == 1:
            phrase = describe(ev)
            if phrase not in seen:
                seen.append(phrase)
    return message(f"{verb} {case_id}: {'; '.join(seen)}", actor, events[0]["at"], verb, [case_id])


# --- cases ------------------------------------------------------------------------------------

def check_intake(store: Store, fields: dict[str, Any], assignee: str | None) -> None:
    """Refuse bad intake before taking the lock or reading other records."""
    store.config.check_branch(fields.get("branch"))
    if assignee:
        store.config.check_user(assignee)
    phone = (fields.get("customer") or {}).get("phone")
    if phone:
        workflow.check_phone(phone)
    contact = (fields.get("complainant") or {}).get("contact")
    if contact:
        workflow.check_phone(contact, "--contact")


@dataclass(frozen=True)
class NewCase:
    id: str
    path: Path
    text: str
    events: list[dict[str, Any]]
    case: Case  # as written
    unread: list[str] = field(default_factory=list)  # files with the phone that could not be read


def new_case(ctx: Context, kind: str, fields: dict[str, Any], severity: str | None, opened_at: dt.datetime,
             assignee: str | None = None) -> NewCase:
    """A new case file's content, with its rules applied (call under the lock; no write)."""
    store = ctx.store
    phone = (fields.get("customer") or {}).get("phone")
    repeats: list[str] = []
    unread: list[str] = []
    if kind == "complaint" and phone:
        from svc import yamlrt  # noqa: F401 - ruamel, for the write: imported while the repeat look finishes
        from svc.index import phone_holders

        # the index knows the few cases with this phone
        looked = phone_holders(store, workflow.normalize_phone(phone), workflow.repeat_horizon(opened_at))
        repeats = workflow.repeat_ids(opened_at, looked.holders)
        unread = [store.shown(store.root / rel) for rel in looked.unreadable]
    decision = workflow.opening(kind, fields, severity, repeats, store.config.lang)
    case_id = store.new_id(opened_at)
    first = workflow.event(
        "open", opened_at, ctx.actor.id, severity=decision.severity, level=decision.level,
        assignee=assignee, repeat_of=repeats, reason="; ".join(decision.reasons) or None,
    )
    events = deadlines.consequences({**fields, "kind": kind}, [first], store.config.calendar,
                                    store.config.lang, ctx.actor.id)
    node = {**fields, "id": case_id, "kind": kind, "opened_at": stamp(opened_at), "history": events}
    node.update(replay(events).as_fields())
    path = store.case_path(case_id)
    if path.exists():
        raise SvcError(f"{store.shown(path)} exists already; run svc check")
    from svc import yamlio  # here: reading commands never need ruamel
    return NewCase(case_id, path, yamlio.dumps(new_case_node(node)), events, Case(node), unread)


def open_case(ctx: Context, kind: str, fields: dict[str, Any], severity: str | None,
              at: dt.datetime | None, assignee: str | None = None) -> NewCase:
    store = ctx.store
    check_intake(store, fields, assignee)
    opened_at = at or ctx.now
    if opened_at > ctx.now:
        raise RefusedError(f"--at {stamp(opened_at)} is in the future (now is {stamp(ctx.now)})")
    workflow.opening(kind, fields, severity, [], store.config.lang)
    with store.locked():
        made = new_case(ctx, kind, fields, severity, opened_at, assignee)
        message = commit_message("open", made.id, made.events[:1], ctx.actor).replace("opened (", f"{kind} opened (", 1)
        store.write({made.path: made.text}, message, ctx.actor, made.events[0]["at"])
    return made


Rule = Callable[[Any, dt.datetime], list[dict[str, Any]]]


def _replayed(record: Record, shown: str) -> State:
    try:
        return replay(plain(record.raw["history"]))
    except ReplayError as exc:
        raise SvcError(f"{shown}: history[{exc.index + 1}]: {exc.message}; run svc check") from None


def append_events(record: Record, events: list[dict[str, Any]], shown: str) -> str:
    """Append events to a loaded record and return the new file text (no I/O)."""
    before = _replayed(record, shown)
    stored = {k: plain(record.raw.get(k)) for k in before.as_fields()}
    if stored != before.as_fields():
        raise SvcError(f"{shown}: its fields do not match its history (edited by hand?); run svc check")
    history = record.raw["history"]
    for ev in events:
        history.append(ev)
    try:
        state = replay(plain(history))
    except ReplayError as exc:
        raise RefusedError(f"refused: {exc.message}") from None
    put_state(record.raw, state)
    from svc import yamlio  # here: reading commands never need ruamel
    return yamlio.dumps(record.raw)


def case_changes(ctx: Context, record: Record, events: list[dict[str, Any]],
                 moment: dt.datetime) -> tuple[list[dict[str, Any]], dict[Path, str | None]]:
    """What appending `events` to a loaded case writes: the events followed by the deadlines
    they start and meet, the case file, and the hold a case at legal puts on the patrol
    records it links. Every command that changes a case goes through here (call under the lock)."""
    store = ctx.store
    events = deadlines.consequences(record.case.fields, events, store.config.calendar, store.config.lang,
                                    ctx.actor.id)
    text = append_events(record, events, store.shown(record.path))
    from svc.keeping import legal_holds

    return events, {record.path: text, **legal_holds(ctx, plain(record.raw), moment)}


def change_case(ctx: Context, case_id: str, verb: str, at: dt.datetime | None, rule: Rule) -> Record:
    """Load a case under the lock, let `rule` make events, append them, commit."""
    store = ctx.store
    with store.locked():
        record = store.load(case_id)
        moment = at or ctx.now
        events = rule(record.case, moment)  # the rule's own refusal comes first
        workflow.event_time(record.case, at, ctx.now)
        events, changes = case_changes(ctx, record, events, moment)
        store.write(changes, commit_message(verb, record.case.id, events, ctx.actor), ctx.actor, events[0]["at"])
    return Record(record.path, record.raw, Case(plain(record.raw)))  # as written: no need to read it again


def archive(ctx: Context, before: dt.datetime, apply: bool) -> list[Record]:
    """Closed cases closed before `before`; archived (one commit) only with `apply`."""
    store = ctx.store
    if not apply:
        return [r for r in store.iter_cases([]) if workflow.archivable(r.case, before)]
    with store.locked():
        chosen = [r for r in store.iter_cases([]) if workflow.archivable(r.case, before)]
        if not chosen:
            return []
        changes: dict[Path, str | None] = {}
        for record in chosen:
            events = workflow.archive(record.case, ctx.now, ctx.actor.id)
            changes[record.path] = append_events(record, events, store.shown(record.path))
        plural = "s" if len(chosen) != 1 else ""
        text = message(f"archive {len(chosen)} case{plural} closed before {stamp(before)}", ctx.actor, stamp(ctx.now),
                       "archive", [r.case.id for r in chosen])
        store.write(changes, text, ctx.actor, stamp(ctx.now))
    return chosen


# --- projects and return visits -----------------------------------------------------------------

def add_project(ctx: Context, fields: dict[str, Any], at: dt.datetime | None) -> str:
    """A renovation project with its visit schedule computed now and stored."""
    from svc.projects import PROJECT_KEYS, replay_project, schedule

    store = ctx.store
    store.config.check_branch(fields.get("branch"))
    if fields.get("assignee"):
        store.config.check_user(fields["assignee"])
    phone = fields["customer"].get("phone")
    if phone:
        workflow.check_phone(phone)
    made_at = at or ctx.now
    if made_at > ctx.now:
        raise RefusedError(f"--at {stamp(made_at)} is in the future (now is {stamp(ctx.now)})")
    plan = schedule(fields["contract_signed"], fields["start"], fields["completion"], fields["warranty_months"])
    from svc.store import PROJECTS

    with store.locked():
        project_id = store.new_id(made_at, PROJECTS)
        first = workflow.event("add", made_at, ctx.actor.id, schedule=plan)
        node: dict[str, Any] = {
            **fields,
            "id": project_id,
            "created_at": stamp(made_at),
            "contract_signed": fields["contract_signed"].isoformat(),
            "start": fields["start"].isoformat(),
            "completion": fields["completion"].isoformat(),
            "history": [first],
        }
        node.update(replay_project([first]).as_fields())
        path = store.path_of(project_id, PROJECTS)
        from svc import yamlio  # here: reading commands never need ruamel
        text = yamlio.dumps(ordered_node(node, PROJECT_KEYS))
        subject = f"project add {project_id}: {len(plan)} visits scheduled"
        commit = message(subject, ctx.actor, first["at"], "project-add", [project_id])
        store.write({path: text}, commit, ctx.actor, first["at"])
    return project_id


def record_visit(ctx: Context, project_ref: str, outcome: str, summary: str | None, kind: str | None,
                 at: dt.datetime | None) -> tuple[str, str | None]:
    """A return visit (phone call) on a project; a problem opens a linked complaint.

    Returns the visit's key and the new case's ID, if any. Both files change in one commit.
    """
    from svc.projects import PROJECT_KEYS, choose_visit, replay_project
    from svc.store import PROJECTS

    store = ctx.store
    with store.locked():
        record = store.load(project_ref, PROJECTS)
        project = record.view
        if replay_project(plain(record.raw["history"])).as_fields()["visited"] != (plain(record.raw.get("visited")) or None):
            raise SvcError(f"{store.shown(record.path)}: visited does not match its history (edited by hand?); "
                           "run svc check")
        moment = at or ctx.now
        if moment > ctx.now:
            raise RefusedError(f"--at {stamp(moment)} is in the future (now is {stamp(ctx.now)})")
        if moment < project.last_event_at:
            raise RefusedError(f"{stamp(moment)} is before the last event of {project.id}")
        key = choose_visit(project, kind, moment.astimezone(store.config.tz).date())
        changes: dict[Path, str | None] = {}
        case_id = None
        if outcome == "problem":
            fields = project.fields
            intake = {
                "branch": fields.get("branch"),
                "channel": "visit",
                "summary": (summary or "").strip() or label(store.config.lang, "visit-problem", visit=key),
                "customer": dict(fields["customer"]),
                "project": {"id": project.id, "designer": fields.get("designer"),
                            "site_supervisor": fields.get("site_supervisor"), "foreman": fields.get("foreman"),
                            "start_date": fields.get("start")},
            }
            made = new_case(ctx, "complaint", intake, None, moment, fields.get("assignee"))
            changes[made.path] = made.text
            case_id = made.id
        visit = workflow.event("visit", moment, ctx.actor.id, visit=key, outcome=outcome,
                               summary=(summary or "").strip() or None, case=case_id)
        history = record.raw["history"]
        history.append(visit)
        put_fields(record.raw, replay_project(plain(history)).as_fields(), PROJECT_KEYS)
        from svc import yamlio  # here: reading commands never need ruamel
        changes[record.path] = yamlio.dumps(record.raw)
        opened = f"; opened {case_id}" if case_id else ""
        commit = message(f"visit {project.id}: {key} {outcome}{opened}", ctx.actor, visit["at"], "visit",
                         [project.id] + ([case_id] if case_id else []))
        store.write(changes, commit, ctx.actor, visit["at"])
    return key, case_id

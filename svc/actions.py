"""What each command does to the store: load under the lock, apply a rule, write,
commit. Commands call these; these call the rules in `workflow` and the `Store`."""

from __future__ import annotations

import datetime as dt
import getpass
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from svc import workflow, yamlio
from ruamel.yaml.comments import CommentedMap

from svc.config import CONFIG_NAME, parse_config
from svc.errors import RefusedError, SvcError
from svc.gitrepo import Git
from svc.model import ReplayError, State, plain, replay
from svc.store import DESK, LOCAL_DIR, Actor, Record, Store, new_case_node, put_state
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
GITATTRIBUTES = "*.yaml text eol=lf\n"


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
    parse_config(yamlio.loads(text, CONFIG_NAME), CONFIG_NAME)  # refuse a bad office code before anything is written
    path.mkdir(parents=True, exist_ok=True)
    (path / "cases").mkdir(exist_ok=True)
    (path / LOCAL_DIR).mkdir(exist_ok=True)
    yamlio.write_atomic(path / CONFIG_NAME, text)
    yamlio.write_atomic(path / ".gitignore", GITIGNORE)
    yamlio.write_atomic(path / ".gitattributes", GITATTRIBUTES)
    (path / "cases" / ".keep").touch()
    if desk:
        yamlio.write_atomic(path / LOCAL_DIR / "desk", desk.upper() + "\n")
    if use_git:
        git = Git(path)
        if not Git.present(path):
            git.init()
        git.commit([CONFIG_NAME, ".gitignore", ".gitattributes", "cases/.keep"],
                   f"init store {office}\n\nSvc-Action: init\n", ("svc", f"svc@{office.lower()}.invalid"))
    return path


def _config_text(config: dict[str, Any]) -> str:
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

def describe(ev: dict[str, Any]) -> str:
    """One English phrase for an event, for commit messages and logs (no personal data)."""
    action = ev["action"]
    if action == "open":
        return f"opened ({ev['severity']}, at {ev['level']})"
    if action == "escalate":
        return f"escalated {ev['from']} -> {ev['to']}"
    if action == "follow-up":
        return f"round {ev['round']} {ev['outcome']}"
    if action == "urging-notice":
        return "urging notice issued"
    if action == "assign":
        return f"assigned to {ev['to']}"
    if action == "remedy":
        return f"{ev['type']} remedy"
    if action == "link":
        return f"linked to {ev['to']}"
    if action == "approve":
        return f"{ev['what']} approved"
    if action == "letter":
        return f"letter {ev['number']} ({ev['template']}) issued"
    return {"close": "closed", "reopen": "reopened", "archive": "archived", "note": "note added",
            "penalty": "penalty recorded"}.get(action, action)


def commit_message(verb: str, case_id: str, events: list[dict[str, Any]], actor: Actor) -> str:
    seen: list[str] = []
    for ev in events:
        if ev["action"] != "note" or len(events) == 1:
            phrase = describe(ev)
            if phrase not in seen:
                seen.append(phrase)
    role = f", {actor.role}" if actor.role else ""
    return (
        f"{verb} {case_id}: {'; '.join(seen)}\n\n"
        f"by {actor.name} ({actor.id}{role}) at {events[0]['at']}\n\n"
        f"Svc-Action: {verb}\nSvc-Record: {case_id}\nSvc-User: {actor.id}\n"
    )


# --- cases ------------------------------------------------------------------------------------

def _check_branch(store: Store, branch: str | None) -> None:
    branches = store.config.branches
    if branch and branches and branch not in branches:
        raise RefusedError(f"unknown branch {branch!r}; svc.yaml declares: {', '.join(sorted(branches))}")


def check_user(store: Store, user: str) -> None:
    users = store.config.users
    if users and user not in users:
        raise RefusedError(f"unknown user {user!r}; svc.yaml declares: {', '.join(sorted(users))}")


def open_case(ctx: Context, kind: str, fields: dict[str, Any], severity: str | None,
              at: dt.datetime | None, assignee: str | None = None) -> str:
    store = ctx.store
    _check_branch(store, fields.get("branch"))
    if assignee:
        check_user(store, assignee)
    phone = (fields.get("customer") or {}).get("phone")
    if phone:
        workflow.check_phone(phone)
    contact = (fields.get("complainant") or {}).get("contact")
    if contact:
        workflow.check_phone(contact, "--contact")
    opened_at = at or ctx.now
    if opened_at > ctx.now:
        raise RefusedError(f"--at {stamp(opened_at)} is in the future (now is {stamp(ctx.now)})")
    # Refuse what the rules refuse before taking the lock or reading other cases.
    workflow.opening(kind, fields, severity, [], store.config.lang)
    with store.locked():
        repeats: list[str] = []
        if kind == "complaint" and phone:
            ignored: list[Any] = []
            candidates = store.iter_cases(ignored, prefilter=lambda text: workflow.mentions_phone(text, phone))
            repeats = workflow.find_repeats(phone, opened_at, (r.case for r in candidates))
        decision = workflow.opening(kind, fields, severity, repeats, store.config.lang)
        case_id = store.new_case_id(opened_at)
        first = workflow.event(
            "open", opened_at, ctx.actor.id, severity=decision.severity, level=decision.level,
            assignee=assignee, repeat_of=repeats, reason="; ".join(decision.reasons) or None,
        )
        node = {**fields, "id": case_id, "kind": kind, "opened_at": stamp(opened_at), "history": [first]}
        node.update(replay([first]).as_fields())
        path = store.case_path(case_id)
        if path.exists():
            raise SvcError(f"{store.shown(path)} exists already; run svc check")
        store.write({path: yamlio.dumps(new_case_node(node))},
                    commit_message("open", case_id, [first], ctx.actor).replace(
                        "opened (", f"{kind} opened (", 1), ctx.actor, first["at"])
    return case_id


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
    return yamlio.dumps(record.raw)


def change_case(ctx: Context, case_id: str, verb: str, at: dt.datetime | None, rule: Rule) -> Record:
    """Load a case under the lock, let `rule` make events, append them, commit."""
    store = ctx.store
    with store.locked():
        record = store.load(case_id)
        moment = at or ctx.now
        events = rule(record.case, moment)  # the rule's own refusal comes first
        workflow.event_time(record.case, at, ctx.now)
        shown = store.shown(record.path)
        text = append_events(record, events, shown)
        store.write({record.path: text}, commit_message(verb, record.case.id, events, ctx.actor), ctx.actor,
                    events[0]["at"])
    return store.load(record.case.id)


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
        role = f", {ctx.actor.role}" if ctx.actor.role else ""
        ids = "\n".join(f"Svc-Record: {r.case.id}" for r in chosen)
        message = (
            f"archive {len(chosen)} case{'s' if len(chosen) != 1 else ''} closed before {stamp(before)}\n\n"
            f"by {ctx.actor.name} ({ctx.actor.id}{role}) at {stamp(ctx.now)}\n\nSvc-Action: archive\n{ids}\n"
        )
        store.write(changes, message, ctx.actor, stamp(ctx.now))
    return chosen

"""Case commands: open, show, note, assign, escalate, follow-up, close, reopen,
remedy, link."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from svc import actions, render, workflow
from svc.env import Env
from svc.errors import RecordError, RefusedError, in_chinese
from svc.labels import label
from svc.model import KINDS, LEVELS, OUTCOMES, REMEDY_CATEGORIES, REMEDY_TYPES, SEVERITIES
from svc.options import at_option, format_option, reveal_allowed, reveal_option
from svc.store import Record
from svc.timeutil import parse_date, stamp

pass_env = click.make_pass_decorator(Env)


def _report(env: Env, record: Record) -> None:
    """One line on stderr saying where the case stands now."""
    case = record.case
    lang = env.store().config.lang
    state = f"{label(lang, case.status)}, {label(lang, case.level)}"
    if case.followup_round:
        state += f", {label(lang, 'followup_round')} {case.followup_round}"
    click.echo(f"{case.id}: {state}", err=True)


@click.command("open")
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--customer", metavar="NAME", help="Customer's name.")
@click.option("--phone", metavar="P", help="Customer's phone (kept as typed, e.g. 010-65123456).")
@click.option("--address", metavar="A", help="Project or home address.")
@click.option("--branch", metavar="B", help="Branch office code (from svc.yaml) that must fix it.")
@click.option("--severity", type=click.Choice(SEVERITIES), help="general (default), serious or major.")
@click.option("--summary", metavar="TEXT", help="What the customer says, in their words.")
@click.option("--channel", metavar="C", help="How it came in: phone, visit, letter, wechat, ...")
@click.option("--assign", "assignee", metavar="USER", help="Who handles it.")
@click.option("--authority", metavar="NAME", help="Complained to an authority (消协, 工商局, ...): the case is major.")
@click.option("--media", metavar="OUTLET", help="Went to the press or TV: the case is major.")
@click.option("--media-column", metavar="C", help="The newspaper column or TV programme.")
@click.option("--reporter", metavar="NAME", help="The journalist's name.")
@click.option("--reporter-phone", metavar="P", help="The journalist's phone.")
@click.option("--complainant", metavar="NAME", help="Staff/crew complaint: the complainant's real name.")
@click.option("--contact", metavar="PHONE", help="Staff/crew complaint: the complainant's contact.")
@click.option("--accused", metavar="NAME", help="Staff/crew complaint: who is complained about.")
@click.option("--accused-role", metavar="ROLE", help="Staff/crew complaint: their position.")
@click.option("--incident-at", metavar="TIME", help="Staff/crew complaint: when it happened.")
@click.option("--incident-place", metavar="PLACE", help="Staff/crew complaint: where it happened.")
@click.option("--involved", metavar="NAMES", help="Staff/crew complaint: other people involved.")
@click.option("--project", "project_id", metavar="ID", help="The renovation project it concerns.")
@click.option("--designer", metavar="NAME", help="The project's designer (设计师).")
@click.option("--site-supervisor", metavar="NAME", help="The project's site supervisor (监察员).")
@click.option("--foreman", metavar="NAME", help="The project's foreman (工长).")
@click.option("--start-date", metavar="DATE", help="Construction start date (开工日期), YYYY-MM-DD.")
@at_option
@pass_env
def open_cmd(env: Env, kind: str, at: str | None, assignee: str | None, severity: str | None,
             start_date: str | None, project_id: str | None, **o: Any) -> None:
    """Open a case and print its ID alone on stdout.

    Severity sets the starting level (serious: cs-director, major: center-director); a
    complaint to an authority or the media is major. A complaint from a phone with another
    complaint open or closed in the last 90 days is a repeat and starts at cs-director.
    Staff and crew complaints are refused unless made in real name.

    \b
    Example:
      id=$(svc open complaint --customer 张三 --phone 13800138000 \\
             --address "朝阳区望京花园3-1-502" --branch chaoyang --summary "卫生间漏水")
      svc open staff-complaint --complainant 李明 --contact 13911112222 --accused 王工 \\
             --accused-role 工长 --incident-at 2026-11-02T15:00 --incident-place 工地
    """
    if start_date:
        parse_date(start_date, "--start-date")
    at_time = env.parse_at(at)
    if o["incident_at"]:
        o["incident_at"] = _incident_at(env, o["incident_at"], at_time or env.now())
    fields: dict[str, Any] = {
        "branch": o["branch"],
        "channel": o["channel"],
        "summary": o["summary"],
        "customer": {"name": o["customer"], "phone": o["phone"], "address": o["address"]},
        "project": {"id": project_id, "designer": o["designer"], "site_supervisor": o["site_supervisor"],
                    "foreman": o["foreman"], "start_date": start_date},
        "complainant": {"name": o["complainant"], "contact": o["contact"]},
        "accused": {"name": o["accused"], "role": o["accused_role"]},
        "incident": {"at": o["incident_at"], "place": o["incident_place"], "people": o["involved"]},
        "authority": o["authority"],
        "media": {"outlet": o["media"], "column": o["media_column"], "reporter": o["reporter"],
                  "reporter_phone": o["reporter_phone"]},
    }
    ctx = env.context()
    made = actions.open_case(ctx, kind, fields, severity, at_time, assignee)
    click.echo(made.id)
    opening = made.case.history[0]
    if opening.get("reason"):
        click.echo(f"{made.id}: {opening['reason']}", err=True)
    for shown in made.unread:
        click.echo(f"svc: warning: {shown} holds this phone but cannot be read, so a repeat in it is not counted;"
                   " svc check says why", err=True)


def _incident_at(env: Env, text: str, opened: dt.datetime) -> str:
    """--incident-at as stored: a date alone stays a date (often all a complainant
    knows), a time gets its offset; never after the case is opened."""
    if len(text.strip()) == 10:
        day = parse_date(text, "--incident-at")
        if day > opened.date():
            raise _after_opening(text, opened)
        return day.isoformat()
    moment = env.parse_at(text, "--incident-at")
    assert moment is not None
    if moment > opened:
        raise _after_opening(text, opened)
    return stamp(moment)


def _after_opening(text: str, opened: dt.datetime) -> RefusedError:
    return in_chinese(RefusedError(f"--incident-at {text!r} is after the case is opened ({stamp(opened)})"),
                      f"--incident-at {text!r} 晚于受理时间（{stamp(opened)}）")


@click.command("show")
@click.argument("case_id", metavar="ID")
@format_option("text", "yaml", "json", default="text")
@reveal_option
@click.option("--at", "at_rev", metavar="REV|DATE", help="As it was at a git revision, or at the end of a date.")
@pass_env
def show_cmd(env: Env, case_id: str, fmt: str, reveal: bool, at_rev: str | None) -> None:
    """Show one case with its history.

    \b
    Example:
      svc show C2611-A001
      svc show A001 --format json     # a unique ending of the ID is enough
      svc show C2611-A001 --at 2026-11-10   # as it was that day (git store)
    """
    store = env.store()
    record = store.load(case_id) if at_rev is None else _record_at(store, case_id, at_rev)
    allowed = reveal_allowed(env, reveal)
    if fmt == "json":
        click.echo(render.to_json(render.case_json(record.case, allowed)))
    elif fmt == "yaml":
        from svc import yamlio

        click.echo(yamlio.dumps(render.redacted(record.case, allowed)), nl=False)
    else:
        click.echo(render.show_text(record.case, store.config, allowed, env.now()))


def _record_at(store: Any, case_id: str, when: str) -> Record:
    from svc import sync

    path = store.case_path(store.resolve(case_id))
    if len(when) == 10 and when[4] == "-" and when[7] == "-":  # a date (else a git revision)
        parse_date(when, "--at")
    text = sync.at_revision(store, path, when)
    record, problems = store.parse(path, text=text)
    if record is None:
        raise RecordError(problems[0].path + f"@{when}", problems[0].line, problems[0].message)
    return record


def _change(env: Env, case_id: str, verb: str, at: str | None, rule: Any) -> None:
    ctx = env.context()
    _report(env, actions.change_case(ctx, case_id, verb, env.parse_at(at), rule))


@click.command("note")
@click.argument("case_id", metavar="ID")
@click.argument("text")
@at_option
@pass_env
def note_cmd(env: Env, case_id: str, text: str, at: str | None) -> None:
    """Add a note to a case's history.

    \b
    Example:
      svc note C2611-A001 "客户来电询问进度，已告知分公司正在安排维修"
    """
    _change(env, case_id, "note", at, lambda case, when: workflow.note(case, text, when, env.context().actor.id))


@click.command("assign")
@click.argument("case_id", metavar="ID")
@click.argument("user")
@at_option
@pass_env
def assign_cmd(env: Env, case_id: str, user: str, at: str | None) -> None:
    """Make USER responsible for a case.

    \b
    Example:
      svc assign C2611-A001 lina
    """
    env.store().config.check_user(user)
    actor = env.context().actor.id
    _change(env, case_id, "assign", at, lambda case, when: workflow.assign(case, user, when, actor))


@click.command("escalate")
@click.argument("case_id", metavar="ID")
@click.option("--reason", required=True, help="Why (required).")
@click.option("--to", "to", type=click.Choice(LEVELS), help="The level to go to (default: one step up).")
@click.option("--severity", type=click.Choice(SEVERITIES), help="Also raise the severity.")
@at_option
@pass_env
def escalate_cmd(env: Env, case_id: str, reason: str, to: str | None, severity: str | None, at: str | None) -> None:
    """Raise a case up the ladder: assistant → cs-director → center-director → legal.

    Never lowers a level; --to may jump up; --severity major raises it to at least center-director.

    \b
    Example:
      svc escalate C2611-A001 --reason "客户要求退定金，超出分公司权限"
      svc escalate C2611-A001 --to legal --severity major --reason "客户已起诉"
    """
    actor = env.context().actor.id
    _change(env, case_id, "escalate", at,
            lambda case, when: workflow.escalate(case, reason, to, severity, when, actor))


@click.command("follow-up")
@click.argument("case_id", metavar="ID")
@click.option("--outcome", type=click.Choice(OUTCOMES), required=True, help="What the customer said.")
@click.option("--note", "note_text", metavar="TEXT", help="What was said on the call.")
@at_option
@pass_env
def follow_up_cmd(env: Env, case_id: str, outcome: str, note_text: str | None, at: str | None) -> None:
    """Record a follow-up call (追访) and apply the four-round ladder.

    \b
    satisfied closes the case; unsatisfied or not-handled at
      round 1: an urging notice (催办通知单) to the branch
      round 2: raised to cs-director      round 3: to center-director
      round 4: to legal, with the whole dossier

    \b
    Example:
      svc follow-up C2611-A001 --outcome unsatisfied --note "分公司仍未派人维修"
    """
    ctx = env.context()
    lang = ctx.store.config.lang

    def rule(case: Any, when: Any) -> Any:
        return workflow.follow_up(case, outcome, note_text, when, ctx.actor.id, lang,
                                  ctx.store.config.branch_name(case.branch))

    _change(env, case_id, "follow-up", at, rule)


@click.command("close")
@click.argument("case_id", metavar="ID")
@click.option("--resolution", required=True, help="How it was resolved (required).")
@click.option("--satisfaction", type=click.IntRange(1, 5), help="The customer's rating, 1-5.")
@at_option
@pass_env
def close_cmd(env: Env, case_id: str, resolution: str, satisfaction: int | None, at: str | None) -> None:
    """Close a case.

    \b
    Example:
      svc close C2611-A001 --resolution "已更换防水层，客户验收" --satisfaction 5
    """
    actor = env.context().actor.id
    _change(env, case_id, "close", at, lambda case, when: workflow.close(case, resolution, satisfaction, when, actor))


@click.command("reopen")
@click.argument("case_id", metavar="ID")
@click.option("--reason", required=True, help="Why (required).")
@at_option
@pass_env
def reopen_cmd(env: Env, case_id: str, reason: str, at: str | None) -> None:
    """Reopen a closed case.

    \b
    Example:
      svc reopen C2611-A001 --reason "客户反映维修后再次漏水"
    """
    actor = env.context().actor.id
    _change(env, case_id, "reopen", at, lambda case, when: workflow.reopen(case, reason, when, actor))


@click.command("remedy")
@click.argument("case_id", metavar="ID")
@click.argument("kind", type=click.Choice(REMEDY_TYPES))
@click.option("--detail", required=True, help="What is done or paid.")
@click.option("--category", type=click.Choice(REMEDY_CATEGORIES), help="The approval category.")
@click.option("--amount", metavar="YUAN", help="Sum of a compensation, in yuan.")
@at_option
@pass_env
def remedy_cmd(env: Env, case_id: str, kind: str, detail: str, category: str | None, amount: str | None,
               at: str | None) -> None:
    """Record the remedy: repair or compensation, never both (修则不赔，赔则不修).

    \b
    Example:
      svc remedy C2611-A001 repair --detail "重做卫生间防水" --category repair-claim
      svc remedy C2611-A002 compensation --detail "延期14天赔偿" --category delay-compensation --amount 1400
    """
    actor = env.context().actor.id
    _change(env, case_id, "remedy", at,
            lambda case, when: workflow.remedy(case, kind, detail, category, amount, when, actor))


@click.command("link")
@click.argument("case_id", metavar="ID")
@click.argument("other", metavar="OTHER")
@click.option("--note", "note_text", metavar="TEXT", help="Why they belong together.")
@at_option
@pass_env
def link_cmd(env: Env, case_id: str, other: str, note_text: str | None, at: str | None) -> None:
    """Link a case to another record.

    \b
    Example:
      svc link C2611-A004 C2610-A012 --note "同一漏水问题"
    """
    store = env.store()
    target = store.resolve_any(other)
    actor = env.context().actor.id
    _change(env, case_id, "link", at, lambda case, when: workflow.link(case, target, note_text, when, actor))


COMMANDS = [open_cmd, show_cmd, note_cmd, assign_cmd, escalate_cmd, follow_up_cmd, close_cmd,
            reopen_cmd, remedy_cmd, link_cmd]


@click.command("met")
@click.argument("case_id", metavar="ID")
@click.argument("rules", nargs=-1, required=True, metavar="RULE...")
@click.option("--note", "note_text", metavar="TEXT", help="What was done.")
@at_option
@pass_env
def met_cmd(env: Env, case_id: str, rules: tuple[str, ...], note_text: str | None, at: str | None) -> None:
    """Record that a case's deadlines were met (svc show lists them).

    Most deadlines are met by the event itself (closing, a follow-up, the branch's
    feedback); a few need saying, such as calling the customer back.

    \b
    Example:
      svc met C2611-A001 callback-3min --note "已回拨客户"
      svc met C2611-A004 engineer-20min --at 2026-11-05T10:12
    """
    actor = env.context().actor.id
    _change(env, case_id, "met", at, lambda case, when: workflow.met(case, list(rules), note_text, when, actor))


def _event_command(name: str, rule: Any, help_text: str) -> click.Command:
    """A command that records one event with an optional note (notify, feedback, repaired)."""

    @click.command(name, help=help_text)
    @click.argument("case_id", metavar="ID")
    @click.option("--note", "note_text", metavar="TEXT")
    @at_option
    @pass_env
    def command(env: Env, case_id: str, note_text: str | None, at: str | None) -> None:
        actor = env.context().actor.id
        _change(env, case_id, name, at, lambda case, when: rule(case, note_text, when, actor))

    return command


notify_cmd = _event_command("notify", workflow.notify, """Record that the complaint handling notice (处理通知单) went to the branch.

    The branch must return the feedback form within 24 hours (feedback-24h).

    \b
    Example:
      svc notify C2611-A001 --note "已传真朝阳分公司"
    """)
feedback_cmd = _event_command("feedback", workflow.feedback, """Record that the branch returned the complaint feedback form (投诉反馈表).

    \b
    Example:
      svc feedback C2611-A001 --note "分公司已安排11-08上门维修，责任人罚款200元"
    """)
repaired_cmd = _event_command("repaired", workflow.repaired, """Record that the repair is done; a revisit is due 3 days later (revisit-3d).

    \b
    Example:
      svc repaired C2611-A004 --note "已更换插座"
    """)


@click.command("defer")
@click.argument("case_id", metavar="ID")
@click.option("--until", "until", required=True, metavar="DATE", help="Until when (YYYY-MM-DD).")
@click.option("--reason", required=True, help="The customer's request (required).")
@at_option
@pass_env
def defer_cmd(env: Env, case_id: str, until: str, reason: str, at: str | None) -> None:
    """Defer a case at the customer's request: the resolution clock stops until DATE.

    \b
    Example:
      svc defer C2611-A001 --until 2026-11-20 --reason "客户出差，20日后方可上门"
    """
    ctx = env.context()
    day = parse_date(until, "--until")
    config = ctx.store.config
    _change(env, case_id, "defer", at,
            lambda case, when: workflow.defer(case, day, reason, when, ctx.actor.id, config.calendar, config.lang))


COMMANDS += [met_cmd, notify_cmd, feedback_cmd, repaired_cmd, defer_cmd]

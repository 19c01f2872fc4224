"""svc due: what is due and what is late, for people and for cron."""

from __future__ import annotations

import datetime as dt
from itertools import groupby
from typing import Any

import click

from svc import agenda, render
from svc.env import Env
from svc.errors import ProblemsFound
from svc.labels import label
from svc.model import LEVELS
from svc.options import format_option
from svc.store import PATROLS, PROJECTS

pass_env = click.make_pass_decorator(Env)


@click.command("due")
@click.option("--within", default="1d", show_default=True, metavar="DURATION",
              help="Also list what falls due within this time (30m, 4h, 2d, 1w); overdue work is always listed.")
@click.option("--user", metavar="USER", help="Only work assigned to USER.")
@click.option("--level", type=click.Choice(LEVELS), help="Only cases at this level.")
@click.option("--branch", metavar="B", help="Only this branch.")
@click.option("--group-by", "group_by", type=click.Choice(["user"]), help="One list per person.")
@click.option("--strict", is_flag=True, help="Exit 3 when anything is overdue (for cron alerts).")
@format_option("table", "json", default="table")
@pass_env
def due_cmd(env: Env, within: str, user: str | None, level: str | None, branch: str | None,
            group_by: str | None, strict: bool, fmt: str) -> None:
    """What is due soon and what is overdue, across cases and projects, soonest first.

    Each line names the rule that set the deadline (e.g. feedback-24h, visit-start-10d).

    \b
    Example:
      svc due                          # overdue, and due within a day
      svc due --within 1w --group-by user
      svc due --strict --format json   # from cron: exit 3 if anything is overdue
    """
    store = env.store()
    now = env.now()
    lang = store.config.lang
    window = agenda.parse_duration(within)
    # a typo must not make a cron job go quiet: names are checked against svc.yaml
    if user:
        store.config.check_user(user)
    store.config.check_branch(branch)
    from svc.index import CaseIndex

    index = CaseIndex(store).refresh(want=("agenda",))
    problems: list[Any] = index.unreadable_problems()
    items = [item for entry in index.derived("agenda") for item in agenda.running_items(entry, now, lang)]
    if any(True for _ in store.paths(PROJECTS)):
        cal = store.config.calendar
        items += [item for r in store.iter_records(PROJECTS, problems)
                  for item in agenda.project_items(r.view, now, cal, lang)]
    items += [item for r in store.iter_records(PATROLS, problems) for item in agenda.patrol_items(r.view, now, lang)]
    chosen = agenda.select(items, now, window, user, level, branch)
    unassigned = label(lang, "unassigned")
    if fmt == "json":
        if group_by:
            grouped: dict[str, list[Any]] = {}
            for item in sorted(chosen, key=lambda i: (i.user or "", i.when)):
                grouped.setdefault(item.user or "(unassigned)", []).append(item.as_json())
            click.echo(render.to_json(grouped))
        else:
            click.echo(render.to_json([item.as_json() for item in chosen]))
    elif chosen:
        if group_by:
            ordered = sorted(chosen, key=lambda i: (i.user or "~", i.when))
            for who, group in groupby(ordered, key=lambda i: i.user):
                click.echo(f"{who or unassigned}:")
                click.echo(render.due_table(list(group), store.config))
                click.echo("")
        else:
            click.echo(render.due_table(chosen, store.config))
    for warning in calendar_lines(store, now, chosen):
        click.echo(f"svc: warning: {warning}", err=True)
    for problem in problems:
        click.echo(f"svc: {problem}", err=True)
    late = sum(1 for item in chosen if item.overdue)
    if late:
        click.echo(f"svc: {late} overdue", err=True)
    if strict and late:
        raise ProblemsFound(f"{late} item{'s' if late != 1 else ''} overdue")
    if problems:  # what could be read is listed above; the rest is named: exit 3
        raise click.exceptions.Exit(3)


def calendar_lines(store: Any, now: Any, chosen: list[agenda.DueItem]) -> list[str]:
    """The calendar's warnings (a missing year; from October, next year missing), and one
    line naming the working-day deadlines listed that fall in a year it does not cover."""
    from svc.calendar import coverage_warnings, uncovered_note
    from svc.deadlines import RULES, WORKING_DAYS

    cal = store.config.calendar
    lang = store.config.lang
    lines = coverage_warnings(cal, now, lang)
    counted = [item for item in chosen if item.rule in RULES and RULES[item.rule].unit == WORKING_DAYS]
    uncovered = [item for item in counted
                 if cal.uncovered_years(item.due_at.astimezone(cal.tz).date(), item.due_at.astimezone(cal.tz).date())]
    if uncovered:
        years = sorted({item.due_at.astimezone(cal.tz).year for item in uncovered})
        first = dt.datetime.combine(dt.date(years[0], 1, 1), dt.time(), cal.tz)
        last = dt.datetime.combine(dt.date(years[-1], 1, 1), dt.time(), cal.tz)
        named = ", ".join(f"{item.id} {item.rule}" for item in uncovered[:MAX_NAMED])
        more = f" (+{len(uncovered) - MAX_NAMED})" if len(uncovered) > MAX_NAMED else ""
        lines.append(f"{named}{more}: {uncovered_note(cal, first, last, lang)}")
    return lines


MAX_NAMED = 10  # deadlines named on the calendar's line; the rest are counted

COMMANDS = [due_cmd]

"""Store commands: init, check, archive."""

from __future__ import annotations

import json
from pathlib import Path

import click

from svc import actions, checks, render
from svc.env import Env
from svc.errors import ProblemsFound
from svc.options import format_option
from svc.timeutil import parse_time, stamp, zone

pass_env = click.make_pass_decorator(Env)


@click.command("init")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--office", required=True, metavar="CODE", help="The office's code, e.g. BJ01.")
@click.option("--name", metavar="TEXT", help="The office's name, as printed on letters.")
@click.option("--lang", type=click.Choice(("zh", "en")), default="zh", show_default=True,
              help="Language of labels and letters.")
@click.option("--timezone", default="Asia/Shanghai", show_default=True, help="The office's time zone (IANA name).")
@click.option("--desk", metavar="LETTERS", help="This clone's desk letter(s) for new IDs (default A).")
@click.option("--no-git", is_flag=True, help="Do not make the store a git repository.")
@pass_env
def init_cmd(env: Env, path: Path, office: str, name: str | None, lang: str, timezone: str, desk: str | None,
             no_git: bool) -> None:
    """Create a store: svc.yaml, the folders, and a git repository.

    Then declare users (with roles) and branches in svc.yaml.

    \b
    Example:
      svc init office --office BJ01 --name "北京示例装饰工程客服中心"
    """
    now = env.now(zone(timezone))
    root = actions.init_store(path, office, name, lang, timezone, not no_git, desk, now)
    click.echo(f"svc: created store {root}; add users and branches to {root / 'svc.yaml'}", err=True)


@click.command("check")
@click.option("--since", metavar="GIT-REV", help="Also report events changed or removed, and case files deleted, since REV.")
@click.option("--full", is_flag=True, help="Verify git history from the first commit, not from the last one verified.")
@click.option("--users", "list_users", is_flag=True,
              help="Also list every change of users and roles in svc.yaml, with who and when (on stderr).")
@format_option("text", "json", default="text")
@pass_env
def check_cmd(env: Env, since: str | None, full: bool, list_users: bool, fmt: str) -> None:
    """Validate every record; list every problem as path:line: message (exit 3 if any).

    Checks the schema, that each case's fields equal what its history replays to, unique
    IDs, known users and branches, and every commit since the last check: events only
    added (by svc, or by a merge of clones), registers and summaries never altered.
    With --users, every change of users and roles in svc.yaml is listed on stderr.

    \b
    Example:
      svc check
      svc check --since origin/main --format json
      svc check --users          # who added or removed which user, and when
    """
    store = env.store()
    info: list[str] = []
    problems = checks.check_store(store, since, full, info)
    for line in info if list_users else []:
        click.echo(f"svc: {line}", err=True)
    for warning in checks.calendar_warnings(store, env.now()):
        click.echo(f"svc: warning: {warning}", err=True)
    if fmt == "json":
        click.echo(render.to_json([{"path": p.path, "line": p.line, "message": p.message} for p in problems]))
    else:
        for problem in problems:
            click.echo(str(problem))
    if problems:
        raise ProblemsFound(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found")


@click.command("archive")
@click.option("--before", metavar="DATE", help="Only cases closed before this date (default: now).")
@click.option("--apply", is_flag=True, help="Archive them (without it: a dry run that says what it would do).")
@format_option("text", "json", default="text")
@pass_env
def archive_cmd(env: Env, before: str | None, apply: bool, fmt: str) -> None:
    """Archive closed cases (全套资料存入档案); a dry run unless --apply.

    \b
    Example:
      svc archive --before 2026-10-01            # says what it would archive
      svc archive --before 2026-10-01 --apply
    """
    ctx = env.context() if apply else None
    store = env.store()
    limit = parse_time(before, store.config.tz, "--before") if before else env.now()
    if ctx is None:
        ctx = actions.Context(store, actions.Actor("-", "-", None), env.now())
    chosen = actions.archive(ctx, limit, apply)
    if fmt == "json":
        click.echo(json.dumps({"applied": apply, "before": stamp(limit), "cases": [r.case.id for r in chosen]},
                              ensure_ascii=False, indent=2))
        return
    verb = "archived" if apply else "would archive"
    for record in chosen:
        click.echo(f"{verb} {record.case.id} (closed {record.case.fields['closed_at']})")
    if not chosen:
        click.echo(f"svc: no closed case closed before {stamp(limit)}", err=True)
    elif not apply:
        click.echo(f"svc: dry run; add --apply to archive {len(chosen)}", err=True)


COMMANDS = [init_cmd, check_cmd, archive_cmd]

"""svc list: the cases, from the index (in a module of its own, so that listing does not
import the code that changes cases)."""

from __future__ import annotations

from typing import Any

import click

from svc import agenda, render
from svc.env import Env
from svc.model import KINDS, LEVELS, SEVERITIES, STATUSES
from svc.options import format_option, reveal_allowed, reveal_option

pass_env = click.make_pass_decorator(Env)


@click.command("list")
@click.option("--status", type=click.Choice((*STATUSES, "all")), default="open", show_default=True)
@click.option("--kind", type=click.Choice(KINDS))
@click.option("--severity", type=click.Choice(SEVERITIES))
@click.option("--level", type=click.Choice(LEVELS))
@click.option("--branch", metavar="B")
@click.option("--assignee", metavar="USER")
@click.option("--overdue", is_flag=True, help="Only cases with a deadline past due (see svc due).")
@format_option("table", "json", "csv", "ids", default="table")
@reveal_option
@pass_env
def list_cmd(env: Env, status: str, kind: str | None, severity: str | None, level: str | None,
             branch: str | None, assignee: str | None, overdue: bool, fmt: str, reveal: bool) -> None:
    """List cases, oldest first (default: the open ones).

    \b
    Example:
      svc list --level cs-director
      svc list --status all --kind complaint --format csv > complaints.csv
      svc list --format ids | xargs -n1 svc show
    """
    store = env.store()
    allowed = reveal_allowed(env, reveal)
    problems: list[str] = []
    now = env.now() if overdue else None
    if allowed:  # the index keeps only redacted rows: read the files themselves
        found: list[Any] = []
        candidates = [render.list_row(r.case, True) | {"level": r.case.level, "deadlines": r.case.get("deadlines")}
                      for r in store.iter_cases(found)]
        problems = [str(p) for p in found]
    else:
        from svc.index import LINE_KEYS, CaseIndex

        quick = status == "open" and fmt == "json" and not overdue  # the open cases' lines are ready
        index = CaseIndex(store).refresh(_progress(), want=("lines" if quick else "open",) if status == "open" else ())
        problems = [str(p) for p in index.unreadable_problems()]
        if quick:
            wanted = dict(zip(LINE_KEYS[2:], (kind, severity, level, branch, assignee)))
            checks = [(LINE_KEYS.index(key), value) for key, value in wanted.items() if value]
            found = sorted(line for line in index.derived("lines") if all(line[i] == value for i, value in checks))
            click.echo(b"[\n" + b",\n".join(line[-1] for line in found) + b"\n]" if found else b"[]")
            return _end(problems)
        candidates = index.rows(None if status == "all" else status)
    rows = []
    for row in candidates:
        if status != "all" and row["status"] != status:
            continue
        if (kind and row["kind"] != kind or severity and row["severity"] != severity or level and row["level"] != level
                or branch and row["branch"] != branch or assignee and row["assignee"] != assignee):
            continue
        if now is not None and not agenda.has_overdue(row, now):
            continue
        rows.append(row)
    rows.sort(key=lambda r: (r["opened_at"], r["id"]))
    rows = [{k: row[k] for k in render.LIST_KEYS} for row in rows]
    if fmt == "json":
        click.echo(render.to_json(rows))
    elif fmt == "csv":
        click.echo(render.to_csv(rows, render.LIST_KEYS), nl=False)
    elif fmt == "ids":
        for row in rows:
            click.echo(row["id"])
    elif rows:
        click.echo(render.list_table(rows, store.config))
    _end(problems)


def _end(problems: list[str]) -> None:
    """The files that could not be read, named after what could be listed: exit 3."""
    for problem in problems:
        click.echo(f"svc: {problem}", err=True)
    if problems:
        raise click.exceptions.Exit(3)


def _progress() -> Any:
    """A progress bar on stderr for a long first index build, only on a terminal."""
    import sys

    if not sys.stderr.isatty():
        return None
    state: dict[str, Any] = {}

    def show(done: int, total: int) -> None:
        if total < 2000:
            return
        if "bar" not in state:
            state["bar"] = click.progressbar(length=total, label="svc: indexing", file=sys.stderr)
            state["bar"].__enter__()
        state["bar"].update(done - state.get("done", 0))
        state["done"] = done
        if done >= total:
            state["bar"].__exit__(None, None, None)

    return show


COMMANDS = [list_cmd]

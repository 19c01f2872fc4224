"""Projects and return visits: svc project add|list|show, svc visit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from svc import actions, agenda, render
from svc.env import Env
from svc.labels import label
from svc.options import at_option, format_option
from svc.projects import DEFAULT_WARRANTY_MONTHS, OUTCOMES, VISIT_KINDS
from svc.store import PROJECTS
from svc.timeutil import parse_date

pass_env = click.make_pass_decorator(Env)


@click.group("project")
def project_group() -> None:
    """Renovation projects and their return-visit schedule (回访时间).

    \b
    Example:
      pid=$(svc project add --customer 张三 --phone 13800138000 --branch chaoyang \\
              --contract-signed 2026-11-01 --start 2026-11-10 --completion 2027-01-20)
      svc project show "$pid"
      svc visit "$pid" --outcome ok
    """


@project_group.command("add")
@click.option("--customer", required=True, metavar="NAME")
@click.option("--phone", metavar="P")
@click.option("--address", metavar="A")
@click.option("--branch", metavar="B")
@click.option("--designer", metavar="NAME", help="设计师")
@click.option("--site-supervisor", metavar="NAME", help="监察员")
@click.option("--foreman", metavar="NAME", help="工长")
@click.option("--contract-signed", required=True, metavar="DATE", help="Contract signed (签约), YYYY-MM-DD.")
@click.option("--start", required=True, metavar="DATE", help="Construction start (开工).")
@click.option("--completion", required=True, metavar="DATE", help="Contract completion date (竣工).")
@click.option("--warranty-months", type=click.IntRange(0, 120), default=DEFAULT_WARRANTY_MONTHS, show_default=True)
@click.option("--assign", "assignee", metavar="USER", help="Who makes its visits.")
@at_option
@pass_env
def add_cmd(env: Env, customer: str, contract_signed: str, start: str, completion: str, warranty_months: int,
            assignee: str | None, at: str | None, **o: Any) -> None:
    """Add a project and print its ID alone on stdout.

    Its visits are scheduled at once: contract + 5 days, start + 10 days, start + 25 days
    and then every 15 days until completion, completion + 5 days, and monthly during the
    warranty. `svc due` lists them as they fall due.

    \b
    Example:
      svc project add --customer 张三 --phone 13800138000 --address "望京花园3-1-502" \\
          --branch chaoyang --designer 刘洋 --foreman 黄师傅 \\
          --contract-signed 2026-11-01 --start 2026-11-10 --completion 2027-01-20
    """
    fields = {
        "customer": {"name": customer, "phone": o["phone"], "address": o["address"]},
        "branch": o["branch"],
        "designer": o["designer"],
        "site_supervisor": o["site_supervisor"],
        "foreman": o["foreman"],
        "assignee": assignee,
        "contract_signed": parse_date(contract_signed, "--contract-signed"),
        "start": parse_date(start, "--start"),
        "completion": parse_date(completion, "--completion"),
        "warranty_months": warranty_months,
    }
    click.echo(actions.add_project(env.context(), fields, env.parse_at(at)))


@project_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Closed projects too.")
@format_option("table", "json", "ids", default="table")
@pass_env
def list_cmd(env: Env, show_all: bool, fmt: str) -> None:
    """List projects with their next visit.

    \b
    Example:
      svc project list --format json
    """
    store = env.store()
    rows = []
    for record in store.iter_records(PROJECTS):
        project = record.view
        if project.status != "active" and not show_all:
            continue
        pending = project.pending()
        f = project.fields
        rows.append({"id": project.id, "status": project.status, "customer": f["customer"]["name"],
                     "branch": f.get("branch"), "start": f["start"], "completion": f["completion"],
                     "visits_done": len(project.visited), "visits_planned": len(project.schedule),
                     "next_visit": pending[0] if pending else None})
    if fmt == "json":
        click.echo(render.to_json(rows))
    elif fmt == "ids":
        for row in rows:
            click.echo(row["id"])
    elif rows:
        from tabulate import tabulate

        lang = store.config.lang
        body = [[r["id"], r["customer"], store.config.branch_name(r["branch"]), r["start"], r["completion"],
                 f"{r['visits_done']}/{r['visits_planned']}",
                 f"{r['next_visit']['visit']} {r['next_visit']['due']}" if r["next_visit"] else ""] for r in rows]
        heads = [label(lang, k) for k in ("id", "customer", "branch_label", "start", "completion", "done", "next_visit")]
        click.echo(tabulate(body, headers=heads, tablefmt="simple", disable_numparse=True))


@project_group.command("show")
@click.argument("project_id", metavar="ID")
@format_option("text", "json", default="text")
@pass_env
def show_cmd(env: Env, project_id: str, fmt: str) -> None:
    """Show a project, its visit schedule and its history.

    \b
    Example:
      svc project show P2611-A001
    """
    store = env.store()
    project = store.load(project_id, PROJECTS).view
    if fmt == "json":
        click.echo(render.to_json(project.fields))
        return
    from tabulate import tabulate

    lang = store.config.lang
    f = project.fields
    click.echo(f"{project.id}  {f['customer']['name']}  {f['customer'].get('phone') or ''}  "
               f"{f['customer'].get('address') or ''}")
    for key in ("branch", "designer", "site_supervisor", "foreman", "contract_signed", "start", "completion",
                "warranty_months", "assignee"):
        if f.get(key) not in (None, ""):
            value = store.config.branch_name(f[key]) if key == "branch" else f[key]
            click.echo(f"  {label(lang, key if key != 'branch' else 'branch_label')}: {value}")
    done = {ev["visit"]: ev for ev in f["history"] if ev["action"] == "visit"}
    now = env.now()
    cal = store.config.calendar
    body = []
    for visit in project.schedule:
        made = done.get(visit["visit"])
        if made:
            state = f"{label(lang, 'done')} {made['at'][:10]} {label(lang, made['outcome'])}" + (
                f" → {made['case']}" if made.get("case") else "")
        else:
            due_at = agenda.visit_due_at(dt.date.fromisoformat(visit["due"]), cal)
            state = label(lang, "overdue") if now > due_at else ""
        body.append([visit["visit"], visit["due"], visit["rule"], state])
    click.echo("")
    click.echo(f"{label(lang, 'schedule')}:")
    click.echo(tabulate(body, headers=[label(lang, k) for k in ("visit", "due_at", "rule", "status")],
                        tablefmt="simple", disable_numparse=True))
    extra = [ev for ev in f["history"] if ev["action"] == "visit" and ev["visit"] not in {v["visit"] for v in project.schedule}]
    for ev in extra:
        click.echo(f"  {ev['at'][:16]}  {ev['visit']}  {label(lang, ev['outcome'])}  {ev.get('summary') or ''}")


@click.command("visit")
@click.argument("project_id", metavar="PROJECT")
@click.option("--outcome", type=click.Choice(OUTCOMES), required=True, help="ok, or problem (opens a complaint).")
@click.option("--summary", metavar="TEXT", help="What the customer said.")
@click.option("--kind", type=click.Choice(VISIT_KINDS),
              help="Which visit (default: the next scheduled one that is due); greeting/thanks/other for calls "
                   "outside the schedule (holiday greetings, thanks for a pennant).")
@at_option
@pass_env
def visit_cmd(env: Env, project_id: str, outcome: str, summary: str | None, kind: str | None, at: str | None) -> None:
    """Record a return visit (回访) on a project.

    A problem opens a complaint linked to the project and prints its ID on stdout.

    \b
    Example:
      svc visit P2611-A001 --outcome ok
      svc visit P2611-A001 --outcome problem --summary "墙面开裂"
      svc visit P2611-A001 --kind greeting --outcome ok --summary "春节问候"
    """
    key, case_id = actions.record_visit(env.context(), project_id, outcome, summary, kind, env.parse_at(at))
    click.echo(f"{project_id.upper()}: {label(env.store().config.lang, 'visit')} {key}", err=True)
    if case_id:
        click.echo(case_id)


COMMANDS = [project_group, visit_cmd]

"""Patrols, holds and retention: svc patrol ..., svc hold ..., svc retention ..."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from svc import keeping, render
from svc.env import Env
from svc.labels import label
from svc.options import at_option, format_option
from svc.patrols import CATEGORIES, ROUTES
from svc.retention import REGISTER_PATH, words
from svc.store import HOLDS, PATROLS
from svc.timeutil import parse_date, parse_month

pass_env = click.make_pass_decorator(Env)


def _month(text: str) -> str:
    return parse_month(text, "--month")


@click.group("patrol")
def patrol_group() -> None:
    """Building patrols (巡查): records, findings, and the monthly summary.

    \b
    Example:
      xid=$(svc patrol add --area "3号楼" --problem 电梯)
      svc patrol finding "$xid" --category facilities --place "3号楼2单元电梯" --description "按钮失灵"
      svc patrol route "$xid" 1 --to repair
      svc patrol summary --month 2026-10
    """


@patrol_group.command("add")
@click.option("--area", required=True, metavar="AREA", help="The area patrolled (楼栋、区域).")
@click.option("--problem", "problems", multiple=True, metavar="ITEM",
              help="A checklist item found with a problem (the start of its name is enough); repeatable.")
@click.option("--skip", "skipped", multiple=True, metavar="ITEM", help="A checklist item not checked; repeatable.")
@at_option
@pass_env
def patrol_add(env: Env, area: str, problems: tuple[str, ...], skipped: tuple[str, ...], at: str | None) -> None:
    """Record a patrol by the acting user and print its ID alone on stdout.

    Every checklist item is ok unless named with --problem or --skip.

    \b
    Example:
      svc patrol add --area "3号楼" --problem 电梯 --skip 空置房
    """
    click.echo(keeping.add_patrol(env.context(), area, list(problems), list(skipped), env.parse_at(at)))


@patrol_group.command("finding")
@click.argument("patrol_id", metavar="PATROL")
@click.option("--category", type=click.Choice(CATEGORIES), required=True)
@click.option("--place", required=True, metavar="PLACE")
@click.option("--description", required=True, metavar="TEXT")
@click.option("--settled", metavar="HOW", help="Settled on the spot, and how (no deadline then).")
@at_option
@pass_env
def patrol_finding(env: Env, patrol_id: str, category: str, place: str, description: str, settled: str | None,
                   at: str | None) -> None:
    """Add a finding to a patrol record and print its number; it must be fixed within 7 days.

    \b
    Example:
      svc patrol finding X2611-A001 --category fire --place "2单元3层" --description "灭火器过期"
      svc patrol finding X2611-A001 --category cleanliness --place 大堂 --description 垃圾 --settled "已通知保洁清理"
    """
    click.echo(keeping.add_finding(env.context(), patrol_id, category, place, description, settled, env.parse_at(at)))


@patrol_group.command("route")
@click.argument("patrol_id", metavar="PATROL")
@click.argument("no", type=int, metavar="N")
@click.option("--to", "to", type=click.Choice(ROUTES), required=True,
              help="repair (opens a linked repair case), department, or violation (renovation management).")
@click.option("--department", metavar="NAME", help="With --to department: which one.")
@at_option
@pass_env
def patrol_route(env: Env, patrol_id: str, no: int, to: str, department: str | None, at: str | None) -> None:
    """Route finding N; --to repair opens a repair case and prints its ID.

    \b
    Example:
      svc patrol route X2611-A001 1 --to repair
      svc patrol route X2611-A001 2 --to department --department 保安部
    """
    case_id = keeping.route_finding(env.context(), patrol_id, no, to, department, env.parse_at(at))
    if case_id:
        click.echo(case_id)


@patrol_group.command("extend")
@click.argument("patrol_id", metavar="PATROL")
@click.argument("no", type=int, metavar="N")
@click.option("--until", "until", required=True, metavar="DATE")
@click.option("--reason", required=True)
@at_option
@pass_env
def patrol_extend(env: Env, patrol_id: str, no: int, until: str, reason: str, at: str | None) -> None:
    """Extend finding N's 7 days (a manager only, with a reason).

    \b
    Example:
      svc patrol extend X2611-A001 1 --until 2026-11-20 --reason "配件需从厂家订购"
    """
    keeping.extend_finding(env.context(), patrol_id, no, parse_date(until, "--until"), reason, env.parse_at(at))


def _step(action: str, doc: str) -> click.Command:
    @click.command(action, help=doc)
    @click.argument("patrol_id", metavar="PATROL")
    @click.argument("no", type=int, metavar="N")
    @click.option("--note", "note_text", metavar="TEXT")
    @at_option
    @pass_env
    def command(env: Env, patrol_id: str, no: int, note_text: str | None, at: str | None) -> None:
        keeping.settle_step(env.context(), patrol_id, no, action, note_text, env.parse_at(at))

    return command


patrol_group.add_command(_step("fixed", """Record that finding N was fixed (by the acting user).

    \\b
    Example:
      svc patrol fixed X2611-A001 1 --note "已更换灭火器"
    """))
patrol_group.add_command(_step("verified", """Record that finding N's fix was verified on site (by someone else).

    \\b
    Example:
      svc patrol verified X2611-A001 1 --note "现场复查合格"
    """))


@patrol_group.command("list")
@click.option("--month", metavar="YYYY-MM", help="Only patrols in this month (office time).")
@format_option("table", "json", "ids", default="table")
@pass_env
def patrol_list(env: Env, month: str | None, fmt: str) -> None:
    """List patrol records with their findings.

    \b
    Example:
      svc patrol list --month 2026-10 --format json
    """
    store = env.store()
    tz = store.config.tz
    month = _month(month) if month else None
    rows = []
    for record in store.iter_records(PATROLS):
        patrol = record.view
        when = patrol.patrolled_at.astimezone(tz)
        if month and when.strftime("%Y-%m") != month:
            continue
        open_count = sum(1 for f in patrol.findings if f["status"] in ("open", "fixed"))
        rows.append({"id": patrol.id, "area": patrol.fields["area"], "patrolled_at": patrol.fields["patrolled_at"],
                     "patroller": patrol.fields["patroller"], "findings": len(patrol.findings), "open": open_count})
    rows.sort(key=lambda r: (r["patrolled_at"], r["id"]))
    if fmt == "json":
        click.echo(render.to_json(rows))
    elif fmt == "ids":
        for row in rows:
            click.echo(row["id"])
    elif rows:
        from tabulate import tabulate

        click.echo(tabulate([[r["id"], r["area"], r["patrolled_at"][:16].replace("T", " "), r["patroller"],
                              r["findings"], r["open"]] for r in rows],
                            headers=["ID", "area", "patrolled", "patroller", "findings", "open"],
                            tablefmt="simple", disable_numparse=True))


@patrol_group.command("show")
@click.argument("patrol_id", metavar="PATROL")
@format_option("text", "json", default="text")
@pass_env
def patrol_show(env: Env, patrol_id: str, fmt: str) -> None:
    """Show a patrol record: checklist, findings and history.

    \b
    Example:
      svc patrol show X2611-A001
    """
    patrol = env.store().load(patrol_id, PATROLS).view
    if fmt == "json":
        click.echo(render.to_json(patrol.fields))
    else:
        click.echo(render.patrol_text(patrol))


@patrol_group.command("summary")
@click.option("--month", required=True, metavar="YYYY-MM")
@format_option("text", "json", default="text")
@click.option("--print", "print_as", type=click.Choice(("pdf", "docx", "both")),
              help="Also print the summary (made now, or the one made before) as PDF and/or DOCX.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="Where printed files go.")
@pass_env
def patrol_summary(env: Env, month: str, fmt: str, print_as: str | None, out_dir: Path) -> None:
    """Cut a month off: write its summary record (每月底汇总), once the month has ended.

    A month's patrol records start their retention clock at its end, and only a month
    with a summary can ever be disposed of.

    \b
    Example:
      svc patrol summary --month 2026-10
      svc patrol summary --month 2026-10 --print pdf --out 档案/
    """
    store = env.store()
    existing = keeping.summary_path(store, _month(month))
    if print_as and existing.exists():  # print the cut-off already made
        figures = keeping.read_summary(store, month)
        _print_summary(env, figures, print_as, out_dir)
        return
    # printed before it is written: a print that fails leaves the month open for a retry
    printer = (lambda summary: _print_summary(env, summary, print_as, out_dir)) if print_as else None
    path, figures = keeping.write_summary(env.context(), _month(month), printer)
    if fmt == "json":
        click.echo(render.to_json(figures))
    else:
        click.echo(render.patrol_summary_text(figures))
    click.echo(f"svc: {month} cut off: {env.store().shown(path)}", err=True)


def _print_summary(env: Env, figures: dict[str, Any], print_as: str, out_dir: Path) -> None:
    from svc.letters.printing import formats, print_record

    store = env.store()
    lang = store.config.lang
    values = {"summary": {
        **figures,
        "made_by": render.person(store.config, figures.get("made_by")),
        "made_at": render.minute(figures.get("made_at")),
        # a month without patrols is stored without these (empty values are not written)
        "by_category": [{"name": label(lang, f"cat:{k}"), "count": v}
                        for k, v in (figures.get("by_category") or {}).items()],
        "by_area": [{"name": k, **v} for k, v in (figures.get("by_area") or {}).items()],
        "open_findings": [{**f, "category": label(lang, f"cat:{f['category']}"),
                           "status": label(lang, f"finding:{f['status']}"), "due": render.minute(f.get("due"))}
                          for f in figures.get("open_findings") or ()],
        "records_count": len(figures.get("records") or ()),
    }}
    for path in print_record(store.config, store.root, "patrol-summary", values, formats(print_as), out_dir,
                             f"patrol-summary-{figures['month']}", env.now()):
        click.echo(path)


@click.group("hold")
def hold_group() -> None:
    """Holds keep records from disposal (litigation, audits).

    A record stays held until every hold on it is released. A case that reaches legal
    holds the patrol records it links automatically.

    \b
    Example:
      hid=$(svc hold add X2402-A001 --reason "诉讼证据保全")
      svc hold release "$hid" --reason "诉讼已结案"
    """


@hold_group.command("add")
@click.argument("records", nargs=-1, required=True, metavar="RECORD...")
@click.option("--reason", required=True)
@at_option
@pass_env
def hold_add(env: Env, records: tuple[str, ...], reason: str, at: str | None) -> None:
    """Hold records and print the hold's ID alone on stdout.

    \b
    Example:
      svc hold add X2402-A001 X2402-A002 --reason "业主诉讼证据保全"
    """
    click.echo(keeping.add_hold(env.context(), list(records), reason, env.parse_at(at)))


@hold_group.command("release")
@click.argument("hold_id", metavar="HOLD")
@click.option("--reason", required=True)
@at_option
@pass_env
def hold_release(env: Env, hold_id: str, reason: str, at: str | None) -> None:
    """Release a hold (with a reason).

    \b
    Example:
      svc hold release H2611-A001 --reason "诉讼已结案"
    """
    keeping.release_hold(env.context(), hold_id, reason, env.parse_at(at))


@hold_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Released holds too.")
@format_option("table", "json", default="table")
@pass_env
def hold_list(env: Env, show_all: bool, fmt: str) -> None:
    """List holds (active ones by default).

    \b
    Example:
      svc hold list --all --format json
    """
    rows = [r.view.fields for r in env.store().iter_records(HOLDS) if show_all or r.view.active]
    if fmt == "json":
        click.echo(render.to_json([{k: v for k, v in f.items() if k != "history"} for f in rows]))
    elif rows:
        from tabulate import tabulate

        click.echo(tabulate([[f["id"], f["status"], ", ".join(f["records"]), f["reason"]] for f in rows],
                            headers=["ID", "status", "records", "reason"], tablefmt="simple", disable_numparse=True))


@click.group("retention")
def retention_group() -> None:
    """The two-year retention rule for patrol records (保存期两年): plan, apply, register.

    \b
    Example:
      svc retention plan
      svc retention apply --approved-by zhaomin
      svc retention register
    """


@retention_group.command("plan")
@format_option("text", "json", default="text")
@pass_env
def retention_plan(env: Env, fmt: str) -> None:
    """What may be disposed of now, and what is blocked and why.

    \b
    Example:
      svc retention plan --format json
    """
    plan = keeping.retention_plan(env.store(), env.now())
    if fmt == "json":
        click.echo(render.to_json(plan.as_json()))
        return
    for item in plan.disposable:
        click.echo(f"disposable  {item.id}  {item.period}  since {item.disposable_on}")
    for item in plan.blocked:
        click.echo(f"blocked     {item.id}  {item.period}  {'; '.join(item.reasons)}")
    click.echo(f"svc: {len(plan.disposable)} disposable, {len(plan.blocked)} blocked", err=True)


@retention_group.command("apply")
@click.option("--approved-by", "approved_by", required=True, metavar="USER",
              help="Who approved the disposal (a director, supervisor or admin).")
@click.option("--plan", "plan_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Dispose of only the records this saved plan (retention plan --format json) lists, "
                   "and only if each still has the content (sha256) listed; otherwise nothing.")
@pass_env
def retention_apply(env: Env, approved_by: str, plan_file: Path | None) -> None:
    """Dispose of exactly what is disposable now, in one commit, into the register (销毁清册).

    Re-checks the plan at this moment; running it again disposes of nothing more. Refused
    when SVC_NOW is ahead of this machine's clock.

    \b
    Example:
      svc retention apply --approved-by zhaomin
      svc retention plan --format json > plan.json   # approved, then:
      svc retention apply --approved-by zhaomin --plan plan.json
    """
    store = env.store()
    approved = keeping.read_plan(plan_file, store.config.lang) if plan_file is not None else None
    entries, left = keeping.apply_disposal(env.context(), approved_by, env.machine_now(), approved)
    for entry in entries:
        click.echo(f"disposed {entry['record']}  {entry['period']}  sha256 {entry['sha256'][:16]}…")
    if left:
        click.echo(f"svc: {words(store.config.lang, 'plan-left', count=left)}", err=True)
    click.echo(f"svc: {len(entries)} disposed of" + (f"; see {REGISTER_PATH}" if entries else ""), err=True)


@retention_group.command("register")
@format_option("table", "json", "pdf", "docx", default="table")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="Where a printed register goes.")
@pass_env
def retention_register(env: Env, fmt: str, out_dir: Path) -> None:
    """The disposal register (销毁清册).

    \b
    Example:
      svc retention register --format json
      svc retention register --format pdf --out 档案/
    """
    entries = keeping.register_entries(env.store())
    if fmt in ("pdf", "docx"):
        from svc.letters.printing import print_record

        store = env.store()
        shown = [{**e, "disposed_at": e["disposed_at"][:10], "approved_by": render.person(store.config, e["approved_by"]),
                  "disposed_by": render.person(store.config, e["disposed_by"])} for e in entries]
        for path in print_record(store.config, store.root, "disposal-register", {"entries": shown,
                                 "count": str(len(entries))}, (fmt,), out_dir, "disposal-register", env.now()):
            click.echo(path)
    elif fmt == "json":
        click.echo(render.to_json(entries))
    elif entries:
        from tabulate import tabulate

        click.echo(tabulate([[e["record"], e["period"], e["required_retention_months"], e["kept_days"],
                              e["disposed_at"][:10], e["approved_by"], e["sha256"][:12]] for e in entries],
                            headers=["record", "period", "months", "kept days", "disposed", "approved by", "sha256"],
                            tablefmt="simple", disable_numparse=True))


COMMANDS: list[Any] = [patrol_group, hold_group, retention_group]

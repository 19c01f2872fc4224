"""The duty log and shift handover: svc duty add|show|sign, svc handover [accept|show]."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from svc import duty, render
from svc.env import Env
from svc.errors import NotFoundError
from svc.labels import label
from svc.options import at_option, format_option
from svc.timeutil import parse_date

pass_env = click.make_pass_decorator(Env)

PRINT_OPTION = click.option("--print", "print_as", type=click.Choice(("pdf", "docx", "both")),
                            help="Print it (值班日志 / 交接班记录) through the letters' templates and fonts.")
OUT_OPTION = click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=".",
                          show_default=True, help="Folder for the printed files.")
DATE_OPTION = click.option("--date", "day_text", metavar="YYYY-MM-DD", help="The day (default: today, office time).")

NONE = "—"  # a printed form shows a dash, never a silent blank


def _day(env: Env, text: str | None) -> dt.date:
    if text:
        return parse_date(text, "--date")
    return env.now().astimezone(env.store().config.tz).date()


def _person(env: Env, user_id: str | None) -> str:
    return render.person(env.store().config, user_id) or NONE


def _minute(stamp: str | None) -> str:
    return render.minute(stamp) or NONE


@click.group("duty")
def duty_group() -> None:
    """The front desk's duty log (值班日志): append-only, signed daily by the supervisor.

    \b
    Example:
      svc duty add "8:50 接3号楼业主电话，报卫生间漏水，已开单 C2611-A031"
      svc duty show
      svc --as zhuguan duty sign
    """


@duty_group.command("add")
@click.argument("text", nargs=-1, required=True)
@at_option
@pass_env
def duty_add(env: Env, text: tuple[str, ...], at: str | None) -> None:
    """Write an entry into the day's duty log (entries are never edited or removed).

    \b
    Example:
      svc duty add 接业主电话，报电梯故障，已通知工程部
      svc duty add --at 09:40 "巡查发现2单元门禁损坏"
    """
    from svc import desk  # writing commands only: showing a log does not import svc.actions

    day = desk.add_entry(env.context(), " ".join(text), env.parse_at(at))
    click.echo(f"duty {day.isoformat()}: entry added", err=True)


@duty_group.command("sign")
@DATE_OPTION
@pass_env
def duty_sign(env: Env, day_text: str | None) -> None:
    """Sign the day's duty log as its supervisor (covers every entry so far).

    \b
    Example:
      svc --as zhuguan duty sign
      svc --as zhuguan duty sign --date 2026-11-22     # the next morning
    """
    from svc import desk  # writing commands only: showing a log does not import svc.actions

    day = desk.sign(env.context(), parse_date(day_text, "--date") if day_text else None)
    click.echo(f"duty {day.isoformat()}: signed", err=True)


@duty_group.command("show")
@DATE_OPTION
@format_option("text", "json", default="text")
@PRINT_OPTION
@OUT_OPTION
@pass_env
def duty_show(env: Env, day_text: str | None, fmt: str, print_as: str | None, out_dir: Path) -> None:
    """Show (or print) a day's duty log, its handovers and signatures.

    \b
    Example:
      svc duty show
      svc duty show --date 2026-11-22 --format json
      svc duty show --date 2026-11-22 --print pdf --out 档案/
    """
    store = env.store()
    day = _day(env, day_text)
    history = duty.history_of(store, day)
    if print_as:
        _print_log(env, day, history, print_as, out_dir)
        return
    if fmt == "json":
        given = duty.handovers(history)
        click.echo(render.to_json({
            "date": day.isoformat(),
            "entries": [{k: e[k] for k in ("at", "by", "text")} for e in history if e["action"] == "entry"],
            "handovers": [_handover_json(h) for h in given],
            "signatures": [{"at": e["at"], "by": e["by"]} for e in history if e["action"] == "sign"],
            "unsigned": len([e for e in duty.unsigned(history) if e["action"] == "entry"]),
        }))
        return
    # an acceptance shows the number its handover has in the day (a merge of clones may move it)
    numbers = {id(h.accepted): h.number for h in duty.handovers(history) if h.accepted is not None}
    for event in history:
        click.echo(f"{_minute(event['at'])}  {_person(env, event['by'])}  {_line(env, event, numbers.get(id(event)))}")
    left = [e for e in duty.unsigned(history) if e["action"] == "entry"]
    if left:
        click.echo(f"({len(left)} {'entry' if len(left) == 1 else 'entries'} not yet signed by a supervisor)")


_WORDS = {
    "zh": {"handover": "[交接班 → {to}] 设备：{equipment}；移交 {n} 项", "accept": "[接班确认 第{number}次]",
           "equipment": " 设备：{equipment}", "sign": "[主管签字]", "then": "；"},
    "en": {"handover": "[handover → {to}] equipment: {equipment}; {n} items", "accept": "[handover {number} accepted]",
           "equipment": " equipment: {equipment}", "sign": "[signed by the supervisor]", "then": "; "},
}


def _line(env: Env, event: dict[str, Any], number: int | None = None) -> str:
    words = _WORDS["zh" if env.store().config.lang == "zh" else "en"]
    action = event["action"]
    if action == "entry":
        return event["text"]
    if action == "handover":
        line = words["handover"].format(to=_person(env, event["to"]), equipment=event["equipment"],
                                        n=len(event.get("items") or []))
        return line + (words["then"] + event["note"] if event.get("note") else "")
    if action == "accept":
        line = words["accept"].format(number=number or event["handover"])
        return line + (words["equipment"].format(equipment=event["equipment"]) if event.get("equipment") else "")
    return words["sign"]


def _handover_json(h: duty.Handover) -> dict[str, Any]:
    return {"number": h.number, "at": h.at, "by": h.by, "to": h.to, "equipment": h.equipment, "note": h.note,
            "items": h.items, "accepted": ({k: h.accepted[k] for k in ("at", "by", "equipment", "note")
                                            if k in h.accepted} if h.accepted else None)}


def _print_log(env: Env, day: dt.date, history: list[dict[str, Any]], print_as: str, out_dir: Path) -> None:
    from svc.letters.printing import formats, print_record

    store = env.store()
    numbers = {id(h.accepted): h.number for h in duty.handovers(history) if h.accepted is not None}
    rows = [{"time": _minute(e["at"])[11:] if e["at"][:10] == day.isoformat() else _minute(e["at"])[5:],
             "by": _person(env, e["by"]), "text": _line(env, e, numbers.get(id(e)))}
            for e in history if e["action"] != "sign"]
    signs = [e for e in history if e["action"] == "sign"]
    left = duty.unsigned(history)
    zh = store.config.lang == "zh"
    if signs:
        last = signs[-1]
        signed_line = (f"主管于 {_minute(last['at'])} 签字。" if zh else f"Signed by the supervisor at {_minute(last['at'])}.")
        if left:
            signed_line += (f"签字后又记 {len(left)} 条，尚未签字。" if zh else f" {len(left)} later entries are not signed yet.")
    else:
        signed_line = "尚未经主管签字。" if zh else "Not yet signed by a supervisor."
    values = {"log": {"date": day.isoformat(), "rows": rows, "count": len(rows), "signed_line": signed_line,
                      "signed_by": _person(env, signs[-1]["by"]) if signs else NONE}}
    for path in print_record(store.config, store.root, "duty-log", values, formats(print_as), out_dir,
                             f"duty-log-{day.isoformat()}", env.now()):
        click.echo(path)


@click.group("handover", invoke_without_command=True)
@click.option("--to", "to", metavar="USER", help="The incoming person.")
@click.option("--equipment", metavar="TEXT", help="The equipment check: 正常, or what is wrong.")
@click.option("--note", metavar="TEXT", help="Anything the incoming person must know.")
@at_option
@click.pass_context
def handover_group(click_ctx: click.Context, to: str | None, equipment: str | None, note: str | None,
                   at: str | None) -> None:
    """Hand the desk over (交接班): records both people, the equipment check and every open
    item handed over; the incoming person confirms with `svc handover accept`.
    Important unfinished work (a 3-minute callback, a 20-minute engineer call) may not be
    handed over: do it first.

    \b
    Example:
      svc handover --to lina --equipment 正常 --note "C2611-A031 等工程部回复"
      svc --as lina handover accept --equipment 正常
      svc handover show --print pdf
    """
    if click_ctx.invoked_subcommand is not None:
        return
    env = click_ctx.find_object(Env)
    assert env is not None
    if not to or not equipment:
        missing = [o for o, v in (("--to", to), ("--equipment", equipment)) if not v]
        raise click.UsageError(f"a handover needs {' and '.join(missing)}")
    from svc import desk  # writing commands only: showing a log does not import svc.actions

    day, number, items = desk.hand_over(env.context(), to, equipment, note, env.parse_at(at))
    click.echo(f"duty {day.isoformat()}: handover {number} to {to}, {len(items)} open item{'' if len(items) == 1 else 's'}", err=True)
    for item in items:
        click.echo(f"{item['id']}\t{_minute(item.get('due'))}\t{item.get('rule') or NONE}\t{item['what']}")


@handover_group.command("accept")
@DATE_OPTION
@click.option("--equipment", metavar="TEXT", help="Your own equipment check.")
@click.option("--note", metavar="TEXT", help="Anything to record on taking over.")
@pass_env
def handover_accept(env: Env, day_text: str | None, equipment: str | None, note: str | None) -> None:
    """Confirm the handover made to you (today's, else last night's).

    \b
    Example:
      svc --as lina handover accept --equipment "正常"
    """
    from svc import desk  # writing commands only: showing a log does not import svc.actions

    day, number = desk.accept(env.context(), parse_date(day_text, "--date") if day_text else None, equipment, note)
    click.echo(f"duty {day.isoformat()}: handover {number} accepted", err=True)


@handover_group.command("show")
@DATE_OPTION
@click.option("--number", type=int, help="Which handover of the day (default: the last).")
@format_option("text", "json", default="text")
@PRINT_OPTION
@OUT_OPTION
@pass_env
def handover_show(env: Env, day_text: str | None, number: int | None, fmt: str, print_as: str | None,
                  out_dir: Path) -> None:
    """Show (or print) a handover record (交接班记录).

    \b
    Example:
      svc handover show
      svc handover show --date 2026-11-22 --number 2 --print pdf
    """
    store = env.store()
    day = _day(env, day_text)
    given = _handovers_on(store, day)
    if not given and day_text is None:  # just after midnight: last night's
        day -= dt.timedelta(days=1)
        given = _handovers_on(store, day)
    if not given:
        raise NotFoundError(f"no handover on {day.isoformat()}")
    if number is not None and not 1 <= number <= len(given):
        raise NotFoundError(f"no handover {number} on {day.isoformat()} (there are {len(given)})")
    h = given[(number or len(given)) - 1]
    if print_as:
        _print_handover(env, day, h, print_as, out_dir)
    elif fmt == "json":
        click.echo(render.to_json({"date": day.isoformat(), **_handover_json(h)}))
    else:
        accepted = h.accepted
        click.echo(f"{day.isoformat()} #{h.number}  {_person(env, h.by)} → {_person(env, h.to)}  {_minute(h.at)}")
        click.echo(f"equipment: {h.equipment}" + (f"  note: {h.note}" if h.note else ""))
        for item in h.items:
            click.echo(f"  {item['id']}  {_minute(item.get('due'))}  {item.get('rule') or NONE}  {item['what']}")
        click.echo(f"accepted: {_minute(accepted['at'])} by {_person(env, accepted['by'])}" if accepted
                   else "not accepted yet")


def _handovers_on(store: Any, day: dt.date) -> list[duty.Handover]:
    _, node = duty.read_day(store, day)
    return duty.handovers(node["history"]) if node is not None else []


def _print_handover(env: Env, day: dt.date, h: duty.Handover, print_as: str, out_dir: Path) -> None:
    from svc.letters.printing import formats, print_record

    store = env.store()
    lang = store.config.lang
    accepted = h.accepted or {}
    values = {"handover": {
        "date": day.isoformat(), "number": h.number, "at": _minute(h.at), "by": _person(env, h.by),
        "to": _person(env, h.to), "equipment": h.equipment, "note": h.note or NONE,
        "accepted_at": _minute(accepted.get("at")), "accepted_by": _person(env, accepted.get("by")),
        "accepted_equipment": accepted.get("equipment") or NONE, "accepted_note": accepted.get("note") or NONE,
        "items": [{"id": i["id"], "what": i["what"], "due": _minute(i.get("due")),
                   "rule": label(lang, f"rule:{i['rule']}") if i.get("rule") else NONE}
                  for i in h.items] or [{"id": NONE, "what": "无" if lang == "zh" else "none", "due": NONE, "rule": NONE}],
        "count": len(h.items),
    }}
    for path in print_record(store.config, store.root, "handover", values, formats(print_as), out_dir,
                             f"handover-{day.isoformat()}-{h.number}", env.now()):
        click.echo(path)


COMMANDS = [duty_group, handover_group]

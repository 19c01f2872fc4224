"""svc report monthly: the monthly management report (客服分析报告)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from svc import render
from svc.deadlines import RULES
from svc.env import Env
from svc.errors import RefusedError
from svc.labels import label
from svc.model import KINDS

pass_env = click.make_pass_decorator(Env)

# The report's own words (svc/labels.py holds the words shared by every command).
WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "客服分析报告", "period": "统计期间", "office": "全部", "figure": "指标",
        "opened": "受理", "closed": "结案", "on_time": "按时完成", "satisfaction": "客户满意度",
        "visits": "回访完成率", "escalations": "升级", "repeats": "重复投诉（件）", "overdue": "月底超时",
        "no-branch": "未指定分公司", "target": "目标",
        "repeat-list": "重复投诉客户", "overdue-list": "月底超时未完成", "visits-list": "本月未完成的回访",
        "patrols": "巡查问题", "recorded": "本月发现", "settled": "当场处理", "fixed": "本月整改",
        "open-at-end": "月底未整改", "withheld": "另有{n}项员工/工队投诉（保密，不列编号）",
        "customer": "客户", "phone": "电话", "cases": "案件", "repeat-of": "此前案件",
        "project": "工程", "visit": "回访", "due": "应回访日期",
        "rule-s:callback-3min": "3分钟回拨", "rule-s:respond-24h": "24小时答复", "rule-s:feedback-24h": "24小时反馈",
        "rule-s:legal-24h": "24小时报法务", "rule-s:engineer-20min": "20分钟到场", "rule-s:solve-3wd": "3个工作日解决",
        "rule-s:revisit-3d": "维修后3天回访", "rule-s:patrol-fix-7d": "巡查7天整改",
    },
    "en": {
        "title": "Monthly service report", "period": "Period", "office": "All", "figure": "figure",
        "opened": "opened", "closed": "closed", "on_time": "on time", "satisfaction": "satisfaction",
        "visits": "visits done", "escalations": "escalations", "repeats": "repeat complaints", "overdue": "overdue at month end",
        "no-branch": "no branch", "target": "target",
        "repeat-list": "Repeat complainants", "overdue-list": "Overdue at the month's end", "visits-list": "Visits not done",
        "patrols": "Patrol findings", "recorded": "recorded", "settled": "settled on the spot", "fixed": "fixed",
        "open-at-end": "open at month end", "withheld": "and {n} on staff/crew complaints (confidential, not listed)",
        "customer": "customer", "phone": "phone", "cases": "cases", "repeat-of": "earlier cases",
        "project": "project", "visit": "visit", "due": "due",
        "rule-s:callback-3min": "callback 3 min", "rule-s:respond-24h": "answer 24 h", "rule-s:feedback-24h": "feedback 24 h",
        "rule-s:legal-24h": "to legal 24 h", "rule-s:engineer-20min": "on site 20 min", "rule-s:solve-3wd": "solve 3 wd",
        "rule-s:revisit-3d": "revisit 3 d", "rule-s:patrol-fix-7d": "patrol fix 7 d",
    },
}

FORMATS = ("table", "json", "csv", "pdf", "docx", "both")


def word(lang: str, key: str, **values: Any) -> str:
    text = WORDS.get(lang, WORDS["zh"]).get(key, WORDS["en"].get(key, key))
    return text.format(**values) if values else text


def _month(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from svc.errors import SvcError
    from svc.timeutil import parse_month

    try:
        return parse_month(value)
    except SvcError as exc:  # malformed or out of 2000-2099: a usage error here, as ever
        raise click.BadParameter(f"{value!r} is not a month in range; use YYYY-MM such as 2026-10, "
                                 f"years 2000-2099 / 请用 2000–2099 年的 YYYY-MM，如 2026-10") from exc


@click.group("report")
def report_group() -> None:
    """Management reports (客服分析报告) from the records.

    \b
    Example:
      svc report monthly --month 2026-10
      svc report monthly --month 2026-10 --branch chaoyang --format json
      svc report monthly --month 2026-10 --format pdf --out 报告/
    """


@report_group.command("monthly")
@click.option("--month", required=True, metavar="YYYY-MM", callback=_month,
              help="The month, in the office's time zone; it must have ended.")
@click.option("--branch", metavar="B", help="Only this branch (a code from svc.yaml).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="table/json/csv to stdout; pdf, docx or both are written into --out.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="Where pdf/docx files go.")
@pass_env
def monthly_cmd(env: Env, month: str, branch: str | None, fmt: str, out_dir: Path) -> None:
    """The month's figures per branch and for the office: cases opened and closed by kind,
    deadlines met on time, customer satisfaction (target 90%), return visits done (target
    100%), escalations, repeat complainants, what was overdue at the month's end, and
    patrol findings.

    Figures are as of the month's end: events dated after it never change the month's
    report. The first report of a month closes it: its figures are kept in
    summaries/report-YYYY-MM.yaml (committed), every later report of the month prints
    them, and no event can be dated into the month any more (--at is refused; record it
    now). Staff and crew complaints are only counted: their complainants and case IDs are
    never shown.

    \b
    Example:
      svc report monthly --month 2026-10
      svc report monthly --month 2026-10 --format csv > 2026-10.csv
      svc report monthly --month 2026-10 --branch chaoyang --format pdf --out 报告/
    """
    from svc import report

    store = env.store()
    config = store.config
    if branch is not None:
        if not config.branches:  # a report by branch needs branches to report by
            raise RefusedError(f"unknown branch {branch!r}; svc.yaml declares none")
        config.check_branch(branch)
    p = report.period(month, config.tz)
    now = env.now()
    if now < p.end:
        raise RefusedError(f"{month} has not ended yet (office time); its report can be made from "
                           f"{p.end.strftime('%Y-%m-%d %H:%M')}")
    from svc import closing

    # a report read on screen shows what the readable records give and names the rest
    # (exit 3; the month stays open); a printed one, which is filed, needs them all
    unreadable: list[Any] | None = None if fmt in ("pdf", "docx", "both") else []
    data, warnings = closing.monthly(store, month, branch, closer(env), now, unreadable)
    lang = config.lang
    for warning in warnings:
        click.echo(f"svc: warning: {warning}", err=True)
    if fmt == "json":
        click.echo(render.to_json(data))
    elif fmt == "csv":
        click.echo(csv_text(data), nl=False)
    elif fmt == "table":
        click.echo(table_text(data, lang))
    else:
        from svc.letters.printing import formats, print_record

        stem = f"monthly-report-{month}" + (f"-{branch}" if branch else "")
        for path in print_record(config, store.root, "monthly-report", {"report": print_values(data, lang)},
                                 formats(fmt), out_dir, stem, now):
            click.echo(path)
    if unreadable:
        from svc.errors import ProblemsFound

        for problem in unreadable[:-1]:
            click.echo(f"svc: {problem}", err=True)
        raise ProblemsFound(str(unreadable[-1]))


def closer(env: Env) -> Any:
    """Who closes the month by making its first report: the acting user when given (and
    known), else "svc": a report is often made from cron, with no one acting."""
    from svc.actions import resolve_actor
    from svc.store import Actor

    store = env.store()
    if env.as_user or not store.config.users:
        return resolve_actor(store, env.as_user)
    return Actor("svc", "svc", None)


# --- csv ---------------------------------------------------------------------------------------

def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def csv_rows(data: dict[str, Any]) -> list[dict[str, str]]:
    """One row per (scope, figure, key, value): figure is the dotted path to the group."""
    rows: list[dict[str, str]] = []

    def walk(scope: str, figure: str, node: dict[str, Any]) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                walk(scope, f"{figure}.{key}" if figure else key, value)
            elif isinstance(value, list):
                path = f"{figure}.{key}" if figure else key
                if key == "customers":
                    for c in value:
                        who = " ".join(x for x in (c["customer"], c["phone"]) if x)
                        rows.append({"scope": scope, "figure": path, "key": who, "value": " ".join(c["cases"])})
                elif key == "not_done":
                    for v in value:
                        rows.append({"scope": scope, "figure": path, "key": f"{v['project']} {v['visit']}",
                                     "value": v["due"]})
                else:
                    rows.append({"scope": scope, "figure": figure, "key": key, "value": " ".join(map(str, value))})
            else:
                rows.append({"scope": scope, "figure": figure, "key": key, "value": _scalar(value)})

    if data["overall"] is not None:
        walk("overall", "", data["overall"])
    for item in data["branches"]:
        walk(item["branch"], "", {k: v for k, v in item.items() if k not in ("branch", "name")})
    return rows


def csv_text(data: dict[str, Any]) -> str:
    return render.to_csv(csv_rows(data), ("scope", "figure", "key", "value"))


# --- table -------------------------------------------------------------------------------------

def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _ratio(part: int, whole: int, rate: float | None) -> str:
    return f"{part}/{whole} {_pct(rate)}" if whole else "—"


def _scopes(data: dict[str, Any], lang: str) -> list[tuple[str, dict[str, Any]]]:
    scopes = [(word(lang, "office"), data["overall"])] if data["overall"] is not None else []
    return scopes + [(_name(b, lang), b) for b in data["branches"]]


def _name(branch: dict[str, Any], lang: str) -> str:
    """A branch as people read it; the cases with no branch say so."""
    from svc import report

    return word(lang, "no-branch") if branch["branch"] == report.NO_BRANCH else branch["name"]


def table_text(data: dict[str, Any], lang: str) -> str:
    from svc import report

    scopes = _scopes(data, lang)
    start, end = (data["period"][k][:16].replace("T", " ") for k in ("start", "end"))
    lines = [f"{word(lang, 'title')} {data['month']}  {data['office']['name']} ({data['office']['code']})",
             f"{word(lang, 'period')}: {start} — {end} ({data['timezone']})", ""]
    rows: list[list[str]] = []

    def row(name: str, get: Any) -> None:
        rows.append([name, *(get(s) for _, s in scopes)])

    def mark(figure: dict[str, Any]) -> str:
        if figure["met"] is None:
            return ""
        return " ✓" if figure["met"] else " ✗"

    row(word(lang, "opened"), lambda s: str(s["opened"]["total"]))
    for kind in KINDS:
        row(f"· {label(lang, kind)}", lambda s, k=kind: str(s["opened"]["by_kind"][k]))
    row(word(lang, "closed"), lambda s: str(s["closed"]["total"]))
    for kind in KINDS:
        if any(s["closed"]["by_kind"][kind] for _, s in scopes):
            row(f"· {label(lang, kind)}", lambda s, k=kind: str(s["closed"]["by_kind"][k]))
    row(word(lang, "on_time"), lambda s: _ratio(s["on_time"]["on_time"], s["on_time"]["due"], s["on_time"]["rate"]))
    for rule in RULES:
        if any(s["on_time"]["by_rule"][rule]["due"] for _, s in scopes):
            row(f"· {word(lang, 'rule-s:' + rule)}", lambda s, r=rule: _ratio(
                s["on_time"]["by_rule"][r]["on_time"], s["on_time"]["by_rule"][r]["due"], s["on_time"]["by_rule"][r]["rate"]))
    row(f"{word(lang, 'satisfaction')} ({word(lang, 'target')} 90%)",
        lambda s: _ratio(s["satisfaction"]["satisfied"], s["satisfaction"]["responses"], s["satisfaction"]["rate"])
        + mark(s["satisfaction"]))
    row(f"{word(lang, 'visits')} ({word(lang, 'target')} 100%)",
        lambda s: _ratio(s["visits"]["done"], s["visits"]["due"], s["visits"]["rate"]) + mark(s["visits"]))
    row(word(lang, "escalations"), lambda s: str(s["escalations"]["total"]))
    for level in report.ESCALATION_LEVELS:
        if any(s["escalations"]["by_level"][level] for _, s in scopes):
            row(f"· → {label(lang, level)}", lambda s, lv=level: str(s["escalations"]["by_level"][lv]))
    row(word(lang, "repeats"), lambda s: str(s["repeat_complaints"]["cases"]))
    row(word(lang, "overdue"), lambda s: str(s["overdue"]["total"]))
    for rule in RULES:
        if any(s["overdue"]["by_rule"].get(rule) for _, s in scopes):
            row(f"· {word(lang, 'rule-s:' + rule)}", lambda s, r=rule: str(s["overdue"]["by_rule"].get(r, 0)))
    lines.append(render.simple_table(rows, [word(lang, "figure"), *(name for name, _ in scopes)]))

    whole = data["overall"] if data["overall"] is not None else (data["branches"][0] if data["branches"] else None)
    if whole is None:
        return "\n".join(lines)
    customers = whole["repeat_complaints"]["customers"]
    if customers:
        lines += ["", word(lang, "repeat-list") + ":"]
        lines.append(render.simple_table([[c["customer"] or "", c["phone"] or "", " ".join(c["cases"]),
                                           " ".join(c["repeat_of"])] for c in customers],
                                         [word(lang, k) for k in ("customer", "phone", "cases", "repeat-of")]))
    overdue = whole["overdue"]
    if overdue["total"]:
        lines += ["", f"{word(lang, 'overdue-list')}: " + (" ".join(overdue["ids"]) or "—")]
        if overdue["withheld"]:
            lines.append("  " + word(lang, "withheld", n=overdue["withheld"]))
    not_done = whole["visits"]["not_done"]
    if not_done:
        lines += ["", word(lang, "visits-list") + ":"]
        lines.append(render.simple_table([[v["project"], v["visit"], v["due"]] for v in not_done],
                                         [word(lang, k) for k in ("project", "visit", "due")]))
    findings = whole.get("patrol_findings")
    if findings is not None:
        lines += ["", f"{word(lang, 'patrols')}: {word(lang, 'recorded')} {findings['recorded']}, "
                      f"{word(lang, 'settled')} {findings['settled_on_spot']}, {word(lang, 'fixed')} {findings['fixed']}, "
                      f"{word(lang, 'open-at-end')} {findings['open_at_end']}"
                  + (f" ({' '.join(findings['open_ids'])})" if findings["open_ids"] else "")]
    return "\n".join(lines)


# --- printing (pdf, docx) -----------------------------------------------------------------------

def _number(rate: float | None) -> str:
    """A rate as a percentage number for a chart: 95, 66.7."""
    assert rate is not None
    return f"{rate * 100:.1f}".removesuffix(".0")


def print_values(data: dict[str, Any], lang: str) -> dict[str, Any]:
    """The report as the monthly-report template reads it: text ready to print."""
    scopes = _scopes(data, lang)
    whole = data["overall"] if data["overall"] is not None else (data["branches"][0] if data["branches"] else None)
    branches = data["branches"]

    def cell(part: int, whole: int, rate: float | None) -> str:
        if not whole:
            return "—"
        return f"{_pct(rate)}（{part}/{whole}）" if lang == "zh" else f"{_pct(rate)} ({part}/{whole})"

    def summary(name: str, s: dict[str, Any]) -> dict[str, str]:
        return {
            "name": name,
            "opened": str(s["opened"]["total"]),
            "closed": str(s["closed"]["total"]),
            "on_time": cell(s["on_time"]["on_time"], s["on_time"]["due"], s["on_time"]["rate"]),
            "satisfaction": cell(s["satisfaction"]["satisfied"], s["satisfaction"]["responses"],
                                 s["satisfaction"]["rate"]),
            "visits": cell(s["visits"]["done"], s["visits"]["due"], s["visits"]["rate"]),
            "escalations": str(s["escalations"]["total"]),
            "repeats": str(s["repeat_complaints"]["cases"]),
            "overdue": str(s["overdue"]["total"]),
        }

    values: dict[str, Any] = {
        "month": data["month"],
        "period": f"{data['period']['start'][:10]} — {data['period']['end'][:10]}",
        "timezone": data["timezone"],
        "scope": word(lang, "office") if data["branch"] is None else _name(branches[0], lang),
        "rows": [summary(name, s) for name, s in scopes],
        "sat_bars": [{"label": _name(b, lang), "value": _number(b["satisfaction"]["rate"])}
                     for b in branches if b["satisfaction"]["rate"] is not None],
        "visit_bars": [{"label": _name(b, lang), "value": _number(b["visits"]["rate"])}
                       for b in branches if b["visits"]["rate"] is not None],
        "rule_bars": [], "kind_bars": [], "kinds": [], "customers": [], "overdue_ids": None, "withheld": None,
        "not_done": [], "findings": None,
    }
    if whole is not None:
        values["rule_bars"] = [{"label": word(lang, f"rule-s:{rule}"), "value": _number(figure["rate"])}
                               for rule, figure in whole["on_time"]["by_rule"].items() if figure["due"]]
        values["kind_bars"] = [{"label": label(lang, kind), "value": str(n)}
                               for kind, n in whole["opened"]["by_kind"].items()]
        values["kinds"] = [{"name": label(lang, kind), "opened": str(whole["opened"]["by_kind"][kind]),
                            "closed": str(whole["closed"]["by_kind"][kind])} for kind in KINDS]
        values["customers"] = [{"customer": c["customer"] or "—", "phone": c["phone"] or "—",
                                "cases": " ".join(c["cases"]), "repeat_of": " ".join(c["repeat_of"])}
                               for c in whole["repeat_complaints"]["customers"]]
        overdue = whole["overdue"]
        values["overdue_total"] = str(overdue["total"])
        values["overdue_ids"] = " ".join(overdue["ids"]) or None
        values["withheld"] = word(lang, "withheld", n=overdue["withheld"]) if overdue["withheld"] else None
        values["overdue_rules"] = [{"name": word(lang, f"rule-s:{rule}"), "count": str(n)}
                                   for rule, n in overdue["by_rule"].items() if n]
        values["not_done"] = whole["visits"]["not_done"]
        findings = whole.get("patrol_findings")
        if findings is not None:
            values["findings"] = {k: str(v) for k, v in findings.items() if k != "open_ids"}
            values["findings"]["open_ids"] = " ".join(findings["open_ids"]) or None
    return values


COMMANDS: list[Any] = [report_group]

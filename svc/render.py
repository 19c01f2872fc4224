"""Turning cases into what people and scripts read. Confidential fields are redacted
here, in one place, for every output (show, list, exports)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any, Iterable

from svc.config import Config
from svc.labels import label
from svc.model import REAL_NAME_KINDS, Case

LIST_KEYS = ("id", "kind", "status", "level", "severity", "branch", "opened_at", "customer", "phone",
             "assignee", "followup_round", "closed_at", "summary")


def redacted(case: Case, reveal: bool) -> dict[str, Any]:
    """The case's fields with the staff/crew complainant hidden unless revealed (保密制度)."""
    fields = dict(case.fields)  # shallow: nested values are replaced, never changed
    if case.kind in REAL_NAME_KINDS and not reveal and "complainant" in fields:
        fields["complainant"] = {"hidden": True}
    return fields


def case_json(case: Case, reveal: bool) -> dict[str, Any]:
    fields = redacted(case, reveal)
    out: dict[str, Any] = {key: fields.get(key) for key in ("id", "kind", "status", "level", "severity", "branch",
                                                             "opened_at", "customer")}
    out.update({k: v for k, v in fields.items() if k not in out})
    out["followup_round"] = case.followup_round
    return out


def list_row(case: Case, reveal: bool) -> dict[str, Any]:
    fields = redacted(case, reveal)
    who = fields.get("customer") or {}
    name = who.get("name")
    phone = who.get("phone")
    if case.kind in REAL_NAME_KINDS:
        person = fields.get("complainant") or {}
        name, phone = (None, None) if person.get("hidden") else (person.get("name"), person.get("contact"))
    return {
        "id": case.id,
        "kind": case.kind,
        "status": case.status,
        "level": case.level,
        "severity": case.severity,
        "branch": case.branch,
        "opened_at": fields["opened_at"],
        "customer": name,
        "phone": phone,
        "assignee": fields.get("assignee"),
        "followup_round": case.followup_round,
        "closed_at": fields.get("closed_at"),
        "summary": fields.get("summary"),
    }


def json_line(item: Any) -> str:
    """One item of a JSON list as `to_json` writes it."""
    return json.dumps(item, ensure_ascii=False)


def to_json(data: Any) -> str:
    """One JSON document. A list is written one item per line: json's C encoder does that
    30 times faster than indenting, and a line per record suits grep and diff as well."""
    if isinstance(data, list):
        if not data:
            return "[]"
        return "[\n" + ",\n".join(map(json_line, data)) + "\n]"
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False)


def to_csv(rows: list[dict[str, Any]], keys: Iterable[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(keys), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in writer.fieldnames})
    return out.getvalue()


def _width(text: str) -> int:
    from wcwidth import wcswidth

    return max(wcswidth(text), len(text))


def _clip(text: str | None, width: int) -> str:
    """Cut text to `width` terminal columns (a Chinese character takes two)."""
    text = (text or "").replace("\n", " ")
    if 2 * len(text) <= width or _width(text) <= width:  # no character is wider than two columns
        return text
    out = ""
    for char in text:
        if _width(out + char) > width - 1:
            break
        out += char
    return out + "…"


def minute(stamp: str | None) -> str | None:
    """A stored time as printed on forms: 2026-11-03 09:30 (office time as stored)."""
    return stamp[:16].replace("T", " ") if stamp else None


def person(config: Config, user_id: str | None) -> str | None:
    """A user's name from svc.yaml, else the ID as recorded."""
    user = config.user(user_id) if user_id else None
    return user.name if user else user_id


def _when(stamp: str | None) -> str:
    return minute(stamp) or ""


def simple_table(body: list[list[str]], heads: list[str]) -> str:
    """The same text as `tabulate(body, headers=heads, tablefmt="simple", disable_numparse=True)`
    for single-line text cells. tabulate works out a type for every cell, which costs
    1.4 s on the 16,000 rows of a busy agenda; text cells need only their widths, and an
    agenda repeats most of its cells (rules, people, branches), so each text is measured
    once. tests/test_table.py holds the two to the same output."""
    from wcwidth import wcswidth

    def width(text: str) -> int:
        w = len(text) if text.isascii() else wcswidth(text)  # ASCII: a column each
        return w if w >= 0 else len(text)  # -1: a control character

    # column by column: each distinct cell is cleaned, measured and padded once, and each
    # cell then found by a lookup (an agenda repeats most of its cells: rules, people, branches)
    columns = list(zip(*body)) if body else [() for _ in heads]
    widths, padded = [], []
    for head, column in zip(heads, columns):
        clean = {raw: "" if raw is None else str(raw).strip() for raw in set(column)}
        measured = {text: width(text) for text in {head, *clean.values()}}
        most = max(measured[head] + 2, *measured.values())
        widths.append(most)
        pad = {raw: text + " " * (most - measured[text]) for raw, text in clean.items()}
        padded.append([head + " " * (most - measured[head]), *[pad[raw] for raw in column]])
    lines = ["  ".join(cells).rstrip() for cells in zip(*padded)]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def list_table(rows: list[dict[str, Any]], config: Config) -> str:
    lang = config.lang
    hidden = label(lang, "hidden")
    body = [
        [
            r["id"],
            label(lang, r["kind"]),
            label(lang, r["status"]),
            label(lang, r["level"]),
            label(lang, r["severity"]),
            config.branch_name(r["branch"]),
            hidden if r["customer"] is None and r["kind"] in REAL_NAME_KINDS else (r["customer"] or ""),
            _when(r["opened_at"]),
            _clip(r["summary"], 36),
        ]
        for r in rows
    ]
    heads = [label(lang, k) for k in ("id", "kind", "status", "level", "severity", "branch_label", "customer",
                                      "opened_at", "summary")]
    return simple_table(body, heads)


def due_table(items: list[Any], config: Config) -> str:
    lang = config.lang
    clipped = {what: _clip(what, 30) for what in {item.what for item in items}}
    branches = {code: config.branch_name(code) for code in {item.branch for item in items}}
    body = [
        [
            "!" if item.overdue else "",
            item.due_at.isoformat(" ", "minutes")[:16],  # %Y-%m-%d %H:%M, cheaper
            item.id,
            clipped[item.what],
            item.rule,
            item.user or "",
            branches[item.branch],
        ]
        for item in items
    ]
    heads = ["", *(label(lang, k) for k in ("due_at", "id", "what", "rule", "user", "branch_label"))]
    return simple_table(body, heads)


def patrol_text(patrol: Any) -> str:
    from tabulate import tabulate

    f = patrol.fields
    lines = [f"{patrol.id}  {f['area']}  {f['patrolled_at'][:16].replace('T', ' ')}  {f['patroller']}", ""]
    lines.append(tabulate([[c["item"], c["result"]] for c in f.get("checklist") or []],
                          headers=["checklist", "result"], tablefmt="simple", disable_numparse=True))
    if patrol.findings:
        lines.append("")
        lines.append(tabulate([[x["no"], x["category"], x["place"], x["description"], x["status"],
                                x.get("route") or "", x.get("case") or x.get("department") or "",
                                (x.get("due") or "")[:16].replace("T", " ")] for x in patrol.findings],
                              headers=["no", "category", "place", "description", "status", "route", "to", "due"],
                              tablefmt="simple", disable_numparse=True))
    return "\n".join(lines)


def patrol_summary_text(figures: dict[str, Any]) -> str:
    lines = [f"{figures['month']}: {figures['patrols']} patrols, {figures['findings']} findings"]
    for category, count in figures["by_category"].items():
        lines.append(f"  {category}: {count}")
    for area, counts in figures["by_area"].items():
        lines.append(f"  {area}: {counts['patrols']} patrols, {counts['findings']} findings")
    for item in figures["open_findings"]:
        lines.append(f"  open: {item['record']} #{item['no']} {item['category']} {item['place']} ({item['status']})")
    return "\n".join(lines)


def event_detail(ev: dict[str, Any], lang: str) -> str:
    action = ev["action"]
    lab = lambda key: label(lang, key)  # noqa: E731
    if action == "open":
        parts = [f"{lab('severity')} {lab(ev['severity'])}", f"{lab('level')} {lab(ev['level'])}"]
        if ev.get("repeat_of"):
            parts.append(f"{lab('repeat_of')} {', '.join(ev['repeat_of'])}")
        if ev.get("reason"):
            parts.append(ev["reason"])
        return "; ".join(parts)
    if action == "escalate":
        text = f"{lab(ev['from'])} → {lab(ev['to'])}: {ev['reason']}"
        return text + (f" ({lab('severity')} {lab(ev['severity'])})" if ev.get("severity") else "")
    if action == "follow-up":
        return f"#{ev['round']} {lab(ev['outcome'])}" + (f": {ev['note']}" if ev.get("note") else "")
    if action == "close":
        extra = f" ({lab('satisfaction')} {ev['satisfaction']}/5)" if ev.get("satisfaction") else ""
        return ev["resolution"] + extra
    if action == "remedy":
        kind = lab("repair-remedy") if ev["type"] == "repair" else lab("compensation")
        parts = [kind, ev.get("category") or "", ev["detail"], f"¥{ev['amount']}" if ev.get("amount") else ""]
        return " ".join(p for p in parts if p)
    if action == "assign":
        return ev["to"]
    if action == "link":
        return ev["to"] + (f": {ev['note']}" if ev.get("note") else "")
    if action == "reopen":
        return ev["reason"]
    if action == "met":
        return ev["rule"] + (f": {ev['note']}" if ev.get("note") else "")
    if action == "defer":
        return f"→ {ev['until']}: {ev['reason']}"
    if action in ("notify", "feedback", "repaired"):
        return " ".join(str(x) for x in (ev.get("to"), ev.get("note")) if x)
    if action == "approve":
        return ev["what"] + (f": {ev['note']}" if ev.get("note") else "")
    if action == "letter":
        return f"{ev['number']} {ev['template']}" + (f" → {ev['recipient']}" if ev.get("recipient") else "")
    return ev.get("text") or ev.get("note") or ""


def deadline_lines(case: Case, now: dt.datetime, lang: str) -> list[str]:
    from svc import deadlines

    return [deadlines.explain(d, now, case.status, lang) for d in deadlines.states(case.fields)]


def show_text(case: Case, config: Config, reveal: bool, now: dt.datetime) -> str:
    from tabulate import tabulate

    lang = config.lang
    fields = redacted(case, reveal)
    lab = lambda key: label(lang, key)  # noqa: E731
    hidden = lab("hidden")
    lines = [
        f"{case.id}  {lab(case.kind)}  [{lab(case.status)}]  "
        f"{lab('level')}: {lab(case.level)}  {lab('severity')}: {lab(case.severity)}"
    ]
    rows: list[tuple[str, str]] = [(lab("opened_at"), _when(fields["opened_at"]) + " " + fields["opened_at"][-6:])]
    if case.branch:
        rows.append((lab("branch_label"), config.branch_name(case.branch)))
    for key in ("channel", "assignee"):
        if fields.get(key):
            rows.append((lab(key), str(fields[key])))
    customer = fields.get("customer") or {}
    if customer:
        rows.append((lab("customer"), "  ".join(str(customer[k]) for k in ("name", "phone", "address") if customer.get(k))))
    person = fields.get("complainant")
    if person:
        shown = hidden if person.get("hidden") else "  ".join(str(person[k]) for k in ("name", "contact") if person.get(k))
        rows.append((lab("complainant"), shown))
    if fields.get("accused"):
        rows.append((lab("accused"), "  ".join(str(v) for v in fields["accused"].values() if v)))
    if fields.get("incident"):
        rows.append((lab("incident"), "  ".join(str(v) for v in fields["incident"].values() if v)))
    project = fields.get("project") or {}
    if project:
        rows.append((lab("project"), "  ".join(f"{lab(k)} {v}" for k, v in project.items() if v)))
    if fields.get("authority"):
        rows.append((lab("authority"), str(fields["authority"])))
    if fields.get("media"):
        rows.append((lab("media"), "  ".join(str(v) for v in fields["media"].values() if v)))
    for key in ("summary", "repeat_of", "links"):
        value = fields.get(key)
        if value:
            rows.append((lab(key), ", ".join(value) if isinstance(value, list) else str(value)))
    if fields.get("remedies"):
        rows.append((lab("remedies"), "; ".join(event_detail({"action": "remedy", **r}, lang) for r in fields["remedies"])))
    if case.followup_round:
        rows.append((lab("followup_round"), str(case.followup_round)))
    if fields.get("resolution"):
        rows.append((lab("resolution"), str(fields["resolution"])))
    if fields.get("satisfaction"):
        rows.append((lab("satisfaction"), f"{fields['satisfaction']}/5"))
    if fields.get("closed_at"):
        rows.append((lab("closed_at"), _when(fields["closed_at"])))
    if fields.get("deferred_until"):
        rows.append((lab("deferred_until"), str(fields["deferred_until"])))
    width = max(_width(k) for k, _ in rows)
    for key, value in rows:
        lines.append(f"  {key}{' ' * (width - _width(key))}  {value}")
    explained = deadline_lines(case, now, lang)
    if explained:
        lines.append("")
        lines.append(f"{lab('deadlines')}:")
        lines.extend(f"  {line}" for line in explained)
    history = [[_when(ev["at"]), ev["by"], lab("a:" + ev["action"]), event_detail(ev, lang)]
               for ev in case.history if ev["action"] != "deadline"]
    lines.append("")
    lines.append(f"{lab('history')}:")
    lines.append(tabulate(history, headers=[lab("at"), lab("by"), lab("action"), lab("detail")],
                          tablefmt="simple", disable_numparse=True))
    return "\n".join(lines)

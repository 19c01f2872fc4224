"""The register as people and scripts read it."""

from __future__ import annotations

from typing import Any, Callable

from svc.config import Config
from svc.letters.register import Entry
from svc.render import minute, person

HEADS = {
    "zh": ("编号", "发文时间", "案件", "文书", "收文单位", "经办人", "签收"),
    "en": ("number", "issued", "case", "letter", "recipient", "issued by", "signed for"),
}


def register_rows(entries: list[Entry], files: Callable[[Entry], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    rows = []
    for entry in entries:
        f = entry.fields
        signed = f.get("signed") or {}
        rows.append({
            "number": f["number"],
            "printed": f["printed"],
            "issued_at": f["issued_at"],
            "issued_by": f["issued_by"],
            "case": f["case"],
            "template": f["template"],
            "title": f["title"],
            "lang": f["lang"],
            "recipient": f["recipient"],
            "revealed": f.get("revealed") == "yes",
            "signed_by": signed.get("by"),
            "signed_at": signed.get("at"),
            "files": files(entry),
        })
    return rows


def register_table(entries: list[Entry], config: Config) -> str:
    from tabulate import tabulate

    lang = config.lang if config.lang in HEADS else "en"
    unsigned = "未签收" if lang == "zh" else "not yet"
    body = []
    for entry in entries:
        f = entry.fields
        signed = f.get("signed")
        body.append([
            f["number"], minute(f["issued_at"]), f["case"], f["title"], f["recipient"],
            person(config, f["issued_by"]),
            f"{signed['by']} {minute(signed['at'])}" if signed else unsigned,
        ])
    return tabulate(body, headers=list(HEADS[lang]), tablefmt="simple", disable_numparse=True)

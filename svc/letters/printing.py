"""Printing records that are not cases (a month's patrol summary, the disposal register)
through the same templates, fonts and renderers as letters."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from svc.config import Config
from svc.errors import SvcError
from svc.letters import context, issue, templates


def formats(choice: str) -> tuple[str, ...]:
    """What a `--print`/`--format` choice writes: `both` is PDF and DOCX."""
    return ("pdf", "docx") if choice == "both" else (choice,)


def print_record(config: Config, store_root: Path, template_name: str, values: dict[str, Any], formats: tuple[str, ...],
                 out_dir: Path, stem: str, now: dt.datetime) -> list[Path]:
    """Render `template_name` with `values` (plus office and letter fields) to files; return them."""
    lang = config.lang
    found = None
    # records' printouts are not case letters: they live apart (an office may override them)
    for folder, source in ((store_root / "templates" / "records" / lang, "store"),
                           (templates.SHIPPED / "records" / lang, "shipped")):
        if (folder / f"{template_name}.txt").is_file():
            found = templates.TemplateFile(template_name, lang, folder / f"{template_name}.txt", source)
            break
    if found is None:
        raise SvcError(f"no template {template_name!r} for {lang}")
    template = templates.load(found)
    letter = context.letter_fields(None, config, lang, now, False, None, None, None)
    letter["number"] = None
    office = {"code": config.office, "name": config.name}
    ctx = {"office": office, "letter": letter, **values}
    wrapped = {key: templates.wrap(key, value) for key, value in ctx.items()}
    document = templates.render(template, wrapped, False, None, config.name)
    body, title = issue._fonts(config)
    issue._check(document, formats, body, title)
    data = issue.render_bytes(document, formats, body, title, now)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt, blob in data.items():
        path = out_dir / f"{stem}.{fmt}"
        issue.write_bytes(path, blob)
        written.append(path)
    return written

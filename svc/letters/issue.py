"""Making letters: drafts, issued letters with their register entry, legal's approval,
and receipts. Commands call these; these call the templates, the renderers and the store.

An issued letter is one change: under the store lock it gets the next outgoing
number, its files are written, and the register entry and the `letter` event on the
case are committed together. Everything that can be refused (an unknown template, a
missing field, a character the font lacks, a missing approval) is checked for every
case of a batch before anything is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from svc import actions, workflow
from svc.actions import Context
from svc.config import Config
from svc.errors import RecordError, RefusedError, SvcError
from svc.letters import context as fields
from svc.letters import fonts, register, templates
from svc.letters.blocks import Document, TemplateError
from svc.model import DIRECTOR_ROLES, Case
from svc.store import Record, Store
from svc.timeutil import stamp

# Letters that legal approves before they go out (发文前须报法务中心批准), by template.
APPROVALS: dict[str, str] = {"formal-letter": "legal"}
# Names the `svc letter` group uses for its own commands: no template can have them.
RESERVED = ("templates", "list", "signed", "render", "help")


@dataclass
class LetterRequest:
    template: str
    case_ids: list[str]
    formats: tuple[str, ...] = ("pdf",)
    out: Path | None = None
    draft: bool = False
    subject: str | None = None
    body: str | None = None
    recipient: str | None = None
    reveal: bool = False


@dataclass
class Made:
    """One letter made: its case, number (None for a draft) and the files written."""

    case_id: str
    number: str | None
    files: list[Path] = field(default_factory=list)


# --- templates --------------------------------------------------------------------------------

def template_for(name: str, config: Config, root: Path) -> templates.Template:
    found = templates.find(name, config.lang, root)
    if found is None or name in RESERVED:
        names = ", ".join(t.name for t in templates.available(config.lang, root) if t.name not in RESERVED)
        raise SvcError(f"unknown template {name!r}; the templates are: {names}")
    return templates.load(found)


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    title: str
    style: str
    about: str | None
    source: str
    path: str
    approval: str | None
    fields: list[str]
    optional: list[str]


def describe_templates(config: Config, root: Path, lang: str | None = None) -> list[TemplateInfo]:
    out: list[TemplateInfo] = []
    for file in templates.available(lang or config.lang, root):
        if file.name in RESERVED:
            continue
        template = templates.load(file)
        uses = templates.fields(template)
        out.append(TemplateInfo(
            file.name, template.meta.title, template.meta.style, template.meta.about, file.source, str(file.path),
            APPROVALS.get(file.name), [u.path for u in uses if not u.optional], [u.path for u in uses if u.optional],
        ))
    return out


# --- the rules ----------------------------------------------------------------------------------

def check_reveal(ctx: Context, reveal: bool) -> None:
    if reveal and ctx.actor.role not in DIRECTOR_ROLES:
        raise RefusedError(f"--reveal is for directors ({', '.join(DIRECTOR_ROLES)}); "
                           f"{ctx.actor.id} is {ctx.actor.role or 'not a declared user'}")


def approval_missing(case: Case, template: str, config: Config) -> str | None:
    """Why `case` may not get an issued `template` letter yet, or None.

    Each approval by a user who holds the approving role covers one letter: it must
    come after the last letter of that template issued on the case."""
    role = APPROVALS.get(template)
    if role is None:
        return None
    approved = False
    for event in case.history:
        if event["action"] == "letter" and event.get("template") == template:
            approved = False
        elif event["action"] == "approve" and event.get("what") == template:
            user = config.user(event["by"])
            if user is not None and user.role == role:
                approved = True
    if approved:
        return None
    return (f"{case.id}: a {template} needs {role}'s approval first (发文前须报法务中心批准): "
            f"a {role} user runs `svc approve {case.id} --what {template}`; until then only --draft works")


def approve(ctx: Context, case_id: str, what: str, note: str | None, at: dt.datetime | None) -> Record:
    role = APPROVALS.get(what)
    if role is None:
        raise RefusedError(f"--what {what!r}: approval is needed only for {', '.join(sorted(APPROVALS))}")
    if ctx.actor.role != role:
        raise RefusedError(f"only {role} approves a {what} (发文前须报法务中心批准); "
                           f"{ctx.actor.id} is {ctx.actor.role or 'not a declared user'}")

    def rule(case: Case, when: dt.datetime) -> list[dict[str, Any]]:
        if case.status == "archived":
            raise RefusedError(f"{case.id} is archived")
        return [workflow.event("approve", when, ctx.actor.id, what=what, note=(note or "").strip() or None)]

    return actions.change_case(ctx, case_id, "approve", at, rule)


# --- making letters -----------------------------------------------------------------------------

def _document(ctx: Context, template: templates.Template, case: Case, request: LetterRequest,
              number: str | None) -> tuple[Document, str]:
    """The letter as blocks, and its recipient (--recipient, else the template's)."""
    config = ctx.store.config
    lang = template.file.lang
    recipient = (request.recipient or "").strip() or None
    letter = fields.letter_fields(number, config, lang, ctx.now, request.draft, request.subject, request.body,
                                  recipient)
    values = fields.build(case, config, lang, request.reveal, ctx.actor.id, ctx.now, letter)
    if recipient is None:
        recipient = templates.recipient(template, values)
        if not recipient:
            raise TemplateError(f"template {template.name}: the recipient is empty; give --recipient")
        letter["recipient"] = recipient
        values["letter"] = templates.wrap("letter", letter)
    return templates.render(template, values, request.draft, number, config.name), recipient


def document_for(ctx: Context, request: LetterRequest, case_id: str, number: str | None = None) -> Document:
    """The letter for one case as blocks, without writing anything (what the files will say)."""
    template = template_for(request.template, ctx.store.config, ctx.store.root)
    return _document(ctx, template, _read(ctx.store, case_id), request, number)[0]


def _fonts(config: Config) -> tuple[fonts.Font, fonts.Font]:
    return fonts.choose(config.letters, "body"), fonts.choose(config.letters, "title")


def _check(document: Document, formats: tuple[str, ...], body: fonts.Font, title: fonts.Font) -> None:
    if "pdf" in formats:
        fonts.check_glyphs(document, body, title)
    else:
        fonts.check_controls(document)


def render_bytes(document: Document, formats: tuple[str, ...], body: fonts.Font, title: fonts.Font,
                 when: dt.datetime) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for fmt in formats:
        if fmt == "pdf":
            from svc.letters.pdf import render_pdf

            out[fmt] = render_pdf(document, body, title)
        else:
            from svc.letters.word import render_docx

            out[fmt] = render_docx(document, body, title, when)
    return out


def make_letters(ctx: Context, request: LetterRequest, cwd: Path) -> Iterator[Made]:
    """Make the letters of `request`, yielding each as its files are written.

    Everything is checked for every case first, so a refusal writes nothing."""
    store = ctx.store
    config = store.config
    template = template_for(request.template, config, store.root)
    check_reveal(ctx, request.reveal)
    if not request.formats:
        raise SvcError("no --format")
    body_font, title_font = _fonts(config)
    ids = [store.resolve(i) for i in request.case_ids]
    if not ids:
        raise SvcError("no case IDs: give them as arguments or with --ids-from -")
    if not request.draft:
        for case_id in ids:
            if ids.count(case_id) > 1:
                raise SvcError(f"{case_id} is given twice; a batch issues one letter per case")
    probe = f"{config.office}/{ctx.now.year:04d}/{store.desk()}000"
    documents: dict[str, Document] = {}
    for case_id in dict.fromkeys(ids):
        try:
            documents[case_id] = _prepare(ctx, template, case_id, request, probe, body_font, title_font)
        except RecordError:
            raise  # already names its file
        except SvcError as exc:
            if len(ids) > 1 and not str(exc).startswith(case_id):
                exc.args = (f"{case_id}: {exc}",)  # which case of the batch
            raise

    for case_id, document in documents.items():
        if request.draft:
            yield _draft(ctx, template, case_id, document, request, request.out or cwd, body_font, title_font)
        else:
            yield _issue(ctx, template, case_id, request, body_font, title_font)


def _prepare(ctx: Context, template: templates.Template, case_id: str, request: LetterRequest, probe: str,
             body_font: fonts.Font, title_font: fonts.Font) -> Document:
    """Everything that can refuse a letter, before anything is written; the draft's document."""
    case = _read(ctx.store, case_id)
    if not request.draft:
        reason = approval_missing(case, template.name, ctx.store.config)
        if reason:
            raise RefusedError(reason)
        if case.status == "archived":
            raise RefusedError(f"{case_id} is archived; an archived case gets no new letters")
        workflow.event_time(case, None, ctx.now)
    document, _ = _document(ctx, template, case, request, None if request.draft else probe)
    _check(document, request.formats, body_font, title_font)
    return document


def _read(store: Store, case_id: str) -> Case:
    """A case read for reading only (libyaml: a letter of a long case does not wait for ruamel)."""
    record, problems = store.parse(store.case_path(case_id), fast=True)
    if record is None:
        first = problems[0]
        raise RecordError(first.path, first.line, first.message)
    return record.case


def _draft(ctx: Context, template: templates.Template, case_id: str, document: Document, request: LetterRequest,
           out: Path, body: fonts.Font, title: fonts.Font) -> Made:
    made = Made(case_id, None)
    for fmt, data in render_bytes(document, request.formats, body, title, ctx.now).items():
        path = out / f"{template.name}-{case_id}-draft.{fmt}"
        write_bytes(path, data, durable=False)
        made.files.append(path)
    return made


def _issue(ctx: Context, template: templates.Template, case_id: str, request: LetterRequest,
           body: fonts.Font, title: fonts.Font) -> Made:
    store = ctx.store
    config = store.config
    with store.locked():
        record = store.load(case_id)
        reason = approval_missing(record.case, template.name, config)
        if reason:
            raise RefusedError(reason)
        workflow.event_time(record.case, None, ctx.now)
        number = register.next_number(store, ctx.now.year)
        entry_path = register.entry_path(store, number)
        if entry_path.exists():
            raise SvcError(f"{store.shown(entry_path)} exists already; run svc check")
        document, recipient = _document(ctx, template, record.case, request, number)
        _check(document, request.formats, body, title)
        rendered = render_bytes(document, request.formats, body, title, ctx.now)
        out = request.out or store.root / "letters" / f"{ctx.now.year:04d}"
        stem = f"{number.replace('/', '-')}-{template.name}-{case_id}"
        targets = {fmt: out / f"{stem}.{fmt}" for fmt in rendered}
        for path in targets.values():
            if path.exists():
                raise SvcError(f"{store.shown(path)} exists already; an issued letter is never overwritten")
        event = workflow.event("letter", ctx.now, ctx.actor.id, template=template.name, number=number,
                               recipient=recipient)
        entry = {
            "number": number,
            "printed": fields.display_number(number, config, template.file.lang),
            "issued_at": stamp(ctx.now),
            "issued_by": ctx.actor.id,
            "case": case_id,
            "template": template.name,
            "title": document.title,
            "lang": template.file.lang,
            "recipient": recipient,
            "revealed": "yes" if request.reveal else None,
            "files": [{"path": _stored_path(store.root, targets[fmt]), "sha256": hashlib.sha256(data).hexdigest()}
                      for fmt, data in rendered.items()],
        }
        # as any case change: a handling notice starts the branch's feedback clock, as `svc notify` does
        events, changes = actions.case_changes(ctx, record, [event], ctx.now)
        message = actions.commit_message("letter", case_id, events, ctx.actor) + f"Svc-Letter: {number}\n"
        # The letter's files, its register entry and the case's event are one write: the files
        # are in its intent, so a letter interrupted at any moment is either whole (files,
        # entry, commit) or not there at all, and its number is free only when nothing has it.
        written = [targets[fmt] for fmt in rendered]
        store.write({**changes, entry_path: register.entry_text(entry)}, message, ctx.actor, event["at"],
                    added={targets[fmt]: data for fmt, data in rendered.items()})
    return Made(case_id, number, written)


def _stored_path(root: Path, path: Path) -> str:
    absolute = path.absolute()
    try:
        return absolute.relative_to(root.absolute()).as_posix()
    except ValueError:
        return str(absolute)


def write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """Replace `path` with `data` atomically. A draft, which can be made again at any time,
    skips the fsync (`durable=False`): still never half a file."""
    from svc.yamlio import write_atomic

    write_atomic(path, data, durable)


# --- receipts --------------------------------------------------------------------------------------

def sign(ctx: Context, number: str, by: str, at: dt.datetime | None) -> register.Entry:
    store = ctx.store
    name = by.strip()
    if not name:
        raise RefusedError("--by must name who signed for the letter")
    moment = at or ctx.now
    if moment > ctx.now:
        raise RefusedError(f"--at {stamp(moment)} is in the future (now is {stamp(ctx.now)})")
    with store.locked():
        entry = register.find(store, number)
        if entry.fields.get("signed"):
            signed = entry.fields["signed"]
            raise RefusedError(f"{entry.number} was signed for already, by {signed['by']} at {signed['at']}")
        issued = dt.datetime.fromisoformat(entry.fields["issued_at"])
        if moment < issued:
            raise RefusedError(f"--at {stamp(moment)} is before the letter was issued ({entry.fields['issued_at']})")
        text = register.signed_fields(entry, name, moment, ctx.actor.id)
        role = f", {ctx.actor.role}" if ctx.actor.role else ""
        message = (f"letter {entry.number} signed for by {name}\n\n"
                   f"by {ctx.actor.name} ({ctx.actor.id}{role}) at {stamp(ctx.now)}\n\n"
                   f"Svc-Action: letter-signed\nSvc-Record: {entry.fields['case']}\nSvc-Letter: {entry.number}\n"
                   f"Svc-User: {ctx.actor.id}\n")
        store.write({entry.path: text}, message, ctx.actor, stamp(moment))
    return register.find(store, entry.number)


def verify_files(store_root: Path, entry: register.Entry) -> list[dict[str, Any]]:
    """Each registered file with whether the copy on disk still has its sha256."""
    out = []
    for item in entry.fields["files"]:
        path = Path(item["path"])
        path = path if path.is_absolute() else store_root / path
        state = "missing"
        if path.is_file():
            state = "ok" if hashlib.sha256(path.read_bytes()).hexdigest() == item["sha256"] else "changed"
        out.append({**item, "state": state})
    return out


__all__ = ["LetterRequest", "Made", "make_letters", "approve", "sign", "describe_templates", "TemplateError"]

"""Letter commands: `svc letter TEMPLATE ID...`, `svc letter templates|list|signed`, and
`svc approve` (legal's approval of a formal letter)."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from svc.env import Env
from svc.options import at_option, format_option, reveal_option
from svc.render import to_json

pass_env = click.make_pass_decorator(Env)


class LetterGroup(click.Group):
    """`svc letter TEMPLATE ID...` renders; `svc letter templates|list|signed` are commands.

    A first word that is not one of the commands is a template name, handed with the
    rest to `render` (so `svc letter urging-notice C2611-A001` is
    `svc letter render urging-notice C2611-A001`)."""

    def resolve_command(self, ctx: click.Context,
                        args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            return "render", self.commands["render"], args
        return super().resolve_command(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "TEMPLATE ID... [OPTIONS]")
        formatter.write_usage(ctx.command_path, "COMMAND [ARGS]...", prefix="       ")


@click.group("letter", cls=LetterGroup, context_settings={"ignore_unknown_options": True})
def letter_group() -> None:
    """Official letters and forms (发文) as PDF and DOCX, and the outgoing-letter register.

    `svc letter TEMPLATE ID...` makes one letter per case (see `svc letter render --help`);
    the commands below list the templates, show the register and record receipts.

    \b
    Example:
      svc letter templates
      svc letter urging-notice C2611-A001                  # issued: numbered and registered
      svc letter handling-notice A001 --format both --draft
      svc list --format ids | svc letter visit-record --ids-from - --draft --out /tmp/records
      svc letter list
      svc letter signed BJ01/2026/A001 --by 赵刚
    """


@letter_group.command("render")
@click.argument("template")
@click.argument("case_ids", metavar="ID...", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(("pdf", "docx", "both")), default="pdf", show_default=True,
              help="What to write.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Where to write (default: <store>/letters/YEAR/ when issued, the current folder for drafts).")
@click.option("--draft", is_flag=True, help="A draft: marked 草稿/DRAFT on every page, not numbered, not registered.")
@click.option("--ids-from", "ids_from", type=click.File("r"), metavar="FILE",
              help="Read more case IDs from FILE, one per line ('-' for standard input).")
@click.option("--subject", metavar="TEXT", help="formal-letter: the subject, the …… of 《关于……的函》.")
@click.option("--body", metavar="TEXT", help="formal-letter: the text; each line is a paragraph.")
@click.option("--body-file", type=click.File("r", encoding="utf-8"), metavar="PATH",
              help="formal-letter: read the text from a file ('-' for standard input).")
@click.option("--recipient", metavar="NAME", help="Who it is addressed to (default: the template's, e.g. the branch).")
@reveal_option
@pass_env
def render_cmd(env: Env, template: str, case_ids: tuple[str, ...], fmt: str, out: Path | None, draft: bool,
               ids_from: Any, subject: str | None, body: str | None, body_file: Any, recipient: str | None,
               reveal: bool) -> None:
    """Make TEMPLATE for each case ID and print the path of each file written.

    An issued letter (without --draft) gets the next outgoing number, an entry in the
    register (`svc letter list`) and a `letter` event on its case, in one commit. A
    formal-letter is issued only after legal's approval (`svc approve ID --what
    formal-letter`). A missing field, a character the font cannot print or a missing
    approval stops the whole batch before anything is written.

    \b
    Example:
      svc letter urging-notice C2611-A001
      svc letter formal-letter A001 --subject 卫生间漏水维修事宜 --body-file letter.txt --draft
      svc list --kind repair --format ids | svc letter work-order --ids-from - --format both
    """
    from svc.letters import issue

    if body is not None and body_file is not None:
        raise click.UsageError("give --body or --body-file, not both")
    if ids_from is not None and body_file is not None and ids_from.name == body_file.name == "<stdin>":
        raise click.UsageError("--ids-from - and --body-file - cannot both read standard input")
    if body_file is not None:
        body = body_file.read()
    ids = list(case_ids)
    if ids_from is not None:
        ids += [line.strip() for line in ids_from if line.strip() and not line.lstrip().startswith("#")]
    formats = ("pdf", "docx") if fmt == "both" else (fmt,)
    request = issue.LetterRequest(template, ids, formats, out, draft, subject, body, recipient, reveal)
    ctx = env.context()
    made = issue.make_letters(ctx, request, env.cwd)
    count = len(dict.fromkeys(ids))
    if count > 1 and sys.stderr.isatty():
        with click.progressbar(length=count, label="letters", file=sys.stderr) as bar:
            for letter in made:
                _print_files(ctx.store, letter.files)
                bar.update(1)
    else:
        for letter in made:
            _print_files(ctx.store, letter.files)


def _print_files(store: Any, files: list[Path]) -> None:
    for path in files:
        click.echo(store.shown(path))


@letter_group.command("templates")
@format_option("table", "json", default="table")
@click.option("--lang", type=click.Choice(("zh", "en")), help="The templates of this language (default: the store's).")
@pass_env
def templates_cmd(env: Env, fmt: str, lang: str | None) -> None:
    """List the templates with the fields each needs.

    A store overrides a shipped template, or adds its own, with a file of the same name
    in <store>/templates/<lang>/ (see the README, Letters).

    \b
    Example:
      svc letter templates
      svc letter templates --format json | jq '.[].name'
    """
    from svc.letters import issue

    store = env.store()
    infos = issue.describe_templates(store.config, store.root, lang)
    if fmt == "json":
        click.echo(to_json([asdict(info) for info in infos]))
        return
    for info in infos:
        source = "store" if info.source == "store" else "shipped"
        approval = f", needs {info.approval}'s approval" if info.approval else ""
        click.echo(f"{info.name}  {info.title}  ({info.style}, {source}{approval})")
        if info.about:
            click.echo(f"    {info.about}")
        click.echo(f"    needs: {', '.join(info.fields) or '-'}")
        if info.optional:
            click.echo(f"    optional: {', '.join(info.optional)}")


@letter_group.command("list")
@format_option("table", "json", default="table")
@click.option("--case", "case_id", metavar="ID", help="Only the letters of this case.")
@click.option("--unsigned", is_flag=True, help="Only letters nobody has signed for yet.")
@pass_env
def list_cmd(env: Env, fmt: str, case_id: str | None, unsigned: bool) -> None:
    """The outgoing-letter register (发文登记), oldest first.

    JSON also says, for each file, whether the copy on disk still has the registered
    sha256 (state: ok, changed or missing).

    \b
    Example:
      svc letter list
      svc letter list --unsigned --format json
    """
    from svc.letters import issue, register
    from svc.letters.views import register_rows, register_table

    store = env.store()
    problems: list[Any] = []
    entries = register.entries(store, problems)
    if case_id:
        wanted = store.resolve(case_id)
        entries = [e for e in entries if e.fields["case"] == wanted]
    if unsigned:
        entries = [e for e in entries if not e.fields.get("signed")]
    if fmt == "json":
        rows = register_rows(entries, lambda e: issue.verify_files(store.root, e))
        click.echo(to_json(rows))
    elif entries:
        click.echo(register_table(entries, store.config))
    for problem in problems:
        click.echo(f"svc: {problem}", err=True)
    if problems:
        raise click.exceptions.Exit(1)


@letter_group.command("signed")
@click.argument("number")
@click.option("--by", "by", required=True, metavar="NAME", help="Who signed for it (签收人).")
@at_option
@pass_env
def signed_cmd(env: Env, number: str, by: str, at: str | None) -> None:
    """Record that an issued letter was signed for (签收).

    NUMBER is the register number (BJ01/2026/A001), as printed (BJ01〔2026〕A001号), or a
    unique ending (A001).

    \b
    Example:
      svc letter signed BJ01/2026/A001 --by 赵刚
      svc letter signed A001 --by 赵刚 --at 2026-11-06T10:00
    """
    from svc.letters import issue

    ctx = env.context()
    entry = issue.sign(ctx, number, by, env.parse_at(at))
    click.echo(f"{entry.number}: signed for by {entry.fields['signed']['by']}", err=True)


@click.command("approve")
@click.argument("case_id", metavar="ID")
@click.option("--what", required=True, metavar="TEMPLATE", help="What is approved: formal-letter.")
@click.option("--note", metavar="TEXT", help="Legal's remarks.")
@at_option
@pass_env
def approve_cmd(env: Env, case_id: str, what: str, note: str | None, at: str | None) -> None:
    """Legal's approval of an outgoing letter on a case (发文前须报法务中心批准).

    Only a user whose role is legal may approve; each approval covers the next letter
    of that kind issued on the case.

    \b
    Example:
      svc --as sunlv approve C2611-A001 --what formal-letter --note "同意发函"
    """
    from svc.letters import issue

    ctx = env.context()
    record = issue.approve(ctx, case_id, what, note, env.parse_at(at))
    click.echo(f"{record.case.id}: {what} approved", err=True)


COMMANDS = [letter_group, approve_cmd]

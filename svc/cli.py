"""The root group: global options, and the ONE place where errors become messages
and exit codes (CONTRACT.md, "Exit codes")."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from svc import __version__, boot
from svc.env import Env
from svc.errors import SvcError


class SvcGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_MODULE_OF)  # in the order of COMMAND_MODULES: the order of the help

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return _load(cmd_name)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:  # the root group sees every word of the command line
            from svc import argcheck

            found = argcheck.first_bad(args, os.environ)
            if found is not None:
                explicit = boot._command(args)[1] or os.environ.get("SVC_STORE") or None
                lang = argcheck.store_lang(explicit, os.getcwd())
                click.echo(f"svc: {argcheck.message(found, lang)}", err=True)
                ctx.exit(2)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SvcError as exc:
            click.echo(f"svc: {exc.said(_lang(ctx) if exc.zh else None)}", err=True)
            ctx.exit(exc.exit_code)
        except BrokenPipeError:  # `svc list | head`: the reader has all it wanted
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(0)
        except KeyboardInterrupt:
            click.echo("svc: interrupted; nothing half-written", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except OSError as exc:
            if os.environ.get("SVC_DEBUG"):
                raise
            where = f" ({exc.filename})" if exc.filename else ""
            click.echo(f"svc: {exc.strerror or exc}{where}", err=True)
            ctx.exit(1)
        except Exception as exc:  # a bug: say so in one line, keep the traceback for SVC_DEBUG=1
            if os.environ.get("SVC_DEBUG"):
                raise
            click.echo(f"svc: internal error: {type(exc).__name__}: {exc} (run with SVC_DEBUG=1 for details)", err=True)
            ctx.exit(1)


def _lang(ctx: click.Context) -> str | None:
    """The store's language for a message: from its config when it was read, else
    read for the purpose (an option can fail before the command opens the store)."""
    env = ctx.obj
    store = getattr(env, "_store", None)
    if store is not None:
        return store.config.lang
    from svc import argcheck

    return argcheck.store_lang(getattr(env, "store_path", None), os.getcwd())


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=SvcGroup, context_settings=CONTEXT)
@click.option("--store", "store_path", envvar="SVC_STORE", metavar="PATH",
              help="The store (default: SVC_STORE, else the nearest folder with svc.yaml at or above here).")
@click.option("--as", "as_user", envvar="SVC_USER", metavar="USER",
              help="Who is acting (default: SVC_USER); recorded in every event.")
@click.option("--wait", type=float, default=5.0, show_default=True, metavar="SECONDS",
              help="How long to wait for a busy store before giving up with exit 75.")
@click.version_option(__version__, prog_name="svc")
@click.pass_context
def cli(ctx: click.Context, store_path: str | None, as_user: str | None, wait: float) -> None:
    """svc: cases, follow-ups and records of a customer-service center, kept as YAML files in git.

    \b
    Example:
      svc init office --office BJ01 --name "示例客服中心"
      cd office && export SVC_USER=wangfang
      id=$(svc open complaint --customer 张三 --phone 13800138000 --summary "卫生间漏水")
      svc follow-up "$id" --outcome unsatisfied
      svc list --format json

    The clock is SVC_NOW when set (ISO 8601), so replays and imports are deterministic.
    """
    ctx.obj = Env(store_path, as_user, wait, os.environ.get("SVC_NOW") or None, Path.cwd())


# Which module defines each command. A command's module is imported only when it runs,
# so `svc list` does not pay for the letters, patrols or sync code (start-up is most of a
# small command's time). tests/test_startup.py checks this table against the modules.
COMMAND_MODULES = {
    "store": ("init", "check", "archive"),
    "cases": ("open", "show", "note", "assign", "escalate", "follow-up", "close", "reopen", "remedy",
              "link", "met", "notify", "feedback", "repaired", "defer"),
    "listing": ("list",),
    "due": ("due",),
    "projects": ("project", "visit"),
    "patrols": ("patrol", "hold", "retention"),
    "letters": ("letter", "approve"),
    "history": ("setup", "sync", "merge-file", "log"),
    "hooks": ("hook",),

    "report": ("report",),
    "duty": ("duty", "handover"),
}
_MODULE_OF = {name: module for module, names in COMMAND_MODULES.items() for name in names}


def _load(name: str) -> click.Command | None:
    module_name = _MODULE_OF.get(name)
    if module_name is None:
        return None
    import importlib

    module = importlib.import_module(f"svc.commands.{module_name}")
    return next(command for command in module.COMMANDS if command.name == name)


def main() -> None:
    cli(prog_name="svc")


if __name__ == "__main__":
    sys.exit(main())

"""Many clones, one history: svc setup, svc sync, svc log, and the merge driver."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from svc import render
from svc.env import Env
from svc.errors import RecordError
from svc.options import format_option
from svc.store import CASES, kind_of

pass_env = click.make_pass_decorator(Env)


@click.command("setup")
@click.option("--desk", metavar="LETTERS", help="This clone's desk letter(s) for new IDs: one no other clone uses.")
@pass_env
def setup_cmd(env: Env, desk: str | None) -> None:
    """Set up a clone: register the record merge driver, and give it a desk letter.

    Every clone of a store needs this once (svc init does it for the first one).

    \b
    Example:
      git clone office-remote:records.git office && cd office
      svc setup --desk B
    """
    from svc import sync

    for line in sync.setup(env.store(), desk):
        click.echo(f"svc: {line}", err=True)


@click.command("sync")
@click.option("--remote", default="origin", show_default=True)
@click.option("--branch", help="Default: the current branch.")
@pass_env
def sync_cmd(env: Env, remote: str, branch: str | None) -> None:
    """Pull (rebasing, merging records through the driver) and push, retrying if the remote moved.

    \b
    Example:
      svc sync                  # from cron: every 10 minutes on each desk
    """
    from svc import sync

    store = env.store()
    with store.locked():
        for line in sync.sync(store, remote, branch, now=env.now(store.config.tz)):
            click.echo(f"svc: {line}", err=True)


@click.command("merge-file", hidden=True)
@click.argument("base", type=click.Path(path_type=Path))
@click.argument("ours", type=click.Path(path_type=Path))
@click.argument("theirs", type=click.Path(path_type=Path))
@click.argument("path")
def merge_file_cmd(base: Path, ours: Path, theirs: Path, path: str) -> None:
    """Git merge driver for record files (git calls it; see svc setup).

    \b
    Example (what .git/config holds):
      [merge "svc"]
        driver = python -m svc merge-file %O %A %B %P
    """
    from svc import merge, yamlio

    try:
        text, conflicts = merge.merge_texts(base.read_text(encoding="utf-8"), ours.read_text(encoding="utf-8"),
                                            theirs.read_text(encoding="utf-8"), path, _store_lang())
    except RecordError as exc:
        click.echo(f"svc merge: {exc}", err=True)
        sys.exit(1)
    yamlio.write_atomic(ours, text)
    for line in conflicts:
        click.echo(f"svc merge: {path}: {line}", err=True)


def _store_lang() -> str:
    """The language of the store git runs the driver in (its top folder), for what it says."""
    from svc import boot
    from svc.config import load_config

    root = boot.store_root(None, str(Path.cwd()))
    try:
        return load_config(Path(root)).lang if root else "en"
    except Exception:  # an unreadable svc.yaml: svc check words it; the driver still merges
        return "en"


@click.command("log")
@click.argument("record_id", metavar="ID")
@format_option("text", "json", default="text")
@pass_env
def log_cmd(env: Env, record_id: str, fmt: str) -> None:
    """A record's history as git commits: who, when, and which events each added.

    \b
    Example:
      svc log C2611-A001
    """
    from svc import sync

    store = env.store()
    kind = kind_of(record_id) or CASES
    path = store.path_of(store.resolve(record_id, kind), kind)
    entries = sync.log(store, path)
    if fmt == "json":
        click.echo(render.to_json([{"commit": e.commit, "author": e.author, "date": e.date, "subject": e.subject,
                                    "events": e.events} for e in entries]))
        return
    for e in entries:
        click.echo(f"{e.commit[:10]}  {e.date[:16].replace('T', ' ')}  {e.author}  {e.subject}")
        for ev in e.events:
            click.echo(f"    + {ev.get('at', '')[:16].replace('T', ' ')}  {ev.get('by')}  {ev.get('action')}")


COMMANDS = [setup_cmd, sync_cmd, merge_file_cmd, log_cmd]

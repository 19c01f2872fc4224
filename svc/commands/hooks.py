"""svc hook: the git hooks svc ships, and installing them."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from svc.env import Env
from svc.errors import ProblemsFound, SvcError

pass_env = click.make_pass_decorator(Env)


@click.group("hook")
def hook_cmd() -> None:
    """The git hooks that refuse altered records (记录不得涂改), and installing them.

    svc init and svc setup install the pre-commit hook in a clone; the shared repository's
    pre-receive hook is installed once, on the server, with `svc hook install --server`.

    \b
    Example:
      svc hook install                          # this clone's pre-commit hook
      svc hook install --server /srv/git/records.git
    """


@hook_cmd.command("install")
@click.option("--server", "server", type=click.Path(path_type=Path), metavar="BARE-REPO",
              help="Install the pre-receive hook in the shared bare repository instead.")
@pass_env
def install_cmd(env: Env, server: Path | None) -> None:
    """Install the pre-commit hook in this clone (or, with --server, the pre-receive hook).

    A hook already there that is not svc's is left alone: add `svc hook NAME` to it.
    The server hook also refuses pushes that are not fast-forwards and branch deletions.

    \b
    Example:
      svc hook install --server /srv/git/records.git
    """
    from svc import hooks

    if server is not None:
        click.echo(f"svc: {hooks.install_server(server)}", err=True)
        return
    store = env.store()
    if store.git is None:
        raise SvcError("this store is not a git repository; there is nothing for a hook to guard")
    click.echo(f"svc: {hooks.install(store.git, 'pre-commit')}", err=True)


@hook_cmd.command("pre-commit")
def pre_commit_cmd() -> None:
    """What the pre-commit hook runs: refuse a commit that alters records (git calls it).

    \b
    Example:
      svc hook pre-commit        # in a clone, with changes staged
    """
    from svc import audit
    from svc.gitrepo import Git

    top = Git(Path.cwd()).run("rev-parse", "--show-toplevel").stdout.strip()
    findings = audit.audit_staged(Git(Path(top)))
    for finding in findings:
        click.echo(str(finding.problem()), err=True)
    if findings:
        raise ProblemsFound(f"commit refused: {len(findings)} change{'s' if len(findings) != 1 else ''} to "
                            "records that are not allowed (记录不得涂改); see above")


@hook_cmd.command("pre-receive")
def pre_receive_cmd() -> None:
    """What the server's pre-receive hook runs: refuse a push that alters records (git calls it).

    \b
    Example:
      echo "$old $new refs/heads/main" | svc hook pre-receive
    """
    from svc import audit
    from svc.gitrepo import Git

    updates = []
    for line in sys.stdin.read().splitlines():
        parts = line.split()
        if len(parts) == 3:
            updates.append((parts[0], parts[1], parts[2]))
    refusals = audit.pre_receive(Git(Path.cwd()), updates)
    for line in refusals:
        click.echo(line, err=True)
    if refusals:
        raise ProblemsFound("push refused: records were altered or history rewritten (记录不得涂改); see above")


COMMANDS = [hook_cmd]

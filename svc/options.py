"""Options shared by several commands, declared once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import click

if TYPE_CHECKING:
    from svc.env import Env

F = Callable[..., Any]


def at_option(f: F) -> F:
    return click.option(
        "--at", "at", metavar="TIME",
        help="When it happened, if not now (ISO 8601, office time unless an offset is given).",
    )(f)


def reveal_option(f: F) -> F:
    return click.option(
        "--reveal", is_flag=True,
        help="Show the complainant of staff/crew complaints (directors only: cs-director, center-director, legal).",
    )(f)


def format_option(*choices: str, default: str) -> Callable[[F], F]:
    def wrap(f: F) -> F:
        return click.option(
            "--format", "fmt", type=click.Choice(choices), default=default, show_default=True,
            help="Output format: tables are for people, json/csv/ids for scripts.",
        )(f)

    return wrap


def reveal_allowed(env: Env, reveal: bool) -> bool:
    """--reveal, refused unless the acting user is a director."""
    if not reveal:
        return False
    from svc.actions import resolve_actor
    from svc.errors import RefusedError
    from svc.model import DIRECTOR_ROLES

    actor = resolve_actor(env.store(), env.as_user)
    if actor.role not in DIRECTOR_ROLES:
        who = actor.role or "not a declared user"
        raise RefusedError(f"--reveal is for directors ({', '.join(DIRECTOR_ROLES)}); {actor.id} is {who}")
    return True

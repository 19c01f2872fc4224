"""Errors raised by the core. The CLI root group is the one place that turns them
into a message on stderr and an exit code (see CONTRACT.md, "Exit codes")."""

from __future__ import annotations

from typing import TypeVar

E = TypeVar("E", bound="SvcError")


class SvcError(Exception):
    """An error or refusal explained to the user; nothing was changed. `zh`, when set,
    is the same message in Chinese: the CLI shows it to a store whose lang is zh."""

    exit_code = 1
    zh: str | None = None

    def said(self, lang: str | None) -> str:
        return self.zh if lang == "zh" and self.zh else str(self)


def in_chinese(error: E, zh: str) -> E:
    """`error`, carrying its message in Chinese too."""
    error.zh = zh
    return error


class RefusedError(SvcError):
    """A rule of the office refused the action (real-name rule, ladder, remedies...)."""


class NotFoundError(SvcError):
    """No such record, or an ID that matches more than one record."""

    exit_code = 4


class LockedError(SvcError):
    """Another process holds the store lock; cron may retry."""

    exit_code = 75


class ProblemsFound(SvcError):
    """A verifying command found problems; they have been listed already."""

    exit_code = 3


class RecordError(SvcError):
    """A record or config file that cannot be read: always `path:line: message`."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")

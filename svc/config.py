"""svc.yaml: the office's configuration, validated once and frozen."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from svc import boot
from svc import schema as s
from svc.calendar import CALENDAR_SPEC, CalendarSettings, WorkCalendar, calendar_settings, check_calendar, load_calendar
from svc.errors import RecordError, RefusedError, SvcError, in_chinese
from svc.letters.settings import LETTERS_SPEC, LetterSettings, check_letters, letter_settings
from svc.model import ROLES
from svc.timeutil import zone

CONFIG_NAME = boot.CONFIG_NAME  # "svc.yaml"

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _code(value: Any) -> str | None:
    return None if _CODE.match(str(value)) else "must be letters, digits, '.', '_' or '-'"


CONFIG_SPEC = s.mapping(
    {
        "office": s.text(True, check=_code),
        "name": s.text(),
        "lang": s.enum(("zh", "en")),
        "timezone": s.text(),
        "users": s.keyed(
            s.mapping({"name": s.text(True), "role": s.enum(ROLES, True), "email": s.text(), "phone": s.text()})
        ),
        "branches": s.keyed(s.mapping({"name": s.text(True), "manager": s.text(), "phone": s.text()})),
        "calendar": CALENDAR_SPEC,  # working days, hours, holidays: see svc/calendar.py
        # how long records are kept, in months (patrol records: at least 24, the regulation)
        "retention": s.mapping({"patrol_months": s.integer(False, 0, 1200)}),
        # the office's own patrol checklist (default: DOMAIN.md's list in svc/patrols.py)
        "patrol": s.mapping({"checklist": s.seq(s.text(True))}),
        "letters": LETTERS_SPEC,  # the office's fonts and issuing code: see svc/letters/settings.py
    }
)


@dataclass(frozen=True)
class User:
    id: str
    name: str
    role: str
    email: str | None = None


@dataclass(frozen=True)
class Branch:
    code: str
    name: str
    manager: str | None = None


@dataclass(frozen=True)
class Config:
    office: str
    name: str
    lang: str = "zh"
    timezone: str = "Asia/Shanghai"
    users: Mapping[str, User] = field(default_factory=lambda: MappingProxyType({}))
    branches: Mapping[str, Branch] = field(default_factory=lambda: MappingProxyType({}))
    calendar_settings: CalendarSettings = field(default_factory=CalendarSettings)
    patrol_retention_months: int = 24
    patrol_checklist: tuple[str, ...] = ()
    letters: LetterSettings = field(default_factory=LetterSettings)
    local_dir: str | None = field(default=None, compare=False)  # the store's .svc/, for caches

    @property
    def tz(self) -> Any:
        return zone(self.timezone)

    @cached_property
    def calendar(self) -> WorkCalendar:
        """The working calendar, built on first use: only commands that compute deadlines
        pay for reading the shipped official calendar (and then once per process)."""
        return load_calendar(self.calendar_settings, self.tz, self.local_dir)

    def user(self, user_id: str) -> User | None:
        return self.users.get(user_id)

    def check_user(self, user: str) -> None:
        """Refuse a user svc.yaml does not declare (when it declares any)."""
        if self.users and user not in self.users:
            raise RefusedError(f"unknown user {user!r}; svc.yaml declares: {', '.join(sorted(self.users))}")

    def check_branch(self, branch: str | None) -> None:
        """Refuse a branch svc.yaml does not declare (when it declares any)."""
        if branch and self.branches and branch not in self.branches:
            raise RefusedError(f"unknown branch {branch!r}; svc.yaml declares: {', '.join(sorted(self.branches))}")

    def branch_name(self, code: str | None) -> str:
        if not code:
            return ""
        branch = self.branches.get(code)
        return branch.name if branch else code


def _given(value: Any, default: Any) -> Any:
    """The value when set (0 included), else the default."""
    return default if value is None else value


def parse_config(node: Any, path: str, local_dir: str | None = None) -> Config:
    """The validated configuration; `local_dir` is the store's .svc/ folder, where a
    parsed official calendar may be kept."""
    problems = s.check_root(node, CONFIG_SPEC, path)
    if not problems and node.get("timezone"):
        try:
            zone(str(node["timezone"]))
        except SvcError as exc:
            problems.append(s.Problem(path, s.line_of(node, "timezone"), str(exc)))
    if not problems and node.get("calendar") is not None:
        problems += check_calendar(node["calendar"], path)
    if not problems and node.get("letters") is not None:
        problems += check_letters(node["letters"], path)
    if problems:
        first = problems[0]
        raise RecordError(first.path, first.line, first.message)
    users = {
        str(uid): User(str(uid), str(u["name"]), str(u["role"]), u.get("email"))
        for uid, u in (node.get("users") or {}).items()
    }
    branches = {
        str(code): Branch(str(code), str(b["name"]), b.get("manager"))
        for code, b in (node.get("branches") or {}).items()
    }
    return Config(
        office=str(node["office"]),
        name=str(node.get("name") or node["office"]),
        lang=str(node.get("lang") or "zh"),
        timezone=str(node.get("timezone") or "Asia/Shanghai"),
        users=MappingProxyType(users),
        branches=MappingProxyType(branches),
        calendar_settings=calendar_settings(node.get("calendar")),
        patrol_retention_months=int(_given((node.get("retention") or {}).get("patrol_months"), 24)),
        patrol_checklist=tuple(str(i) for i in (node.get("patrol") or {}).get("checklist") or ()),
        letters=letter_settings(node.get("letters"), path),
        local_dir=local_dir,
    )


def load_config(root: Path) -> Config:
    """The store's svc.yaml, read fast (every command reads it); a file with a problem is
    read again round-trip so the message carries its line."""
    from svc import filecache

    path = root / CONFIG_NAME
    if os.path.islink(path):  # the office's rules would live outside the store, unseen by its history
        raise in_chinese(RecordError(str(path), None, "is a symbolic link; svc reads no links in the store: "
                                                      "put the file itself there"),
                         f"{path}: 是符号链接；svc 不读取仓库中的链接，请放入文件本身")
    local = os.path.join(root, LOCAL_DIR)
    cache = os.path.join(local, _CONFIG_CACHE)
    stamp = filecache.stamp_of(str(path))
    cached = filecache.cached(cache, stamp)
    if cached is not None:
        return parse_config(cached, str(path), local)
    from svc import yamlio

    try:
        node = yamlio.loads_fast(path.read_text(encoding="utf-8"), str(path))
        blob = filecache.dumps(stamp, node) if stamp is not None else None  # before parse_config converts numbers
        config = parse_config(node, str(path), local)
    except (RecordError, UnicodeDecodeError, OSError, AttributeError, TypeError):
        return parse_config(yamlio.load_file(path, str(path)), str(path), local)
    if blob is not None and stamp is not None:  # None: read round-trip (ruamel's types), not cached
        filecache.keep(cache, stamp, blob)
    return config


# svc.yaml as last read, kept in .svc/ (svc/filecache.py)
_CONFIG_CACHE = "config.marshal"
LOCAL_DIR = boot.LOCAL_DIR  # where caches are kept

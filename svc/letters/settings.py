"""The `letters:` section of svc.yaml: the office's own fonts and its issuing code.

    letters:
      code: 京安客服函                 # printed in outgoing numbers: 京安客服函〔2026〕A001号
      fonts:
        body: {path: fonts/simfang.ttf}                  # 仿宋, relative to the store
        title: {path: /usr/share/fonts/xbs.ttc, index: 0, name: 方正小标宋简体}

Validated here (types, unknown keys, a TrueType file name); the files themselves are
read only when a letter is rendered, so a missing font never stops `svc list`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from svc import schema as s
from svc.schema import line_of

FONT_ROLES = ("body", "title")
FONT_SUFFIXES = (".ttf", ".ttc", ".otf", ".otc")

_FONT_SPEC = s.mapping({"path": s.text(True), "index": s.integer(False, 0, 255), "name": s.text()})
LETTERS_SPEC = s.mapping(
    {
        "code": s.text(),
        "fonts": s.mapping({role: _FONT_SPEC for role in FONT_ROLES}),
    }
)


@dataclass(frozen=True)
class FontFile:
    """A font the office configured: a file (a face `index` inside a .ttc collection),
    and optionally the family name DOCX files should ask Word for."""

    role: str
    path: Path
    index: int = 0
    name: str | None = None
    where: str = "svc.yaml"  # `svc.yaml:12`, for messages

    @property
    def key(self) -> str:
        return f"{self.path}#{self.index}"


@dataclass(frozen=True)
class LetterSettings:
    code: str | None = None
    fonts: Mapping[str, FontFile] = field(default_factory=lambda: MappingProxyType({}))


def check_letters(node: Any, path: str) -> list[s.Problem]:
    """Problems the schema cannot see: a font file name that is not a TrueType font."""
    problems: list[s.Problem] = []
    fonts = node.get("fonts") if isinstance(node, dict) else None
    for role, font in (fonts or {}).items():
        if isinstance(font, dict) and isinstance(font.get("path"), str):
            if not font["path"].lower().endswith(FONT_SUFFIXES):
                problems.append(s.Problem(path, line_of(font, "path"),
                                          f"letters.fonts.{role}.path must be a .ttf or .ttc font file, "
                                          f"not {font['path']!r}"))
    return problems


def letter_settings(node: Any, config_path: str) -> LetterSettings:
    """The validated section as a frozen object; relative font paths are relative to the store."""
    if not node:
        return LetterSettings()
    base = Path(config_path).parent
    fonts: dict[str, FontFile] = {}
    for role, font in (node.get("fonts") or {}).items():
        if not font:
            continue
        where = f"{config_path}:{line_of(font, 'path')}" if line_of(font, "path") else config_path
        file = Path(str(font["path"])).expanduser()
        fonts[str(role)] = FontFile(str(role), file if file.is_absolute() else base / file,
                                    int(font.get("index") or 0), font.get("name"), where)
    code = node.get("code")
    return LetterSettings(str(code) if code else None, MappingProxyType(fonts))

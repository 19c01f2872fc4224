"""Line breaking for Chinese (and mixed) text, with the rules of Chinese typesetting
(GB/T 15834 标点符号用法): closing punctuation never starts a line, opening brackets
and quotes never end one, `——` and `……` are never split, and Latin words and numbers
are not broken unless longer than a line.

Pure Python: it measures with a function it is given, so the PDF renderer and the
tests use it alike. A "push-out" breaker: a mark that cannot start a line takes the
character before it down to the next line, and the line left short is justified by
spreading its characters (the caller draws it with extra character spacing).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Callable

CANNOT_START = frozenset("，。、；：！？）］｝》」』】〕〉〗〙”’…—～·％‰℃,.;:!?)]}%")
CANNOT_END = frozenset("（［｛《「『【〔〈〖〘“‘([{")


@dataclass(frozen=True)
class Line:
    text: str
    width: float  # natural width, with the tracking of every character
    justify: bool  # a line that ended because the next one did not fit (not a paragraph's last)
    indent: float = 0.0


def is_wide(char: str) -> bool:
    return ord(char) >= 0x2E80 or unicodedata.east_asian_width(char) in ("W", "F")


def _tokens(text: str) -> list[str]:
    """Characters of wide scripts and punctuation one by one; Latin words and numbers whole; spaces."""
    tokens: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char == " " or is_wide(char) or char in CANNOT_START or char in CANNOT_END:
            tokens.append(char)
            i += 1
            continue
        j = i
        while j < n and text[j] != " " and not is_wide(text[j]) and text[j] not in CANNOT_START \
                and text[j] not in CANNOT_END:
            j += 1
        tokens.append(text[i:j])
        i = j
    return tokens


def units(text: str) -> list[str]:
    """Tokens glued into the pieces a line may not be broken inside."""
    out: list[str] = []
    for token in _tokens(text):
        if token == " ":
            if out and out[-1].startswith(" "):
                out[-1] += " "  # a run of spaces is one break opportunity
            else:
                out.append(" ")
            continue
        if out and not out[-1].startswith(" ") and (token[0] in CANNOT_START or out[-1][-1] in CANNOT_END):
            out[-1] += token
        elif len(out) > 1 and out[-1].startswith(" ") and (token[0] in CANNOT_START or out[-2][-1] in CANNOT_END):
            spaces = out.pop()  # spaces do not let a mark slip to the other side of a break
            out[-1] += spaces + token
        else:
            out.append(token)
    return out


def break_lines(text: str, width_of: Callable[[str], float], width: float, first_indent: float = 0.0) -> list[Line]:
    """Lines of `text` no wider than `width`; `\\n` is a hard break."""
    lines: list[Line] = []
    for number, part in enumerate(text.split("\n")):
        lines += _break_part(part, width_of, width, first_indent if number == 0 else 0.0)
    return lines


def _break_part(text: str, width_of: Callable[[str], float], width: float, indent: float) -> list[Line]:
    lines: list[Line] = []
    current = ""
    current_width = 0.0
    pending = ""  # spaces between the last unit and the next
    line_indent = indent
    available = width - indent
    eps = 0.01

    def finish(justify: bool) -> None:
        nonlocal current, current_width, pending, line_indent, available
        lines.append(Line(current, current_width, justify, line_indent))
        current, current_width, pending = "", 0.0, ""
        line_indent = 0.0
        available = width

    for unit in units(text):
        if unit.startswith(" "):
            if current:
                pending += unit
            continue
        unit_width = width_of(unit)
        gap = width_of(pending) if pending else 0.0
        if current and current_width + gap + unit_width > available + eps:
            finish(True)
            gap = 0.0
        if not current and unit_width > available + eps:
            for char in unit:  # longer than a whole line: break inside it
                char_width = width_of(char)
                if current and current_width + char_width > available + eps:
                    finish(True)
                current += char
                current_width += char_width
            continue
        current += (pending if current else "") + unit
        current_width += gap + unit_width
        pending = ""
    lines.append(Line(current, current_width, False, line_indent))
    return lines

"""The fonts letters are set in, and the check that every character has a glyph.

Built in: WenQuanYi Micro Hei (文泉驿微米黑, Apache-2.0), a TrueType CJK font with
about 21,000 Han characters, installed from PyPI with `paperang-p2-fonts-cjk` (see the
README for why this one). An office sets its own in svc.yaml (`letters.fonts.body` and
`.title`: a .ttf or a face of a .ttc). A PDF embeds the subset of the font it uses;
a DOCX names the family and leaves the drawing to Word or LibreOffice.
"""

from __future__ import annotations

import hashlib
import importlib.util
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from svc.errors import SvcError
from svc.letters.blocks import Document
from svc.letters.settings import FontFile, LetterSettings

BUILT_IN_PACKAGE = "paperang_p2_fonts_cjk"
BUILT_IN_FILE = "fonts/wqy-microhei.ttc"
BUILT_IN_NAME = "WenQuanYi Micro Hei"


class FontError(SvcError):
    pass


@dataclass(frozen=True)
class Font:
    role: str
    path: Path
    index: int
    family: str  # for DOCX: what Word is asked for
    shown: str  # for messages

    @property
    def pdf_name(self) -> str:
        return pdf_name(self.path, self.index)


def pdf_name(path: Path, index: int) -> str:
    """The name a font file's face is registered under in reportlab (one per process)."""
    return "svc-" + hashlib.sha1(f"{path}#{index}".encode()).hexdigest()[:12]


def built_in_path() -> Path:
    # find_spec locates the package without running its code
    spec = importlib.util.find_spec(BUILT_IN_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FontError("the built-in Chinese font is not installed: pip install paperang-p2-fonts-cjk "
                        "(or set letters.fonts in svc.yaml)")
    path = Path(list(spec.submodule_search_locations)[0]) / BUILT_IN_FILE
    if not path.is_file():
        raise FontError(f"the built-in Chinese font is missing: {path}; reinstall paperang-p2-fonts-cjk")
    return path


def choose(settings: LetterSettings, role: str) -> Font:
    """The office's font for `role` (body or title), else the built-in one. A title
    without its own font uses the body font."""
    configured: FontFile | None = settings.fonts.get(role) or settings.fonts.get("body")
    if configured is None:
        return Font(role, built_in_path(), 0, BUILT_IN_NAME, f"{BUILT_IN_NAME} (built in)")
    if not configured.path.is_file():
        raise FontError(f"{configured.where}: letters.fonts.{configured.role}: no such font file {configured.path}")
    family = configured.name or _family_name(configured.path, configured.index) or configured.path.stem
    return Font(role, configured.path, configured.index, family, f"{family} ({configured.path})")


def _family_name(path: Path, index: int) -> str | None:
    name = getattr(_face(path, index, str(path)).face, "familyName", None)
    if isinstance(name, bytes):
        return name.decode("utf-8", "replace") or None
    return name or None


def _face(path: Path, index: int, shown: str) -> Any:
    """The face parsed and registered with reportlab, once per process."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    name = pdf_name(path, index)
    try:
        return pdfmetrics.getFont(name)
    except KeyError:
        pass
    try:
        font = TTFont(name, str(path), subfontIndex=index)
    except TTFError as exc:
        text = str(exc)
        if "postscript outlines" in text.lower():
            raise FontError(f"{shown or path}: the font has PostScript (CFF) outlines; a PDF can embed only "
                            f"TrueType outlines, so use a .ttf or .ttc version of it") from None
        raise FontError(f"{shown or path}: not a usable TrueType font: {text}") from None
    except OSError as exc:
        raise FontError(f"{shown or path}: cannot read the font: {exc.strerror or exc}") from None
    pdfmetrics.registerFont(font)
    return font


def reportlab_font(font: Font) -> Any:
    return _face(font.path, font.index, font.shown)


def cmap(font: Font) -> dict[int, int]:
    return reportlab_font(font).face.charToGlyph


def check_glyphs(document: Document, body: Font, title: Font) -> None:
    """Refuse a document with a character its font cannot draw, naming the character and
    where it came from (a field, or the template)."""
    body_map, body_codes = cmap(body), _covered(body)
    title_map, title_codes = body_map, body_codes
    if title.pdf_name != body.pdf_name:
        title_map, title_codes = cmap(title), _covered(title)
    for kind, text in document.texts():
        font, table, covered = (title, title_map, title_codes) if kind == "title" else (body, body_map, body_codes)
        for segment in text.segments:
            if set(map(ord, segment.text)) <= covered:
                continue  # the usual case, checked in C
            for char in _characters(segment.text):
                where = f"in {segment.source}" if segment.source else f"in the template {document.template}"
                if unicodedata.category(char) == "Cc":
                    raise FontError(f"cannot print the control character U+{ord(char):04X} {where}")
                if not table.get(ord(char)):
                    raise FontError(f"the font {font.shown} has no glyph for {char!r} (U+{ord(char):04X}"
                                    f"{_char_name(char)}) {where}; use another character, or set a font "
                                    f"that has it in svc.yaml (letters.fonts)")


_covered_cache: dict[str, frozenset[int]] = {}


def _covered(font: Font) -> frozenset[int]:
    """The code points the font draws (glyph 0 is .notdef), plus the spaces and breaks we lay out."""
    found = _covered_cache.get(font.pdf_name)
    if found is None:
        drawn = {code for code, glyph in cmap(font).items() if glyph and code >= 32}
        found = _covered_cache[font.pdf_name] = frozenset(drawn | {ord("\n"), ord("\t"), ord(" ")})
    return found


def check_controls(document: Document) -> None:
    """Refuse control characters (no format can hold them), naming where they came from."""
    for _, text in document.texts():
        for segment in text.segments:
            for char in _characters(segment.text):
                if unicodedata.category(char) == "Cc":
                    where = f"in {segment.source}" if segment.source else f"in the template {document.template}"
                    raise FontError(f"cannot print the control character U+{ord(char):04X} {where}")


def _characters(text: str) -> Iterable[str]:
    seen: set[str] = set()
    for char in text:
        if char in seen or char in "\n\t ":
            continue
        seen.add(char)
        yield char


def _char_name(char: str) -> str:
    name = unicodedata.name(char, "")
    return f" {name}" if name else ""

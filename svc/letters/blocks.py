"""The block format of letter templates, and the document it yields.

A template is rendered by Jinja first; its output is read line by line:

    # 标题                     the title (centred, large)
    ## 小标题                  a heading (flush left)
    ^ 京安客服函〔2026〕A001号  a centred line (the number under the title)
    < 朝阳分公司：             a flush-left line (salutation, labels)
    > 北京示例客服中心         a right-aligned line (signature, date)
    | 时间 | 事项 |            a table row; consecutive rows make one table,
                               a cell holding only `<` joins the cell on its left,
    |------|------|            and a separator row ends the header rows (repeated on
                               every page); its dashes give the relative column widths,
                               `:--` `:-:` `--:` align a column left, centre, right
    any other line             a body paragraph (first line indented two characters
                               in Chinese)
    (empty line)               a little vertical space

Inside template text, `\\n` is a line break, `\\|` a literal bar, `\\\\` a backslash, and
a line starting with `\\` is a paragraph whatever follows.

Values (`{{ customer.name }}`) never take part in this: Jinja writes a placeholder
for each value, the lines are parsed, and only then is each placeholder replaced by
the value exactly as typed. A name like `张三 | <b>` or a summary with line breaks
stays text; it can never become a table row, a title or markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterator

from svc.errors import SvcError

# The placeholder Jinja writes for the n-th value: private-use characters that no
# template contains (a template containing them is refused).
MARK_OPEN = "\ue000"
MARK_CLOSE = "\ue001"
_MARK = re.compile(f"{MARK_OPEN}(\\d+){MARK_CLOSE}")
_SEPARATOR_CELL = re.compile(r"^\s*(:?)-+(:?)\s*$")


@dataclass(frozen=True)
class Segment:
    """A run of text and where it came from: None for the template's own words,
    else the field (`customer.name`), so a missing glyph can be traced to it."""

    text: str
    source: str | None = None


@dataclass(frozen=True)
class Text:
    segments: tuple[Segment, ...] = ()

    @property
    def plain(self) -> str:
        return "".join(s.text for s in self.segments)

    def __bool__(self) -> bool:
        return bool(self.plain)


@dataclass(frozen=True)
class Block:
    kind: str  # title heading center left right para space
    text: Text = Text()


@dataclass(frozen=True)
class Table:
    header: tuple[tuple[Text, ...], ...]
    rows: tuple[tuple[Text, ...], ...]
    widths: tuple[float, ...]  # relative, summing to 1
    aligns: tuple[str, ...]  # left center right
    merged: frozenset[tuple[int, int]] = frozenset()  # (row, column) cells joined to the cell on their left
    kind: str = "table"

    def spans(self, row: int) -> list[tuple[int, int]]:
        """(first column, number of columns) of each cell of `row` (header rows count first)."""
        out: list[tuple[int, int]] = []
        for column in range(len(self.widths)):
            if (row, column) in self.merged and out:
                first, span = out[-1]
                out[-1] = (first, span + 1)
            else:
                out.append((column, 1))
        return out


@dataclass
class Document:
    """What a template yields: the same blocks feed the PDF and the DOCX renderer."""

    template: str
    lang: str
    style: str  # letter | form
    title: str
    blocks: list[Block | Table] = field(default_factory=list)
    draft: bool = False
    number: str | None = None
    author: str = ""

    def texts(self) -> Iterator[tuple[str, Text]]:
        """Every piece of text with the kind of block it is in (for glyph checks)."""
        for block in self.blocks:
            if isinstance(block, Table):
                for index, row in enumerate((*block.header, *block.rows)):
                    for first, _ in block.spans(index):
                        yield "cell", row[first]
            elif block.text:
                yield block.kind, block.text

    def plain_text(self) -> str:
        """The document's words in reading order, one block or table row per line."""
        lines: list[str] = []
        for block in self.blocks:
            if isinstance(block, Table):
                for index, row in enumerate((*block.header, *block.rows)):
                    lines.append(" | ".join(row[first].plain for first, _ in block.spans(index)))
            elif block.kind != "space":
                lines.append(block.text.plain)
        return "\n".join(lines)


class TemplateError(SvcError):
    """A template that cannot be read or rendered; the message names it."""


_PREFIXES = (("## ", "heading"), ("# ", "title"), ("^ ", "center"), ("< ", "left"), ("> ", "right"))


def parse_blocks(output: str, values: list[tuple[str, str | None]], template: str) -> list[Block | Table]:
    """Read rendered template output (with value placeholders) into blocks."""
    blocks: list[Block | Table] = []
    rows: list[tuple[int, list[str]]] = []

    def text(raw: str) -> Text:
        return _text(raw, values, template)

    def flush_table() -> None:
        if rows:
            blocks.append(_table(rows, text, template))
            rows.clear()

    for number, line in enumerate(output.split("\n"), 1):
        line = line.rstrip(" \t")
        if line.startswith("|"):
            rows.append((number, _cells(line)))
            continue
        flush_table()
        stripped = line.strip(" \t")
        if not stripped.strip():
            if blocks and not (isinstance(blocks[-1], Block) and blocks[-1].kind == "space"):
                blocks.append(Block("space"))
            continue
        if stripped.startswith("\\") and not stripped.startswith(("\\n", "\\|", "\\\\")):
            blocks.append(Block("para", text(stripped[1:])))
            continue
        for prefix, kind in _PREFIXES:
            if stripped.startswith(prefix) or stripped == prefix.strip():
                blocks.append(Block(kind, text(stripped[len(prefix):].strip(" \t"))))
                break
        else:
            blocks.append(Block("para", text(stripped)))
    flush_table()
    while blocks and isinstance(blocks[-1], Block) and blocks[-1].kind == "space":
        blocks.pop()
    while blocks and isinstance(blocks[0], Block) and blocks[0].kind == "space":
        blocks.pop(0)
    return blocks


def _cells(line: str) -> list[str]:
    """Split a table row on bars that are not escaped; the outer bars are optional."""
    cells: list[str] = []
    current = ""
    i = 0
    body = line.strip()
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            current += body[i:i + 2]
            i += 2
            continue
        if char == "|":
            cells.append(current)
            current = ""
        else:
            current += char
        i += 1
    cells.append(current)
    if cells and not cells[0].strip():
        cells = cells[1:]
    if cells and not cells[-1].strip() and body.endswith("|") and not body.endswith("\\|"):
        cells = cells[:-1]
    return [c.strip(" \t") for c in cells]  # full-width spaces are the template's layout


def _table(rows: list[tuple[int, list[str]]], text: Callable[[str], Text], template: str) -> Table:
    separator = next((i for i, (_, cells) in enumerate(rows)
                      if cells and all(_SEPARATOR_CELL.match(c) for c in cells)), None)
    width = len(rows[0][1])
    for number, cells in rows:
        if len(cells) != width:
            raise TemplateError(f"template {template}: output line {number}: a table row with {len(cells)} "
                                f"cells in a table of {width} columns")
    if separator is not None:
        spec = rows[separator][1]
        dashes = [max(1, c.count("-")) for c in spec]
        aligns = []
        for c in spec:
            m = _SEPARATOR_CELL.match(c)
            assert m
            left, right = bool(m.group(1)), bool(m.group(2))
            aligns.append("center" if left and right else "right" if right else "left")
        header_rows = rows[:separator]
        body_rows = rows[separator + 1:]
    else:
        dashes = [1] * width
        aligns = ["left"] * width
        header_rows = []
        body_rows = rows
    total = float(sum(dashes))
    merged = frozenset((r, c) for r, (_, cells) in enumerate([*header_rows, *body_rows])
                       for c, cell in enumerate(cells) if c > 0 and cell == "<")
    return Table(
        header=tuple(tuple(text(c) for c in cells) for _, cells in header_rows),
        rows=tuple(tuple(text(c) for c in cells) for _, cells in body_rows),
        widths=tuple(d / total for d in dashes),
        aligns=tuple(aligns),
        merged=merged,
    )


_ESCAPES = {"n": "\n", "|": "|", "\\": "\\"}


def _unescape(raw: str) -> str:
    out = []
    i = 0
    while i < len(raw):
        char = raw[i]
        if char == "\\" and i + 1 < len(raw) and raw[i + 1] in _ESCAPES:
            out.append(_ESCAPES[raw[i + 1]])
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _text(raw: str, values: list[tuple[str, str | None]], template: str) -> Text:
    """Template text with escapes resolved, and each placeholder replaced by its value."""
    segments: list[Segment] = []
    position = 0
    for match in _MARK.finditer(raw):
        literal = _unescape(raw[position:match.start()])
        if literal:
            segments.append(Segment(literal))
        value, source = values[int(match.group(1))]
        if value:
            segments.append(Segment(value, source))
        position = match.end()
    tail = _unescape(raw[position:])
    if tail:
        segments.append(Segment(tail))
    return Text(tuple(segments))

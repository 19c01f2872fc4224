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
    ! bar 满意度 | 朝阳=92.5 | 海淀=88 | target=90 | unit=%
                               a horizontal bar chart: its title, then one bar per
                               `label=value` item in the given order, each showing its
                               value; a value is a number of 0 or more (12, 92.5; `92.5%`
                               with unit=%). Options, anywhere on the line: `target=N`
                               draws a target line with a note under the chart, `max=N`
                               fixes the scale (else the largest value or target rounded
                               up: 92.5 -> 100), `unit=%` follows each value. A chart
                               with no items prints its title and "无数据" ("No data")
    any other line             a body paragraph (first line indented two characters
                               in Chinese)
    (empty line)               a little vertical space

Inside template text, `\\n` is a line break, `\\|` a literal bar, `\\\\` a backslash, and
a line starting with `\\` is a paragraph whatever follows.

In a chart line only the line's own `|` and `=` separate the title, items, labels and
values (an item splits at its last `=`): a field (`{{ b.name }}={{ b.rate }}`) whose value
holds `|` or `=` stays whole, a field is never taken for an option, and a value that is
not a number is an error naming the field. Items usually come from a loop on one line:
`! bar 满意度{% for b in branches %} | {{ b.name }}={{ b.rate }}{% endfor %} | target=90`
(Jinja drops the line break right after a `{% endfor %}`: end such a line with an option
or a bar, `{% endfor %} |`).

Values (`{{ customer.name }}`) never take part in this: Jinja writes a placeholder
for each value, the lines are parsed, and only then is each placeholder replaced by
the value exactly as typed. A name like `张三 | <b>` or a summary with line breaks
stays text; it can never become a table row, a title or markup.
"""

from __future__ import annotations

import math
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
_CHART = re.compile(r"^! bar(?=$|[ \t|])")
_NUMBER = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
_CHART_OPTIONS = ("target", "max", "unit")


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


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: its label, its value, and the value as printed (with the unit)."""

    label: Text
    value: float
    shown: Text


# The words a chart prints itself, by language.
CHART_WORDS: dict[str, dict[str, str]] = {
    "zh": {"no-data": "无数据", "target": "目标："},
    "en": {"no-data": "No data", "target": "Target: "},
}


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart (`! bar TITLE | label=value ... | target=N | max=N | unit=%`)."""

    title: Text
    bars: tuple[Bar, ...]
    scale: float  # the value a full-width bar stands for (> 0)
    target: float | None = None
    target_shown: Text = Text()  # the target as printed, with the unit
    kind: str = "bar"

    def target_note(self, lang: str) -> Text:
        """`目标：90%` under the chart, or an empty Text when there is no target (or no bar)."""
        if self.target is None or not self.bars:
            return Text()
        return Text((Segment(CHART_WORDS.get(lang, CHART_WORDS["zh"])["target"]), *self.target_shown.segments))

    def empty_note(self, lang: str) -> Text:
        """`无数据` in place of the bars when there are none."""
        return Text() if self.bars else Text((Segment(CHART_WORDS.get(lang, CHART_WORDS["zh"])["no-data"]),))

    def texts(self, lang: str) -> Iterator[Text]:
        """Every piece of text the chart prints, in reading order."""
        if self.title:
            yield self.title
        for bar in self.bars:
            yield bar.label
            yield bar.shown
        for note in (self.target_note(lang), self.empty_note(lang)):
            if note:
                yield note

    def fraction(self, value: float) -> float:
        """How much of the full bar width `value` takes (a value over the scale fills it)."""
        return max(0.0, min(1.0, value / self.scale))


@dataclass
class Document:
    """What a template yields: the same blocks feed the PDF and the DOCX renderer."""

    template: str
    lang: str
    style: str  # letter | form
    title: str
    blocks: list[Block | Table | Chart] = field(default_factory=list)
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
            elif isinstance(block, Chart):
                for text in block.texts(self.lang):  # all set in the body font
                    yield "chart", text
            elif block.text:
                yield block.kind, block.text

    def plain_text(self) -> str:
        """The document's words in reading order, one block or table row per line."""
        lines: list[str] = []
        for block in self.blocks:
            if isinstance(block, Table):
                for index, row in enumerate((*block.header, *block.rows)):
                    lines.append(" | ".join(row[first].plain for first, _ in block.spans(index)))
            elif isinstance(block, Chart):
                if block.title:
                    lines.append(block.title.plain)
                lines += [f"{bar.label.plain} {bar.shown.plain}" for bar in block.bars]
                lines += [note.plain for note in (block.target_note(self.lang), block.empty_note(self.lang)) if note]
            elif block.kind != "space":
                lines.append(block.text.plain)
        return "\n".join(lines)


class TemplateError(SvcError):
    """A template that cannot be read or rendered; the message names it."""


_PREFIXES = (("## ", "heading"), ("# ", "title"), ("^ ", "center"), ("< ", "left"), ("> ", "right"))


def parse_blocks(output: str, values: list[tuple[str, str | None]], template: str) -> list[Block | Table | Chart]:
    """Read rendered template output (with value placeholders) into blocks."""
    blocks: list[Block | Table | Chart] = []
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
        chart = _CHART.match(stripped)
        if chart:
            blocks.append(_chart(stripped[chart.end():], number, values, template))
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


# --- charts ---------------------------------------------------------------------------------

def _split(raw: str, separator: str, last: bool = False) -> list[str]:
    """`raw` split on its own unescaped `separator`s (placeholders hold no separator, so a
    field's `|` or `=` never splits); with `last`, only on the last one."""
    places = []
    i = 0
    while i < len(raw):
        if raw[i] == "\\" and i + 1 < len(raw):
            i += 2
            continue
        if raw[i] == separator:
            places.append(i)
        i += 1
    if last:
        places = places[-1:]
    parts = []
    start = 0
    for place in places:
        parts.append(raw[start:place])
        start = place + 1
    parts.append(raw[start:])
    return parts


def _chart(raw: str, number: int, values: list[tuple[str, str | None]], template: str) -> Chart:
    """A `! bar` line (after `! bar`): the title, then items and options split on the line's own bars."""
    where = f"template {template}: output line {number}"
    title_raw, *parts = _split(raw, "|")
    items: list[tuple[str, str]] = []
    options: dict[str, str] = {}
    for part in parts:
        if not part.strip(" \t"):
            continue  # `| |` or a trailing bar
        pieces = _split(part, "=")
        key = pieces[0].strip(" \t")
        if len(pieces) > 1 and key in _CHART_OPTIONS:
            if key in options:
                raise TemplateError(f"{where}: the bar chart gives {key}= twice")
            options[key] = part[part.index("=") + 1:]
            continue
        label_value = _split(part, "=", last=True)
        if len(label_value) != 2:
            item = _text(part.strip(" \t"), values, template).plain
            raise TemplateError(f"{where}: a bar chart item is label=value, not {item!r}")
        items.append((label_value[0], label_value[1]))
    unit = _text(options.get("unit", "").strip(" \t"), values, template)

    def number_of(raw_value: str, what: str) -> tuple[float, Text]:
        text = _text(raw_value.strip(" \t"), values, template)
        plain = text.plain.strip()
        if unit and plain.endswith(unit.plain) and plain != unit.plain:
            plain = plain[:-len(unit.plain)].strip()  # `92.5%` with unit=% is 92.5
        if not _NUMBER.match(plain):
            sources = (values[int(m.group(1))][1] for m in _MARK.finditer(raw_value))  # an empty one too
            fields = [f for f in sources if f]
            origin = f" (field {', '.join(dict.fromkeys(fields))})" if fields else ""
            raise TemplateError(f"{where}: {what} is not a number: {text.plain!r}{origin}")
        value = float(plain)
        if value < 0:
            raise TemplateError(f"{where}: {what} is negative ({plain}); a bar chart shows values of 0 or more")
        source = next((s.source for s in text.segments if s.source), None)
        return value, Text((Segment(plain, source), *unit.segments))

    bars: list[Bar] = []
    for label_raw, value_raw in items:
        label = _text(label_raw.strip(" \t"), values, template)
        if not label.plain.strip():
            raise TemplateError(f"{where}: a bar chart item has no label (before its =)")
        value, shown = number_of(value_raw, f"the value of {label.plain!r} in the bar chart")
        bars.append(Bar(label, value, shown))
    target: float | None = None
    target_shown = Text()
    if "target" in options:
        target, target_shown = number_of(options["target"], "the bar chart's target=")
    scale = None
    if "max" in options:
        scale, _ = number_of(options["max"], "the bar chart's max=")
        if scale <= 0:
            raise TemplateError(f"{where}: the bar chart's max= must be more than 0")
    if scale is None:
        scale = _nice_ceiling(max([b.value for b in bars] + ([target] if target is not None else []), default=0.0))
    return Chart(_text(title_raw.strip(" \t"), values, template), tuple(bars), scale, target, target_shown)


def _nice_ceiling(value: float) -> float:
    """The scale for a largest value: it rounded up to 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8
    times a power of ten (92.5 -> 100, 37 -> 40, 7 -> 8); 1 for nothing at all."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if value <= step * power * (1 + 1e-9):
            return round(step * power, 12)
    return 10 * power

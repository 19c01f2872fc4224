"""The PDF renderer (reportlab), imported only when a PDF is made.

Page: A4 with the margins of GB/T 9704-2012 (top 37 mm, bottom 35 mm, left 28 mm,
right 26 mm). Letters use its sizes: title 22 pt, body 16 pt on a grid of 22 lines of
28 characters; forms set their tables in 12 pt, and a table's header rows repeat on
every page. Text is laid out by `svc.letters.linebreak` (Chinese line-breaking rules)
and drawn as plain text runs: no markup is ever parsed, so customer text prints as
typed. Every font is an embedded TrueType subset; the document is byte-for-byte
reproducible (reportlab's invariant mode), so a register's sha256 can be checked.
A bar chart is vector graphics (reportlab.graphics shapes), its words in the body font.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from svc.letters.blocks import Block, Chart, Document, Table, Text
from svc.letters.fonts import Font, reportlab_font
from svc.letters.linebreak import Line, break_lines
from svc.letters.words import word

MM = 72.0 / 25.4
PAGE_W, PAGE_H = 210 * MM, 297 * MM
TOP, BOTTOM, LEFT, RIGHT = 37 * MM, 35 * MM, 28 * MM, 26 * MM
FRAME_W = PAGE_W - LEFT - RIGHT  # 156 mm
FRAME_H = PAGE_H - TOP - BOTTOM  # 225 mm
ASCENT = 0.88  # where the baseline sits in a CJK em box (top 0.88, bottom -0.12)


@dataclass(frozen=True)
class Style:
    title_size: float
    body_size: float
    leading: float  # body line pitch
    tracking: float  # extra space after each character of body text (the 28-per-line grid)
    cell_size: float
    cell_leading: float
    gap: float  # the height of an empty line in the template


LETTER = Style(22, 16, FRAME_H / 22, FRAME_W / 28 - 16, 14, 20, FRAME_H / 22)
LETTER_EN = Style(18, 12, 18, 0, 11, 15, 12)  # GB/T 9704 is for Chinese; an English letter is set smaller
FORM = Style(22, 12, 20, 0, 12, 17, 10)


class _Metrics:
    """Character widths of one font at one size, cached (layout measures every character)."""

    def __init__(self, font: Any, size: float, tracking: float) -> None:
        self.face = font.face
        self.scale = size / 1000.0
        self.tracking = tracking
        self.cache: dict[str, float] = {}

    def __call__(self, text: str) -> float:
        total = 0.0
        cache = self.cache
        for char in text:
            width = cache.get(char)
            if width is None:
                width = self.face.charWidths.get(ord(char), self.face.defaultWidth) * self.scale + self.tracking
                cache[char] = width
            total += width
        return total


_metrics: dict[tuple[str, float, float], _Metrics] = {}


def metrics(font: Any, size: float, tracking: float) -> _Metrics:
    key = (font.fontName, size, tracking)
    found = _metrics.get(key)
    if found is None:
        found = _metrics[key] = _Metrics(font, size, tracking)
    return found


def render_pdf(document: Document, body: Font, title: Font) -> bytes:
    from reportlab.platypus import BaseDocTemplate, CondPageBreak, Flowable, Frame, KeepTogether, PageTemplate, Spacer
    from reportlab.platypus import Table as RLTable
    from reportlab.platypus import TableStyle

    class _Template(BaseDocTemplate):  # type: ignore[misc]
        def build(self, flowables: list[Any], on_page: Any, on_page_end: Any) -> None:  # type: ignore[override]
            frame = Frame(LEFT, BOTTOM, FRAME_W, FRAME_H, leftPadding=0, rightPadding=0, topPadding=0,
                          bottomPadding=0, id="text")
            self.addPageTemplates([PageTemplate("page", [frame], onPage=on_page, onPageEnd=on_page_end)])
            super().build(flowables)

    body_font = reportlab_font(body)
    title_font = reportlab_font(title)
    style = FORM if document.style != "letter" else LETTER if document.lang == "zh" else LETTER_EN
    zh = document.lang == "zh"

    class TextFlow(Flowable):  # type: ignore[misc]
        """Lines of one font and size, broken by our Chinese rules, split across pages."""

        def __init__(self, text: str, font: Any, size: float, leading: float, tracking: float, align: str,
                     indent: float = 0.0, lines: list[Line] | None = None, space_before: float = 0.0,
                     space_after: float = 0.0) -> None:
            super().__init__()
            self.text = text.replace("\t", " ")
            self.font = font
            self.size = size
            self.leading = leading
            self.tracking = tracking
            self.align = align
            self.indent = indent
            self.lines = lines
            self.spaceBefore = space_before
            self.spaceAfter = space_after
            self._width = 0.0

        def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
            if self.lines is None or self._width != avail_width:
                measure = metrics(self.font, self.size, self.tracking)
                self.lines = break_lines(self.text, measure, avail_width, self.indent)
                self._width = avail_width
            self.width = avail_width
            self.height = len(self.lines) * self.leading
            return self.width, self.height

        def split(self, avail_width: float, avail_height: float) -> list[Any]:
            self.wrap(avail_width, avail_height)
            assert self.lines is not None
            fit = int((avail_height + 0.01) // self.leading)
            if fit < 1 or fit >= len(self.lines):
                return [] if fit < 1 else [self]
            first = TextFlow(self.text, self.font, self.size, self.leading, self.tracking, self.align,
                             self.indent, self.lines[:fit], self.spaceBefore, 0.0)
            rest = TextFlow(self.text, self.font, self.size, self.leading, self.tracking, self.align,
                            0.0, self.lines[fit:], 0.0, self.spaceAfter)
            first._width = rest._width = avail_width
            return [first, rest]

        def draw(self) -> None:
            assert self.lines is not None
            canvas = self.canv
            text = canvas.beginText()
            text.setFont(self.font.fontName, self.size)
            offset = (self.leading - self.size) / 2 + ASCENT * self.size
            for i, line in enumerate(self.lines):
                visible = line.width - self.tracking  # no spacing after the last character
                spacing = self.tracking
                x = line.indent
                if self.align == "center":
                    x = (self.width - visible) / 2
                elif self.align == "right":
                    x = self.width - visible
                elif self.align == "justify" and line.justify and len(line.text) > 1 and zh:
                    extra = (self.width - line.indent - visible) / (len(line.text) - 1)
                    if extra < 0.35 * self.size:  # a line cut short by a long number stays ragged
                        spacing += extra
                text.setTextOrigin(x, self.height - i * self.leading - offset)
                text.setCharSpace(spacing)
                text.textOut(line.text)
            canvas.drawText(text)

    def flow(block_text: Text, align: str, *, font: Any = body_font, size: float = style.body_size,
             leading: float = style.leading, tracking: float = style.tracking, indent: float = 0.0,
             before: float = 0.0, after: float = 0.0) -> Any:
        return TextFlow(block_text.plain, font, size, leading, tracking, align, indent, None, before, after)

    story: list[Any] = []
    indent = 2 * (style.body_size + style.tracking) if zh else 0.0
    for block in document.blocks:
        if isinstance(block, Table):
            story.append(_table(block, style, body_font, TextFlow, RLTable, TableStyle))
            continue
        if isinstance(block, Chart):
            story.append(_chart(block, style, body_font, document.lang, Flowable))
            continue
        assert isinstance(block, Block)
        if block.kind == "space":
            story.append(Spacer(1, style.gap))
        elif block.kind == "title":
            # a title and the blank line under it take two lines of the grid (GB/T 9704)
            title_leading = style.title_size * 1.5
            story.append(flow(block.text, "center", font=title_font, size=style.title_size,
                              leading=title_leading, tracking=0.0, after=max(2 * style.leading - title_leading, 6)))
        elif block.kind == "heading":
            # never left alone at the foot of a page: start a new one unless the heading and a
            # few lines of what follows still fit (a long table then starts under it and splits)
            story.append(CondPageBreak(style.leading * 4))
            story.append(flow(block.text, "left", before=style.leading * 0.25))
        elif block.kind in ("center", "right", "left"):
            story.append(flow(block.text, block.kind))
        else:
            after = 0.0 if document.style == "letter" and zh else style.leading * (0.25 if zh else 0.5)
            story.append(flow(block.text, "justify", indent=indent, after=after))

    story = _keep_signature(story, document, KeepTogether)
    page_word = word(document.lang, "page", n="{n}")
    mark = word(document.lang, "draft-mark")
    banner = word(document.lang, "draft-banner")

    def underlay(canvas: Any, doc: Any) -> None:
        """Drawn before a page's text: the draft mark, beneath everything."""
        if not document.draft:
            return
        canvas.saveState()
        if document.draft:
            canvas.setFillColorRGB(0.85, 0.85, 0.85)
            canvas.setFont(body_font.fontName, 110)
            canvas.translate(PAGE_W / 2, PAGE_H / 2)
            canvas.rotate(35)
            canvas.drawCentredString(0, -40, mark)
            canvas.rotate(-35)
            canvas.translate(-PAGE_W / 2, -PAGE_H / 2)
            canvas.setFillColorRGB(0.75, 0.0, 0.0)
            canvas.setFont(body_font.fontName, 12)
            canvas.drawCentredString(PAGE_W / 2, PAGE_H - TOP / 2, banner)
        canvas.restoreState()

    def page_number(canvas: Any, doc: Any) -> None:
        """Drawn after a page's text (so text extraction reads it last)."""
        canvas.saveState()
        canvas.setFillColorRGB(0, 0, 0)
        canvas.setFont(body_font.fontName, 14)
        canvas.drawCentredString(PAGE_W / 2, BOTTOM - 7 * MM - 14 * ASCENT, page_word.format(n=doc.page))
        canvas.restoreState()

    out = io.BytesIO()
    doc = _Template(
        out, pagesize=(PAGE_W, PAGE_H), leftMargin=LEFT, rightMargin=RIGHT, topMargin=TOP, bottomMargin=BOTTOM,
        title=document.title, author=document.author, subject=document.template, creator="svc",
        lang="zh-CN" if zh else "en", invariant=1, initialFontName=body_font.fontName,
        initialFontSize=style.body_size,
    )
    doc.build(story, underlay, page_number)
    return out.getvalue()


def _keep_signature(story: list[Any], document: Document, keep_together: Any) -> list[Any]:
    """The closing lines (signature and date, flush right) never start a page alone: they
    stay with the paragraph before them."""
    blocks = document.blocks
    end = len(blocks)
    while end > 0 and isinstance(blocks[end - 1], Block) and blocks[end - 1].kind in ("right", "left"):
        end -= 1
    if end == len(blocks) or end == 0:
        return story
    start = end - 1
    while start > 0 and isinstance(blocks[start], Block) and blocks[start].kind == "space":
        start -= 1
    if isinstance(blocks[start], (Table, Chart)):
        return story
    return [*story[:start], keep_together(story[start:])]


def _table(block: Table, style: Style, font: Any, text_flow: Any, rl_table: Any, table_style: Any) -> Any:
    pad = 4.0
    widths = [FRAME_W * w for w in block.widths]

    def cell(content: Text, align: str) -> Any:
        return text_flow(content.plain, font, style.cell_size, style.cell_leading, 0.0, align)

    data: list[list[Any]] = []
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.6, (0, 0, 0)),
        # reportlab sets each cell's font even for flowables: ours, or Helvetica (not embedded) appears
        ("FONTNAME", (0, 0), (-1, -1), font.fontName),
        ("FONTSIZE", (0, 0), (-1, -1), style.cell_size),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), pad),
        ("RIGHTPADDING", (0, 0), (-1, -1), pad),
        ("TOPPADDING", (0, 0), (-1, -1), pad),
        ("BOTTOMPADDING", (0, 0), (-1, -1), pad),
    ]
    header = block.header
    for index, row in enumerate((*block.header, *block.rows)):
        line: list[Any] = [[] for _ in block.widths]
        for first, span in block.spans(index):
            align = "center" if index < len(header) else block.aligns[first]
            line[first] = cell(row[first], "justify" if align == "left" else align)
            if span > 1:
                commands.append(("SPAN", (first, index), (first + span - 1, index)))
        data.append(line)
    if not data:
        return rl_table([[[]]], colWidths=[FRAME_W])
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, len(header) - 1), (0.9, 0.9, 0.9)))
    table = rl_table(data, colWidths=widths, repeatRows=len(header), style=table_style(commands),
                     spaceBefore=4, spaceAfter=8, hAlign="CENTER")
    return table


BAR_FILL = (0.31, 0.51, 0.71)
TARGET_COLOUR = (0.75, 0.0, 0.0)
_chart_flow: Any = None


def _chart(chart: Chart, style: Style, font: Any, lang: str, flowable: Any) -> Any:
    """A bar chart as a flowable: its title, then one row per bar (the label flush right
    against the axis, the bar, its value after it), the target as a dashed line across
    the rows with a legend under them. Drawn as reportlab.graphics shapes, every word in
    the body font. It moves whole to the next page when it does not fit, so the title
    stays with its bars; a chart taller than a page is split between rows."""
    global _chart_flow
    if _chart_flow is None:
        _chart_flow = _chart_flow_class(flowable)
    return _chart_flow(chart, style, font, lang)


def _chart_flow_class(flowable: Any) -> Any:
    from reportlab.graphics import renderPDF
    from reportlab.graphics.shapes import Drawing, Rect, String
    from reportlab.graphics.shapes import Line as RLLine
    from reportlab.lib.colors import Color, black, white

    bar_fill = Color(*BAR_FILL)
    target_colour = Color(*TARGET_COLOUR)
    gap = 6.0  # between the labels and the axis, and between a bar and its value
    pad = 3.0  # above and below the drawing

    class Layout:
        """Where everything goes at one width (shared by the pieces of a split chart)."""

        def __init__(self, chart: Chart, style: Style, font: Any, lang: str, width: float) -> None:
            self.size = style.cell_size
            self.leading = style.cell_leading
            self.title_size = style.body_size
            self.title_leading = style.body_size * 1.5
            measure = metrics(font, self.size, 0.0)
            self.measure = measure
            self.title_lines = (break_lines(chart.title.plain.replace("\t", " "), metrics(font, self.title_size, 0.0),
                                            width)
                                if chart.title else [])
            widest_value = max((measure(b.shown.plain) for b in chart.bars), default=0.0)
            self.value_w = min(widest_value, 0.25 * width)
            widest_label = max((max((measure(part) for part in b.label.plain.split("\n")), default=0.0)
                                for b in chart.bars), default=0.0)
            self.label_w = min(widest_label, 0.32 * width)
            self.x0 = self.label_w + gap
            self.bar_w = max(width - self.x0 - gap - self.value_w, 0.3 * width)
            self.labels = [break_lines(b.label.plain.replace("\t", " "), measure, self.label_w) for b in chart.bars]
            self.row_h = [max(len(lines), 1) * self.leading + self.leading * 0.35 for lines in self.labels]
            self.bar_h = min(self.size * 1.15, self.leading)
            self.note = (chart.target_note(lang) or chart.empty_note(lang)).plain
            self.note_h = self.leading * 1.5 if self.note else 0.0

        def baseline(self, top: float, leading: float, size: float) -> float:
            """The baseline of a line whose box of height `leading` starts at `top` (as TextFlow sets it)."""
            return top - ((leading - size) / 2 + ASCENT * size)

    class ChartFlow(flowable):  # type: ignore[misc, valid-type]
        def __init__(self, chart: Chart, style: Style, font: Any, lang: str, first: int = 0,
                     last: int | None = None, with_title: bool = True, with_note: bool = True,
                     layout: Layout | None = None) -> None:
            super().__init__()
            self.chart = chart
            self.style = style
            self.font = font
            self.lang = lang
            self.first = first
            self.last = len(chart.bars) if last is None else last
            self.with_title = with_title
            self.with_note = with_note
            self.layout = layout
            self.spaceBefore = 4.0 if with_title else 0.0
            self.spaceAfter = 8.0 if with_note else 0.0

        def _layout(self, width: float) -> Layout:
            if self.layout is None or getattr(self, "_laid_width", None) != width:
                self.layout = Layout(self.chart, self.style, self.font, self.lang, width)
                self._laid_width = width
            return self.layout

        def _height(self, layout: Layout, first: int, last: int, title: bool, note: bool) -> float:
            height = 2 * pad + sum(layout.row_h[first:last])
            if title:
                height += len(layout.title_lines) * layout.title_leading
            if note:
                height += layout.note_h
            return height

        def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
            layout = self._layout(avail_width)
            self.width = avail_width
            self.height = self._height(layout, self.first, self.last, self.with_title, self.with_note)
            return self.width, self.height

        def split(self, avail_width: float, avail_height: float) -> list[Any]:
            self.wrap(avail_width, avail_height)
            if self.height <= avail_height + 0.01:
                return [self]
            if self.height <= FRAME_H - 0.01:
                return []  # the whole chart goes to the next page: its title stays with its bars
            layout = self._layout(avail_width)
            rows = self.last - self.first
            fit = 0
            while fit < rows and self._height(layout, self.first, self.first + fit + 1, self.with_title,
                                              False) <= avail_height + 0.01:
                fit += 1
            fit = min(fit, rows - 1)  # the last piece has at least one bar, with the note
            if fit < min(2, rows - 1):
                if avail_height < FRAME_H - 1:
                    return []  # a title with fewer than two bars under it: start on the next page
                fit = max(fit, 1)
            cut = self.first + fit
            head = ChartFlow(self.chart, self.style, self.font, self.lang, self.first, cut, self.with_title,
                             False, layout)
            tail = ChartFlow(self.chart, self.style, self.font, self.lang, cut, self.last, False,
                             self.with_note, layout)
            head._laid_width = tail._laid_width = avail_width
            return [head, tail]

        def draw(self) -> None:
            layout = self._layout(self.width)
            chart = self.chart
            name = self.font.fontName
            size = layout.size
            drawing = Drawing(self.width, self.height)
            # the renderer starts by setting its initial font: ours, or Helvetica (not embedded) appears
            drawing.initialFontName = name
            drawing.initialFontSize = size

            def text(x: float, y: float, words: str, font_size: float = size) -> None:
                drawing.add(String(x, y, words, fontName=name, fontSize=font_size, fillColor=black))

            y = self.height - pad
            if self.with_title:
                for line in layout.title_lines:
                    text((self.width - line.width) / 2, layout.baseline(y, layout.title_leading, layout.title_size),
                         line.text, layout.title_size)
                    y -= layout.title_leading
            rows_top = y
            rows_bottom = y - sum(layout.row_h[self.first:self.last])
            if self.last > self.first:
                drawing.add(RLLine(layout.x0, rows_bottom, layout.x0, rows_top, strokeColor=black,
                                   strokeWidth=0.6))
            target_x = None if chart.target is None else layout.x0 + layout.bar_w * chart.fraction(chart.target)
            for index in range(self.first, self.last):
                bar = chart.bars[index]
                row_h = layout.row_h[index]
                middle = y - row_h / 2
                lines = layout.labels[index]
                top = middle + len(lines) * layout.leading / 2
                for number, line in enumerate(lines):
                    text(layout.label_w - line.width, layout.baseline(top - number * layout.leading,
                                                                      layout.leading, size), line.text)
                length = layout.bar_w * chart.fraction(bar.value)
                if length > 0:
                    drawing.add(Rect(layout.x0, middle - layout.bar_h / 2, length, layout.bar_h,
                                     fillColor=bar_fill, strokeColor=None, strokeWidth=0))
                x = layout.x0 + length + gap / 2
                if target_x is not None:  # the target line over the bar, and a white ground for the value
                    drawing.add(RLLine(target_x, y - row_h, target_x, y, strokeColor=target_colour,
                                       strokeWidth=1.2, strokeDashArray=[3, 2]))
                    drawing.add(Rect(x - 1, middle - size * 0.55, layout.measure(bar.shown.plain) + 2, size * 1.1,
                                     fillColor=white, strokeColor=None, strokeWidth=0))
                text(x, layout.baseline(middle + layout.leading / 2, layout.leading, size), bar.shown.plain)
                y -= row_h
            if self.with_note and layout.note:
                middle = y - layout.note_h / 2
                baseline = layout.baseline(middle + layout.leading / 2, layout.leading, size)
                if chart.bars:  # the target's legend: a piece of its line, and its words
                    drawing.add(RLLine(layout.x0, middle, layout.x0 + 18, middle, strokeColor=target_colour,
                                       strokeWidth=1.2, strokeDashArray=[3, 2]))
                    text(layout.x0 + 24, baseline, layout.note)
                else:  # no data
                    text((self.width - layout.measure(layout.note)) / 2, baseline, layout.note)
            renderPDF.draw(drawing, self.canv, 0, 0)

    return ChartFlow

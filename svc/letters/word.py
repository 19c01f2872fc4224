"""The DOCX renderer (python-docx), imported only when a DOCX is made.

python-docx's stock template carries 880 KB of styles, which made each letter cost
~35 ms to open and save. So the package starts from a small base built here once per
process (styles with the East Asian font and zh-CN language set on the defaults and
on Normal, A4 page with the GB/T 9704 margins, a page-number footer), python-docx
opens it, the body is added as WordprocessingML, and python-docx saves it.

Every run names its fonts explicitly (w:ascii, w:hAnsi, w:eastAsia, w:cs) and its
language (w:lang w:eastAsia="zh-CN"); table header rows carry w:tblHeader so Word and
LibreOffice repeat them on every page. Values are XML-escaped text, never markup.
A bar chart is a borderless table: a row per bar with its label, the bar as shaded
cells whose widths are in proportion to the value, and the value; the target is a
dashed border down the rows at its place, explained by a note under the table.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from itertools import pairwise
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from svc.letters.blocks import Block, Chart, Document, Table, Text
from svc.letters.fonts import Font
from svc.letters.linebreak import is_wide
from svc.letters.words import word

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
TWIPS_PER_MM = 1440 / 25.4
PAGE = (11906, 16838)  # A4 in twentieths of a point
MARGINS = {"top": 37, "bottom": 35, "left": 28, "right": 26}  # GB/T 9704, mm
FRAME_TWIPS = PAGE[0] - round((MARGINS["left"] + MARGINS["right"]) * TWIPS_PER_MM)


class _Style:
    """The sizes of the PDF renderer's styles, in Word's units."""

    def __init__(self, letter: bool, zh: bool = True) -> None:
        gbt = letter and zh  # GB/T 9704 is for Chinese letters; English ones are set smaller
        self.title = 44 if not letter or zh else 36  # half-points: 22 pt (18 pt)
        self.body = 32 if gbt else 24  # 16 pt or 12 pt
        self.cell = 28 if gbt else 24 if not letter else 22
        # exact line pitch in twips: GB/T 9704's 22 lines in the 225 mm text area, or 20 / 18 pt
        self.line = round(225 * TWIPS_PER_MM / 22) if gbt else 400 if not letter else 360
        self.cell_line = 400 if gbt else 340 if not letter else 300
        self.gap = self.line if gbt else 200 if not letter else 240
        # GB/T 9704 sets 28 characters in a 156 mm line: 16 pt characters 0.25 pt closer (in twips)
        self.condense = -5 if gbt else 0


def _lang(document: Document) -> str:
    return "zh-CN" if document.lang == "zh" else "en-GB"


def _rpr(family: str, half_points: int, lang: str, color: str | None = None, condense: int = 0) -> str:
    name = quoteattr(family)
    colour = f'<w:color w:val="{color}"/>' if color else ""
    spacing = f'<w:spacing w:val="{condense}"/>' if condense else ""
    return (f'<w:rPr><w:rFonts w:ascii={name} w:hAnsi={name} w:eastAsia={name} w:cs={name} w:hint="eastAsia"/>'
            f'{colour}{spacing}<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/>'
            f'<w:lang w:val="{lang}" w:eastAsia="zh-CN" w:bidi="ar-SA"/></w:rPr>')


def _runs(text: str, rpr: str) -> str:
    parts = text.replace("\t", " ").split("\n")
    inner = "<w:br/>".join(f'<w:t xml:space="preserve">{escape(p)}</w:t>' for p in parts)
    return f"<w:r>{rpr}{inner}</w:r>"


def _para(text: str, rpr: str, jc: str, line: int, before: int = 0, after: int = 0, indent: str = "",
          keep: bool = False, runs: str = "") -> str:
    keep_next = "<w:keepNext/>" if keep else ""
    return (f'<w:p><w:pPr>{keep_next}<w:spacing w:before="{before}" w:after="{after}" w:line="{line}" '
            f'w:lineRule="exact"/>{indent}<w:jc w:val="{jc}"/></w:pPr>{runs}{_runs(text, rpr) if text else ""}</w:p>')


# --- the base package, built once per style, language, fonts and draft mark -----------------

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="xml" ContentType="application/xml"/>
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>
<Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/>
<Override PartName="/word/fontTable.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.fontTable+xml"/>
<Override PartName="/word/footer1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/>
<Override PartName="/word/header1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"/>
<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>
<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>
</Types>"""

_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>
<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>
</Relationships>"""

_DOCUMENT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings" Target="settings.xml"/>
<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/fontTable" Target="fontTable.xml"/>
<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer" Target="footer1.xml"/>
<Relationship Id="rId5" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/header" Target="header1.xml"/>
</Relationships>"""

_CORE = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title></dc:title><dc:creator></dc:creator><cp:revision>1</cp:revision></cp:coreProperties>"""

_APP = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>svc</Application></Properties>"""


def _styles(body: Font, lang: str, style: _Style) -> str:
    rpr = _rpr(body.family, style.body, lang)
    border = "".join(f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
                     for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
    return f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="{W_NS}">
<w:docDefaults><w:rPrDefault>{rpr}</w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="0" w:line="{style.line}" w:lineRule="exact"/></w:pPr></w:pPrDefault></w:docDefaults>
<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/><w:pPr><w:widowControl w:val="0"/><w:jc w:val="both"/></w:pPr>{rpr}</w:style>
<w:style w:type="character" w:default="1" w:styleId="DefaultParagraphFont"><w:name w:val="Default Paragraph Font"/><w:uiPriority w:val="1"/><w:semiHidden/></w:style>
<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/><w:semiHidden/><w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="108" w:type="dxa"/><w:bottom w:w="0" w:type="dxa"/><w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style>
<w:style w:type="table" w:styleId="TableGrid"><w:name w:val="Table Grid"/><w:basedOn w:val="TableNormal"/><w:tblPr><w:tblBorders>{border}</w:tblBorders></w:tblPr></w:style>
<w:style w:type="paragraph" w:styleId="Header"><w:name w:val="header"/><w:basedOn w:val="Normal"/><w:pPr><w:jc w:val="center"/></w:pPr></w:style>
<w:style w:type="paragraph" w:styleId="Footer"><w:name w:val="footer"/><w:basedOn w:val="Normal"/><w:pPr><w:jc w:val="center"/></w:pPr></w:style>
</w:styles>"""


def _settings(lang: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:settings xmlns:w="{W_NS}"><w:defaultTabStop w:val="420"/><w:characterSpacingControl w:val="compressPunctuation"/><w:compat><w:useFELayout/><w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="15"/></w:compat><w:themeFontLang w:val="{lang}" w:eastAsia="zh-CN"/></w:settings>"""


def _font_table(fonts: list[Font]) -> str:
    entries = "".join(f'<w:font w:name={quoteattr(f.family)}><w:charset w:val="86"/><w:family w:val="auto"/>'
                      f'<w:pitch w:val="variable"/></w:font>' for f in fonts)
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:fonts xmlns:w="{W_NS}">{entries}</w:fonts>'


def _footer(body: Font, lang: str) -> str:
    rpr = _rpr(body.family, 28, lang)
    before, _, after = word("zh", "page", n="\0").partition("\0")
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:ftr xmlns:w="{W_NS}"><w:p><w:pPr>'
            f'<w:pStyle w:val="Footer"/><w:spacing w:line="360" w:lineRule="auto"/><w:jc w:val="center"/></w:pPr>'
            f'{_runs(before, rpr)}<w:fldSimple w:instr=" PAGE ">{_runs("1", rpr)}</w:fldSimple>{_runs(after, rpr)}'
            f'</w:p></w:ftr>')


def _header(body: Font, lang: str, banner: str) -> str:
    rpr = _rpr(body.family, 24, lang, color="C00000")
    text = _runs(banner, rpr) if banner else ""
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:hdr xmlns:w="{W_NS}"><w:p><w:pPr>'
            f'<w:pStyle w:val="Header"/><w:spacing w:line="360" w:lineRule="auto"/><w:jc w:val="center"/></w:pPr>'
            f'{text}</w:p></w:hdr>')


def _document(letter: bool, style: _Style) -> str:
    m = {k: round(v * TWIPS_PER_MM) for k, v in MARGINS.items()}
    # exact line spacing on every paragraph keeps the 22-line page; a snapping grid would
    # round the taller title and table rows up to whole grid lines
    grid = f'<w:docGrid w:linePitch="{style.line}"/>'
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{W_NS}" '
            f'xmlns:r="{R_NS}"><w:body><w:sectPr><w:headerReference w:type="default" r:id="rId5"/>'
            f'<w:footerReference w:type="default" r:id="rId4"/><w:pgSz w:w="{PAGE[0]}" w:h="{PAGE[1]}"/>'
            f'<w:pgMar w:top="{m["top"]}" w:right="{m["right"]}" w:bottom="{m["bottom"]}" w:left="{m["left"]}" '
            f'w:header="851" w:footer="1247" w:gutter="0"/><w:cols w:space="425"/>{grid}</w:sectPr>'
            f'</w:body></w:document>')


_bases: dict[tuple[Any, ...], bytes] = {}


def _base(document: Document, body: Font, title: Font) -> bytes:
    letter = document.style == "letter"
    lang = _lang(document)
    banner = word(document.lang, "draft-banner") if document.draft else ""
    key = (letter, lang, body.family, title.family, banner)
    if key in _bases:
        return _bases[key]
    style = _Style(letter, document.lang == "zh")
    parts = {
        "[Content_Types].xml": _CONTENT_TYPES,
        "_rels/.rels": _ROOT_RELS,
        "docProps/core.xml": _CORE,
        "docProps/app.xml": _APP,
        "word/_rels/document.xml.rels": _DOCUMENT_RELS,
        "word/document.xml": _document(letter, style),
        "word/styles.xml": _styles(body, lang, style),
        "word/settings.xml": _settings(lang),
        "word/fontTable.xml": _font_table([body] if title.family == body.family else [body, title]),
        "word/footer1.xml": _footer(body, lang),
        "word/header1.xml": _header(body, lang, banner),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text.encode("utf-8"))
    _bases[key] = out.getvalue()
    return _bases[key]


# --- the body -------------------------------------------------------------------------------

def _body_xml(document: Document, body: Font, title: Font) -> str:
    letter = document.style == "letter"
    zh = document.lang == "zh"
    style = _Style(letter, zh)
    lang = _lang(document)
    rpr = _rpr(body.family, style.body, lang, condense=style.condense if zh else 0)
    cell_rpr = _rpr(body.family, style.cell, lang)
    title_rpr = _rpr(title.family, style.title, lang)
    indent = (f'<w:ind w:firstLineChars="200" w:firstLine="{style.body * 20}"/>' if zh else "")
    out: list[str] = []
    for index, block in enumerate(document.blocks):
        if isinstance(block, Table):
            out.append(_table(block, cell_rpr, style, zh))
            following = document.blocks[index + 1] if index + 1 < len(document.blocks) else None
            if following is None or isinstance(following, (Table, Chart)):  # Word needs a paragraph after a table
                out.append(_para("", rpr, "left", 120))
            continue
        if isinstance(block, Chart):
            out.append(_chart(block, document.lang, body, lang, style))
            continue
        assert isinstance(block, Block)
        text = block.text.plain
        if block.kind == "space":
            out.append(_para("", rpr, "left", style.gap))
        elif block.kind == "title":
            # a title and the blank line under it take two lines of the grid, as in the PDF
            title_line = round(style.title * 15)
            out.append(_para(text, title_rpr, "center", title_line, after=max(2 * style.line - title_line, 120)))
        elif block.kind == "heading":
            out.append(_para(text, rpr, "left", style.line, before=style.line // 4))
        elif block.kind in ("center", "right", "left"):
            out.append(_para(text, rpr, block.kind, style.line))
        else:
            after = 0 if letter and zh else style.line // (4 if zh else 2)
            out.append(_para(text, rpr, "both" if zh else "left", style.line, after=after, indent=indent))
    return "".join(out)


def _table(block: Table, rpr: str, style: _Style, zh: bool) -> str:
    widths = [round(FRAME_TWIPS * w) for w in block.widths]
    jc = {"left": "both" if zh else "left", "center": "center", "right": "right"}
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    rows: list[str] = []

    def row(index: int, cells: tuple[Text, ...], header: bool) -> str:
        tcs = []
        for first, span in block.spans(index):
            width = sum(widths[first:first + span])
            shade = '<w:shd w:val="clear" w:color="auto" w:fill="E6E6E6"/>' if header else ""
            merge = f'<w:gridSpan w:val="{span}"/>' if span > 1 else ""
            paragraph = _para(cells[first].plain, rpr, "center" if header else jc[block.aligns[first]],
                              style.cell_line)
            tcs.append(f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{merge}{shade}<w:vAlign w:val="center"/>'
                       f'</w:tcPr>{paragraph}</w:tc>')
        props = "<w:trPr><w:tblHeader/></w:trPr>" if header else "<w:trPr><w:cantSplit/></w:trPr>"
        return f"<w:tr>{props}{''.join(tcs)}</w:tr>"

    for index, cells in enumerate((*block.header, *block.rows)):
        rows.append(row(index, cells, index < len(block.header)))
    margins = ('<w:tblCellMar><w:top w:w="80" w:type="dxa"/><w:left w:w="85" w:type="dxa"/>'
               '<w:bottom w:w="80" w:type="dxa"/><w:right w:w="85" w:type="dxa"/></w:tblCellMar>')
    return (f'<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="{sum(widths)}" w:type="dxa"/>'
            f'<w:jc w:val="center"/><w:tblLayout w:type="fixed"/>{margins}<w:tblLook w:val="04A0" '
            f'w:firstRow="1" w:lastRow="0" w:firstColumn="0" w:lastColumn="0" w:noHBand="0" w:noVBand="1"/>'
            f'</w:tblPr><w:tblGrid>{grid}</w:tblGrid>{"".join(rows)}</w:tbl>')


BAR_FILL = "4F82B5"  # the PDF's bar colour
TARGET_COLOUR = "C00000"


def _estimate(text: str, half_points: int) -> int:
    """About how wide `text` is in twips (Han characters a whole em, others about half)."""
    em = half_points * 10
    return round(max((sum(em if is_wide(c) else em * 0.6 for c in part) for part in text.split("\n")), default=0))


def _chart(chart: Chart, doc_lang: str, body: Font, lang: str, style: _Style) -> str:
    """The chart's title, its table (a row per bar: label, bar, value) and the target's note."""
    cell_rpr = _rpr(body.family, style.cell, lang)
    out = []
    if chart.title:
        out.append(_para(chart.title.plain, _rpr(body.family, style.body, lang), "center", style.line,
                         before=60, keep=bool(chart.bars)))
    if not chart.bars:
        out.append(_para(chart.empty_note(doc_lang).plain, cell_rpr, "center", style.cell_line, after=120))
        return "".join(out)

    margin = 85  # each side of a label or value cell
    label_w = min(max(max(_estimate(b.label.plain, style.cell) for b in chart.bars) + 2 * margin + 40, 600),
                  round(FRAME_TWIPS * 0.32))
    value_w = min(max(max(_estimate(b.shown.plain, style.cell) for b in chart.bars) + 2 * margin + 160, 600),
                  round(FRAME_TWIPS * 0.25))
    bar_w = FRAME_TWIPS - label_w - value_w

    def place(fraction: float, visible: bool) -> int:
        """Where a length ends in the bar area, in steps of 20 twips (a bar with any value shows)."""
        at = round(bar_w * fraction / 20) * 20
        return max(at, 40) if visible and fraction > 0 else min(at, bar_w)

    ends = [place(chart.fraction(b.value), True) for b in chart.bars]
    target = None if chart.target is None else place(chart.fraction(chart.target), False)
    if target == 0:
        target = None  # a target of nothing is the axis itself
    edges = sorted({0, bar_w, *ends, *([target] if target is not None else [])})
    grid = [label_w, *(b - a for a, b in pairwise(edges)), value_w]
    none = "".join(f'<w:{side} w:val="nil"/>' for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
    gap = '<w:top w:val="single" w:sz="18" w:space="0" w:color="FFFFFF"/>'  # white space between bars
    gap_bottom = gap.replace("w:top", "w:bottom")
    axis = '<w:left w:val="single" w:sz="6" w:space="0" w:color="000000"/>'
    dashed = f'<w:right w:val="dashed" w:sz="12" w:space="0" w:color="{TARGET_COLOUR}"/>'
    no_margin = '<w:tcMar><w:left w:w="0" w:type="dxa"/><w:right w:w="0" w:type="dxa"/></w:tcMar>'
    rows = []
    last = len(chart.bars) - 1
    for index, (bar, end) in enumerate(zip(chart.bars, ends)):
        keep = index < last  # rows keep with the next: the chart stays on one page when it fits
        cells = [(f'<w:tc><w:tcPr><w:tcW w:w="{label_w}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>'
                  f'{_para(bar.label.plain, cell_rpr, "right", style.cell_line, keep=keep)}</w:tc>')]
        points = sorted({0, bar_w, end, *([target] if target is not None else [])})
        for start, stop in pairwise(points):
            span = edges.index(stop) - edges.index(start)
            # in the schema's order: top, left, bottom, right
            borders = gap + (axis if start == 0 else "") + gap_bottom + (dashed if stop == target else "")
            shade = f'<w:shd w:val="clear" w:color="auto" w:fill="{BAR_FILL}"/>' if stop <= end else ""
            merge = f'<w:gridSpan w:val="{span}"/>' if span > 1 else ""
            cells.append(f'<w:tc><w:tcPr><w:tcW w:w="{stop - start}" w:type="dxa"/>{merge}'
                         f'<w:tcBorders>{borders}</w:tcBorders>{shade}{no_margin}<w:vAlign w:val="center"/>'
                         f'</w:tcPr>{_para("", cell_rpr, "left", style.cell_line, keep=keep)}</w:tc>')
        cells.append(f'<w:tc><w:tcPr><w:tcW w:w="{value_w}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>'
                     f'{_para(bar.shown.plain, cell_rpr, "left", style.cell_line, keep=keep)}</w:tc>')
        rows.append(f'<w:tr><w:trPr><w:cantSplit/></w:trPr>{"".join(cells)}</w:tr>')
    grid_xml = "".join(f'<w:gridCol w:w="{w}"/>' for w in grid)
    margins = ('<w:tblCellMar><w:top w:w="30" w:type="dxa"/><w:left w:w="85" w:type="dxa"/>'
               '<w:bottom w:w="30" w:type="dxa"/><w:right w:w="85" w:type="dxa"/></w:tblCellMar>')
    out.append(f'<w:tbl><w:tblPr><w:tblW w:w="{sum(grid)}" w:type="dxa"/><w:jc w:val="center"/>'
               f'<w:tblBorders>{none}</w:tblBorders><w:tblLayout w:type="fixed"/>{margins}'
               f'<w:tblLook w:val="0000" w:firstRow="0" w:lastRow="0" w:firstColumn="0" w:lastColumn="0" '
               f'w:noHBand="1" w:noVBand="1"/></w:tblPr>'
               f'<w:tblGrid>{grid_xml}</w:tblGrid>{"".join(rows)}</w:tbl>')
    note = chart.target_note(doc_lang)
    if note:  # the target's legend: a piece of its dashed line, and its words
        sample = _runs("\u3000\u3000", _rpr(body.family, style.cell, lang, color=TARGET_COLOUR).replace(
            "<w:lang", f'<w:u w:val="dash" w:color="{TARGET_COLOUR}"/><w:lang'))
        out.append(_para(" " + note.plain, cell_rpr, "left", style.cell_line, before=60, after=120,
                         indent=f'<w:ind w:left="{label_w}"/>', runs=sample))
    else:  # Word needs a paragraph after a table
        out.append(_para("", cell_rpr, "left", 120))
    return "".join(out)


def render_docx(document: Document, body: Font, title: Font, when: dt.datetime) -> bytes:
    from docx import Document as open_docx
    from docx.oxml import parse_xml

    package = open_docx(io.BytesIO(_base(document, body, title)))
    fragment = parse_xml(f'<w:body xmlns:w="{W_NS}">{_body_xml(document, body, title)}</w:body>')
    section = package.element.body.sectPr
    for child in list(fragment):
        section.addprevious(child)
    core = package.core_properties
    core.title = document.title
    core.author = document.author
    core.subject = document.template
    core.language = _lang(document)
    moment = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
    core.created = moment
    core.modified = moment
    out = io.BytesIO()
    package.save(out)
    return out.getvalue()

"""Bar charts in templates (`! bar TITLE | label=value ... | target=N | max=N | unit=%`):
the block parser, and the PDF and DOCX read back with pypdf and python-docx (and
LibreOffice, when installed)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import svc.letters.blocks
from svc.config import Config
from svc.letters import fonts, issue, printing
from svc.letters.blocks import MARK_CLOSE, MARK_OPEN, Block, Chart, Document, TemplateError, parse_blocks
from svc.letters.settings import LetterSettings
from tests.letters_util import docx_text, pdf_fonts, pdf_pages, pdf_text, squeeze

NOW = dt.datetime(2026, 11, 6, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
BAR_FILL = re.compile(r"\bre\s+f\*?(?=\s)")


def mark(index: int) -> str:
    return f"{MARK_OPEN}{index}{MARK_CLOSE}"


def chart_of(output: str, values: Sequence[tuple[str, str | None]] = ()) -> Chart:
    blocks = parse_blocks(output, list(values), "t")
    assert len(blocks) == 1 and isinstance(blocks[0], Chart), blocks
    return blocks[0]


# --- the block -----------------------------------------------------------------------------------

def test_the_module_exports_chart() -> None:
    assert hasattr(svc.letters.blocks, "Chart")
    assert "! bar" in (svc.letters.blocks.__doc__ or "")


def test_a_chart_line() -> None:
    chart = chart_of("! bar 各分公司满意度 | 朝阳=92.5 | 海淀=88 | 西城=0 | target=90 | unit=%")
    assert chart.title.plain == "各分公司满意度"
    assert [(b.label.plain, b.value, b.shown.plain) for b in chart.bars] == [
        ("朝阳", 92.5, "92.5%"), ("海淀", 88.0, "88%"), ("西城", 0.0, "0%")]
    assert chart.target == 90 and chart.target_shown.plain == "90%"
    assert chart.scale == 100  # the largest value rounded up
    assert chart.fraction(92.5) == 0.925
    assert chart.target_note("zh").plain == "目标：90%"
    assert chart.target_note("en").plain == "Target: 90%"


def test_options_anywhere_max_fixes_the_scale_and_a_trailing_bar_is_fine() -> None:
    chart = chart_of("! bar Cases | max=50 | a=3 | unit= 件 | b=17 |")
    assert [b.label.plain for b in chart.bars] == ["a", "b"]
    assert chart.scale == 50 and chart.target is None
    assert chart.bars[1].shown.plain == "17件"
    assert chart.fraction(80) == 1.0  # over the scale: a full bar, the value still printed as it is


@pytest.mark.parametrize("largest, scale", [(92.5, 100), (37, 40), (7, 8), (120, 120), (0.3, 0.3), (1234, 1500),
                                            (0, 1)])
def test_the_scale_is_the_largest_value_rounded_up(largest: float, scale: float) -> None:
    assert chart_of(f"! bar t | x={largest}").scale == pytest.approx(scale)


def test_the_target_counts_for_the_scale() -> None:
    assert chart_of("! bar t | x=3 | target=90").scale == 100


def test_fields_with_bars_and_equals_signs_stay_whole() -> None:
    """Only the line's own `|` and `=` split it: fields are placeholders when it is read."""
    values: list[tuple[str, str | None]] = [("海淀 | 分=公司", "branches[2].name"), ("88.5", "branches[2].rate"),
                                            ("目标|率", "report.title"), ("max", "branches[3].name")]
    chart = chart_of(f"! bar {mark(2)} \\| 月报 | {mark(0)}={mark(1)} | {mark(3)}=5 | target=90", values)
    assert chart.title.plain == "目标|率 | 月报"
    assert [s.source for s in chart.title.segments] == ["report.title", None]
    first, second = chart.bars
    assert first.label.plain == "海淀 | 分=公司" and first.value == 88.5
    assert [s.source for s in first.label.segments] == ["branches[2].name"]
    assert first.shown.segments[0].source == "branches[2].rate"
    assert second.label.plain == "max" and second.value == 5  # a field is never an option


def test_a_unit_in_the_value_itself_is_accepted() -> None:
    chart = chart_of(f"! bar t | a={mark(0)} | unit=%", [("92.5%", "b.rate")])
    assert chart.bars[0].value == 92.5 and chart.bars[0].shown.plain == "92.5%"


@pytest.mark.parametrize("value", ["n/a", "", "9 2", "1e3", "nan", "92.5%", "１２"])
def test_a_value_that_is_not_a_number_names_the_template_line_and_field(value: str) -> None:
    output = "# 月报\n\n! bar 满意度 | 朝阳=90 | " + mark(0) + "=" + mark(1)
    with pytest.raises(TemplateError) as error:
        parse_blocks(output, [("海淀", "branches[2].name"), (value, "branches[2].rate")], "monthly")
    message = str(error.value)
    assert "template monthly: output line 3" in message
    assert "'海淀'" in message and "not a number" in message
    assert "field branches[2].rate" in message


def test_a_literal_value_that_is_not_a_number() -> None:
    with pytest.raises(TemplateError, match=r"template t: output line 1: the value of '朝阳' .* 'abc'$"):
        parse_blocks("! bar 满意度 | 朝阳=abc", [], "t")


@pytest.mark.parametrize("line, message", [
    ("! bar t | 朝阳", "label=value, not '朝阳'"),
    ("! bar t | =5", "no label"),
    ("! bar t | a=-1", "negative"),
    ("! bar t | a=1 | target=x", "target= is not a number"),
    ("! bar t | a=1 | max=0", "max= must be more than 0"),
    ("! bar t | a=1 | unit=% | unit=件", "unit= twice"),
])
def test_other_mistakes_are_template_errors(line: str, message: str) -> None:
    with pytest.raises(TemplateError, match=re.escape(message)):
        parse_blocks(line, [], "t")


def test_no_items_is_a_chart_that_says_so() -> None:
    chart = chart_of("! bar 投诉件数 | target=5")
    assert chart.bars == () and chart.scale > 0
    document = Document("t", "zh", "form", "t", [chart])
    assert document.plain_text() == "投诉件数\n无数据"  # no target without bars
    assert Document("t", "en", "form", "t", [chart]).plain_text() == "投诉件数\nNo data"


def test_only_bar_lines_are_charts() -> None:
    blocks = parse_blocks("!bar x\n! barn x\n\\! bar x\n! bar", [], "t")
    assert [b.kind for b in blocks] == ["para", "para", "para", "bar"]
    assert isinstance(blocks[2], Block) and blocks[2].text.plain == "! bar x"


def test_every_word_of_a_chart_is_checked_for_glyphs() -> None:
    values = [("朝阳", "branches[1].name"), ("海\U00020000", "branches[2].name")]
    chart = chart_of(f"! bar 满意度 | {mark(0)}=1 | {mark(1)}=2 | target=1", values)
    document = Document("t", "zh", "form", "t", [chart])
    assert [kind for kind, _ in document.texts()] == ["chart"] * 6  # title, 2 x (label, value), target
    body = fonts.choose(LetterSettings(), "body")
    with pytest.raises(fonts.FontError, match=r"U\+20000.* in branches\[2\]\.name"):
        issue._check(document, ("pdf",), body, body)
    title = chart_of(f"! bar {mark(0)} | a=1", [("满意度\U00020000", "report.title")])
    with pytest.raises(fonts.FontError, match=r"in report\.title"):
        issue._check(Document("t", "zh", "form", "t", [title]), ("pdf",), body, body)
    with pytest.raises(fonts.FontError, match=r"control character U\+0007 in branches\[1\]\.name"):
        bell = chart_of(f"! bar t | {mark(0)}=1", [("a\a", "branches[1].name")])
        issue._check(Document("t", "zh", "form", "t", [bell]), ("docx",), body, body)


# --- the files ------------------------------------------------------------------------------------

TEMPLATE = """{#
title: 满意度月报
style: form
recipient: 存档
#}
# 满意度月报
^ {{ office.name }}

## 一、满意度
! bar 各分公司满意度{% for b in branches %} | {{ b.name }}={{ b.rate }}{% endfor %} | target=90 | unit=%
## 二、投诉件数
! bar 本月投诉件数{% for b in empty %} | {{ b.name }}={{ b.count }}{% endfor %} |
> {{ office.name }}
"""

BRANCHES: list[dict[str, Any]] = [{"name": "朝阳分公司", "rate": 92.5}, {"name": "海淀 | 分=公司", "rate": "88"},
            {"name": "西城分公司（含金融街）", "rate": 75}, {"name": "通州", "rate": "0"}]


def print_chart(tmp_path: Path, formats: tuple[str, ...], branches: list[dict[str, Any]] | None = None,
                template: str = TEMPLATE) -> dict[str, Path]:
    store = tmp_path / "store"
    folder = store / "templates" / "records" / "zh"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "chart-test.txt").write_text(template, encoding="utf-8")
    config = Config(office="BJ01", name="北京示例客服中心")
    values = {"branches": BRANCHES if branches is None else branches, "empty": []}
    written = printing.print_record(config, store, "chart-test", values, formats, tmp_path / "out", "chart", NOW)
    return {path.suffix[1:]: path for path in written}


def test_a_field_that_is_not_a_number_is_refused_when_printing(tmp_path: Path) -> None:
    branches = [*BRANCHES, {"name": "东城", "rate": "待统计"}]
    with pytest.raises(TemplateError) as error:
        print_chart(tmp_path, ("pdf",), branches)
    message = str(error.value)
    assert "template chart-test" in message and "field branches[5].rate" in message and "'待统计'" in message
    assert not (tmp_path / "out").exists()


def test_pdf_draws_bars_and_prints_every_word(tmp_path: Path) -> None:
    path = print_chart(tmp_path, ("pdf",))["pdf"]
    text = squeeze(pdf_text(path))
    expected = ["各分公司满意度", "朝阳分公司", "92.5%", "海淀|分=公司", "88%", "西城分公司（含金融街）", "75%", "通州", "0%",
                "目标：90%", "本月投诉件数", "无数据"]
    for words in expected:
        assert squeeze(words) in text, words
    # in reading order: title, then each label with its value, then the target
    assert text.index("各分公司满意度") < text.index("朝阳分公司92.5%") < text.index("海淀|分=公司88%") \
        < text.index("通州0%") < text.index("目标：90%") < text.index("本月投诉件数")
    assert text.endswith("本月投诉件数无数据北京示例客服中心")  # the line after a chart stays its own block
    fonts_used = pdf_fonts(path)  # also: no forms or images, the chart is drawn on the page itself
    assert fonts_used and all(f["embedded"] and "WenQuanYiMicroHei" in f["base"] for f in fonts_used), fonts_used
    (page,) = pdf_pages(path)
    content = page.get_contents().get_data().decode("latin-1")
    assert len(BAR_FILL.findall(content)) >= 3  # a filled rectangle per bar of a value over 0
    assert re.search(r"\[3 2\] 0 d", content)  # the target's dashed line


def test_the_same_chart_is_the_same_pdf(tmp_path: Path) -> None:
    one = print_chart(tmp_path / "a", ("pdf",))["pdf"].read_bytes()
    two = print_chart(tmp_path / "b", ("pdf",))["pdf"].read_bytes()
    assert one == two


FILLER = 20  # paragraphs that leave less than the chart's height at the foot of the first page


def test_a_chart_stays_with_its_title_across_a_page_break(tmp_path: Path) -> None:
    filler = "\n".join(f"第{i}段：本月客户来电较多，处理及时。" for i in range(FILLER))
    template = TEMPLATE.replace("## 一、满意度\n", filler + "\n")
    path = print_chart(tmp_path, ("pdf",), template=template)["pdf"]
    pages = [squeeze(page.extract_text()) for page in pdf_pages(path)]
    assert len(pages) == 2
    assert f"第{FILLER - 1}段" in pages[0]  # room was left on the first page, but not enough for the chart
    assert "各分公司满意度" in pages[1]
    for words in ("朝阳分公司92.5%", "通州0%", "目标：90%"):
        assert words in pages[1]


def test_a_chart_longer_than_a_page_is_split_between_bars(tmp_path: Path) -> None:
    branches = [{"name": f"第{i}服务点", "rate": i} for i in range(1, 81)]
    path = print_chart(tmp_path, ("pdf",), branches)["pdf"]
    pages = [squeeze(page.extract_text()) for page in pdf_pages(path)]
    assert len(pages) >= 2
    assert "各分公司满意度" in pages[0] and "第1服务点1%" in pages[0]
    text = "".join(pages)
    for i in range(1, 81):
        assert f"第{i}服务点{i}%" in text
    assert text.count("目标：90%") == 1 and "目标：90%" in pages[-1]


def _docx_chart_tables(path: Path) -> list[Any]:
    import docx

    return docx.Document(str(path)).tables


def test_docx_draws_a_table_with_shaded_bars(tmp_path: Path) -> None:
    from docx.oxml.ns import qn

    path = print_chart(tmp_path, ("docx",))["docx"]
    text = docx_text(path)
    for words in ("各分公司满意度", "目标：90%", "本月投诉件数", "无数据"):
        assert words in text, words
    (table,) = _docx_chart_tables(path)  # the empty chart has no table
    rows = table._tbl.tr_lst
    assert len(rows) == len(BRANCHES)
    filled: list[int] = []
    for tr, branch in zip(rows, BRANCHES):
        cells = tr.tc_lst
        texts = ["".join(t.text or "" for t in tc.iter(qn("w:t"))) for tc in cells]
        assert texts[0] == branch["name"] and texts[-1] == f"{branch['rate']}%"
        assert all(not t for t in texts[1:-1])  # the bar's cells hold no words
        shaded = [tc for tc in cells if (shd := tc.tcPr.find(qn("w:shd"))) is not None
                  and shd.get(qn("w:fill")) not in (None, "auto")]
        filled.append(sum(int(tc.tcPr.find(qn("w:tcW")).get(qn("w:w"))) for tc in shaded))
        # every row is as wide as the table's grid
        grid = [int(c.get(qn("w:w"))) for c in table._tbl.tblGrid.iter(qn("w:gridCol"))]
        spans = [int(s.get(qn("w:val"))) if (s := tc.tcPr.find(qn("w:gridSpan"))) is not None else 1 for tc in cells]
        assert sum(spans) == len(grid)
        assert sum(int(tc.tcPr.find(qn("w:tcW")).get(qn("w:w"))) for tc in cells) == sum(grid)
    assert filled[3] == 0  # a value of 0 has no bar
    assert filled[0] > filled[1] > filled[2] > 0
    assert filled[1] / filled[0] == pytest.approx(88 / 92.5, abs=0.01)
    assert filled[2] / filled[0] == pytest.approx(75 / 92.5, abs=0.01)
    # the target: a dashed border down every row at 90% of the bar area
    for tr in rows:
        assert tr.find(f".//{qn('w:right')}[@{qn('w:val')}='dashed']") is not None


def test_docx_text_matches_the_document(tmp_path: Path) -> None:
    paths = print_chart(tmp_path, ("pdf", "docx"))
    assert squeeze(docx_text(paths["docx"])) == squeeze(pdf_text(paths["pdf"]))


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(_soffice() is None, reason="LibreOffice is not installed")
def test_libreoffice_converts_the_chart(tmp_path: Path) -> None:
    path = print_chart(tmp_path, ("docx",))["docx"]
    profile = tmp_path / "lo-profile"
    done = subprocess.run(
        [_soffice() or "soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(path)],
        check=False, capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)},
    )
    converted = tmp_path / (path.stem + ".pdf")
    assert done.returncode == 0 and converted.is_file(), done.stderr
    text = squeeze(pdf_text(converted))
    for words in ("92.5%", "88%", "75%", "90%"):
        assert words in text, words
    content = pdf_pages(converted)[0].get_contents().get_data().decode("latin-1")
    assert re.search(r"0?\.3098\d* 0?\.5098\d* 0?\.7098\d* rg", content)  # the bars' colour (4F82B5) ...
    assert BAR_FILL.search(content)  # ... filling the shaded cells


@pytest.mark.parametrize("filler", [19, 20, 21, 22, 44, 45, 46, 47])  # around the foot of pages 1 and 2
def test_a_heading_is_never_left_alone_at_the_foot_of_a_page(tmp_path: Path, filler: int) -> None:
    """Whatever the text above it, a heading shares its page with what follows it."""
    lines = "\n".join(f"第{i}段：本月客户来电较多，处理及时。" for i in range(filler))
    template = TEMPLATE.split("## 一、满意度")[0] + lines + "\n## 三、明细\n| 项目 | 数量 |\n|---|---|\n| 首行 | 1 |\n"
    path = print_chart(tmp_path, ("pdf",), template=template)["pdf"]
    for page in pdf_pages(path):
        text = squeeze(page.extract_text())
        if "三、明细" in text:
            assert "首行1" in text, text[-80:]

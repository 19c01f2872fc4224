"""Letters, the core without a store: the block format, strict templates, Chinese line
breaking. (The files themselves are checked in test_letters_files.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from svc.letters import templates
from svc.letters.blocks import MARK_CLOSE, MARK_OPEN, Block, Table, TemplateError, parse_blocks
from svc.letters.linebreak import CANNOT_END, CANNOT_START, break_lines, units

SHIPPED_NAMES = ["dispute-sheet", "feedback-form", "formal-letter", "handling-notice", "urging-notice",
                 "visit-record", "work-order"]


def mark(index: int) -> str:
    return f"{MARK_OPEN}{index}{MARK_CLOSE}"


def test_every_kind_of_block() -> None:
    output = "\n".join([
        "# 催办通知单",
        "^ 编号：" + mark(0),
        "< 朝阳分公司：",
        "正文第一段。",
        "",
        "",
        "## 一、处理意见",
        r"第二段\n换行，竖线\|与反斜杠\\照印。",
        r"\# 不是标题",
        "|:--:|------|--:|",
        "| 客户 | " + mark(1) + " | 1 |",
        "| 地址 | 北京 | < |",
        "> 北京示例客服中心",
    ])
    blocks = parse_blocks(output, [("BJ01〔2026〕A001号", "letter.number"), ("张三", "customer.name")], "t")
    kinds = [b.kind for b in blocks]
    assert kinds == ["title", "center", "left", "para", "space", "heading", "para", "para", "table", "right"]
    assert blocks[1].text.plain == "编号：BJ01〔2026〕A001号"
    assert [s.source for s in blocks[1].text.segments] == [None, "letter.number"]
    assert blocks[6].text.plain == "第二段\n换行，竖线|与反斜杠\\照印。"
    assert blocks[7].text.plain == "# 不是标题"
    table = blocks[8]
    assert isinstance(table, Table)
    assert table.header == ()  # a separator first: no header row
    assert [round(w, 3) for w in table.widths] == [0.2, 0.6, 0.2]
    assert table.aligns == ("center", "left", "right")
    assert table.rows[0][1].plain == "张三"
    assert table.spans(1) == [(0, 1), (1, 2)]  # `<` joins the cell on its left


def test_header_rows_come_before_the_separator() -> None:
    output = "| 时间 | 事项 |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |"
    table = parse_blocks(output, [], "t")[0]
    assert isinstance(table, Table)
    assert [c.plain for c in table.header[0]] == ["时间", "事项"]
    assert len(table.rows) == 2


def test_a_row_with_the_wrong_number_of_cells_is_an_error() -> None:
    with pytest.raises(TemplateError, match="3 cells in a table of 2 columns"):
        parse_blocks("| a | b |\n| a | b | c |", [], "t")


def test_values_never_become_structure() -> None:
    """A value with line breaks, bars, a title mark or markup stays in its block."""
    evil = "张三\n# 伪造标题\n| 伪 | 造 |\n<b>&amp;</b> {{ x }} {% if %}"
    blocks = parse_blocks("客户" + mark(0) + "来电。\n| 姓名 | " + mark(0) + " |", [(evil, "customer.name")], "t")
    assert [b.kind for b in blocks] == ["para", "table"]
    assert blocks[0].text.plain == "客户" + evil + "来电。"
    assert isinstance(blocks[1], Table) and blocks[1].rows[0][1].plain == evil


# --- templates ------------------------------------------------------------------------------------

def shipped(name: str, lang: str = "zh") -> templates.Template:
    found = templates.find(name, lang, None)
    assert found is not None
    return templates.load(found)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_shipped_set(lang: str) -> None:
    assert [t.name for t in templates.available(lang, None)] == SHIPPED_NAMES
    for name in SHIPPED_NAMES:
        template = shipped(name, lang)
        assert template.meta.style in ("letter", "form")
        assert templates.fields(template)


def test_fields_a_template_needs() -> None:
    uses = {u.path: u.optional for u in templates.fields(shipped("visit-record"))}
    assert uses["case.id"] is False
    assert uses["customer.address"] is True  # printed with a default
    assert uses["complainant.name"] is True  # only tested with `is defined` (then printed)
    assert uses["history[].at"] is False  # a loop over the case's history
    assert "history" not in uses and "row.at" not in uses
    letter = {u.path for u in templates.fields(shipped("formal-letter"))}
    assert {"letter.subject", "letter.paragraphs", "customer.name"} <= letter


def render(name: str, context: dict[str, object]) -> str:
    template = shipped(name)
    values = {key: templates.wrap(key, value) for key, value in context.items()}
    return templates.render(template, values, False, None, "office").plain_text()


def test_a_missing_field_is_named_with_its_path_and_line() -> None:
    context = {"letter": {"number": "1", "date": "d", "recipient": "r"}, "office": {"name": "o"},
               "case": {"id": "C1", "opened_on": "d", "summary": "s"}, "customer": {"name": "张三"},
               "last_followup": {"at": "t", "round": "1", "result": "unsatisfied"}, "user": {"name": "u"},
               "branch": {"name": "b"}}
    with pytest.raises(TemplateError) as error:
        render("urging-notice", context)
    message = str(error.value)
    assert "missing field customer.phone" in message
    assert "urging-notice.txt:" in message  # the template line that needs it
    del context["last_followup"]
    with pytest.raises(TemplateError, match="missing field last_followup"):
        render("urging-notice", {**context, "customer": {"name": "张三", "phone": "1"}})


def test_a_missing_option_field_names_the_option() -> None:
    with pytest.raises(TemplateError, match=r"missing field letter.subject \(give --subject\)"):
        render("formal-letter", {"letter": {"number": "1"}, "customer": {"name": "x"}})


def test_a_template_without_its_description_is_refused(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "bad.txt").write_text("# 标题\n", encoding="utf-8")
    found = templates.find("bad", "zh", tmp_path)
    assert found is not None and found.source == "store"
    with pytest.raises(TemplateError, match="starts with a"):
        templates.load(found)
    (tmp_path / "templates" / "bad.txt").write_text("{#\ntitle: x\nstyle: memo\nrecipient: y\n#}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match="style"):
        templates.load(found)
    (tmp_path / "templates" / "bad.txt").write_text("{#\ntitle: x\nstyle: form\nrecipient: y\n#}\n{% if %}\n",
                                                    encoding="utf-8")
    with pytest.raises(TemplateError, match=r"bad.txt:6:"):
        templates.load(found)


# --- Chinese line breaking ---------------------------------------------------------------------------

def width(text: str) -> float:
    """Han characters and Chinese punctuation take a whole em, ASCII half of one."""
    return sum(0.5 if ord(c) < 128 else 1.0 for c in text)


def test_closing_punctuation_is_pushed_down_with_the_character_before_it() -> None:
    lines = break_lines("一二三四五六七八九。十", width, 9)
    assert [line.text for line in lines] == ["一二三四五六七八", "九。十"]
    assert lines[0].justify and not lines[1].justify


def test_opening_brackets_do_not_end_a_line_and_marks_are_not_split() -> None:
    assert [l.text for l in break_lines("一二三四五六七八《九》", width, 9)] == ["一二三四五六七八", "《九》"]
    assert [l.text for l in break_lines("一二三四五六七——八", width, 8)] == ["一二三四五六", "七——八"]
    assert [l.text for l in break_lines("一二三四五六七……", width, 8)] == ["一二三四五六", "七……"]


def test_latin_words_and_numbers_are_not_broken() -> None:
    lines = break_lines("电话13800138000请回电 hello world", width, 8)
    assert [l.text for l in lines] == ["电话13800138000", "请回电 hello", "world"]
    assert [l.text for l in break_lines("电话13800138000", width, 4)] == ["电话", "13800138", "000"]


TEXT = st.text(alphabet=st.sampled_from(list("客户投诉维修漏水张三李四，。、；：！？）》”…—“《（ab12 ")), max_size=80)


@settings(max_examples=300, deadline=None)
@given(TEXT, st.integers(min_value=4, max_value=20))
@example("1111（  1", 4)  # spaces between a bracket and its word
@example("1、、《 1", 4)
def test_line_breaking_rules_hold_for_any_text(text: str, limit: int) -> None:
    fits = all(width(u) <= limit for u in units(text))
    lines = break_lines(text, width, limit)
    # nothing is lost but the spaces where a line was broken
    assert "".join(l.text for l in lines).replace(" ", "") == text.replace(" ", "")
    for before, after in zip(lines, lines[1:]):
        assert width(before.text) <= limit + 0.01 or not fits
        if fits and before.text and after.text:
            assert after.text[0] not in CANNOT_START, (before.text, after.text)
            assert before.text[-1] not in CANNOT_END, (before.text, after.text)


def test_blocks_document_text_is_in_reading_order() -> None:
    blocks = parse_blocks("# 标题\n| a | b |\n|---|---|\n| 1 | < |\n正文", [], "t")
    assert isinstance(blocks[0], Block)
    from svc.letters.blocks import Document

    assert Document("t", "zh", "form", "标题", blocks).plain_text() == "标题\na | b\n1\n正文"

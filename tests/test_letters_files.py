"""The letters' files, read back with pypdf and python-docx: the full Chinese text, every
font embedded, A4, GB/T 9704 margins, East Asian fonts and zh-CN on every run, table
header rows that repeat, and customer text printed exactly as typed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from svc.env import Env
from svc.letters import issue
from svc.letters.blocks import Document
from svc.letters.linebreak import CANNOT_END, CANNOT_START
from tests.conftest import Svc
from tests.letters_util import A4, case_with, docx_text, pdf_fonts, pdf_pages, pdf_text, squeeze

TRICKY = "张三 & <李四> {{x}}"
NOW = "2026-11-06T10:00:00+08:00"


def letter(svc: Svc, *args: str, user: str | None = None) -> list[Path]:
    result = svc.ok("letter", *args, now=NOW, user=user)
    return [Path(line) for line in result.stdout.splitlines()]


def expected(svc: Svc, template: str, case_id: str, number: str | None = None, draft: bool = False,
             user: str = "wangfang", **options: str) -> Document:
    """What the files must say, from the same templates (the blocks, not the renderers)."""
    env = Env(str(svc.root), user, 5.0, NOW, svc.root)
    request = issue.LetterRequest(template, [case_id], draft=draft, **options)
    return issue.document_for(env.context(), request, case_id, number)


def without_bars(text: str) -> str:
    return squeeze(text.replace(" | ", ""))


@pytest.fixture
def full_case(svc: Svc) -> str:
    """A complaint with every intake field and a follow-up, so every template has its fields."""
    case_id = case_with(svc, TRICKY, designer="刘洋", site_supervisor="周杰", foreman="马强", start_date="2026-09-01",
                        summary="卫生间漏水（已三天），楼下邻居天花板渗水；客户要求：“先修好，再谈赔偿”……")
    svc.ok("follow-up", case_id, "--outcome", "unsatisfied", "--note", "分公司仍未派人", now="2026-11-06T09:00:00+08:00")
    return case_id


ALL = ["urging-notice", "handling-notice", "feedback-form", "formal-letter", "visit-record", "dispute-sheet",
       "work-order"]
LETTER_OPTIONS = {"subject": "卫生间漏水维修事宜", "body": "您好！经现场勘查，漏水系防水层施工不到位所致。\n我公司将于11月10日前重做防水。"}


@pytest.mark.parametrize("template", ALL)
def test_each_letter_as_pdf_and_docx(svc: Svc, full_case: str, template: str, tmp_path: Path) -> None:
    options = LETTER_OPTIONS if template == "formal-letter" else {}
    if template == "formal-letter":
        svc.ok("approve", full_case, "--what", "formal-letter", user="fawu", now=NOW)
    extra = [f"--{k}={v}" for k, v in options.items()]
    document = expected(svc, template, full_case, "BJ01/2026/A001", **options)  # the case as the letter sees it
    pdf, docx = letter(svc, template, full_case, "--format", "both", *extra)
    assert (pdf.suffix, docx.suffix) == (".pdf", ".docx")
    assert pdf.parent == svc.root / "letters" / "2026"
    words = document.plain_text()
    assert TRICKY in words

    # PDF: every word, in order, exactly (whitespace is where lines broke)
    assert squeeze(pdf_text(pdf)) == without_bars(words)
    assert TRICKY in pdf_text(pdf).replace("\n", "")
    pages = pdf_pages(pdf)
    for page in pages:
        assert (round(float(page.mediabox.width), 2), round(float(page.mediabox.height), 2)) == \
            (round(A4[0], 2), round(A4[1], 2))
    fonts = pdf_fonts(pdf)
    assert fonts and all(f["embedded"] for f in fonts), fonts
    assert all("WenQuanYiMicroHei" in f["base"] for f in fonts)

    # DOCX: the same words
    assert squeeze(docx_text(docx)) == without_bars(words)
    assert TRICKY in docx_text(docx)


def test_docx_page_setup_east_asian_fonts_and_language(svc: Svc, full_case: str) -> None:
    import docx
    from docx.oxml.ns import qn
    from docx.shared import Mm

    (path,) = letter(svc, "urging-notice", full_case, "--format", "docx")
    document = docx.Document(str(path))
    section = document.sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(0.1) and abs(section.page_height - Mm(297)) < Mm(0.1)
    margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    assert all(abs(m - Mm(v)) < Mm(0.1) for m, v in zip(margins, (37, 35, 28, 26)))

    normal = document.styles["Normal"].element.rPr
    assert normal.rFonts.get(qn("w:eastAsia")) == "WenQuanYi Micro Hei"
    assert normal.find(qn("w:lang")).get(qn("w:eastAsia")) == "zh-CN"
    runs = list(document.element.body.iter(qn("w:r")))
    assert runs
    for run in runs:
        fonts = run.find(qn("w:rPr")).find(qn("w:rFonts"))
        assert fonts.get(qn("w:eastAsia")) == fonts.get(qn("w:ascii")) == "WenQuanYi Micro Hei"
        assert run.find(qn("w:rPr")).find(qn("w:lang")).get(qn("w:eastAsia")) == "zh-CN"
    sizes = {run.find(qn("w:rPr")).find(qn("w:sz")).get(qn("w:val")) for run in runs}
    assert {"44", "32"} <= sizes  # GB/T 9704: title 22 pt, body 16 pt


def test_long_tables_repeat_their_header_row_on_every_page(svc: Svc, full_case: str) -> None:
    import docx
    from docx.oxml.ns import qn

    for i in range(14):
        svc.ok("note", full_case, f"第{i + 1}次电话沟通：客户要求尽快给出书面处理意见，分公司答复正在协调施工队返工，"
                                  f"并承诺本周内上门查看。", now=f"2026-11-06T09:{10 + i}:00+08:00")
    pdf, path = letter(svc, "visit-record", full_case, "--format", "both")
    pages = pdf_pages(pdf)
    assert len(pages) >= 2
    for page in pages:
        assert "时间经办人事项记录" in squeeze(page.extract_text())
    table = docx.Document(str(path)).tables[-1]
    first, second = table.rows[0]._tr, table.rows[1]._tr
    assert first.trPr.find(qn("w:tblHeader")) is not None
    assert second.trPr is None or second.trPr.find(qn("w:tblHeader")) is None


def test_pdf_lines_keep_chinese_punctuation_rules(svc: Svc, full_case: str, tmp_path: Path) -> None:
    body = ("经查，客户反映的问题属实：卫生间防水层施工不到位，导致楼下邻居天花板渗水、墙面起皮。" * 3
            + "《装饰装修工程质量验收规范》规定，“防水层完工后须做闭水试验”；本工程未做！为此，我公司决定：一、重做防水；"
            "二、赔偿邻居损失（以实际发生为准）……如有异议，请来电。")
    (path,) = letter(svc, "formal-letter", full_case, "--draft", "--out", str(tmp_path), "--subject", "漏水处理",
                     "--body", body)
    lines = [line.strip() for line in pdf_text(path).splitlines() if line.strip()]
    assert len(lines) > 10
    for before, after in zip(lines, lines[1:]):
        assert after[0] not in CANNOT_START, (before, after)
        assert before[-1] not in CANNOT_END, (before, after)


def test_the_same_letter_is_the_same_pdf(svc: Svc, full_case: str, tmp_path: Path) -> None:
    (one,) = letter(svc, "handling-notice", full_case, "--draft", "--out", str(tmp_path / "a"))
    (two,) = letter(svc, "handling-notice", full_case, "--draft", "--out", str(tmp_path / "b"))
    assert one.read_bytes() == two.read_bytes()  # so a register's sha256 can be checked against a reprint
    text = pdf_text(one)
    assert "草稿" in text  # a draft says so on every page


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(_soffice() is None, reason="LibreOffice is not installed")
def test_libreoffice_converts_the_docx(svc: Svc, full_case: str, tmp_path: Path) -> None:
    (path,) = letter(svc, "visit-record", full_case, "--format", "docx")
    profile = tmp_path / "lo-profile"
    done = subprocess.run(
        [_soffice() or "soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(path)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)},
    )
    converted = tmp_path / (path.stem + ".pdf")
    assert done.returncode == 0 and converted.is_file(), done.stderr
    assert len(pdf_pages(converted)) >= 1
    assert "C2611-A001" in pdf_text(converted)

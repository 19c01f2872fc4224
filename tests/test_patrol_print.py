"""The patrol summary and the disposal register print through the letters machinery:
real PDFs (text extracted, fonts embedded, A4) and DOCX, in the office's words."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Svc
from tests.retention_util import Recorded, recorded  # noqa: F401 (a fixture)
from tests.letters_util import docx_text, pdf_fonts, pdf_pages, pdf_text, squeeze

A4 = (595.27, 841.89)


def _month_with_findings(svc: Svc) -> str:
    xid = svc.ok("patrol", "add", "--area", "望京花园3号楼", now="2024-02-10T09:00:00+08:00").stdout.strip()
    svc.ok("patrol", "finding", xid, "--category", "fire", "--place", "2单元6层", "--description", "灭火器过期",
           now="2024-02-10T09:10:00+08:00")
    svc.ok("patrol", "finding", xid, "--category", "cleanliness", "--place", "大堂", "--description", "垃圾",
           "--settled", "当场清理", now="2024-02-10T09:20:00+08:00")
    return xid


def test_the_summary_prints_as_pdf_and_docx(svc: Svc, tmp_path: Path) -> None:
    xid = _month_with_findings(svc)
    out = tmp_path / "out"
    result = svc.ok("patrol", "summary", "--month", "2024-02", "--print", "both", "--out", str(out),
                    now="2024-03-01T09:00:00+08:00", user="admin")
    written = [Path(line) for line in result.stdout.splitlines() if line.endswith((".pdf", ".docx"))]
    assert sorted(p.suffix for p in written) == [".docx", ".pdf"]
    pdf = out / "patrol-summary-2024-02.pdf"
    text = squeeze(pdf_text(pdf))
    for expected in ("巡查记录月度汇总表", "月份：2024-02", "望京花园3号楼", "消防设施", "清洁卫生", "2单元6层", "待整改",
                     xid, "周行", "北京示例客服中心"):
        assert squeeze(expected) in text, expected
    assert all(font["embedded"] for font in pdf_fonts(pdf))
    box = pdf_pages(pdf)[0].mediabox
    assert (round(float(box.width), 1), round(float(box.height), 1)) == (round(A4[0], 1), round(A4[1], 1))
    assert "巡查记录月度汇总表" in docx_text(out / "patrol-summary-2024-02.docx")
    # printing again later prints the cut-off already made, without a second summary
    again = svc.ok("patrol", "summary", "--month", "2024-02", "--print", "pdf", "--out", str(out),
                   now="2024-04-01T09:00:00+08:00")
    assert again.stdout.strip().endswith("patrol-summary-2024-02.pdf")
    assert len(list((svc.root / "summaries").glob("*.yaml"))) == 1


def test_the_disposal_register_prints(recorded: Recorded, tmp_path: Path) -> None:
    svc = recorded  # committed in 2024: old in git's eyes too
    xid = _month_with_findings(svc)
    svc.ok("patrol", "summary", "--month", "2024-02", now="2024-03-01T09:00:00+08:00")
    svc.ok("retention", "apply", "--approved-by", "zhaomin", now="2026-03-02T09:00:00+08:00", user="admin")
    result = svc.ok("retention", "register", "--format", "pdf", "--out", str(tmp_path), now="2026-03-02T10:00:00+08:00")
    pdf = Path(result.stdout.strip())
    text = squeeze(pdf_text(pdf))
    for expected in ("档案销毁清册", xid, "2024-02", "赵敏", "周行", "共1份"):
        assert squeeze(expected) in text, expected
    assert all(font["embedded"] for font in pdf_fonts(pdf))

"""Reading generated letters back, as a person's PDF reader or Word would: pypdf and
python-docx on the real files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.conftest import Svc

A4 = (595.2756, 841.8898)
PAGE_NUMBER = re.compile(r"^— \d+ —$")


def squeeze(text: str) -> str:
    """Text without any whitespace (PDF extraction puts line breaks where lines end)."""
    return re.sub(r"\s+", "", text)


def pdf_pages(path: Path) -> list[Any]:
    from pypdf import PdfReader

    return list(PdfReader(str(path)).pages)


def pdf_text(path: Path) -> str:
    """The words of every page, without the page numbers."""
    lines = []
    for page in pdf_pages(path):
        lines += [line for line in page.extract_text().splitlines() if not PAGE_NUMBER.match(line.strip())]
    return "\n".join(lines)


def pdf_fonts(path: Path) -> list[dict[str, Any]]:
    """Every font any page uses: its name, type and whether its program is embedded."""
    found = []
    for page in pdf_pages(path):
        resources = page["/Resources"].get_object()
        fonts = resources.get("/Font")
        for name, ref in (fonts.get_object() if fonts else {}).items():
            font = ref.get_object()
            descriptors = []
            if font["/Subtype"] == "/Type0":
                for child in font["/DescendantFonts"]:
                    descriptors.append(child.get_object().get("/FontDescriptor"))
            else:
                descriptors.append(font.get("/FontDescriptor"))
            embedded = bool(descriptors) and all(
                d is not None and any(k in d.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3"))
                for d in descriptors
            )
            found.append({"name": name, "base": str(font.get("/BaseFont")), "subtype": str(font["/Subtype"]),
                          "embedded": embedded})
        xobjects = resources.get("/XObject")
        assert not xobjects, "letters draw no forms or images whose fonts would need checking too"
    return found


def docx_text(path: Path) -> str:
    """Paragraphs and table cells, in order, as python-docx reads them."""
    import docx

    document = docx.Document(str(path))
    body = document.element.body
    parts = []
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            parts.append("".join(t.text or "" for t in child.iter("{*}t")))
        elif tag == "tbl":
            for tc in child.iter("{*}tc"):
                parts.append("".join(t.text or "" for t in tc.iter("{*}t")))
    return "\n".join(parts)


def case_with(svc: Svc, name: str = "张三", phone: str = "13800138000", **more: str) -> str:
    args = ["--customer", name, "--phone", phone, "--branch", "chaoyang", "--address", "朝阳区望京花园3-1-502",
            "--summary", more.pop("summary", "卫生间漏水，楼下邻居天花板已经渗水。")]
    for key, value in more.items():
        args += [f"--{key.replace('_', '-')}", value]
    return svc.open("complaint", *args)

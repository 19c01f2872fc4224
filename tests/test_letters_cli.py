"""`svc letter` and `svc approve` through the CLI: refusals that write nothing, the
register with its numbers and receipts, legal's approval, confidentiality, templates
an office overrides, batches, and the office's own fonts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Svc, make_store
from tests.letters_util import case_with, pdf_fonts, pdf_text

NOW = "2026-11-06T10:00:00+08:00"
SHIPPED = ["dispute-sheet", "feedback-form", "formal-letter", "handling-notice", "urging-notice", "visit-record",
           "work-order"]


def commits(svc: Svc) -> int:
    return len(svc.git("log", "--oneline").splitlines())


def written(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_group_help_and_commands(svc: Svc) -> None:
    result = svc.ok("letter", "--help")
    assert "TEMPLATE ID..." in result.stdout and "signed" in result.stdout and "Example" in result.stdout
    assert "--ids-from" in svc.ok("letter", "render", "--help").stdout
    assert svc.ok("letter", "list").stdout == ""  # an empty register is success


def test_templates_lists_the_set_with_fields(svc: Svc) -> None:
    rows = json.loads(svc.ok("letter", "templates", "--format", "json").stdout)
    assert [r["name"] for r in rows] == SHIPPED
    formal = next(r for r in rows if r["name"] == "formal-letter")
    assert formal["approval"] == "legal" and formal["title"] == "关于……的函"
    assert {"letter.subject", "letter.paragraphs", "customer.name"} <= set(formal["fields"])
    table = svc.ok("letter", "templates").stdout
    assert "urging-notice  催办通知单" in table and "needs: " in table


def test_unknown_template_lists_the_templates(svc: Svc) -> None:
    case_id = case_with(svc)
    result = svc("letter", "thank-you-note", case_id)
    assert result.exit_code == 1
    assert "unknown template 'thank-you-note'" in result.stderr
    assert ", ".join(SHIPPED) in result.stderr


def test_a_missing_field_names_it_and_writes_nothing(svc: Svc, tmp_path: Path) -> None:
    case_id = svc.open("complaint", "--customer", "张三", "--branch", "chaoyang", "--summary", "漏水")  # no phone
    svc.ok("follow-up", case_id, "--outcome", "unsatisfied", now=NOW)
    before = commits(svc)
    result = svc("letter", "urging-notice", case_id, "--out", str(tmp_path / "out"), now=NOW)
    assert result.exit_code == 1, result.stdout
    assert "missing field customer.phone" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "out").exists() and not (svc.root / "register").exists()
    assert commits(svc) == before


def test_a_character_the_font_lacks_is_named(svc: Svc, tmp_path: Path) -> None:
    case_id = case_with(svc, name="王𠀀")
    out = tmp_path / "out"
    result = svc("letter", "handling-notice", case_id, "--draft", "--out", str(out))
    assert result.exit_code == 1
    assert "no glyph for '𠀀' (U+20000" in result.stderr and "in customer.name" in result.stderr
    assert "WenQuanYi Micro Hei" in result.stderr
    assert not out.exists()
    # DOCX does not carry the font, so it is not limited by it
    assert svc.ok("letter", "handling-notice", case_id, "--draft", "--out", str(out), "--format", "docx")


def test_issued_letters_are_numbered_registered_and_committed(svc: Svc) -> None:
    first = case_with(svc)
    second = case_with(svc, name="李四", phone="13911112222")
    out = svc.ok("letter", "handling-notice", first, second, "--format", "both", now=NOW).stdout.splitlines()
    assert [Path(p).name for p in out] == [
        f"BJ01-2026-A001-handling-notice-{first}.pdf", f"BJ01-2026-A001-handling-notice-{first}.docx",
        f"BJ01-2026-A002-handling-notice-{second}.pdf", f"BJ01-2026-A002-handling-notice-{second}.docx",
    ]
    assert "BJ01〔2026〕A001号" in pdf_text(Path(out[0]))

    # one commit per letter: the case's event and the register entry together
    changed = svc.git("show", "--name-only", "--format=%s", "HEAD").split()
    assert f"cases/2026/11/{second}.yaml" in changed and "register/2026/BJ01-2026-A002.yaml" in changed
    assert "Svc-Letter: BJ01/2026/A002" in svc.git("log", "-1", "--format=%B")
    shown = json.loads(svc.ok("show", first, "--format", "json").stdout)
    event = next(ev for ev in shown["history"] if ev["action"] == "letter")
    assert event == {**event, "template": "handling-notice", "number": "BJ01/2026/A001", "recipient": "朝阳分公司"}

    rows = json.loads(svc.ok("letter", "list", "--format", "json").stdout)
    assert [r["number"] for r in rows] == ["BJ01/2026/A001", "BJ01/2026/A002"]
    row = rows[0]
    assert (row["case"], row["template"], row["recipient"], row["issued_by"], row["signed_by"]) == \
        (first, "handling-notice", "朝阳分公司", "wangfang", None)
    assert [f["state"] for f in row["files"]] == ["ok", "ok"] and len(row["files"][0]["sha256"]) == 64

    # 签收: by number, as printed, or by its ending; once
    svc.ok("letter", "signed", "BJ01〔2026〕A001号", "--by", "赵刚", now="2026-11-07T09:00:00+08:00")
    again = svc("letter", "signed", "A001", "--by", "赵刚")
    assert again.exit_code == 1 and "signed for already, by 赵刚" in again.stderr
    assert svc("letter", "signed", "A009", "--by", "x").exit_code == 4
    rows = json.loads(svc.ok("letter", "list", "--format", "json", "--unsigned").stdout)
    assert [r["number"] for r in rows] == ["BJ01/2026/A002"]
    table = svc.ok("letter", "list").stdout
    assert "赵刚 2026-11-07 09:00" in table and "未签收" in table

    # a changed copy shows in the register's check of its files
    Path(out[1]).write_bytes(b"edited")
    rows = json.loads(svc.ok("letter", "list", "--format", "json", "--case", first).stdout)
    assert [f["state"] for f in rows[0]["files"]] == ["ok", "changed"]
    assert svc.ok("check").stdout == ""


def test_each_clone_numbers_from_its_own_desk(svc: Svc) -> None:
    case_id = case_with(svc)
    out = svc.ok("letter", "work-order", case_id, env={"SVC_DESK": "B"}, now=NOW).stdout
    assert "BJ01-2026-B001-work-order" in out


def test_formal_letter_needs_legal_approval_first(svc: Svc, tmp_path: Path) -> None:
    case_id = case_with(svc)
    options = ["--subject", "卫生间漏水维修事宜", "--body", "您好！\n请于一周内答复。"]
    refused = svc("letter", "formal-letter", case_id, *options)
    assert refused.exit_code == 1 and "needs legal's approval first" in refused.stderr
    assert "--draft" in refused.stderr and not (svc.root / "register").exists()
    # a draft is fine without approval: marked, not numbered, not registered, not committed
    before = commits(svc)
    (draft,) = svc.ok("letter", "formal-letter", case_id, *options, "--draft", "--out", str(tmp_path)).stdout.split()
    assert "草稿" in pdf_text(Path(draft)) and commits(svc) == before

    no = svc("approve", case_id, "--what", "formal-letter", user="zhaomin")
    assert no.exit_code == 1 and "only legal approves" in no.stderr
    assert svc("approve", case_id, "--what", "urging-notice", user="fawu").exit_code == 1
    svc.ok("approve", case_id, "--what", "formal-letter", "--note", "同意发函", user="fawu", now=NOW)
    (path,) = svc.ok("letter", "formal-letter", case_id, *options, now=NOW).stdout.split()
    assert "关于卫生间漏水维修事宜的函" in pdf_text(Path(path))
    # one approval, one letter
    assert svc("letter", "formal-letter", case_id, *options, now=NOW).exit_code == 1
    missing = svc("letter", "formal-letter", case_id, "--draft", "--out", str(tmp_path))
    assert missing.exit_code == 1 and "missing field letter.subject (give --subject)" in missing.stderr


OVERRIDE = """{#
title: 员工投诉受理回执
style: form
recipient: 人力资源部
#}
# 员工投诉受理回执（本所）
< 投诉人：{{ complainant.name }}　联系方式：{{ complainant.contact }}
< 被投诉人：{{ accused.name }}（{{ accused.role }}）
"""


def staff_case(svc: Svc) -> str:
    return svc.open("staff-complaint", "--complainant", "李明", "--contact", "13911112222", "--accused", "王工",
                    "--accused-role", "工长", "--incident-at", "2026-11-02T15:00", "--incident-place", "工地")


def test_office_templates_and_confidential_complainants(svc: Svc, tmp_path: Path) -> None:
    folder = svc.root / "templates" / "zh"
    folder.mkdir(parents=True)
    (folder / "staff-receipt.txt").write_text(OVERRIDE, encoding="utf-8")
    rows = json.loads(svc.ok("letter", "templates", "--format", "json").stdout)
    assert next(r for r in rows if r["name"] == "staff-receipt")["source"] == "store"

    case_id = staff_case(svc)
    (path,) = svc.ok("letter", "staff-receipt", case_id, "--draft", "--out", str(tmp_path)).stdout.split()
    text = pdf_text(Path(path))
    assert "李明" not in text and "13911112222" not in text and "（保密）" in text and "王工" in text

    refused = svc("letter", "staff-receipt", case_id, "--reveal", "--draft", "--out", str(tmp_path))
    assert refused.exit_code == 1 and "--reveal is for directors" in refused.stderr
    (path,) = svc.ok("letter", "staff-receipt", case_id, "--reveal", user="lijun", now=NOW).stdout.split()
    assert "李明" in pdf_text(Path(path))
    assert json.loads(svc.ok("letter", "list", "--format", "json").stdout)[0]["revealed"] is True

    # an office's template of a shipped name replaces it
    (folder / "work-order.txt").write_text("{#\ntitle: 维修单\nstyle: form\nrecipient: 工程部\n#}\n# 本所维修单\n"
                                           "< 客户：{{ customer.name }}\n", encoding="utf-8")
    other = case_with(svc)
    (path,) = svc.ok("letter", "work-order", other, "--draft", "--out", str(tmp_path)).stdout.split()
    assert "本所维修单" in pdf_text(Path(path))


def test_batches_from_standard_input_are_checked_whole(svc: Svc, tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    good = [case_with(svc), case_with(svc, name="李四", phone="13911112222")]
    out = svc.ok("letter", "--format", "docx", "work-order", "--ids-from", "-", "--draft", "--out", str(tmp_path),
                 input="\n".join(good) + "\n# a comment\n\n")
    assert len(out.stdout.splitlines()) == 2 and out.stderr == ""  # no progress bar off a terminal
    assert sorted(p.name for p in written(tmp_path)) == sorted(f"work-order-{c}-draft.docx" for c in good)

    bad = svc.open("repair", "--customer", "王五", "--phone", "13700001111")  # no address, no summary
    before = commits(svc)
    result = svc("letter", "work-order", good[0], bad, good[1])
    assert result.exit_code == 1 and "missing field customer.address" in result.stderr
    assert result.stdout == "" and commits(svc) == before and not (svc.root / "letters").exists()
    assert svc("letter", "work-order", good[0], good[0]).exit_code == 1  # one letter per case in a batch


def test_unknown_case_exits_4(svc: Svc) -> None:
    assert svc("letter", "work-order", "C2611-A099", "--draft").exit_code == 4


def test_english_office(tmp_path: Path) -> None:
    root = make_store(tmp_path / "en")
    config = root / "svc.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("lang: zh", "lang: en"), encoding="utf-8")
    svc = Svc(root)
    case_id = case_with(svc, name="Zhang San & <Li> {{x}}", summary="The bathroom leaks into the flat below.")
    (path,) = svc.ok("letter", "handling-notice", case_id, now=NOW).stdout.split()
    text = pdf_text(Path(path)).replace("\n", " ")
    assert "Complaint handling notice" in text and "Zhang San & <Li> {{x}}" in text
    assert "No. BJ01/2026/A001" in text


FONT_YAML = """letters:
  code: 京安客服函
  fonts:
    body: {{path: {path}, index: 1}}
"""


def test_office_fonts_from_svc_yaml(svc: Svc, tmp_path: Path) -> None:
    from svc.letters.fonts import built_in_path

    config = svc.root / "svc.yaml"
    base = config.read_text(encoding="utf-8")
    config.write_text(base + FONT_YAML.format(path=built_in_path()), encoding="utf-8")  # the Mono face of the .ttc
    case_id = case_with(svc)
    pdf, docx = svc.ok("letter", "handling-notice", case_id, "--format", "both", now=NOW).stdout.split()
    assert all(f["base"].split("+")[1].startswith("WenQuanYiMicroHeiMono") for f in pdf_fonts(Path(pdf)))
    assert "京安客服函〔2026〕A001号" in pdf_text(Path(pdf))
    import docx as python_docx

    assert python_docx.Document(docx).styles["Normal"].font.name == "WenQuanYi Micro Hei Mono"

    config.write_text(base + "letters:\n  fonts:\n    body: {path: fonts/fangsong.ttf}\n", encoding="utf-8")
    missing = svc("letter", "handling-notice", case_id, "--draft", "--out", str(tmp_path))
    assert missing.exit_code == 1 and "svc.yaml:" in missing.stderr and "no such font file" in missing.stderr
    assert "fonts/fangsong.ttf" in missing.stderr

    config.write_text(base + "letters:\n  fonts:\n    body: {path: a.woff, size: 3}\n", encoding="utf-8")
    wrong = svc("list")
    assert wrong.exit_code == 1 and "unknown key letters.fonts.body.size" in wrong.stderr


@pytest.mark.parametrize("template", ["urging-notice", "visit-record"])
def test_drafts_go_to_the_current_folder(svc: Svc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         template: str) -> None:
    case_id = case_with(svc)
    svc.ok("follow-up", case_id, "--outcome", "not-handled", now=NOW)
    monkeypatch.chdir(tmp_path)
    out = svc.ok("letter", template, case_id, "--draft", now=NOW).stdout.split()
    assert out == [f"{template}-{case_id}-draft.pdf"] and (tmp_path / out[0]).is_file()
    if template == "urging-notice":
        assert "你公司至今未予处理" in pdf_text(tmp_path / out[0]).replace("\n", "")


def test_letter_help_and_list_stay_light(svc: Svc, tmp_path: Path) -> None:
    """Only making a PDF or DOCX loads reportlab or python-docx (or Jinja)."""
    import subprocess
    import sys

    probe = ("import json, sys\nfrom svc.cli import cli\ntry:\n    cli.main(args=sys.argv[1:], prog_name='svc')\n"
             "except SystemExit:\n    pass\nprint('MODULES ' + json.dumps(sorted(sys.modules)))\n")
    env = {"SVC_STORE": str(svc.root), "SVC_USER": "wangfang", "SVC_NOW": NOW, "PATH": "/usr/bin:/bin"}
    for args in (("letter", "--help"), ("letter", "list"), ("approve", "--help")):
        done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, env=env,
                              timeout=60)
        line = next(l for l in done.stdout.splitlines() if l.startswith("MODULES "))
        heavy = [m for m in json.loads(line[8:]) if m.split(".")[0] in ("reportlab", "docx", "jinja2")]
        assert heavy == [], (args, heavy)


def test_a_batch_refused_at_its_last_case_issues_nothing(svc: Svc) -> None:
    early = case_with(svc)
    late = svc.open("complaint", "--customer", "李四", "--phone", "13911112222", "--branch", "chaoyang",
                    "--summary", "漏水", now="2026-11-08T09:00:00+08:00")
    before = commits(svc)
    result = svc("letter", "handling-notice", early, late, now=NOW)  # now is before the second case's events
    assert result.exit_code == 1 and "before the last event" in result.stderr
    assert result.stdout == "" and commits(svc) == before
    assert not (svc.root / "register").exists() and not (svc.root / "letters").exists()

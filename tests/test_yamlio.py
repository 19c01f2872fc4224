"""Strict round-trip YAML (svc.yamlio): text stays text, duplicate keys and malformed
files are reported as path:line, anything svc writes reads back exactly (also through
the libyaml fast path and a YAML 1.1 reader), and appending events to a case touches
only the lines that change."""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml as pyyaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from svc import workflow, yamlio
from svc.actions import append_events
from svc.errors import RecordError, RefusedError, SvcError
from svc.model import Case, check_case_node, plain, replay
from svc.store import Record, new_case_node, put_state

TZ = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 11, 5, 9, 30, tzinfo=TZ)
HOUR = dt.timedelta(hours=1)

LOADERS = [yamlio.loads, yamlio.loads_fast]


# --- reading: text stays text ------------------------------------------------------------------

@pytest.mark.parametrize("load", LOADERS)
@pytest.mark.parametrize("line,value", [
    ("phone: 0108", "0108"), ("ok: NO", "NO"), ("n: 1e5", "1e5"), ("a: yes", "yes"), ("a: on", "on"),
    ("a: true", "true"), ("a: 2026-01-01", "2026-01-01"), ("a: 0x1F", "0x1F"), ("a: 1_000", "1_000"),
    ("a: .inf", ".inf"), ("a: 12:30", "12:30"), ("a: 3.0", "3.0"), ("a: 007", "007"), ("a: 'null'", "null"),
    ("a: '~'", "~"), ("a: \"0108\"", "0108"), ("a: 13800138000", "13800138000"), ("a: 张三", "张三"),
])
def test_plain_scalars_load_as_text(load: Any, line: str, value: str) -> None:
    assert load(line + "\n", "x.yaml") == {line.split(":")[0]: value}


@pytest.mark.parametrize("load", LOADERS)
@pytest.mark.parametrize("line", ["a: null", "a: ~", "a:", "a: Null", "a: NULL"])
def test_only_null_resolves(load: Any, line: str) -> None:
    assert load(line + "\n", "x.yaml") == {"a": None}


# --- reading: errors name the file and the line --------------------------------------------------

@pytest.mark.parametrize("load", LOADERS)
@pytest.mark.parametrize("text,line,key", [
    ("a: 1\nb: 2\na: 3\n", 3, "a"),
    ("id: x\nhistory:\n- at: t\n  by: me\n  by: you\n", 5, "by"),
    ("customer:\n  name: 张三\n  phone: '1'\n  phone: \"2\"\n", 4, "phone"),
    ("a: 1\n'a': 2\n", 2, "a"),
    ("a: {x: 1, x: 2}\n", 1, "x"),
])
def test_duplicate_keys_are_errors_on_their_line(load: Any, text: str, line: int, key: str) -> None:
    with pytest.raises(RecordError) as caught:
        load(text, "cases/2026/11/C2611-A001.yaml")
    error = caught.value
    assert (error.path, error.line) == ("cases/2026/11/C2611-A001.yaml", line)
    assert str(error) == f"cases/2026/11/C2611-A001.yaml:{line}: found duplicate key \"{key}\""


@pytest.mark.parametrize("load", LOADERS)
@pytest.mark.parametrize("text,line", [
    ("a: [1, 2\n", 2),
    ("a: 'unclosed\nb: 2\n", 3),
    ("a: 1\n b: 2\n", 2),
    ("a:\n\t- b\n", 2),
    ("a: 1\n- b\n", 2),
    ("key: value: other\n", 1),
    ("a: *nowhere\n", 1),
])
def test_malformed_yaml_reads_path_line_message(load: Any, text: str, line: int) -> None:
    with pytest.raises(RecordError) as caught:
        load(text, "bad.yaml")
    assert caught.value.line == line
    assert str(caught.value).startswith(f"bad.yaml:{line}: ")
    assert "Traceback" not in str(caught.value)


def test_a_complex_key_is_no_crash_on_the_fast_path() -> None:
    text = "? [a, b]\n: 1\n"
    assert yamlio.loads_fast(text, "x.yaml") == yamlio.loads(text, "x.yaml")
    problems = check_case_node(yamlio.loads_fast(text, "x.yaml"), "x.yaml")
    assert any("unknown key" in p.message for p in problems)


def test_load_file_errors(tmp_path: Path) -> None:
    binary = tmp_path / "latin1.yaml"
    binary.write_bytes("name: Jos\xe9\n".encode("latin-1"))
    with pytest.raises(RecordError, match="latin1.yaml: not UTF-8 text"):
        yamlio.load_file(binary)
    with pytest.raises(RecordError, match="shown.yaml: No such file"):
        yamlio.load_file(tmp_path / "missing.yaml", "shown.yaml")


# --- writing: what svc writes reads back exactly ------------------------------------------------

TRICKY = ["0108", "NO", "no", "1e5", "null", "~", "yes", "Y", "n", "on", "OFF", "2026-01-01", "2026-1-1 10:00",
          "<b>&{{x}}", "a\nb", "第一行\n第二行\n", "  leading", "trailing  ", "\n", "", " ", "12:30", "0o17", "0x1F",
          "+1", "-.5", ".inf", "=", "<<", "- dash", "# hash", "key: value", "@at", "`tick", "'quote'", '"dq"',
          "%percent", "!tag", "&anchor", "*alias", "|", ">", "[1, 2]", "{a: b}", "a #b", "投诉内容：漏水😡",
          "emoji 🏠🔧", "tab\there", "crlf\r\nline", "nel\x85line", "ls\u2028ps\u2029", "ctl\x03\nx", "del\x7f\n",
          "bom\ufeff", "\x00", "a\n\n\n", " a\n b", "\ta\nb", "a \nb", "x\n...\ny", "x\n---\ny"]


def round_trips(text: str) -> None:
    for data, get in ((CommentedMap([("k", text), ("after", "x")]), lambda d: d["k"]),
                      (CommentedSeq([text, "x"]), lambda d: d[0]),
                      ({"k": text, "after": "x"}, lambda d: d["k"]),
                      (CommentedMap([("outer", CommentedMap([("list", CommentedSeq([text]))]))]),
                       lambda d: d["outer"]["list"][0])):
        dumped = yamlio.dumps(data)
        for load in LOADERS:
            back = load(dumped, "x.yaml")
            assert get(back) == text, (load.__name__, dumped)
            assert plain(back) == plain(data)


@settings(max_examples=400, deadline=None)
@given(st.text())
@example("0108")
@example("NO")
@example("1e5")
@example("null")
@example("~")
@example("yes")
@example("2026-01-01")
@example("<b>&{{x}}")
@example("一\n二")
@example("客户很生气 😡\n要求赔偿")
@example("a\r\nb")
@example("x\x85y")
def test_any_text_round_trips_exactly(text: str) -> None:
    round_trips(text)


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_text_round_trips_exactly(text: str) -> None:
    round_trips(text)


@pytest.mark.parametrize("text", [t for t in TRICKY if "\n" not in t and t.isprintable()])
def test_a_yaml_1_1_reader_sees_the_same_strings(text: str) -> None:
    assert pyyaml.safe_load(yamlio.dumps(CommentedMap(k=text))) == {"k": text}


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789-+._:eExXoObB TtyYnNuUlLfF~<=", max_size=12))
def test_number_like_strings_are_quoted_for_yaml_1_1_readers(text: str) -> None:
    assert pyyaml.safe_load(yamlio.dumps(CommentedMap(k=text))) == {"k": text}


@pytest.mark.parametrize("text", ["0108", "NO", "1e5", "2026-01-01", "null", "yes", "~"])
def test_ambiguous_strings_are_quoted(text: str) -> None:
    assert yamlio.dumps(CommentedMap(k=text)) == f"k: '{text}'\n"


def test_ordinary_text_stays_plain_and_long_lines_are_not_folded() -> None:
    long = "很长的投诉内容" * 60 + " and some English words" * 20
    out = yamlio.dumps(CommentedMap([("name", "张三"), ("phone", "13800138000"), ("summary", long)]))
    assert out == f"name: 张三\nphone: '13800138000'\nsummary: {long}\n"


def test_multi_line_text_is_a_literal_block() -> None:
    out = yamlio.dumps(CommentedMap([("summary", "厨房漏水\n已三天"), ("next", "x")]))
    assert out == "summary: |-\n  厨房漏水\n  已三天\nnext: x\n"


@pytest.mark.parametrize("text", ["ctl\x03\nx", "del\x7f\ny", "crlf\r\nline", "nel\x85\nx"])
def test_multi_line_text_with_control_characters_still_gives_a_readable_file(text: str) -> None:
    out = yamlio.dumps(CommentedMap(summary=text))
    assert out.startswith('summary: "')
    assert yamlio.loads(out, "x.yaml")["summary"] == text


# --- round-trip editing keeps what people wrote ------------------------------------------------

HAND_WRITTEN = """\
# 手工补录：客户上门投诉
id: C2611-A001
kind: complaint
status: open
level: assistant
severity: general
opened_at: '2026-11-05T09:30:00+08:00'
branch: chaoyang  # 朝阳分公司
customer:
  name: 张三
  phone: "13800138000"
  address: 3-2-401
summary: |-
  厨房水管漏水
  已经三天
history:
- at: '2026-11-05T09:30:00+08:00'
  by: wangfang
  action: open
  severity: general
  level: assistant
"""


def test_loading_and_dumping_changes_nothing() -> None:
    assert yamlio.dumps(yamlio.loads(HAND_WRITTEN, "x.yaml")) == HAND_WRITTEN


def test_a_comment_survives_an_edit() -> None:
    node = yamlio.loads(HAND_WRITTEN, "x.yaml")
    node["level"] = "cs-director"
    out = yamlio.dumps(node)
    assert "# 手工补录：客户上门投诉\n" in out and "branch: chaoyang  # 朝阳分公司\n" in out
    assert "level: cs-director\n" in out


def record_of(text: str) -> Record:
    raw = yamlio.loads(text, "x.yaml")
    assert check_case_node(raw, "x.yaml") == []
    return Record(Path("x.yaml"), raw, Case(plain(raw)))


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    removed = [line[2:] for line in diff if line.startswith("- ")]
    added = [line[2:] for line in diff if line.startswith("+ ")]
    return removed, added


def event_lines(events: list[dict[str, Any]]) -> list[str]:
    return yamlio.dumps(CommentedMap(history=CommentedSeq(CommentedMap(e) for e in events))).splitlines()[1:]


def follow(text: str, outcome: str, at: dt.datetime) -> tuple[str, list[dict[str, Any]]]:
    record = record_of(text)
    events = workflow.follow_up(record.case, outcome, None, at, "wangfang", "zh", "朝阳分公司")
    return append_events(record, events, "x.yaml"), events


def test_appending_events_adds_only_the_event_lines_and_the_state_lines() -> None:
    after1, events1 = follow(HAND_WRITTEN, "unsatisfied", T0 + HOUR)
    removed, added = changed_lines(HAND_WRITTEN, after1)
    assert removed == []
    assert added == ["followup_round: 1", *event_lines(events1)]
    assert after1.index("followup_round: 1") < after1.index("history:")  # canonical order, not at the end

    after2, events2 = follow(after1, "not-handled", T0 + 2 * HOUR)
    removed, added = changed_lines(after1, after2)
    assert removed == ["level: assistant", "followup_round: 1"]
    assert added == ["level: cs-director", "followup_round: 2", *event_lines(events2)]
    assert [e["action"] for e in events2] == ["follow-up", "escalate", "penalty"]
    # what people wrote by hand is still there, byte for byte
    for kept in ("# 手工补录：客户上门投诉", "branch: chaoyang  # 朝阳分公司", '  phone: "13800138000"',
                 "  address: 3-2-401", "summary: |-"):
        assert kept in after2.splitlines()


def test_closing_and_reopening_add_then_remove_the_outcome_lines() -> None:
    after1, _ = follow(HAND_WRITTEN, "satisfied", T0 + HOUR)
    removed, added = changed_lines(HAND_WRITTEN, after1)
    assert removed == ["status: open"]
    assert added[:4] == ["status: closed", "followup_round: 1", "resolution: 第1次追访客户满意，结案",
                         "closed_at: '2026-11-05T10:30:00+08:00'"]
    record = record_of(after1)
    after2 = append_events(record, workflow.reopen(record.case, "又漏了", T0 + 2 * HOUR, "wangfang"), "x.yaml")
    removed, added = changed_lines(after1, after2)
    assert removed == ["status: closed", "resolution: 第1次追访客户满意，结案", "closed_at: '2026-11-05T10:30:00+08:00'"]
    assert added[0] == "status: open" and all(line.startswith(("-", " ")) for line in added[1:])


def test_put_state_and_a_history_append_on_a_commented_map() -> None:
    raw = yamlio.loads(HAND_WRITTEN, "x.yaml")
    ev = workflow.escalate(Case(plain(raw)), "客户要求主管处理", None, None, T0 + HOUR, "lijun")[0]
    raw["history"].append(ev)
    put_state(raw, replay(plain(raw["history"])))
    after = yamlio.dumps(raw)
    removed, added = changed_lines(HAND_WRITTEN, after)
    assert removed == ["level: assistant"]
    assert added == ["level: cs-director", *event_lines([ev])]


def test_append_events_refuses_a_hand_edited_state() -> None:
    text = HAND_WRITTEN.replace("level: assistant\nseverity", "level: legal\nseverity")
    record = record_of(text)
    with pytest.raises(SvcError, match="do not match its history"):
        append_events(record, workflow.note(record.case, "x", T0 + HOUR, "wangfang"), "x.yaml")


def test_append_events_refuses_an_impossible_history() -> None:
    record = record_of(HAND_WRITTEN)
    bad = workflow.event("reopen", T0 + HOUR, "wangfang", reason="x")
    with pytest.raises(RefusedError, match="reopen on a open case"):
        append_events(record, [bad], "x.yaml")


def test_a_new_case_node_round_trips_and_validates() -> None:
    first = workflow.event("open", T0, "wangfang", severity="general", level="assistant")
    fields = {"id": "C2611-A003", "kind": "repair", "opened_at": first["at"], "channel": "电话",
              "customer": {"name": "王五", "phone": "0108", "address": "NO"}, "summary": "1e5",
              "history": [first], **replay([first]).as_fields()}
    text = yamlio.dumps(new_case_node(fields))
    node = yamlio.loads(text, "x.yaml")
    assert check_case_node(node, "x.yaml") == []
    assert plain(node)["customer"] == {"name": "王五", "phone": "0108", "address": "NO"}
    assert yamlio.dumps(node) == text


# --- lines and files --------------------------------------------------------------------------

def test_line_of_keys_and_items() -> None:
    node = yamlio.loads(HAND_WRITTEN, "x.yaml")
    assert yamlio.line_of(node, "id") == 2
    assert yamlio.line_of(node["customer"], "phone") == 11
    assert yamlio.line_of(node["history"], 0) == 17
    assert yamlio.line_of(node, "nope") is None
    assert yamlio.line_of({"a": 1}, "a") is None


def test_write_atomic_replaces_the_file_and_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "cases" / "2026" / "11" / "C2611-A001.yaml"
    yamlio.write_atomic(path, "a: 1\n")
    yamlio.write_atomic(path, "a: 2\n")
    assert path.read_text(encoding="utf-8") == "a: 2\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["C2611-A001.yaml"]

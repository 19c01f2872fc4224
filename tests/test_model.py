"""The case file schema (model.check_case_node), replay of a history, and the office
clock (timeutil). A record that breaks the rules must be reported as `path:line: what`,
and replay must refuse every history that could not have happened."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from svc import yamlio
from svc.errors import RecordError, SvcError
from svc.model import ReplayError, State, check_case_node, replay
from svc.store import new_case_node
from svc.timeutil import parse_date, parse_time, stamp

TZ = ZoneInfo("Asia/Shanghai")

VALID = """\
# 客户来电：厨房漏水
id: C2611-A001
kind: complaint
status: closed
level: cs-director
severity: general
opened_at: '2026-11-05T09:30:00+08:00'
branch: chaoyang
customer:
  name: 张三
  phone: '13800138000'
  address: 朝阳区幸福小区3-2-401
project:
  designer: 刘设计
  start_date: '2026-10-01'
summary: |-
  厨房水管漏水，
  已经三天
followup_round: 3
remedies:
- type: repair
  detail: 更换水管
resolution: 第3次追访客户满意，结案
satisfaction: 4
closed_at: '2026-11-08T10:00:00+08:00'
history:
- at: '2026-11-05T09:30:00+08:00'
  by: wangfang
  action: open
  severity: general
  level: assistant
- at: '2026-11-05T11:00:00+08:00'
  by: wangfang
  action: follow-up
  round: 1
  outcome: unsatisfied
- at: '2026-11-05T11:00:00+08:00'
  by: wangfang
  action: urging-notice
  round: 1
  to: chaoyang
  text: 请立即处理
- at: '2026-11-06T10:00:00+08:00'
  by: lijun
  action: remedy
  type: repair
  detail: 更换水管
- at: '2026-11-07T10:00:00+08:00'
  by: wangfang
  action: follow-up
  round: 2
  outcome: not-handled
- at: '2026-11-07T10:00:00+08:00'
  by: wangfang
  action: escalate
  from: assistant
  to: cs-director
  reason: 第2次追访未处理
- at: '2026-11-08T10:00:00+08:00'
  by: wangfang
  action: follow-up
  round: 3
  outcome: satisfied
- at: '2026-11-08T10:00:00+08:00'
  by: wangfang
  action: close
  resolution: 第3次追访客户满意，结案
  satisfaction: 4
"""


def problems_of(text: str) -> list[str]:
    return [str(p) for p in check_case_node(yamlio.loads(text, "cases/x.yaml"), "cases/x.yaml")]


def line_with(text: str, fragment: str, nth: int = 1) -> int:
    """1-based line of the nth line containing `fragment`."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if fragment in line]
    return hits[nth - 1]


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


# --- the schema ------------------------------------------------------------------------------

def test_a_valid_case_has_no_problems() -> None:
    assert problems_of(VALID) == []


def test_integer_fields_become_numbers_when_checked() -> None:
    node = yamlio.loads(VALID, "x.yaml")
    assert node["followup_round"] == "3"  # every plain scalar loads as text
    assert check_case_node(node, "x.yaml") == []
    assert node["followup_round"] == 3 and node["satisfaction"] == 4
    assert node["history"][1]["round"] == 1
    assert "followup_round: 3\n" in yamlio.dumps(node)  # written back as a plain number


def test_a_case_as_svc_writes_it_is_valid() -> None:
    first = {"at": "2026-11-05T09:30:00+08:00", "by": "wangfang", "action": "open", "severity": "major",
             "level": "center-director", "reason": "客户已向管理部门投诉（消协），按重大纠纷处理"}
    fields: dict[str, Any] = {
        "id": "C2611-A002", "kind": "staff-complaint", "opened_at": first["at"], "branch": "",
        "complainant": {"name": "李四", "contact": "0108"}, "accused": {"name": "王工长", "role": "工长"},
        "incident": {"at": "2026-11-01", "place": "工地", "people": None}, "authority": "消协",
        "customer": {"name": None, "phone": ""}, "summary": "NO\n1e5\n<b>&{{x}}",
        "history": [first], **replay([first]).as_fields(),
    }
    node = new_case_node(fields)
    assert "branch" not in node and "customer" not in node and "people" not in node["incident"]
    text = yamlio.dumps(node)
    assert problems_of(text) == []
    again = yamlio.loads(text, "x.yaml")
    assert again["complainant"]["contact"] == "0108"
    assert again["summary"] == "NO\n1e5\n<b>&{{x}}"
    assert list(again) == [k for k in ("id", "kind", "status", "level", "severity", "opened_at", "complainant",
                                       "accused", "incident", "authority", "summary", "history") if k in again]


def test_unknown_top_level_key_is_named_with_its_line() -> None:
    text = edit(VALID, "branch: chaoyang\n", "branch: chaoyang\ncolour: red\n")
    [problem] = problems_of(text)
    assert problem.startswith(f"cases/x.yaml:{line_with(text, 'colour')}: unknown key colour (known: id, kind,")


def test_unknown_nested_key_is_named_with_its_path() -> None:
    text = edit(VALID, "  address:", "  mood: angry\n  address:")
    [problem] = problems_of(text)
    assert problem.startswith(f"cases/x.yaml:{line_with(text, 'mood')}: unknown key customer.mood (known: name, phone, address)")


def test_unknown_event_key_is_named_with_its_event() -> None:
    text = edit(VALID, "  reason: 第2次追访未处理\n", "  reason: 第2次追访未处理\n  weather: rain\n")
    [problem] = problems_of(text)
    assert problem.startswith(f"cases/x.yaml:{line_with(text, 'weather')}: unknown key history[6].weather (known: at, by,")


@pytest.mark.parametrize("old,new,fragment,message", [
    ("kind: complaint\n", "kind: complaints\n", "kind:",
     "kind is 'complaints'; expected one of: complaint, repair, visit, inquiry, staff-complaint, crew-complaint"),
    ("level: cs-director\n", "level: manager\n", "level: manager",
     "level is 'manager'; expected one of: assistant, cs-director, center-director, legal"),
    ("  outcome: not-handled\n", "  outcome: happy\n", "happy",
     "history[5].outcome is 'happy'; expected one of: satisfied, unsatisfied, not-handled"),
    ("followup_round: 3\n", "followup_round: two\n", "followup_round",
     "followup_round must be a whole number, not 'two'"),
    ("followup_round: 3\n", "followup_round: 2.5\n", "followup_round",
     "followup_round must be a whole number, not '2.5'"),
    ("followup_round: 3\n", "followup_round: -1\n", "followup_round",
     "followup_round must be at least 0, not -1"),
    ("  round: 2\n", "  round: 0\n", "round: 0", "history[5].round must be at least 1, not 0"),
    ("satisfaction: 4\nclosed_at", "satisfaction: 6\nclosed_at", "satisfaction: 6",
     "satisfaction must be between 1 and 5, not 6"),
    ("  round: 2\n", "  round: second\n", "second", "history[5].round must be a whole number, not 'second'"),
    ("opened_at: '2026-11-05T09:30:00+08:00'", "opened_at: 2026-11-05T09:30:00", "opened_at",
     "opened_at must be a time with its UTC offset such as 2026-03-01T09:30:00+08:00, not '2026-11-05T09:30:00'"),
    ("opened_at: '2026-11-05T09:30:00+08:00'", "opened_at: 2026-11-05", "opened_at",
     "opened_at must be a time with its UTC offset"),
    ("opened_at: '2026-11-05T09:30:00+08:00'", "opened_at: '2026-02-30T09:30:00+08:00'", "opened_at",
     "opened_at must be a time with its UTC offset"),
    ("closed_at: '2026-11-08T10:00:00+08:00'", "closed_at: yesterday", "closed_at",
     "closed_at must be a time with its UTC offset"),
    ("  start_date: '2026-10-01'", "  start_date: 2026-10-1", "start_date",
     "project.start_date must be a date such as 2026-03-01, not '2026-10-1'"),
    ("  action: escalate\n", "  action: escalated\n", "escalated",
     "history[6].action is 'escalated'; expected one of: open, note, assign, escalate, follow-up, urging-notice,"),
    ("summary: |-\n  厨房水管漏水，\n  已经三天\n", "summary:\n- a\n- b\n", "summary",
     "summary must be a single value, not a list"),
    ("customer:\n", "customer: 张三\nx:\n", "customer:", "customer must be a mapping, not text"),
])
def test_wrong_values_are_reported_on_their_line(old: str, new: str, fragment: str, message: str) -> None:
    text = edit(VALID, old, new)
    found = [p for p in problems_of(text) if "unknown key x " not in p]
    assert len(found) == 1, found
    assert found[0].startswith(f"cases/x.yaml:{line_with(text, fragment)}: {message}")


def test_missing_event_field_is_reported_at_the_event() -> None:
    text = edit(VALID, "  by: lijun\n", "")
    [problem] = problems_of(text)
    event_line = line_with(text, "- at: '2026-11-06T10:00:00+08:00'")
    assert problem == f"cases/x.yaml:{event_line}: history[4].by is missing"


def test_missing_required_top_level_fields_are_all_reported() -> None:
    text = edit(edit(VALID, "kind: complaint\n", ""), "severity: general\nopened_at", "opened_at")
    assert problems_of(text) == ["cases/x.yaml:1: kind is missing", "cases/x.yaml:1: severity is missing"]


def test_every_problem_is_reported_not_just_the_first() -> None:
    text = edit(edit(edit(VALID, "kind: complaint\n", "kind: x\n"), "  round: 2\n", "  round: two\n"),
                "status: closed\n", "status: closed\nfoo: 1\n")
    assert len(problems_of(text)) == 3


def test_an_event_that_is_not_a_mapping() -> None:
    text = VALID + "- just a line\n"
    [problem] = problems_of(text)
    assert problem == f"cases/x.yaml:{line_with(text, 'just a line')}: history[9] must be a mapping, not text"


def test_a_file_that_is_not_a_mapping() -> None:
    assert [str(p) for p in check_case_node(yamlio.loads("- a\n- b\n", "x.yaml"), "x.yaml")] == [
        "x.yaml:1: expected a mapping of keys at the top of the file"]
    assert [str(p) for p in check_case_node(None, "x.yaml")] == [
        "x.yaml:1: expected a mapping of keys at the top of the file"]


def test_fast_reading_finds_the_same_problems() -> None:
    text = edit(VALID, "kind: complaint\n", "kind: complaints\n")
    slow = [p.message for p in check_case_node(yamlio.loads(text, "x.yaml"), "x.yaml")]
    fast = [p.message for p in check_case_node(yamlio.loads_fast(text, "x.yaml"), "x.yaml")]
    assert slow == fast and len(slow) == 1
    assert check_case_node(yamlio.loads_fast(VALID, "x.yaml"), "x.yaml") == []


# --- replay -----------------------------------------------------------------------------------

def ev(action: str, hour: float = 9.5, by: str = "wangfang", **fields: Any) -> dict[str, Any]:
    at = dt.datetime(2026, 11, 5, tzinfo=TZ) + dt.timedelta(hours=hour)
    return {"at": stamp(at), "by": by, "action": action, **fields}


def opened(severity: str = "general", level: str = "assistant", **fields: Any) -> dict[str, Any]:
    return ev("open", 9, severity=severity, level=level, **fields)


def refused(history: list[dict[str, Any]], index: int, *words: str) -> None:
    with pytest.raises(ReplayError) as caught:
        replay(history)
    assert caught.value.index == index
    for word in words:
        assert word in caught.value.message


def test_replay_of_the_valid_file_gives_its_state() -> None:
    node = yamlio.loads(VALID, "x.yaml")
    check_case_node(node, "x.yaml")
    from svc.model import plain
    state = replay(plain(node["history"]))
    stored = {k: plain(node.get(k)) for k in state.as_fields()}
    assert stored == state.as_fields()


def test_replay_of_an_opening() -> None:
    state = replay([opened("serious", "cs-director", assignee="lina", repeat_of=["C2610-A001"])])
    assert state == State(status="open", level="cs-director", severity="serious", assignee="lina",
                          repeat_of=["C2610-A001"])
    assert state.as_fields()["followup_round"] is None  # empty state stays out of the file


def test_empty_history_is_refused() -> None:
    refused([], 0, "empty")


@pytest.mark.parametrize("action", ["note", "close", "escalate", "follow-up"])
def test_first_event_must_be_open(action: str) -> None:
    refused([ev(action, text="x", resolution="x", round=1, outcome="satisfied")], 0, "first event must be 'open'",
            repr(action))


def test_a_second_open_is_refused() -> None:
    refused([opened(), opened()], 1, "second 'open'")


def test_escalate_must_go_up_from_the_current_level() -> None:
    refused([opened(), ev("escalate", **{"from": "assistant", "to": "assistant", "reason": "r"})], 1, "does not go up")
    refused([opened(level="center-director"), ev("escalate", **{"from": "center-director", "to": "cs-director",
                                                                "reason": "r"})], 1, "does not go up")
    refused([opened(), ev("escalate", **{"from": "cs-director", "to": "legal", "reason": "r"})], 1,
            "from cs-director but the case is at assistant")


def test_escalate_may_not_lower_the_severity() -> None:
    refused([opened("serious", "cs-director"),
             ev("escalate", **{"from": "cs-director", "to": "legal", "severity": "general", "reason": "r"})],
            1, "severity lowered from serious to general")


def test_escalate_raises_level_and_severity() -> None:
    state = replay([opened(), ev("escalate", **{"from": "assistant", "to": "center-director", "severity": "major",
                                                "reason": "r"})])
    assert (state.level, state.severity) == ("center-director", "major")


@pytest.mark.parametrize("rounds", [[2], [1, 3], [1, 1], [0], [1, 2, 2]])
def test_follow_up_rounds_must_count_up_by_one(rounds: list[int]) -> None:
    history = [opened()] + [ev("follow-up", 10 + i, round=r, outcome="unsatisfied") for i, r in enumerate(rounds)]
    bad = next(i for i, r in enumerate(rounds) if r != i + 1)
    refused(history, bad + 1, f"follow-up round {rounds[bad]} after round {bad}")


def test_follow_up_on_a_closed_case_is_refused() -> None:
    refused([opened(), ev("close", 10, resolution="ok"), ev("follow-up", 11, round=1, outcome="satisfied")],
            2, "follow-up on a closed case")


def test_close_of_a_closed_case_is_refused() -> None:
    refused([opened(), ev("close", 10, resolution="ok"), ev("close", 11, resolution="again")], 2, "close on a closed case")


def test_reopen_of_an_open_case_is_refused() -> None:
    refused([opened(), ev("reopen", 10, reason="x")], 1, "reopen on a open case")


def test_archive_of_an_open_case_is_refused() -> None:
    refused([opened(), ev("archive", 10)], 1, "archive of a open case (close it first)")


@pytest.mark.parametrize("late", [
    ev("close", 13, resolution="x"), ev("reopen", 13, reason="x"), ev("archive", 13), ev("assign", 13, to="lina"),
    ev("escalate", 13, **{"from": "assistant", "to": "legal", "reason": "r"}),
    ev("follow-up", 13, round=1, outcome="satisfied"), ev("remedy", 13, type="repair", detail="x"),
    ev("urging-notice", 13, round=1, text="x"), ev("penalty", 13, round=1, text="x"),
])
def test_an_archived_case_takes_only_notes_and_links(late: dict[str, Any]) -> None:
    history = [opened(), ev("close", 10, resolution="ok"), ev("archive", 11)]
    refused(history + [late], 3, f"'{late['action']}' on an archived case")
    state = replay(history + [ev("note", 12, text="归档后补记"), ev("link", 12, to="C2610-A001")])
    assert state.status == "archived" and state.links == ["C2610-A001"]


def test_times_may_not_go_backwards() -> None:
    refused([opened(), ev("note", 10, text="a"), ev("note", 9.99, text="b")], 2, "earlier than the event before it")


def test_equal_times_and_other_offsets_are_fine() -> None:
    same = ev("note", 10, text="a")
    utc_later = {"at": "2026-11-05T02:00:01+00:00", "by": "x", "action": "note", "text": "c"}  # 10:00:01 in Beijing
    replay([opened(), same, dict(same), utc_later])
    utc_earlier = {"at": "2026-11-05T01:59:59+00:00", "by": "x", "action": "note", "text": "c"}
    refused([opened(), same, utc_earlier], 2, "earlier")


def test_close_and_reopen_set_and_clear_the_outcome() -> None:
    history = [opened(), ev("close", 10, resolution="已修好", satisfaction=5)]
    closed = replay(history)
    assert (closed.status, closed.resolution, closed.satisfaction, closed.closed_at) == (
        "closed", "已修好", 5, history[1]["at"])
    reopened = replay(history + [ev("reopen", 11, reason="又漏了")])
    assert (reopened.status, reopened.resolution, reopened.satisfaction, reopened.closed_at) == ("open", None, None, None)
    again = replay(history + [ev("reopen", 11, reason="x"), ev("close", 12, resolution="换管")])
    assert again.resolution == "换管" and again.satisfaction is None and again.closed_at == ev("x", 12)["at"]


def test_remedies_exclude_each_other_in_replay_too() -> None:
    refused([opened(), ev("remedy", 10, type="repair", detail="a"), ev("remedy", 11, type="compensation", detail="b")],
            2, "compensation remedy on a case that already has a repair remedy")
    state = replay([opened(), ev("remedy", 10, type="compensation", detail="a", amount="100", category="quality-claim"),
                    ev("remedy", 11, type="compensation", detail="b")])
    assert state.remedies == [{"type": "compensation", "category": "quality-claim", "detail": "a", "amount": "100"},
                              {"type": "compensation", "detail": "b"}]


def test_links_are_kept_once_in_order() -> None:
    state = replay([opened(), ev("link", 10, to="C2610-A002"), ev("link", 11, to="C2610-A001"),
                    ev("link", 12, to="C2610-A002")])
    assert state.links == ["C2610-A002", "C2610-A001"]


def test_notices_and_penalties_change_no_state() -> None:
    base = [opened(), ev("follow-up", 10, round=1, outcome="not-handled")]
    assert replay(base + [ev("urging-notice", 10, round=1, text="x"), ev("penalty", 10, round=1, text="y"),
                          ev("note", 10, text="z")]) == replay(base)


# --- the office clock -----------------------------------------------------------------------------

def test_a_date_alone_is_the_start_of_that_day_in_the_office_zone() -> None:
    assert stamp(parse_time("2026-03-01", TZ)) == "2026-03-01T00:00:00+08:00"
    assert stamp(parse_time(" 2024-02-29 ", TZ)) == "2024-02-29T00:00:00+08:00"


def test_a_time_without_offset_is_office_time() -> None:
    assert stamp(parse_time("2026-03-01T09:30:00", TZ)) == "2026-03-01T09:30:00+08:00"
    assert stamp(parse_time("2026-03-01 09:30", TZ)) == "2026-03-01T09:30:00+08:00"
    assert stamp(parse_time("2024-02-29T23:59:59", TZ)) == "2024-02-29T23:59:59+08:00"


@pytest.mark.parametrize("text,office", [
    ("2026-02-28T20:00:00Z", "2026-03-01T04:00:00+08:00"),
    ("2026-02-28T20:00:00+00:00", "2026-03-01T04:00:00+08:00"),
    ("2024-02-28T16:30:00Z", "2024-02-29T00:30:00+08:00"),
    ("2026-03-01T09:30:00-05:00", "2026-03-01T22:30:00+08:00"),
    ("2026-03-01T09:30:00+08:00", "2026-03-01T09:30:00+08:00"),
    ("2026-03-01T09:30:00.987654+08:00", "2026-03-01T09:30:00+08:00"),
])
def test_a_time_with_an_offset_is_converted_to_office_time(text: str, office: str) -> None:
    assert stamp(parse_time(text, TZ)) == office


def test_the_office_zone_comes_from_the_caller_not_the_machine() -> None:
    new_york = ZoneInfo("America/New_York")
    assert stamp(parse_time("2026-03-08", new_york)) == "2026-03-08T00:00:00-05:00"
    assert stamp(parse_time("2026-03-09", new_york)) == "2026-03-09T00:00:00-04:00"  # after the DST change
    assert stamp(parse_time("2026-03-01T09:30:00+08:00", new_york)) == "2026-02-28T20:30:00-05:00"


@pytest.mark.parametrize("text", ["garbage", "", "   ", "2023-02-29", "2026-13-01", "2026-03-01T25:00",
                                  "01/03/2026", "2026-03-01T09:30:00+8", "明天"])
def test_garbage_times_are_refused_with_a_hint(text: str) -> None:
    with pytest.raises(SvcError, match=r"is not a time; use ISO 8601 such as 2026-03-01T09:30:00\+08:00"):
        parse_time(text, TZ, "--at")


def test_parse_date() -> None:
    assert parse_date("2024-02-29") == dt.date(2024, 2, 29)
    with pytest.raises(SvcError, match="--before '2025-02-29' is not a date"):
        parse_date("2025-02-29", "--before")


def test_an_explicit_tag_cannot_turn_a_phone_into_a_number() -> None:
    text = (
        "id: C2611-A001\nkind: complaint\nstatus: open\nlevel: assistant\nseverity: general\n"
        "opened_at: '2026-11-05T09:30:00+08:00'\ncustomer:\n  phone: !!int 0108\nhistory:\n"
        "- at: '2026-11-05T09:30:00+08:00'\n  by: wangfang\n  action: open\n  severity: general\n  level: assistant\n"
    )
    # refused by the reader itself now (every explicit tag is), at its line
    with pytest.raises(RecordError) as refused:
        yamlio.loads(text, "c.yaml")
    assert str(refused.value).startswith("c.yaml:8: YAML tag !!int is not allowed")

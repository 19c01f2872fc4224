"""The office's rules (svc.workflow), called directly: the follow-up ladder, escalation,
opening a case (severity, real-name rule, authorities and media, repeat complaints),
remedies and the time of a new event. Each test builds cases by replaying real events,
the way the store does, and checks what the rules hand back."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from svc import workflow
from svc.errors import RefusedError
from svc.model import LEVELS, OUTCOMES, SEVERITY_LEVEL, STATE_KEYS, Case, level_rank, replay
from svc.workflow import (
    escalate,
    event,
    event_time,
    find_repeats,
    follow_up,
    normalize_phone,
    opening,
    remedy,
)

TZ = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 11, 5, 9, 30, tzinfo=TZ)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


# --- building cases the way the store does: intake + replayed history -------------------------

def with_history(fields: dict[str, Any], history: list[dict[str, Any]]) -> Case:
    state = replay(history)
    out = {k: v for k, v in fields.items() if k not in STATE_KEYS and k != "history"}
    out.update({k: v for k, v in state.as_fields().items() if v is not None})
    out["history"] = history
    return Case(out)


def new_case(kind: str = "complaint", severity: str = "general", level: str | None = None,
             at: dt.datetime = T0, case_id: str = "C2611-A001", branch: str | None = "chaoyang",
             phone: str | None = None) -> Case:
    first = event("open", at, "wangfang", severity=severity, level=level or SEVERITY_LEVEL[severity])
    fields: dict[str, Any] = {"id": case_id, "kind": kind, "opened_at": first["at"]}
    if branch:
        fields["branch"] = branch
    if phone:
        fields["customer"] = {"name": "张三", "phone": phone}
    return with_history(fields, [first])


def apply(case: Case, events: list[dict[str, Any]]) -> Case:
    """The case after `events`; replay raises if the rules produced an impossible history."""
    return with_history(case.fields, case.history + events)


def call(case: Case, outcome: str, at: dt.datetime, lang: str = "zh",
         branch_name: str = "朝阳分公司") -> list[dict[str, Any]]:
    return follow_up(case, outcome, None, at, "wangfang", lang, branch_name)


def actions(events: list[dict[str, Any]]) -> list[str]:
    return [e["action"] for e in events]


def run_ladder(case: Case, outcomes: list[str]) -> tuple[Case, list[list[dict[str, Any]]]]:
    made = []
    start = case.last_event_at
    for i, outcome in enumerate(outcomes):
        events = call(case, outcome, start + (i + 1) * HOUR)
        made.append(events)
        case = apply(case, events)
    return case, made


# --- the follow-up ladder --------------------------------------------------------------------

@pytest.mark.parametrize("outcome", ["unsatisfied", "not-handled"])
def test_round_1_failure_sends_an_urging_notice_to_the_branch_and_keeps_the_level(outcome: str) -> None:
    case = new_case()
    events = call(case, outcome, T0 + HOUR)
    assert actions(events) == ["follow-up", "urging-notice"]
    assert events[0]["round"] == 1 and events[0]["outcome"] == outcome
    notice = events[1]
    assert notice["round"] == 1
    assert notice["to"] == "chaoyang"
    assert "朝阳分公司" in notice["text"]
    after = apply(case, events)
    assert after.level == "assistant"
    assert after.status == "open"
    assert after.followup_round == 1


def test_urging_notice_without_a_branch_names_the_branch_generically() -> None:
    case = new_case(branch=None)
    events = follow_up(case, "unsatisfied", None, T0 + HOUR, "wangfang", "en", "")
    notice = events[1]
    assert "to" not in notice
    assert "the branch" in notice["text"]


def test_round_2_unsatisfied_raises_to_cs_director_without_a_penalty() -> None:
    case, made = run_ladder(new_case(), ["unsatisfied", "unsatisfied"])
    assert actions(made[1]) == ["follow-up", "escalate"]
    esc = made[1][1]
    assert (esc["from"], esc["to"]) == ("assistant", "cs-director")
    assert esc["reason"]
    assert case.level == "cs-director"


def test_round_2_not_handled_also_asks_the_center_director_to_penalise() -> None:
    case, made = run_ladder(new_case(), ["not-handled", "not-handled"])
    assert actions(made[1]) == ["follow-up", "escalate", "penalty"]
    assert made[1][2]["round"] == 2
    assert "处罚" in made[1][2]["text"]
    assert case.level == "cs-director"


@pytest.mark.parametrize("outcome", ["unsatisfied", "not-handled"])
def test_round_3_failure_goes_to_the_center_director_with_a_penalty(outcome: str) -> None:
    case, made = run_ladder(new_case(), ["unsatisfied", "unsatisfied", outcome])
    assert actions(made[2]) == ["follow-up", "escalate", "penalty"]
    assert (made[2][1]["from"], made[2][1]["to"]) == ("cs-director", "center-director")
    assert made[2][2]["round"] == 3
    assert case.level == "center-director"


def test_round_4_failure_sends_the_dossier_to_legal() -> None:
    case, made = run_ladder(new_case(), ["unsatisfied"] * 4)
    assert actions(made[3]) == ["follow-up", "escalate"]
    assert (made[3][1]["from"], made[3][1]["to"]) == ("center-director", "legal")
    assert "法务" in made[3][1]["reason"]
    assert case.level == "legal"
    assert case.followup_round == 4


@pytest.mark.parametrize("rounds", [5, 6, 9])
def test_rounds_after_4_stay_at_legal_with_a_note(rounds: int) -> None:
    case, made = run_ladder(new_case(), ["not-handled"] * rounds)
    for events in made[4:]:
        assert actions(events) == ["follow-up", "note"]
    assert f"第{rounds}次追访" in made[-1][1]["text"]
    assert case.level == "legal"
    assert case.followup_round == rounds
    assert case.status == "open"


@pytest.mark.parametrize("failures", [0, 1, 2, 3, 4, 6])
def test_satisfied_at_any_round_closes_the_case(failures: int) -> None:
    case, made = run_ladder(new_case(), ["unsatisfied"] * failures + ["satisfied"])
    assert actions(made[-1]) == ["follow-up", "close"]
    assert case.status == "closed"
    assert case.followup_round == failures + 1
    assert f"第{failures + 1}次追访" in case.get("resolution")
    assert case.get("closed_at") == made[-1][1]["at"]


def test_english_ladder_texts() -> None:
    case = new_case()
    events = follow_up(case, "not-handled", "no one came", T0 + HOUR, "wangfang", "en", "Chaoyang branch")
    assert events[0]["note"] == "no one came"
    assert "not handled" in events[1]["text"] and "Chaoyang branch" in events[1]["text"]
    closed = follow_up(apply(case, events), "satisfied", None, T0 + 2 * HOUR, "wangfang", "en", "")
    assert closed[1]["resolution"] == "customer satisfied at follow-up 2; closed"


def test_blank_follow_up_note_is_left_out() -> None:
    events = follow_up(new_case(), "satisfied", "   ", T0 + HOUR, "wangfang", "zh", "")
    assert "note" not in events[0]


@pytest.mark.parametrize("outcome", ["unsatisfied", "not-handled"])
def test_a_case_above_the_ladder_is_never_lowered(outcome: str) -> None:
    major = new_case(severity="major")
    assert major.level == "center-director"
    after1, _ = run_ladder(major, [outcome])
    events = call(after1, outcome, T0 + 2 * HOUR)
    assert "escalate" not in actions(events)
    assert "note" in actions(events)  # the round's reason is still on record
    after2 = apply(after1, events)
    assert after2.level == "center-director"
    events3 = call(after2, outcome, T0 + 3 * HOUR)
    assert "escalate" not in actions(events3)  # already at center-director
    assert "penalty" in actions(events3)
    after4, made = run_ladder(apply(after2, events3), [outcome])
    assert actions(made[0])[:2] == ["follow-up", "escalate"]
    assert after4.level == "legal"


def test_a_case_escalated_to_legal_by_hand_gets_no_escalate_from_the_ladder() -> None:
    case = apply(new_case(), escalate(new_case(), "媒体曝光", "legal", None, T0 + HOUR, "lijun"))
    case, made = run_ladder(case, ["unsatisfied"] * 5)
    assert all("escalate" not in actions(events) for events in made)
    assert case.level == "legal"


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_follow_up_on_a_closed_case_is_refused(outcome: str) -> None:
    case, _ = run_ladder(new_case(), ["satisfied"])
    with pytest.raises(RefusedError, match=r"C2611-A001.*closed.*reopen"):
        call(case, outcome, T0 + 2 * HOUR)


def test_follow_up_on_an_archived_case_is_refused() -> None:
    case, _ = run_ladder(new_case(), ["satisfied"])
    case = apply(case, workflow.archive(case, T0 + DAY, "admin"))
    assert case.status == "archived"
    with pytest.raises(RefusedError, match="archived"):
        call(case, "unsatisfied", T0 + 2 * DAY)


def test_reopened_case_continues_the_round_count() -> None:
    case, _ = run_ladder(new_case(), ["unsatisfied", "satisfied"])
    case = apply(case, workflow.reopen(case, "客户又来电", T0 + DAY, "wangfang"))
    events = call(case, "unsatisfied", T0 + 2 * DAY)
    assert events[0]["round"] == 3
    assert apply(case, events).level == "center-director"


def expected_level(start: str, failed_rounds: int) -> str:
    """DOMAIN.md's table, written out independently of workflow.LADDER."""
    by_round = {2: "cs-director", 3: "center-director", 4: "legal"}
    reached = [by_round[r] for r in range(2, min(failed_rounds, 4) + 1)]
    return max([start, *reached], key=level_rank)


@settings(max_examples=150, deadline=None)
@given(severity=st.sampled_from(["general", "serious", "major"]),
       outcomes=st.lists(st.sampled_from(OUTCOMES), max_size=8))
@example(severity="general", outcomes=["unsatisfied"] * 7)
@example(severity="major", outcomes=["not-handled", "not-handled", "not-handled", "satisfied"])
def test_ladder_properties(severity: str, outcomes: list[str]) -> None:
    case = new_case(severity=severity)
    start = case.level
    first_satisfied = outcomes.index("satisfied") + 1 if "satisfied" in outcomes else None
    for i, outcome in enumerate(outcomes, start=1):
        at = T0 + i * HOUR
        if case.status != "open":
            with pytest.raises(RefusedError):
                call(case, outcome, at)
            continue
        before = case
        events = call(case, outcome, at)
        case = apply(case, events)
        assert level_rank(case.level) >= level_rank(before.level), "level went down"
        assert case.followup_round == before.followup_round + 1
        assert events[0] == {"at": events[0]["at"], "by": "wangfang", "action": "follow-up",
                             "round": i, "outcome": outcome}
        assert (case.status == "closed") == (i == first_satisfied)
        assert case.severity == severity
    failed = (first_satisfied - 1) if first_satisfied else len(outcomes)
    assert case.level == expected_level(start, failed)
    assert case.status == ("closed" if first_satisfied else "open")
    assert case.followup_round == (first_satisfied or len(outcomes))


# --- escalation ------------------------------------------------------------------------------

def esc(case: Case, to: str | None = None, severity: str | None = None, reason: str = "客户情绪激动") -> list[dict[str, Any]]:
    return escalate(case, reason, to, severity, T0 + HOUR, "lijun")


def test_escalate_goes_one_step_up_by_default() -> None:
    case = new_case()
    for expected in LEVELS[1:]:
        events = esc(case)
        assert actions(events) == ["escalate"]
        assert events[0]["from"] == case.level and events[0]["to"] == expected
        assert events[0]["reason"] == "客户情绪激动"
        assert events[0]["by"] == "lijun"
        assert "severity" not in events[0]
        case = apply(case, events)
    assert case.level == "legal"


@pytest.mark.parametrize("start,to", [("assistant", "legal"), ("assistant", "center-director"),
                                      ("cs-director", "legal")])
def test_escalate_to_may_jump(start: str, to: str) -> None:
    case = new_case(level=start)
    events = esc(case, to=to)
    assert (events[0]["from"], events[0]["to"]) == (start, to)
    assert apply(case, events).level == to


@pytest.mark.parametrize("start,to", [("cs-director", "cs-director"), ("cs-director", "assistant"),
                                      ("legal", "center-director"), ("legal", "legal"),
                                      ("center-director", "assistant")])
def test_escalate_never_keeps_or_lowers_the_level(start: str, to: str) -> None:
    with pytest.raises(RefusedError, match=f"at {start}.*--to {to} does not go up"):
        esc(new_case(level=start), to=to)


def test_escalate_at_legal_without_to_is_refused() -> None:
    with pytest.raises(RefusedError, match="already at legal"):
        esc(new_case(level="legal"))


@pytest.mark.parametrize("reason", ["", "   ", "\n\t", None])
def test_escalate_needs_a_reason(reason: str | None) -> None:
    with pytest.raises(RefusedError, match="--reason must not be empty"):
        escalate(new_case(), reason, None, None, T0, "lijun")  # type: ignore[arg-type]


def test_escalate_reason_is_stripped() -> None:
    assert esc(new_case(), reason="  客户投诉到消协 ")[0]["reason"] == "客户投诉到消协"


@pytest.mark.parametrize("current,lower", [("serious", "general"), ("major", "serious"), ("major", "general")])
def test_escalate_never_lowers_the_severity(current: str, lower: str) -> None:
    case = new_case(severity=current, level="assistant")
    with pytest.raises(RefusedError, match=f"severity is never lowered.*{current}.*{lower}"):
        esc(case, severity=lower)


def test_escalate_to_major_lifts_to_at_least_center_director() -> None:
    case = new_case()
    events = esc(case, severity="major")  # one step would be cs-director
    assert events[0]["to"] == "center-director"
    assert events[0]["severity"] == "major"
    after = apply(case, events)
    assert (after.level, after.severity) == ("center-director", "major")
    assert esc(case, to="cs-director", severity="major")[0]["to"] == "center-director"
    assert esc(case, to="legal", severity="major")[0]["to"] == "legal"


def test_escalate_to_serious_lifts_to_at_least_cs_director() -> None:
    events = esc(new_case(), severity="serious")
    assert (events[0]["to"], events[0]["severity"]) == ("cs-director", "serious")


def test_escalate_with_the_same_severity_records_no_severity_change() -> None:
    case = new_case(severity="serious")
    events = esc(case, severity="serious")
    assert "severity" not in events[0]
    assert events[0]["to"] == "center-director"


def test_escalate_a_closed_case_is_refused() -> None:
    case, _ = run_ladder(new_case(), ["satisfied"])
    with pytest.raises(RefusedError, match="closed"):
        escalate(case, "x", None, None, T0 + DAY, "lijun")


# --- opening: severity, authorities, media ---------------------------------------------------

@pytest.mark.parametrize("severity,level", [(None, "assistant"), ("general", "assistant"),
                                            ("serious", "cs-director"), ("major", "center-director")])
@pytest.mark.parametrize("kind", ["complaint", "repair", "visit", "inquiry"])
def test_severity_sets_the_starting_level(kind: str, severity: str | None, level: str) -> None:
    decision = opening(kind, {}, severity, [], "zh")
    assert decision.severity == (severity or "general")
    assert decision.level == level
    assert decision.reasons == []


@pytest.mark.parametrize("severity", [None, "general", "serious", "major"])
def test_authority_makes_the_case_major_with_a_reason(severity: str | None) -> None:
    decision = opening("complaint", {"authority": "消协"}, severity, [], "zh")
    assert (decision.severity, decision.level) == ("major", "center-director")
    assert len(decision.reasons) == 1 and "消协" in decision.reasons[0] and "重大" in decision.reasons[0]


def test_media_makes_the_case_major_with_a_reason() -> None:
    fields = {"media": {"outlet": "北京晚报", "column": "热线", "reporter": "刘记者", "reporter_phone": "010-1234"}}
    decision = opening("complaint", fields, "general", [], "en")
    assert (decision.severity, decision.level) == ("major", "center-director")
    assert decision.reasons == ["customer went to the media (北京晚报): major dispute"]


def test_authority_and_media_both_give_a_reason() -> None:
    decision = opening("repair", {"authority": "工商局", "media": {"outlet": "BTV"}}, None, [], "en")
    assert decision.severity == "major"
    assert len(decision.reasons) == 2
    assert "authority (工商局)" in decision.reasons[0] and "media (BTV)" in decision.reasons[1]


@pytest.mark.parametrize("key", ["column", "reporter", "reporter_phone"])
def test_media_details_without_an_outlet_are_refused(key: str) -> None:
    with pytest.raises(RefusedError, match="need --media OUTLET"):
        opening("complaint", {"media": {key: "x"}}, None, [], "zh")


def test_empty_media_and_authority_change_nothing() -> None:
    decision = opening("complaint", {"authority": "", "media": {"outlet": None}}, None, [], "zh")
    assert (decision.severity, decision.level, decision.reasons) == ("general", "assistant", [])


# --- opening: the real-name rule --------------------------------------------------------------

ALL_REAL_NAME_OPTIONS = ["--complainant", "--contact", "--accused", "--accused-role", "--incident-at",
                         "--incident-place"]

FULL_REAL_NAME = {
    "complainant": {"name": "李四", "contact": "13900000000"},
    "accused": {"name": "王工长", "role": "工长"},
    "incident": {"at": "2026-11-01T10:00:00+08:00", "place": "朝阳工地"},
}


def missing_in(message: str) -> list[str]:
    return re.findall(r"--[a-z-]+", message.split("missing", 1)[1])


@pytest.mark.parametrize("kind", ["staff-complaint", "crew-complaint"])
def test_anonymous_staff_or_crew_complaint_is_refused_naming_every_missing_option(kind: str) -> None:
    with pytest.raises(RefusedError) as caught:
        opening(kind, {}, None, [], "zh")
    message = str(caught.value)
    assert kind in message and "实名制" in message
    assert missing_in(message) == ALL_REAL_NAME_OPTIONS


@pytest.mark.parametrize("kind", ["staff-complaint", "crew-complaint"])
def test_blank_real_name_fields_count_as_missing(kind: str) -> None:
    blank = {"complainant": {"name": "  ", "contact": ""}, "accused": {"name": "\t", "role": None},
             "incident": {"at": " ", "place": "  "}}
    with pytest.raises(RefusedError) as caught:
        opening(kind, blank, None, [], "zh")
    assert missing_in(str(caught.value)) == ALL_REAL_NAME_OPTIONS


@pytest.mark.parametrize("drop", [("complainant", "name"), ("complainant", "contact"), ("accused", "name"),
                                  ("accused", "role"), ("incident", "at"), ("incident", "place")])
def test_each_real_name_field_is_required_on_its_own(drop: tuple[str, str]) -> None:
    fields = {group: dict(values) for group, values in FULL_REAL_NAME.items()}
    del fields[drop[0]][drop[1]]
    with pytest.raises(RefusedError) as caught:
        opening("crew-complaint", fields, None, [], "zh")
    option = dict(zip([(g, k) for g, k, _ in workflow.REAL_NAME_FIELDS], ALL_REAL_NAME_OPTIONS))[drop]
    assert missing_in(str(caught.value)) == [option]


@pytest.mark.parametrize("kind", ["staff-complaint", "crew-complaint"])
def test_complete_real_name_complaint_is_accepted(kind: str) -> None:
    decision = opening(kind, FULL_REAL_NAME, "serious", [], "zh")
    assert (decision.severity, decision.level) == ("serious", "cs-director")


@pytest.mark.parametrize("kind", ["complaint", "repair", "visit", "inquiry"])
def test_ordinary_kinds_need_no_real_name(kind: str) -> None:
    assert opening(kind, {}, None, [], "zh").level == "assistant"


def test_real_name_refusal_comes_before_the_media_check() -> None:
    with pytest.raises(RefusedError, match="实名制"):
        opening("staff-complaint", {"media": {"reporter": "x"}}, None, [], "zh")


# --- repeat complaints -------------------------------------------------------------------------

def closed_case(case_id: str, phone: str, opened: dt.datetime, closed: dt.datetime, kind: str = "complaint") -> Case:
    case = new_case(kind=kind, case_id=case_id, phone=phone, at=opened)
    return apply(case, workflow.close(case, "已修好", 5, closed, "wangfang"))


PHONE = "13800138000"


@pytest.mark.parametrize("same", ["13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000",
                                  "+8613800138000", "0086 138 0013 8000", "0086-13800138000", "(+86) 13800138000",
                                  "86 13800138000"])
def test_same_phone_in_any_form_is_a_repeat(same: str) -> None:
    old = new_case(case_id="C2610-A001", phone=same, at=T0 - 30 * DAY)
    assert find_repeats(PHONE, T0, [old]) == ["C2610-A001"]
    assert find_repeats(same, T0, [new_case(case_id="C2610-A002", phone=PHONE, at=T0 - DAY)]) == ["C2610-A002"]


@pytest.mark.parametrize("a,b", [("010-6512-3456", "+86 10 6512 3456"), ("(010) 65123456", "0086 10 6512 3456"),
                                 ("0755-8888-9999", "+86-755-8888-9999"), ("021 5555 6666", "+86 (0)21 5555 6666")])
def test_landline_with_country_code_matches_the_domestic_form(a: str, b: str) -> None:
    assert normalize_phone(a) == normalize_phone(b)
    old = new_case(case_id="C2610-A001", phone=b, at=T0 - DAY)
    assert find_repeats(a, T0, [old]) == ["C2610-A001"]


@pytest.mark.parametrize("other", ["13800138001", "3800138000", "+1 13800138000", "010-6512-3456"])
def test_a_different_phone_is_not_a_repeat(other: str) -> None:
    assert find_repeats(PHONE, T0, [new_case(case_id="C2610-A001", phone=other, at=T0 - DAY)]) == []


def test_open_complaint_counts_at_any_age() -> None:
    ancient = new_case(case_id="C2001-A001", phone=PHONE, at=T0 - 3000 * DAY)
    assert find_repeats(PHONE, T0, [ancient]) == ["C2001-A001"]


def test_closed_complaint_counts_within_90_days_inclusive() -> None:
    opened = T0 - 200 * DAY
    at_90 = closed_case("C2604-A001", PHONE, opened, T0 - 90 * DAY)
    at_89 = closed_case("C2604-A002", PHONE, opened, T0 - 89 * DAY)
    at_91 = closed_case("C2604-A003", PHONE, opened, T0 - 91 * DAY)
    earlier_that_day = closed_case("C2604-A004", PHONE, opened, T0 - 90 * DAY - dt.timedelta(hours=9))
    assert find_repeats(PHONE, T0, [at_91, at_90, earlier_that_day, at_89]) == ["C2604-A001", "C2604-A002", "C2604-A004"]


def test_repeat_window_counts_calendar_days_in_office_time() -> None:
    """Closed late on a day 91 days back does not count; early on a day 90 days back does,
    even when the closing time is stored with another offset (UTC)."""
    late = dt.datetime(2026, 11, 5, 23, 59, tzinfo=TZ)
    opened = late - 200 * DAY
    day_91_late = closed_case("C2604-A001", PHONE, opened, dt.datetime(2026, 8, 6, 23, 59, tzinfo=TZ))
    utc = dt.timezone.utc
    day_90_early_utc = closed_case("C2604-A002", PHONE, opened, dt.datetime(2026, 8, 6, 16, 1, tzinfo=utc))
    assert find_repeats(PHONE, late, [day_91_late, day_90_early_utc]) == ["C2604-A002"]
    next_morning = dt.datetime(2026, 11, 6, 0, 1, tzinfo=TZ)
    assert find_repeats(PHONE, next_morning, [day_90_early_utc]) == []


def test_archived_complaint_within_90_days_still_counts() -> None:
    case = closed_case("C2610-A001", PHONE, T0 - 20 * DAY, T0 - 10 * DAY)
    case = apply(case, workflow.archive(case, T0 - 5 * DAY, "admin"))
    assert case.status == "archived"
    assert find_repeats(PHONE, T0, [case]) == ["C2610-A001"]


def test_reopened_complaint_counts_as_open() -> None:
    case = closed_case("C2501-A001", PHONE, T0 - 400 * DAY, T0 - 300 * DAY)
    assert find_repeats(PHONE, T0, [case]) == []
    case = apply(case, workflow.reopen(case, "again", T0 - DAY, "wangfang"))
    assert find_repeats(PHONE, T0, [case]) == ["C2501-A001"]


@pytest.mark.parametrize("kind", ["repair", "visit", "inquiry", "staff-complaint", "crew-complaint"])
def test_other_kinds_are_not_repeat_complaints(kind: str) -> None:
    assert find_repeats(PHONE, T0, [new_case(kind=kind, case_id="C2610-A001", phone=PHONE, at=T0 - DAY)]) == []


def test_cases_opened_after_the_new_one_do_not_count() -> None:
    later = new_case(case_id="C2612-A001", phone=PHONE, at=T0 + dt.timedelta(seconds=1))
    same_moment = new_case(case_id="C2611-A009", phone=PHONE, at=T0)
    assert find_repeats(PHONE, T0, [later, same_moment]) == ["C2611-A009"]


def test_no_phone_means_no_repeats() -> None:
    with_phone = new_case(case_id="C2610-A001", phone=PHONE, at=T0 - DAY)
    no_phone = new_case(case_id="C2610-A002", at=T0 - DAY)
    assert find_repeats(None, T0, [with_phone, no_phone]) == []
    assert find_repeats("", T0, [with_phone, no_phone]) == []
    assert find_repeats(PHONE, T0, [no_phone]) == []


def test_repeats_are_listed_in_id_order() -> None:
    cases = [new_case(case_id=f"C2610-A00{n}", phone=PHONE, at=T0 - n * DAY) for n in (3, 1, 2)]
    assert find_repeats(PHONE, T0, cases) == ["C2610-A001", "C2610-A002", "C2610-A003"]


@pytest.mark.parametrize("severity,level", [(None, "cs-director"), ("general", "cs-director"),
                                            ("serious", "center-director"), ("major", "center-director")])
def test_a_repeat_complaint_starts_higher(severity: str | None, level: str) -> None:
    decision = opening("complaint", {}, severity, ["C2610-A001", "C2610-A007"], "zh")
    assert decision.level == level
    assert decision.severity == (severity or "general")  # a repeat raises the level, not the severity
    assert "C2610-A001, C2610-A007" in decision.reasons[-1]


@pytest.mark.parametrize("kind", ["repair", "visit", "inquiry"])
def test_repeats_raise_only_complaints(kind: str) -> None:
    assert opening(kind, {}, None, ["C2610-A001"], "zh").level == "assistant"


def test_repeat_of_an_authority_complaint_keeps_both_reasons() -> None:
    decision = opening("complaint", {"authority": "消协"}, None, ["C2610-A001"], "en")
    assert decision.level == "center-director"
    assert len(decision.reasons) == 2 and "serious repeat complaint" in decision.reasons[1]


_SEPARATORS = st.text(alphabet=" -()/.", max_size=2)


@st.composite
def written_phones(draw: st.DrawFn) -> tuple[str, str]:
    """A Chinese mobile or landline number as typed by people, and its canonical digits."""
    if draw(st.booleans()):
        national = "1" + draw(st.sampled_from("3456789")) + draw(st.text(alphabet="0123456789", min_size=9, max_size=9))
        trunk = national
    else:
        area = draw(st.sampled_from(["10", "21", "22", "755", "571", "851"]))
        number = draw(st.sampled_from("2345678")) + draw(st.text(alphabet="0123456789", min_size=6, max_size=7))
        national = area + number
        trunk = "0" + national
    prefix = draw(st.sampled_from(["", "+86", "0086", "+86 ", "0086-", "(+86) ", "+ 86 "]))
    digits = trunk if prefix == "" else (national if draw(st.booleans()) else trunk if prefix.startswith("+") else national)
    pieces = [draw(_SEPARATORS) + ch for ch in digits]
    return prefix + "".join(pieces).lstrip(" -()/.") + draw(st.sampled_from(["", " "])), trunk


@settings(max_examples=300, deadline=None)
@given(written_phones())
@example(("+86 (0)10-6512 3456", "01065123456"))
@example(("0086 138 0013 8000", "13800138000"))
def test_normalize_phone_is_stable_under_separators_and_country_codes(written: tuple[str, str]) -> None:
    text, canonical = written
    assert normalize_phone(text) == canonical
    assert normalize_phone(canonical) == canonical
    assert normalize_phone(normalize_phone(text)) == normalize_phone(text)


# --- remedies: 修则不赔，赔则不修 ----------------------------------------------------------

def add_remedy(case: Case, kind: str, amount: str | None = None, detail: str = "更换橱柜门") -> Case:
    return apply(case, remedy(case, kind, detail, None, amount, T0 + HOUR, "lijun"))


@pytest.mark.parametrize("first,second", [("repair", "compensation"), ("compensation", "repair")])
def test_repair_and_compensation_exclude_each_other(first: str, second: str) -> None:
    case = add_remedy(new_case(), first, amount="100" if first == "compensation" else None)
    with pytest.raises(RefusedError, match=f"already has a {first} remedy.*修则不赔"):
        remedy(case, second, "另一个", None, None, T0 + 2 * HOUR, "lijun")


def test_two_repairs_or_two_compensations_are_fine() -> None:
    case = add_remedy(add_remedy(new_case(), "repair"), "repair", detail="重新刷漆")
    assert [r["detail"] for r in case.get("remedies")] == ["更换橱柜门", "重新刷漆"]
    case = add_remedy(add_remedy(new_case(), "compensation", "1200"), "compensation", "300.50")
    assert [r["amount"] for r in case.get("remedies")] == ["1200", "300.50"]


@pytest.mark.parametrize("amount", ["abc", "-5", "1,200", "12.345", "", "1e5", "¥100", "100元", "1200."])
def test_bad_amounts_are_refused(amount: str) -> None:
    with pytest.raises(RefusedError, match="--amount"):
        remedy(new_case(), "compensation", "延期赔偿", "delay-compensation", amount, T0, "lijun")


@pytest.mark.parametrize("amount,stored", [("1200", "1200"), ("1200.50", "1200.50"), (" 88.5 ", "88.5"), ("0", "0")])
def test_good_amounts_are_stored_as_typed(amount: str, stored: str) -> None:
    events = remedy(new_case(), "compensation", "延期赔偿", "delay-compensation", amount, T0, "lijun")
    assert events[0]["amount"] == stored and events[0]["category"] == "delay-compensation"


def test_remedy_needs_a_detail_and_an_open_case() -> None:
    with pytest.raises(RefusedError, match="--detail"):
        remedy(new_case(), "repair", "  ", None, None, T0, "lijun")
    case, _ = run_ladder(new_case(), ["satisfied"])
    with pytest.raises(RefusedError, match="closed"):
        remedy(case, "repair", "x", None, None, T0 + DAY, "lijun")


# --- closing, reopening, archiving, linking, assigning -----------------------------------------

def test_close_needs_a_resolution_and_an_open_case() -> None:
    with pytest.raises(RefusedError, match="--resolution"):
        workflow.close(new_case(), " ", None, T0, "wangfang")
    case = apply(new_case(), workflow.close(new_case(), "已修好", 4, T0 + HOUR, "wangfang"))
    assert (case.status, case.get("satisfaction"), case.get("resolution")) == ("closed", 4, "已修好")
    with pytest.raises(RefusedError, match="closed"):
        workflow.close(case, "again", None, T0 + 2 * HOUR, "wangfang")


def test_reopen_only_a_closed_case() -> None:
    with pytest.raises(RefusedError, match="it is open"):
        workflow.reopen(new_case(), "x", T0, "wangfang")
    case = closed_case("C2611-A001", PHONE, T0, T0 + HOUR)
    with pytest.raises(RefusedError, match="--reason"):
        workflow.reopen(case, "", T0 + 2 * HOUR, "wangfang")
    archived = apply(case, workflow.archive(case, T0 + DAY, "admin"))
    with pytest.raises(RefusedError, match="archived cases stay closed"):
        workflow.reopen(archived, "x", T0 + 2 * DAY, "wangfang")


def test_archive_only_a_closed_case_and_only_before_the_cutoff() -> None:
    with pytest.raises(RefusedError, match="it is open"):
        workflow.archive(new_case(), T0, "admin")
    case = closed_case("C2611-A001", PHONE, T0, T0 + HOUR)
    assert workflow.archivable(case, T0 + 2 * HOUR)
    assert not workflow.archivable(case, T0 + HOUR)  # closed at the cutoff is not before it
    assert not workflow.archivable(new_case(), T0 + DAY)


def test_link_refuses_itself_and_duplicates() -> None:
    case = new_case()
    with pytest.raises(RefusedError, match="itself"):
        workflow.link(case, "C2611-A001", None, T0, "wangfang")
    case = apply(case, workflow.link(case, "C2610-A003", "同一工地", T0, "wangfang"))
    with pytest.raises(RefusedError, match="already linked"):
        workflow.link(case, "C2610-A003", None, T0, "wangfang")


def test_assign_refuses_the_same_assignee() -> None:
    case = apply(new_case(), workflow.assign(new_case(), "lina", T0, "wangfang"))
    assert case.get("assignee") == "lina"
    with pytest.raises(RefusedError, match="already assigned to lina"):
        workflow.assign(case, "lina", T0, "wangfang")


# --- when a new event happened -------------------------------------------------------------------

def test_event_time_defaults_to_now() -> None:
    assert event_time(new_case(), None, T0 + HOUR) == T0 + HOUR


def test_event_time_in_the_future_is_refused() -> None:
    with pytest.raises(RefusedError, match="in the future"):
        event_time(new_case(), T0 + 2 * HOUR, T0 + HOUR)


def test_event_time_before_the_last_event_is_refused() -> None:
    case = apply(new_case(), workflow.note(new_case(), "来电", T0 + HOUR, "wangfang"))
    with pytest.raises(RefusedError, match=r"before the last event of C2611-A001 \(2026-11-05T10:30:00\+08:00\)"):
        event_time(case, T0 + HOUR - dt.timedelta(seconds=1), T0 + DAY)


def test_event_time_equal_to_the_last_event_is_allowed() -> None:
    case = apply(new_case(), workflow.note(new_case(), "来电", T0 + HOUR, "wangfang"))
    assert event_time(case, T0 + HOUR, T0 + DAY) == T0 + HOUR
    assert event_time(new_case(), T0, T0) == T0


def test_event_time_compares_instants_not_clock_readings() -> None:
    utc = dt.timezone.utc
    case = new_case()  # opened 09:30 Shanghai = 01:30 UTC
    assert event_time(case, dt.datetime(2026, 11, 5, 1, 30, tzinfo=utc), T0 + HOUR) == T0
    with pytest.raises(RefusedError, match="before the last event"):
        event_time(case, dt.datetime(2026, 11, 5, 1, 29, tzinfo=utc), T0 + HOUR)

"""Merges keep every record: two records under one ID (two clones on one desk letter), one
day's duty log written on two clones, and a disposal on one clone against a change on
another. A real bare remote and real clones; git calls the merge driver while svc sync
rebases."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from svc import yamlio
from svc.merge import merge_texts
from svc.model import plain
from tests.conftest import Svc, run_svc
from tests.retention_util import committed
from tests.test_clones import (  # noqa: F401  (office, svc_on_path: fixtures)
    Office, case_path, day, git, head, office, open_case, sync)

SAME_DESK = {"SVC_DESK": "A"}


def checked(clone: Svc, now: str | None = None) -> None:
    result = clone("check", now=now)
    assert (result.exit_code, result.stdout) == (0, ""), f"{clone.root.name}: {result.stdout}{result.stderr}"


def remote_files(office: Office, folder: str) -> list[str]:
    done = git(office.remote, "ls-tree", "-r", "--name-only", "main", "--", folder)
    return sorted(done.stdout.split())


def show(clone: Svc, record: str) -> dict[str, Any]:
    return json.loads(clone.ok("show", record, "--format", "json").stdout)


# --- two records under one ID ---------------------------------------------------------------------

def test_two_clones_on_one_desk_letter_in_one_second_keep_both_customers_cases(office: Office) -> None:
    a = office.a
    c = office.clone("c", None)
    mine = open_case(a, "张三", day(5, "10:00"))
    other = c.open("complaint", "--customer", "李四", "--phone", "13900139000", now=day(5, "10:00"), env=SAME_DESK)
    assert mine == other == "C2611-A001"  # a copied folder: same letter, same second, same first event
    c.ok("note", other, "李四补充：厨房也漏水", now=day(5, "10:20"), env=SAME_DESK)
    sync(a)
    said = c("sync", now=day(5, "11:00"), env=SAME_DESK)
    assert said.exit_code == 0, said.stderr
    assert "C2611-A001" in said.stderr and "C2611-A002" in said.stderr and "svc setup --desk" in said.stderr
    sync(a)

    for clone in (a, c):
        ids = clone.ok("list", "--status", "all", "--format", "ids").stdout.split()
        assert ids == ["C2611-A001", "C2611-A002"]
        first, second = show(clone, "C2611-A001"), show(clone, "C2611-A002")
        # the published case keeps its ID; the other clone's is renumbered, all its events kept
        assert first["customer"]["name"] == "张三" and second["customer"]["name"] == "李四"
        assert "李四补充：厨房也漏水" in [ev.get("text") for ev in second["history"]]
        notes = {n: [ev["text"] for ev in rec["history"] if ev["action"] == "note" and "C2611-A00" in ev["text"]]
                 for n, rec in (("first", first), ("second", second))}
        # each note names the other ID and the other record (when, by whom), never the other customer
        made = f"complaint made at {day(5, '10:00')} by wangfang"
        assert len(notes["first"]) == 1 and "C2611-A002" in notes["first"][0] and made in notes["first"][0]
        assert len(notes["second"]) == 1 and "C2611-A001" in notes["second"][0] and made in notes["second"][0]
        assert "李四" not in notes["first"][0] and "张三" not in notes["second"][0]
        checked(clone, now=day(5, "12:00"))
    assert head(a.root) == head(c.root) == git(office.remote, "rev-parse", "main").stdout.strip()
    # published history was not rewritten: the remote's first commit of A001 still holds 张三
    assert "李四" not in git(office.remote, "show", f"main~2:cases/2026/11/{mine}.yaml").stdout
    # the next case on the renumbered clone does not collide again
    assert c.open("complaint", "--customer", "王五", now=day(5, "13:00"), env=SAME_DESK) == "C2611-A003"


def test_references_in_unpushed_records_follow_the_renumbered_id(office: Office) -> None:
    a = office.a
    c = office.clone("c", None)
    open_case(a, "张三", day(5, "10:00"))
    sync(a)
    sync(c)  # c is up to date, then works on its own
    open_case(a, "赵六", day(5, "10:30"))  # A002 on the first clone
    sync(a)
    repeat = c.open("complaint", "--customer", "钱七", now=day(5, "10:30"), env=SAME_DESK)
    linker = c.open("complaint", "--customer", "孙八", now=day(5, "10:40"), env=SAME_DESK)
    assert (repeat, linker) == ("C2611-A002", "C2611-A003")
    c.ok("link", linker, repeat, now=day(5, "10:45"), env=SAME_DESK)
    result = c("sync", now=day(5, "11:00"), env=SAME_DESK)
    assert result.exit_code == 0, result.stderr
    sync(a)
    ids = a.ok("list", "--status", "all", "--format", "ids").stdout.split()
    assert sorted(ids) == ["C2611-A001", "C2611-A002", "C2611-A003", "C2611-A004"]
    numbered = {show(a, i)["customer"]["name"]: i for i in ids}
    # A002 clashed and moves past every number on either side (A003 is the clone's own);
    # the link made on the clone to its A002 follows it
    assert numbered == {"张三": "C2611-A001", "赵六": "C2611-A002", "孙八": "C2611-A003", "钱七": "C2611-A004"}
    assert show(a, "C2611-A003")["links"] == ["C2611-A004"]
    assert [ev.get("to") for ev in show(a, "C2611-A003")["history"] if ev["action"] == "link"] == ["C2611-A004"]
    checked(a, now=day(5, "12:00"))


def test_the_same_record_added_on_two_clones_is_one_record() -> None:
    text = ("id: C2611-A001\nkind: inquiry\nstatus: open\nlevel: assistant\nseverity: general\n"
            "opened_at: '2026-11-05T10:00:00+08:00'\ncustomer:\n  name: 张三\nhistory:\n"
            "- at: '2026-11-05T10:00:00+08:00'\n  by: wangfang\n  action: open\n  severity: general\n"
            "  level: assistant\n")
    rel = "cases/2026/11/C2611-A001.yaml"
    assert merge_texts("", text, text, rel) == (text, [])


def test_the_merge_driver_never_folds_two_customers_into_one_record(svc: Svc) -> None:
    """Outside svc sync too (a plain git merge): the driver fails rather than drop a customer."""
    from svc.errors import RecordError

    case = svc.open("complaint", "--customer", "张三", now=day(5))
    ours = case_path(svc, case).read_text(encoding="utf-8")
    theirs = ours.replace("张三", "李四")
    with pytest.raises(RecordError, match="two different records have the ID C2611-A001"):
        merge_texts("", ours, theirs, f"cases/2026/11/{case}.yaml")


def test_the_driver_git_runs_fails_the_merge_in_the_store_language_and_leaves_both_sides(svc: Svc,
                                                                                          tmp_path: Path) -> None:
    case = svc.open("complaint", "--customer", "张三", now=day(5))
    ours_text = case_path(svc, case).read_text(encoding="utf-8")
    files = {"base": "", "ours": ours_text, "theirs": ours_text.replace("张三", "李四")}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    done = run_svc("merge-file", *(str(tmp_path / n) for n in files), f"cases/2026/11/{case}.yaml", cwd=svc.root)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "两条不同的记录使用了同一编号 C2611-A001" in done.stderr  # the store says lang: zh
    assert (tmp_path / "ours").read_text(encoding="utf-8") == ours_text  # git keeps both sides
    # svc sync knows this stop: when the remote moved after it looked for clashes, it looks again
    from svc.reconcile import clash_stopped

    assert clash_stopped(done.stderr) and not clash_stopped("svc merge: x.yaml: not a record svc knows how to merge")


# --- one day's duty log on two clones -------------------------------------------------------------

DUTY_DAY = "2026-11-24"


def duty_at(hm: str) -> str:
    return f"{DUTY_DAY}T{hm}:00+08:00"


def duty_events(clone: Svc) -> list[dict[str, Any]]:
    path = clone.root / "duty" / "2026" / "11" / f"{DUTY_DAY}.yaml"
    return plain(yamlio.loads(path.read_text(encoding="utf-8"), str(path))["history"])


def test_duty_logs_of_one_day_on_two_clones_merge_with_every_entry_and_the_seals_hold(office: Office) -> None:
    a, b = office.a, office.b
    a.ok("duty", "add", "A 8:50 接3号楼业主电话", now=duty_at("08:50"))
    sync(a)
    sync(b)
    a.ok("duty", "add", "A 9:30 回访张三", now=duty_at("09:30"))
    b.ok("duty", "add", "B 9:10 接待来访业主", now=duty_at("09:10"), user="lina")
    a.ok("duty", "add", "A 10:00 工程部回电", now=duty_at("10:00"))
    b.ok("duty", "add", "B 10:30 巡查2号楼", now=duty_at("10:30"), user="lina")
    sync(b)
    sync(a)  # the same file changed on both: united by the driver
    sync(b)
    assert head(a.root) == head(b.root)
    texts = [ev["text"] for ev in duty_events(a)]
    assert texts == ["A 8:50 接3号楼业主电话", "B 9:10 接待来访业主", "A 9:30 回访张三", "A 10:00 工程部回电",
                     "B 10:30 巡查2号楼"]
    assert duty_events(a) == duty_events(b)
    for clone in (a, b):
        checked(clone, now=duty_at("23:00"))
    # work goes on from the merged day: a signature covers every entry, and check still passes
    b.ok("duty", "sign", "--date", DUTY_DAY, now=duty_at("18:00"), user="lijun")
    sync(b)
    sync(a)
    assert duty_events(a)[-1]["action"] == "sign"
    checked(a, now=duty_at("23:00"))

    # a hand edit of a merged entry is still caught by its seal
    path = a.root / "duty" / "2026" / "11" / f"{DUTY_DAY}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("回访张三", "回访李四"), encoding="utf-8")
    result = a("check", now=duty_at("23:00"))
    assert result.exit_code == 3 and "history[3] was altered" in result.stdout


def test_a_merged_duty_day_with_an_entry_removed_by_hand_is_reported(office: Office) -> None:
    a, b = office.a, office.b
    a.ok("duty", "add", "A1", now=duty_at("08:50"))
    a.ok("duty", "add", "A2", now=duty_at("09:20"))
    a.ok("duty", "add", "A3", now=duty_at("09:40"))
    b.ok("duty", "add", "B1", now=duty_at("09:00"), user="lina")
    sync(a)
    sync(b)
    assert [ev["text"] for ev in duty_events(b)] == ["A1", "B1", "A2", "A3"]
    path = b.root / "duty" / "2026" / "11" / f"{DUTY_DAY}.yaml"
    node = yamlio.loads(path.read_text(encoding="utf-8"), str(path))
    del node["history"][2]  # A2: A3's seal names it
    path.write_text(yamlio.dumps(node), encoding="utf-8")
    result = b("check", now=duty_at("23:00"))
    assert result.exit_code == 3 and "history[3] was altered, or an event before it removed" in result.stdout


# --- a disposal on one clone against a change on another ----------------------------------------------

FEB = "2024-02-20T10:00:00+08:00"
AFTER = "2026-03-02T09:00:00+08:00"


def _old_patrol_on_both(office: Office) -> str:
    a, b = office.a, office.b
    # recorded back then: a record's retention runs from when git first saw it
    record = a.ok("patrol", "add", "--area", "3号楼", now=FEB, env=back_then(FEB)).stdout.strip()
    a.ok("patrol", "finding", record, "--category", "facilities", "--place", "2单元电梯", "--description", "按钮失灵",
         now="2024-02-20T10:10:00+08:00", env=back_then("2024-02-20T10:10:00+08:00"))
    a.ok("patrol", "summary", "--month", "2024-02", now="2024-03-01T09:00:00+08:00",
         env=back_then("2024-03-01T09:00:00+08:00"))
    sync(a)
    sync(b)
    return record


def back_then(now: str) -> dict[str, str]:
    return {"GIT_COMMITTER_DATE": committed(now)}


def _patrol_path(clone: Svc, record: str) -> Path:
    return clone.root / "patrols" / "2024" / "02" / f"{record}.yaml"


def _assert_kept(office: Office, record: str, *clones: Svc) -> None:
    for clone in clones:
        text = _patrol_path(clone, record).read_text(encoding="utf-8")
        events = plain(yamlio.loads(text, record)["history"])
        assert [ev["action"] for ev in events] == ["patrol", "finding", "fixed", "note"]
        assert events[2]["note"] == "已更换按钮"
        note = events[3]["text"]  # the store's language is zh
        assert "撤销销毁" in note and "zhaomin" in note and "admin" in note and "2026-03-02T09:00:00+08:00" in note
        assert events[3]["by"] == "admin"  # who disposed of it
        register = json.loads(clone.ok("retention", "register", "--format", "json", now=AFTER).stdout)
        assert [e["record"] for e in register] == [record]  # the register keeps its entry
        checked(clone, now=AFTER)
    assert remote_files(office, "patrols") == [f"patrols/2024/02/{record}.yaml"]


def _disposed_on_a_fixed_on_b(office: Office) -> str:
    """An old patrol record on both clones: A disposes of it, B records a fix of its finding."""
    record = _old_patrol_on_both(office)
    office.a.ok("retention", "apply", "--approved-by", "zhaomin", now=AFTER, user="admin")
    office.b.ok("patrol", "fixed", record, "1", "--note", "已更换按钮", now="2026-03-02T08:30:00+08:00", user="lina")
    return record


def test_a_fix_recorded_on_one_clone_wins_over_a_disposal_on_the_other(office: Office) -> None:
    a, b = office.a, office.b
    record = _disposed_on_a_fixed_on_b(office)
    sync(a)  # the disposal is published first
    said = sync(b)  # b's fix meets the deletion: the change wins, no hand-run git
    assert record in said and "销毁" in said
    sync(a)
    assert head(a.root) == head(b.root)
    _assert_kept(office, record, a, b)


def test_a_disposal_rebased_onto_a_published_fix_keeps_the_record(office: Office) -> None:
    a, b = office.a, office.b
    record = _disposed_on_a_fixed_on_b(office)
    sync(b)  # the fix is published first
    said = sync(a)  # a's disposal is rebased onto it
    assert record in said
    sync(b)
    assert head(a.root) == head(b.root)
    _assert_kept(office, record, a, b)
    # still disposable by the rule: a later apply disposes of it again, with a second register entry
    a.ok("retention", "apply", "--approved-by", "zhaomin", now="2026-03-03T09:00:00+08:00", user="admin")
    assert not _patrol_path(a, record).exists()
    checked(a, now="2026-03-03T10:00:00+08:00")


# --- the duty merge itself: every event once, time order, seals verifiable, either way round ---------

DUTY_REL = f"duty/2026/11/{DUTY_DAY}.yaml"


def _duty_text(events: list[dict[str, Any]]) -> str:
    from svc.duty import DAY_KEYS
    from svc.store import ordered_node

    return yamlio.dumps(ordered_node({"date": DUTY_DAY, "history": events}, DAY_KEYS))


def _sealed_chain(start: list[dict[str, Any]], entries: list[tuple[int, str, str]]) -> list[dict[str, Any]]:
    from svc.duty import sealed

    history = list(start)
    for minute, user, text in entries:
        history.append(sealed(history, {"at": duty_at(f"10:{minute:02d}"), "by": user, "action": "entry",
                                        "text": text}))
    return history


Entry = tuple[int, str, str]
ENTRY = st.tuples(st.integers(0, 20), st.sampled_from(("wangfang", "lina")))


def _labelled(prefix: str, items: list[tuple[int, str]], start: int) -> list[Entry]:
    return [(max(m, start), u, f"{prefix}{i}") for i, (m, u) in enumerate(sorted(items))]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ENTRY, max_size=3), st.lists(ENTRY, min_size=1, max_size=5), st.lists(ENTRY, min_size=1, max_size=5))
def test_duty_merge_keeps_every_entry_in_time_order_with_verifiable_seals(
        shared_items: list[tuple[int, str]], my_items: list[tuple[int, str]], their_items: list[tuple[int, str]]) -> None:
    from zoneinfo import ZoneInfo

    from svc.duty import check_day

    shared = _sealed_chain([], _labelled("S", shared_items, 0))
    start = int(shared[-1]["at"][14:16]) if shared else 0
    mine = _sealed_chain(shared, _labelled("A", my_items, start))
    theirs = _sealed_chain(shared, _labelled("B", their_items, start))
    base = _duty_text(shared) if shared else ""  # a day both clones began on their own: no base
    ours_text, theirs_text = _duty_text(mine), _duty_text(theirs)
    merged, conflicts = merge_texts(base, ours_text, theirs_text, DUTY_REL)
    assert conflicts == [] and merge_texts(base, theirs_text, ours_text, DUTY_REL)[0] == merged  # either way round
    events = plain(yamlio.loads(merged, DUTY_REL)["history"])
    keyed = [json.dumps(ev, sort_keys=True) for ev in events]
    assert sorted(keyed) == sorted({json.dumps(ev, sort_keys=True) for ev in mine + theirs})  # each once, none made up
    assert [ev["at"] for ev in events] == sorted(ev["at"] for ev in events)
    for side in (mine, theirs):  # no seal rewritten, each side's order kept
        assert [k for k in keyed if k in {json.dumps(ev, sort_keys=True) for ev in side}] == \
            [json.dumps(ev, sort_keys=True) for ev in side]
    assert check_day(events, date.fromisoformat(DUTY_DAY), ZoneInfo("Asia/Shanghai"), None) == []
    for side_text in (ours_text, theirs_text):  # the next sync of either side changes nothing
        assert merge_texts(base, merged, side_text, DUTY_REL) == (merged, [])


def _handed(history: list[dict[str, Any]], hour: int, by: str, to: str, named: bool) -> list[dict[str, Any]]:
    from svc.duty import sealed

    history = list(history)
    history.append(sealed(history, {"at": duty_at(f"{hour}:00"), "by": by, "action": "handover", "to": to,
                                    "equipment": "正常"}))
    accept = {"at": duty_at(f"{hour}:05"), "by": to, "action": "accept", "handover": 1}
    if named:
        accept["handover_seal"] = history[-1]["seal"]
    history.append(sealed(history, accept))
    return history


def test_two_clones_handing_over_on_one_day_merge_each_acceptance_naming_its_handover() -> None:
    from zoneinfo import ZoneInfo

    from svc.duty import DAY_SPEC, check_day, handovers
    from svc.schema import check_root

    shared = _sealed_chain([], [(0, "wangfang", "S")])
    base = _duty_text(shared)
    # the later clone's handover lands first in time: its acceptance's number 1 is now the 2nd handover
    mine = _duty_text(_handed(shared, 15, "wangfang", "lina", named=True))
    theirs = _duty_text(_handed(shared, 12, "lijun", "admin", named=True))
    merged, _ = merge_texts(base, mine, theirs, DUTY_REL)
    node = yamlio.loads(merged, DUTY_REL)
    assert check_root(node, DAY_SPEC, DUTY_REL) == []  # as svc reads it: handover: 1 is a number
    events = plain(node["history"])
    assert check_day(events, date.fromisoformat(DUTY_DAY), ZoneInfo("Asia/Shanghai"), None) == []
    assert [(h.by, h.to, h.accepted is not None and h.accepted["by"]) for h in handovers(events)] == \
        [("lijun", "admin", "admin"), ("wangfang", "lina", "lina")]


def test_acceptances_written_before_seals_were_named_stop_a_merge_that_would_misname_them() -> None:
    from svc.errors import RecordError

    shared = _sealed_chain([], [(0, "wangfang", "S")])
    base = _duty_text(shared)
    mine = _duty_text(_handed(shared, 15, "wangfang", "lina", named=False))
    theirs = _duty_text(_handed(shared, 12, "lijun", "admin", named=False))
    with pytest.raises(RecordError, match="both clones recorded handovers on this day"):
        merge_texts(base, mine, theirs, DUTY_REL)


def test_handovers_on_two_clones_of_one_day_sync_and_check(office: Office) -> None:
    a, b = office.a, office.b
    a.ok("duty", "add", "A 早班", now=duty_at("08:00"))
    sync(a)
    sync(b)
    b.ok("handover", "--to", "admin", "--equipment", "正常", now=duty_at("12:00"), user="lina")
    b.ok("handover", "accept", "--equipment", "正常", now=duty_at("12:05"), user="admin")
    a.ok("handover", "--to", "lina", "--equipment", "电话正常", now=duty_at("17:00"))
    a.ok("handover", "accept", "--equipment", "正常", now=duty_at("17:05"), user="lina")
    sync(a)
    sync(b)  # b's 12:00 handover goes before a's 17:00 one
    sync(a)
    for number, (by, to) in ((1, ("lina", "admin")), (2, ("wangfang", "lina"))):
        shown = json.loads(a.ok("handover", "show", "--date", DUTY_DAY, "--number", str(number), "--format", "json",
                                now=duty_at("23:00")).stdout)
        assert (shown["by"], shown["to"], shown["accepted"]["by"]) == (by, to, to), shown
    # the log as text: each acceptance shows its handover's number in the merged day
    text = a.ok("duty", "show", "--date", DUTY_DAY, now=duty_at("23:00")).stdout
    accepted = [line for line in text.splitlines() if "接班确认" in line]
    assert len(accepted) == 2 and "周行" in accepted[0] and "李娜" in accepted[1]
    assert "[接班确认 第1次]" in accepted[0] and "[接班确认 第2次]" in accepted[1]
    for clone in (a, b):
        checked(clone, now=duty_at("23:00"))


@pytest.mark.parametrize("first", ["disposal", "hold"])
def test_a_hold_put_on_one_clone_beats_a_disposal_on_the_other(office: Office, first: str) -> None:
    a, b = office.a, office.b
    record = _old_patrol_on_both(office)
    a.ok("retention", "apply", "--approved-by", "zhaomin", now=AFTER, user="admin")
    hold = b.ok("hold", "add", record, "--reason", "业主诉讼证据保全", now="2026-03-02T08:40:00+08:00",
                user="lijun").stdout.strip()
    pusher, other = (a, b) if first == "disposal" else (b, a)
    sync(pusher)
    said = other("sync", now="2026-03-02T10:00:00+08:00")
    assert said.exit_code == 0 and record in said.stderr and hold in said.stderr, said.stderr
    sync(pusher)
    assert head(a.root) == head(b.root)
    for clone in (a, b):
        events = plain(yamlio.loads(_patrol_path(clone, record).read_text(encoding="utf-8"), record)["history"])
        assert events[-1]["action"] == "note" and hold in events[-1]["text"] and "撤销销毁" in events[-1]["text"]
        checked(clone, now="2026-03-02T11:00:00+08:00")
    # the hold holds: the next apply leaves the record alone
    assert a.ok("retention", "apply", "--approved-by", "zhaomin", now="2026-03-03T09:00:00+08:00",
                user="admin").stdout == ""
    assert _patrol_path(a, record).exists()
    b.ok("hold", "release", hold, "--reason", "诉讼结束", now="2026-03-03T09:30:00+08:00", user="lijun")
    sync(b)
    sync(a)


def test_the_servers_append_only_hook_accepts_what_sync_settles(
        office: Office) -> None:
    """Renumbering, a kept disposal and a merged duty day rewrite nothing published."""
    office.a.ok("hook", "install", "--server", str(office.remote))
    a = office.a
    c = office.clone("c", None)
    record = _old_patrol_on_both(Office(office.remote, a, c))
    a.ok("retention", "apply", "--approved-by", "zhaomin", now=AFTER, user="admin")
    c.ok("patrol", "fixed", record, "1", "--note", "已更换按钮", now="2026-03-02T08:30:00+08:00", user="lina",
         env=SAME_DESK)
    open_case(a, "张三", day(5, "10:00"))
    c.open("complaint", "--customer", "李四", now=day(5, "10:00"), env=SAME_DESK)
    a.ok("duty", "add", "A 值班", now=duty_at("09:00"))
    c.ok("duty", "add", "C 值班", now=duty_at("09:30"), user="lina", env=SAME_DESK)
    sync(a)
    result = c("sync", now=day(5, "11:00"), env=SAME_DESK)
    assert result.exit_code == 0, result.stderr
    sync(a)
    assert head(a.root) == head(c.root) == git(office.remote, "rev-parse", "main").stdout.strip()
    assert sorted(a.ok("list", "--status", "all", "--format", "ids").stdout.split()) == ["C2611-A001", "C2611-A002"]
    checked(a, now=day(5, "12:00"))


def test_a_record_deleted_by_hand_on_one_clone_and_changed_on_the_other_is_kept(office: Office) -> None:
    a, b = office.a, office.b
    record = _old_patrol_on_both(office)
    git(a.root, "rm", "-q", str(_patrol_path(a, record).relative_to(a.root)))
    git(a.root, "-c", "user.name=手工", "-c", "user.email=hand@example.invalid", "commit", "-qm", "tidy")
    b.ok("patrol", "fixed", record, "1", "--note", "已更换按钮", now="2026-03-02T08:30:00+08:00", user="lina")
    sync(a)
    sync(b)
    sync(a)
    for clone in (a, b):
        events = plain(yamlio.loads(_patrol_path(clone, record).read_text(encoding="utf-8"), record)["history"])
        assert [ev["action"] for ev in events] == ["patrol", "finding", "fixed", "note"]
        assert "销毁清册中没有相应条目" in events[-1]["text"]
        checked(clone, now=AFTER)


def test_a_sync_stopped_after_renumbering_writes_the_notes_the_next_time(office: Office,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from svc import reconcile
    from svc.store import Store

    a = office.a
    c = office.clone("c", None)
    open_case(a, "张三", day(5, "10:00"))
    c.open("complaint", "--customer", "李四", now=day(5, "10:00"), env=SAME_DESK)
    sync(a)
    store = Store.open(c.root)
    assert store.git is not None
    # what a sync killed right after its renumbering leaves: the branch moved, no pull, no notes
    done = reconcile.renumber_clashes(store, store.git, "origin", "main", {})
    assert [(r.old, r.new) for r in done] == [("C2611-A001", "C2611-A002")]
    assert "李四" in case_path(c, "C2611-A002").read_text(encoding="utf-8")
    result = c("sync", now=day(5, "11:00"), env=SAME_DESK)
    assert result.exit_code == 0, result.stderr
    for record in ("C2611-A001", "C2611-A002"):
        notes = [ev["text"] for ev in show(c, record)["history"] if ev["action"] == "note"]
        assert len(notes) == 1 and ("C2611-A002" if record == "C2611-A001" else "C2611-A001") in notes[0]
    assert not (c.root / ".svc" / reconcile.JOURNAL).exists()
    sync(c)  # nothing written twice
    assert len([ev for ev in show(c, "C2611-A001")["history"] if ev["action"] == "note"]) == 1
    checked(c, now=day(5, "12:00"))


def test_a_held_record_left_disposed_of_by_a_stopped_sync_is_restored_by_the_next(office: Office) -> None:
    a, b = office.a, office.b
    record = _old_patrol_on_both(office)
    a.ok("retention", "apply", "--approved-by", "zhaomin", now=AFTER, user="admin")
    hold = b.ok("hold", "add", record, "--reason", "业主诉讼证据保全", now="2026-03-02T08:40:00+08:00",
                user="lijun").stdout.strip()
    sync(a)
    # what a sync killed after its rebase, before it restored the record, leaves
    git(b.root, "-c", "user.name=t", "-c", "user.email=t@t", "pull", "-q", "--rebase", "origin", "main")
    assert not _patrol_path(b, record).exists()
    said = sync(b)
    assert record in said and hold in said
    assert _patrol_path(b, record).exists()
    checked(b, now="2026-03-02T11:00:00+08:00")

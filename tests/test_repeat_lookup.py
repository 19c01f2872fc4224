"""A complaint's repeat check (svc/index.py's phone_holders) takes a look at the files that
can hold a repeat rather than git's stat of every file; after any sequence of changes it
finds what parsing every file finds, and it never brings the whole index up to date."""

from __future__ import annotations

import datetime as dt
import json
import marshal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from svc import boot, index, indexscan, workflow
from svc.store import Store
from tests.conftest import Svc, make_store, run_svc

PHONES = ["13800138000", "13800138001", "010 6512 3456"]


def truth(svc: Svc, phone: str, at: dt.datetime) -> list[str]:
    """The repeats parsing every case file finds."""
    return workflow.find_repeats(phone, at, [r.case for r in Store.open(svc.root, 1.0).iter_cases([])])


def looked_up(svc: Svc, phone: str, at: dt.datetime) -> list[str]:
    store = Store.open(svc.root, 1.0)
    looked = index.phone_holders(store, workflow.normalize_phone(phone), workflow.repeat_horizon(at))
    return workflow.repeat_ids(at, looked.holders)


@pytest.fixture
def no_refresh(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each time the whole index is brought up to date."""
    calls: list[str] = []
    real = index.CaseIndex.refresh

    def refresh(self: index.CaseIndex, *args: object, **kw: object) -> index.CaseIndex:
        calls.append("refresh")
        return real(self, *args, **kw)

    monkeypatch.setattr(index.CaseIndex, "refresh", refresh)
    return calls


OPS = ["open", "repair", "phone", "kind", "close", "reopen", "delete", "garble", "copy", "commit", "revert", "list"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 11)), min_size=1, max_size=10),
       overlay_max=st.sampled_from([0, 300]))
def test_after_any_changes_the_look_finds_what_parsing_every_file_finds(
        steps: list[tuple[str, int]], overlay_max: int, tmp_path_factory: pytest.TempPathFactory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index, "OVERLAY_MAX", overlay_max)
    svc = Svc(make_store(tmp_path_factory.mktemp("look") / "store"))
    svc.open("complaint", "--customer", "张三", "--phone", PHONES[0], "--summary", "起始")
    svc.ok("list")  # the index is built; from here on no lookup may refresh it
    at = dt.datetime.fromisoformat(svc.now)
    refreshed: list[int] = []
    real = index.CaseIndex.refresh
    monkeypatch.setattr(index.CaseIndex, "refresh", lambda self, *a, **k: refreshed.append(1) or real(self, *a, **k))
    for op, n in steps:
        files = sorted((svc.root / "cases").glob("*/*/*.yaml"))
        path = files[n % len(files)] if files else None
        text = path.read_text(encoding="utf-8") if path is not None else ""
        phone = PHONES[n % len(PHONES)]
        if op in ("open", "repair"):
            svc.open("complaint" if op == "open" else "repair", "--customer", "李四", "--phone", phone)
        elif op == "phone" and path is not None:  # a mistyped phone put right by hand
            for old in ("13800138000", "13800138001", "010 6512 3456"):
                text = text.replace(old, PHONES[(n + 1) % len(PHONES)])
            path.write_text(text, encoding="utf-8")
        elif op == "kind" and path is not None:  # a repair that was a complaint, put right by hand
            swapped = text.replace("kind: repair", "kind: complaint") if "kind: repair" in text else text.replace(
                "kind: complaint", "kind: repair")
            path.write_text(swapped, encoding="utf-8")
        elif op == "close" and path is not None:
            svc("close", path.stem, "--resolution", "已处理")  # refused for an edited or unreadable case: fine
        elif op == "reopen" and path is not None:
            svc("reopen", path.stem, "--reason", "客户再次来电")
        elif op == "delete" and path is not None:
            path.unlink()
        elif op == "garble" and path is not None:  # unreadable, the phone still in it
            path.write_text(text + "kind: repair\n", encoding="utf-8")
        elif op == "copy" and path is not None:  # a file put in by hand
            path.with_name(f"C2611-B{n:03d}.yaml").write_text(text.replace(path.stem, f"C2611-B{n:03d}"),
                                                             encoding="utf-8")
        elif op == "commit":
            svc.git("add", "-A")
            svc.git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "--no-verify", "-qm", "by hand", "--allow-empty")
        elif op == "revert":
            svc.git("checkout", "--", ".")
        elif op == "list":
            svc("list")  # the whole index brought up to date (exit 1 when a file is unreadable)
            refreshed.clear()
        problems: list = []
        list(Store.open(svc.root, 1.0).iter_cases(problems))
        unreadable = sorted({str(Path(p.path).relative_to(svc.root)) if Path(p.path).is_absolute() else p.path
                             for p in problems})
        for phone in PHONES:
            assert looked_up(svc, phone, at) == truth(svc, phone, at), (op, phone)
            digits = workflow.normalize_phone(phone)
            looked = index.phone_holders(Store.open(svc.root, 1.0), digits, workflow.repeat_horizon(at))
            assert looked.unreadable == [rel for rel in unreadable if digits[1:] in "".join(
                c for c in (svc.root / rel).read_text(encoding="utf-8") if c.isdigit())]
        assert not refreshed


def test_a_phone_put_right_by_hand_makes_the_next_complaint_a_repeat(svc: Svc) -> None:
    """Through the real program: the look is made in a child forked at start-up."""
    env = {"SVC_STORE": str(svc.root), "SVC_USER": "wangfang", "SVC_NOW": svc.now}
    first = svc.open("complaint", "--customer", "张三", "--phone", "13800138009", "--summary", "漏水")
    repair = svc.open("repair", "--customer", "李四", "--phone", "13900139000", "--summary", "门锁")
    assert run_svc("list", env=env).returncode == 0  # the index is built
    path = svc.root / "cases" / "2026" / "11" / f"{first}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("13800138009", "13800138000"), encoding="utf-8")
    second = run_svc("open", "complaint", "--customer", "张三", "--phone", "138-0013-8000", env=env)
    assert second.returncode == 0, second.stderr
    assert json.loads(svc.ok("show", second.stdout.strip(), "--format", "json").stdout)["repeat_of"] == [first]
    # a repair that was a complaint all along, put right by hand
    path = svc.root / "cases" / "2026" / "11" / f"{repair}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("kind: repair", "kind: complaint"), encoding="utf-8")
    third = run_svc("open", "complaint", "--customer", "李四", "--phone", "13900139000", env=env)
    assert third.returncode == 0, third.stderr
    assert json.loads(svc.ok("show", third.stdout.strip(), "--format", "json").stdout)["repeat_of"] == [repair]


def test_a_case_closed_long_ago_and_reopened_is_seen_through_the_commit(
        svc: Svc, no_refresh: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside the recent part, a case's change is found through the commits since the
    index was brought up to date."""
    monkeypatch.setattr(index, "OVERLAY_MAX", 0)  # every change folded into the parts at once
    old = svc.open("complaint", "--customer", "张三", "--phone", "13800138000", now="2026-01-05T10:00:00+08:00")
    svc.ok("close", old, "--resolution", "已处理", now="2026-02-01T10:00:00+08:00")
    other = svc.open("repair", "--customer", "李四")
    svc.ok("close", other, "--resolution", "已修好")  # the latest closing: the recent part starts 100 days before
    svc.ok("list", "--status", "all")
    recent = marshal.loads((svc.root / ".svc" / "index-recent.marshal").read_bytes())
    assert f"cases/2026/01/{old}.yaml" not in recent and f"cases/2026/11/{other}.yaml" in recent
    at = dt.datetime.fromisoformat(svc.now)
    no_refresh.clear()
    assert looked_up(svc, "13800138000", at) == []  # closed 277 days ago: no repeat
    svc.ok("reopen", old, "--reason", "客户再次来电")
    assert looked_up(svc, "13800138000", at) == [old]
    assert not no_refresh


def test_a_commit_made_between_the_look_and_the_lock_is_seen(
        svc: Svc, no_refresh: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The child looks before the lock is taken; another svc may commit in between."""
    monkeypatch.setattr(index, "OVERLAY_MAX", 0)
    old = svc.open("complaint", "--customer", "张三", "--phone", "13800138000", now="2026-01-05T10:00:00+08:00")
    svc.ok("close", old, "--resolution", "已处理", now="2026-02-01T10:00:00+08:00")
    other = svc.open("repair", "--customer", "李四")
    svc.ok("close", other, "--resolution", "已修好")
    svc.ok("list", "--status", "all")
    early = indexscan.look(str(svc.root))
    assert early is not None  # (files written within 2 s of the index are looked at again: racy)
    svc.ok("reopen", old, "--reason", "客户再次来电")  # another clerk's command, in between
    monkeypatch.setattr(boot, "take_look", lambda root: early)
    no_refresh.clear()
    assert looked_up(svc, "13800138000", dt.datetime.fromisoformat(svc.now)) == [old]
    assert not no_refresh


def test_a_backdated_complaint_outside_the_recent_part_brings_the_index_up_to_date(
        svc: Svc, no_refresh: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index, "OVERLAY_MAX", 0)  # every change folded into the parts at once
    first = svc.open("complaint", "--customer", "张三", "--phone", "13800138000", now="2026-06-01T10:00:00+08:00")
    other = svc.open("repair", "--customer", "李四")
    svc.ok("close", other, "--resolution", "已修好")
    svc.ok("list")
    no_refresh.clear()
    assert looked_up(svc, "13800138000", dt.datetime.fromisoformat("2026-07-01T10:00:00+08:00")) == [first]
    assert no_refresh == ["refresh"]  # 2026-07-01 less 90 days is before what the recent part holds
    no_refresh.clear()
    assert looked_up(svc, "13800138000", dt.datetime.fromisoformat(svc.now)) == [first]
    assert not no_refresh


def test_the_recent_part_keeps_open_unreadable_and_recently_closed_files(
        svc: Svc, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index, "OVERLAY_MAX", 0)  # every change folded into the parts at once
    old = svc.open("complaint", now="2026-01-05T10:00:00+08:00")
    svc.ok("close", old, "--resolution", "已处理", now="2026-01-06T10:00:00+08:00")
    kept = svc.open("complaint", now="2026-07-05T10:00:00+08:00")
    svc.ok("close", kept, "--resolution", "已处理", now="2026-08-01T10:00:00+08:00")
    still = svc.open("repair")
    garbled = svc.open("repair")
    path = svc.root / "cases" / "2026" / "11" / f"{garbled}.yaml"
    path.write_text("id: [unclosed\n", encoding="utf-8")
    svc("list")
    rels = sorted(Path(rel).stem for rel in marshal.loads((svc.root / ".svc" / "index-recent.marshal").read_bytes()))
    assert rels == sorted([kept, still, garbled])  # closed 2026-01-06: more than 100 days before 2026-08-01
    latest = dt.datetime.fromisoformat("2026-08-01T10:00:00+08:00").timestamp()
    meta = indexscan.meta_of(indexscan.read_part(str(svc.root), "meta"))
    assert meta is not None and meta["recent_since"] == latest - index.RECENT_DAYS * index.DAY_S
    # a later closing moves the part on: the file closed 2026-08-01 stays (within 100 days)
    svc.ok("close", still, "--resolution", "已修好")
    svc("list")
    rels = sorted(Path(rel).stem for rel in marshal.loads((svc.root / ".svc" / "index-recent.marshal").read_bytes()))
    assert rels == sorted([kept, still, garbled])


def test_a_landline_written_with_the_country_code_is_found(svc: Svc, no_refresh: list[str]) -> None:
    """The digits' quick test allows for the trunk 0 normalizing puts back."""
    first = svc.open("complaint", "--customer", "张三", "--phone", "010 6512 3456")
    svc.ok("list")
    path = svc.root / "cases" / "2026" / "11" / f"{first}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("010 6512 3456", "+86 10 6512 3456"), encoding="utf-8")
    no_refresh.clear()
    assert looked_up(svc, "01065123456", dt.datetime.fromisoformat(svc.now)) == [first]
    assert not no_refresh


@pytest.mark.parametrize("built", [True, False], ids=["look", "whole index"])
def test_a_file_with_the_phone_that_cannot_be_read_is_named_in_a_warning(svc: Svc, built: bool) -> None:
    first = svc.open("complaint", "--customer", "张三", "--phone", "13800138000")
    other = svc.open("complaint", "--customer", "李四", "--phone", "13900139000")
    if built:
        svc.ok("list")
    for case_id in (first, other):
        path = svc.root / "cases" / "2026" / "11" / f"{case_id}.yaml"
        path.write_text(path.read_text(encoding="utf-8") + "kind: repair\n", encoding="utf-8")  # a duplicate key
    result = svc("open", "complaint", "--customer", "张三", "--phone", "138 0013 8000")
    assert result.exit_code == 0
    warning, = result.stderr.splitlines()  # not the file of another phone
    assert warning.startswith("svc: warning: ") and warning.endswith(
        f"cases/2026/11/{first}.yaml holds this phone but cannot be read, so a repeat in it is not counted;"
        " svc check says why")

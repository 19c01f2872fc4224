"""The per-clone index never shows stale rows: hand edits, deletions, commits, status
changes and a damaged index file are all reflected by the next listing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from svc import index
from tests.conftest import Svc


@pytest.fixture(autouse=True, params=[index.OVERLAY_MAX, 0], ids=["overlay", "folded"])
def overlay_max(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Every test runs with changes kept in the meta file's overlay (as a small change
    is) and with every change folded into the big parts at once (as a big one is)."""
    monkeypatch.setattr(index, "OVERLAY_MAX", request.param)
    return request.param


def listed(svc: Svc, status: str = "open") -> dict[str, dict]:
    return {row["id"]: row for row in json.loads(svc.ok("list", "--status", status, "--format", "json").stdout)}


@pytest.mark.parametrize("fixture", ["svc", "svc_nogit"])
def test_a_hand_edit_is_reflected_by_the_next_list(fixture: str, request: pytest.FixtureRequest) -> None:
    svc: Svc = request.getfixturevalue(fixture)
    first = svc.open("complaint", "--customer", "张三", "--phone", "13800138000", "--summary", "漏水")
    second = svc.open("repair", "--customer", "李四", "--summary", "插座无电")
    assert set(listed(svc)) == {first, second}  # builds the index
    assert list((svc.root / ".svc").glob("index-*.marshal"))
    path = svc.root / "cases" / "2026" / "11" / f"{first}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("summary: 漏水", "summary: 卫生间严重漏水"), encoding="utf-8")
    assert listed(svc)[first]["summary"] == "卫生间严重漏水"
    (svc.root / "cases" / "2026" / "11" / f"{second}.yaml").unlink()
    assert set(listed(svc)) == {first}


def test_commits_status_moves_and_merges_are_seen(svc: Svc) -> None:
    case = svc.open("complaint", "--customer", "张三", "--phone", "13800138000")
    assert case in listed(svc)
    svc.ok("close", case, "--resolution", "已修复", now="2026-11-06T10:00:00+08:00")
    assert case not in listed(svc)
    assert listed(svc, "closed")[case]["status"] == "closed"
    # a change made by git alone (as a pull or merge would): revert the close
    path = svc.root / "cases" / "2026" / "11" / f"{case}.yaml"
    svc.git("checkout", "HEAD~1", "--", str(path.relative_to(svc.root)))
    svc.git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "--no-verify", "-qm", "restore")
    assert case in listed(svc)
    assert json.loads(svc.ok("due", "--within", "1w", "--format", "json").stdout)


def test_a_damaged_index_is_rebuilt_and_an_unreadable_case_reported(svc: Svc) -> None:
    case = svc.open("complaint", "--customer", "张三", "--phone", "13800138000")
    listed(svc)
    for part in (svc.root / ".svc").glob("index-*.marshal"):
        part.write_bytes(b"not marshal")
    assert case in listed(svc)
    bad = svc.root / "cases" / "2026" / "11" / "C2611-A099.yaml"
    bad.write_text("id: C2611-A099\nid: again\n", encoding="utf-8")
    result = svc("list", "--format", "json")
    assert result.exit_code == 3 and "C2611-A099.yaml:2: found duplicate key" in result.stderr
    assert case in {row["id"] for row in json.loads(result.stdout)}


def test_repeat_detection_uses_the_phone_map(svc: Svc) -> None:
    first = svc.open("complaint", "--customer", "张三", "--phone", "13800138000")
    listed(svc)
    second = svc.open("complaint", "--customer", "张三", "--phone", "138-0013-8000", now="2026-11-06T09:00:00+08:00")
    shown = json.loads(svc.ok("show", second, "--format", "json").stdout)
    assert shown["repeat_of"] == [first] and shown["level"] == "cs-director"
    # folded, the number is kept in the part of numbers ending 00; else in the overlay, until folded
    assert Path(svc.root / ".svc" / "index-phones-00.marshal").exists() == (index.OVERLAY_MAX == 0)


# --- the git store's refresh: folder mtimes, git diff-files, and the files off git's copy ----------

def test_files_added_by_hand_in_a_new_month_and_edited_in_place_are_seen(svc: Svc) -> None:
    first = svc.open("complaint", "--customer", "张三", "--phone", "13800138000", "--summary", "漏水")
    listed(svc)
    source = svc.root / "cases" / "2026" / "11" / f"{first}.yaml"
    text = source.read_text(encoding="utf-8")
    # a case copied in by hand under a month folder that did not exist (untracked by git)
    copy = svc.root / "cases" / "2026" / "12" / "C2612-A001.yaml"
    copy.parent.mkdir()
    copy.write_text(text.replace(first, "C2612-A001").replace("summary: 漏水", "summary: 抄来的"), encoding="utf-8")
    assert listed(svc)["C2612-A001"]["summary"] == "抄来的"
    # the untracked copy edited again in place, to the same size (same-second, same-size edits too)
    copy.write_text(copy.read_text(encoding="utf-8").replace("抄来的", "改过的"), encoding="utf-8")
    assert listed(svc)["C2612-A001"]["summary"] == "改过的"
    # a tracked case edited in place and staged (git add): still the edited text
    source.write_text(text.replace("summary: 漏水", "summary: 暗管"), encoding="utf-8")
    svc.git("add", str(source.relative_to(svc.root)))
    assert listed(svc)[first]["summary"] == "暗管"
    # the edit thrown away by git (checkout): the committed text again
    svc.git("checkout", "HEAD", "--", str(source.relative_to(svc.root)))
    assert listed(svc)[first]["summary"] == "漏水"
    # the copy removed together with its folder
    copy.unlink()
    copy.parent.rmdir()
    assert set(listed(svc)) == {first}


def test_a_stash_and_its_pop_are_seen(svc: Svc) -> None:
    case = svc.open("complaint", "--customer", "张三", "--phone", "13800138000", "--summary", "漏水")
    listed(svc)
    path = svc.root / "cases" / "2026" / "11" / f"{case}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("summary: 漏水", "summary: 严重漏水"), encoding="utf-8")
    assert listed(svc)[case]["summary"] == "严重漏水"
    svc.git("stash")
    assert listed(svc)[case]["summary"] == "漏水"
    svc.git("stash", "pop")
    assert listed(svc)[case]["summary"] == "严重漏水"


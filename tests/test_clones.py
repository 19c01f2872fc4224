"""Many clones, one history: desks that keep clones of one records repository and sync
through a shared (bare) remote with `svc sync`. Real git throughout: a bare remote and
two or three clones in a temp dir; git itself calls the merge driver (`python -m svc
merge-file`) while rebasing. Also `svc log`, `svc show --at`, and the documented hooks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from svc import yamlio
from svc.merge import merge_texts
from svc.model import check_case_node, plain, replay
from tests.conftest import Svc, make_store, run_svc

NOT_APPLIED = "merge: not applied"


def day(d: int, hm: str = "10:00") -> str:
    return f"2026-11-{d:02d}T{hm}:00+08:00"


def git(cwd: Path, *args: str, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **(env or {})},
                          check=False)
    if check:
        assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done


def hand_commit(cwd: Path, message: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A commit made by a person with git (svc's own commits set their author)."""
    git(cwd, "add", "-A")
    return git(cwd, "-c", "user.name=手工", "-c", "user.email=hand@example.invalid", "commit", "-qm", message,
               check=False, env=env)


@dataclass
class Office:
    remote: Path
    a: Svc  # the first clone (svc init: desk A)
    b: Svc  # a second desk (git clone + svc setup --desk B)

    def clone(self, name: str, desk: str | None) -> Svc:
        root = self.remote.parent / name
        git(self.remote.parent, "clone", "-q", str(self.remote), str(root))
        clone = Svc(root)
        clone.ok("setup", *(["--desk", desk] if desk else []))
        return clone


@pytest.fixture
def office(tmp_path: Path) -> Office:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(remote, "symbolic-ref", "HEAD", "refs/heads/main")
    a = Svc(make_store(tmp_path / "a"))
    git(a.root, "branch", "-M", "main")
    git(a.root, "remote", "add", "origin", str(remote))
    git(a.root, "push", "-q", "-u", "origin", "main")
    office = Office(remote, a, Svc(tmp_path / "b"))
    office.b = office.clone("b", "B")
    return office


def sync(clone: Svc) -> str:
    result = clone("sync")
    assert result.exit_code == 0, f"svc sync in {clone.root.name} -> {result.exit_code}\n{result.stderr}"
    return result.stderr


def case_path(clone: Svc, case_id: str) -> Path:
    return clone.root / "cases" / f"20{case_id[1:3]}" / case_id[3:5] / f"{case_id}.yaml"


def load_case(text: str, where: str = "case.yaml") -> Any:
    """A case file as the store reads it (the schema makes `round: 1` a number)."""
    node = yamlio.loads(text, where)
    assert check_case_node(node, where) == []
    return plain(node)


def history(clone: Svc, case_id: str) -> list[dict[str, Any]]:
    return load_case(case_path(clone, case_id).read_text(encoding="utf-8"))["history"]


def record_files(clone: Svc) -> dict[str, bytes]:
    return {str(p.relative_to(clone.root)): p.read_bytes() for p in sorted((clone.root / "cases").rglob("*.yaml"))}


def key(event: dict[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, sort_keys=True)


def head(cwd: Path) -> str:
    return git(cwd, "rev-parse", "HEAD").stdout.strip()


def assert_converged(office: Office, *clones: Svc) -> None:
    """Every clone holds the remote's commit, byte-identical records, and a clean check."""
    remote_head = git(office.remote, "rev-parse", "main").stdout.strip()
    for clone in clones:
        assert head(clone.root) == remote_head, clone.root.name
        assert git(clone.root, "status", "--porcelain", "--untracked-files=no").stdout == ""
        result = clone("check")
        assert (result.exit_code, result.stdout) == (0, ""), f"{clone.root.name}: {result.stdout}{result.stderr}"
    first = record_files(clones[0])
    for clone in clones[1:]:
        assert record_files(clone) == first
    for text in first.values():
        assert b"<<<<<<<" not in text and b">>>>>>>" not in text


def open_case(clone: Svc, customer: str, now: str, user: str = "wangfang", branch: str = "chaoyang") -> str:
    return clone.open("complaint", "--customer", customer, "--phone", "13800138000", "--branch", branch,
                      "--summary", "卫生间漏水", now=now, user=user)


# --- two desks, concurrent work on the same cases -------------------------------------------------

def test_concurrent_notes_follow_ups_and_new_cases_merge_cleanly_on_both_desks(office: Office) -> None:
    a, b = office.a, office.b
    a1 = open_case(a, "张三", day(5, "09:00"))
    sync(a)
    sync(b)
    b1 = open_case(b, "李四", day(5, "09:10"), user="lina", branch="haidian")
    sync(b)
    sync(a)
    assert a1.startswith("C2611-A") and b1.startswith("C2611-B")

    # the desks work on the same two cases without syncing
    a.ok("note", a1, "A: 已致电客户，约好明天上门", now=day(5, "10:20"))
    a.ok("follow-up", b1, "--outcome", "unsatisfied", "--note", "客户说还在漏", now=day(5, "10:40"))
    a2 = open_case(a, "王五", day(5, "10:50"))
    a.ok("note", b1, "A: 分公司已回电", now=day(5, "11:30"))
    b.ok("note", a1, "B: 客户来电催促", now=day(5, "10:30"), user="lina")
    b.ok("note", b1, "B: 客户补充了照片", now=day(5, "10:35"), user="lina")
    b.ok("follow-up", a1, "--outcome", "not-handled", now=day(5, "10:45"), user="lina")
    b2 = open_case(b, "赵六", day(5, "11:00"), user="lina")
    before = {cid: {clone.root.name: history(clone, cid) for clone in (a, b) if case_path(clone, cid).exists()}
              for cid in (a1, a2, b1, b2)}

    said_b = sync(b)   # B is first: a plain push
    said_a = sync(a)   # A rebases onto B's work: both cases go through the merge driver
    sync(b)            # B takes the merged result
    assert "not applied" not in said_a + said_b
    assert_converged(office, a, b)

    # IDs from the two desks never collide; every case is on both desks
    ids = b.ok("list", "--status", "all", "--format", "ids").stdout.split()
    assert sorted(ids) == sorted([a1, a2, b1, b2])
    assert a2.startswith("C2611-A") and b2.startswith("C2611-B")
    for cid, versions in before.items():
        merged = history(a, cid)
        counts = Counter(map(key, merged))
        assert all(n == 1 for n in counts.values()), f"{cid}: an event repeated"
        assert set(counts) == {key(ev) for h in versions.values() for ev in h}, f"{cid}: an event lost or made up"
        times = [ev["at"] for ev in merged]
        assert times == sorted(times)
        raw = load_case(case_path(a, cid).read_text(encoding="utf-8"))
        for field, value in replay(merged).as_fields().items():
            assert raw.get(field) == value, f"{cid}.{field}"

    # what a clerk sees: both follow-ups counted, both desks' notes in order
    shown = json.loads(a.ok("show", a1, "--format", "json").stdout)
    assert [ev["action"] for ev in shown["history"] if ev["action"] in ("note", "follow-up")] == \
        ["note", "note", "follow-up"]
    assert [ev.get("text") for ev in shown["history"] if ev["action"] == "note"] == \
        ["A: 已致电客户，约好明天上门", "B: 客户来电催促"]
    assert json.loads(b.ok("show", b1, "--format", "json").stdout)["followup_round"] == 1

    # and work goes on from the merged files on either desk
    b.ok("follow-up", a1, "--outcome", "satisfied", now=day(6), user="lina")
    sync(b)
    sync(a)
    assert json.loads(a.ok("show", a1, "--format", "json").stdout)["status"] == "closed"
    assert_converged(office, a, b)


def test_three_desks_converge_whoever_syncs_when(office: Office) -> None:
    a, b = office.a, office.b
    case = open_case(a, "张三", day(5, "09:00"))
    sync(a)
    c = office.clone("c", "C")
    sync(b)
    a.ok("note", case, "A1", now=day(5, "10:00"))
    b.ok("note", case, "B1", now=day(5, "10:05"), user="lina")
    c.ok("note", case, "C1", now=day(5, "10:02"), user="lijun")
    sync(b)
    sync(c)  # C's 10:02 lands before B's 10:05
    b.ok("note", case, "B2", now=day(5, "10:30"), user="lina")
    sync(a)
    sync(b)
    sync(c)
    sync(a)
    assert_converged(office, a, b, c)
    assert [ev["text"] for ev in history(c, case) if ev["action"] == "note"] == ["A1", "C1", "B1", "B2"]


# --- a true conflict: the change already shared stands, the other is kept as a note -----------------

@pytest.mark.parametrize("first", ["A", "B"])
def test_both_desks_record_follow_up_round_1_the_shared_one_stands(office: Office, first: str) -> None:
    a, b = office.a, office.b
    case = open_case(a, "张三", day(5, "09:00"))
    sync(a)
    sync(b)
    a.ok("follow-up", case, "--outcome", "satisfied", "--note", "A 客户满意", now=day(6, "09:00"))
    b.ok("follow-up", case, "--outcome", "unsatisfied", "--note", "B 客户不满意", now=day(6, "10:00"), user="lina")

    pusher, merger = (a, b) if first == "A" else (b, a)
    sync(pusher)
    said = sync(merger)  # the second desk's sync meets the conflict and says so
    assert NOT_APPLIED in said and case in said and "follow-up" in said
    sync(pusher)
    assert_converged(office, a, b)

    shown = json.loads(b.ok("show", case, "--format", "json").stdout)
    # the round 1 that reached the remote first stands; the other desk's is kept as a note
    follow_ups = [ev for ev in shown["history"] if ev["action"] == "follow-up"]
    notes = [ev for ev in shown["history"] if ev["action"] == "note"]
    assert shown["followup_round"] == 1 and len(notes) == 1 and notes[0]["text"].startswith(NOT_APPLIED)
    if first == "A":
        assert shown["status"] == "closed"
        assert [(ev["by"], ev["outcome"]) for ev in follow_ups] == [("wangfang", "satisfied")]
        assert notes[0]["by"] == "lina" and notes[0]["at"] == day(6, "10:00")
        assert "B 客户不满意" in notes[0]["text"] and "unsatisfied" in notes[0]["text"]  # nothing B said is lost
    else:
        assert shown["status"] == "open"
        assert [(ev["by"], ev["outcome"]) for ev in follow_ups] == [("lina", "unsatisfied")]
        assert notes[0]["by"] == "wangfang" and notes[0]["at"] == day(6, "09:00")
        assert "A 客户满意" in notes[0]["text"] and "satisfied" in notes[0]["text"]


def test_the_merge_driver_reports_a_true_conflict_on_stderr(svc: Svc, tmp_path: Path) -> None:
    base, ours, theirs = _two_closings(svc)
    files = {}
    for name, text in (("base", base), ("ours", ours), ("theirs", theirs)):
        files[name] = tmp_path / f"{name}.yaml"
        files[name].write_text(text, encoding="utf-8")
    rel = "cases/2026/11/C2611-A001.yaml"
    done = run_svc("merge-file", str(files["base"]), str(files["ours"]), str(files["theirs"]), rel)
    assert done.returncode == 0, done.stderr
    assert f"{rel}: {NOT_APPLIED} (" in done.stderr and f"close by lina at {day(6, '11:00')})" in done.stderr
    merged = load_case(files["ours"].read_text(encoding="utf-8"))
    assert merged["resolution"] == "已更换阀门" and merged["satisfaction"] == 4
    assert "客户撤诉" in merged["history"][-1]["text"]


def _two_closings(svc: Svc) -> tuple[str, str, str]:
    """One case, closed at 10:00 by wangfang on one desk and at 11:00 by lina on the other."""
    case = svc.open("complaint", "--customer", "张三", now=day(5))
    path = case_path(svc, case)
    base = path.read_text(encoding="utf-8")
    svc.ok("close", case, "--resolution", "已更换阀门", "--satisfaction", "4", now=day(6, "10:00"))
    ours = path.read_text(encoding="utf-8")
    svc.git("reset", "-q", "--hard", "HEAD~1")
    svc.ok("close", case, "--resolution", "客户撤诉", now=day(6, "11:00"), user="lina")
    return base, ours, path.read_text(encoding="utf-8")


def test_of_two_different_closings_ours_stands_either_way(svc: Svc) -> None:
    """In svc sync's rebase "ours" is what the remote already has: it is never rewritten."""
    base, ours, theirs = _two_closings(svc)
    rel = "cases/2026/11/C2611-A001.yaml"
    one, conflicts_one = merge_texts(base, ours, theirs, rel)
    two, conflicts_two = merge_texts(base, theirs, ours, rel)
    assert len(conflicts_one) == 1 and conflicts_one[0].startswith(NOT_APPLIED)
    assert len(conflicts_two) == 1 and "已更换阀门" in conflicts_two[0]
    assert yamlio.loads(two, rel)["resolution"] == "客户撤诉"
    merged = yamlio.loads(one, rel)
    assert (merged["status"], merged["resolution"]) == ("closed", "已更换阀门")
    assert merged["closed_at"] == day(6, "10:00")
    last = plain(merged["history"][-1])
    assert last["action"] == "note" and last["text"].startswith(NOT_APPLIED) and "客户撤诉" in last["text"]
    # the merged file is a good record: a store reads it and check passes (a store without
    # git: here the file is not the successor of this store's committed version)
    other = Svc(make_store(svc.root.parent / "plain", git=False))
    target = other.root / "cases" / "2026" / "11" / "C2611-A001.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(one, encoding="utf-8")
    result = other("check")
    assert (result.exit_code, result.stdout) == (0, ""), result.stdout


def test_the_desk_whose_change_was_not_applied_merges_again_without_a_second_note(svc: Svc) -> None:
    base, ours, theirs = _two_closings(svc)
    rel = "cases/2026/11/C2611-A001.yaml"
    merged, _ = merge_texts(base, ours, theirs, rel)
    # lina's desk, not synced yet, works on: its next sync rebases this onto the merged file
    node = yamlio.loads(theirs, rel)
    node["history"].append({"at": day(6, "12:00"), "by": "lina", "action": "note", "text": "客户来电确认"})
    later = yamlio.dumps(node)
    again, conflicts = merge_texts(base, merged, later, rel)
    assert len(conflicts) == 1  # lina's desk hears that its closing was not applied
    events = load_case(again)["history"]
    assert [ev["action"] for ev in events].count("close") == 1
    assert [ev.get("text", "")[:len(NOT_APPLIED)] for ev in events].count(NOT_APPLIED) == 1
    assert events[-1]["text"] == "客户来电确认"


def test_a_merge_with_nothing_new_on_one_side_returns_the_other_unchanged(svc: Svc) -> None:
    case = svc.open("complaint", "--customer", "张三", "--branch", "chaoyang", now=day(5))
    base = case_path(svc, case).read_text(encoding="utf-8")
    svc.ok("follow-up", case, "--outcome", "unsatisfied", now=day(5, "12:00"))
    ours = case_path(svc, case).read_text(encoding="utf-8")
    rel = f"cases/2026/11/{case}.yaml"
    # byte for byte: a merge never re-renders lines it did not change (round: 1 stays 1)
    assert merge_texts(base, ours, base, rel) == (ours, [])
    assert merge_texts(base, base, ours, rel) == (ours, [])


# --- a clone that is not set up ---------------------------------------------------------------------

def test_a_plain_git_clone_refuses_to_sync_and_to_open_until_svc_setup(office: Office) -> None:
    a = office.a
    case = open_case(a, "张三", day(5))
    sync(a)
    root = office.remote.parent / "plain"
    git(root.parent, "clone", "-q", str(office.remote), str(root))
    env = {"SVC_USER": "lina", "SVC_NOW": day(5, "11:00")}

    done = run_svc("sync", env=env, cwd=root)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "svc setup" in done.stderr and "merge driver" in done.stderr

    done = run_svc("open", "complaint", "--customer", "李四", env=env, cwd=root)
    assert done.returncode == 1 and done.stdout == ""
    assert "svc setup --desk" in done.stderr
    assert git(root, "status", "--porcelain").stdout == "" and head(root) == head(a.root)

    done = run_svc("setup", "--desk", "b", env=env, cwd=root)
    assert done.returncode == 0, done.stderr
    assert "desk is B" in done.stderr
    assert git(root, "status", "--porcelain").stdout == ""  # .gitattributes came with the clone
    done = run_svc("open", "complaint", "--customer", "李四", "--branch", "haidian", env=env, cwd=root)
    assert done.returncode == 0, done.stderr
    new = done.stdout.strip()
    assert new.startswith("C2611-B")
    run_svc("note", case, "B 补记", env=env, cwd=root)
    done = run_svc("sync", env=env, cwd=root)
    assert done.returncode == 0, done.stderr
    sync(a)
    assert a.ok("show", new).stdout


def test_sync_refuses_a_clone_with_uncommitted_changes(office: Office) -> None:
    b = office.b
    (b.root / "svc.yaml").write_text((b.root / "svc.yaml").read_text(encoding="utf-8") + "# 临时\n", encoding="utf-8")
    result = b("sync")
    assert result.exit_code == 1 and "uncommitted" in result.stderr


def test_a_clone_whose_gitattributes_lost_the_driver_refuses_to_sync(office: Office) -> None:
    b = office.b
    (b.root / ".gitattributes").write_text("*.yaml text eol=lf\n", encoding="utf-8")
    hand_commit(b.root, "attributes")
    result = b("sync")
    assert result.exit_code == 1 and ".gitattributes" in result.stderr and "svc setup" in result.stderr
    b.ok("setup")
    assert "merge=svc" in (b.root / ".gitattributes").read_text(encoding="utf-8")


# --- the merge itself: deterministic, symmetric, every event once ---------------------------------

BASE = """\
id: C2611-A001
kind: complaint
status: open
level: assistant
severity: general
opened_at: '2026-11-05T09:00:00+08:00'
customer:
  name: 张三
history:
- at: '2026-11-05T09:00:00+08:00'
  by: wangfang
  action: open
  severity: general
  level: assistant
"""
REL = "cases/2026/11/C2611-A001.yaml"
USERS = ("wangfang", "lina")


def with_notes(text: str, notes: list[tuple[int, str, str]]) -> str:
    node = yamlio.loads(text, REL)
    for minute, user, words in notes:
        node["history"].append({"at": f"2026-11-05T10:{minute:02d}:00+08:00", "by": user, "action": "note",
                                "text": words})
    return yamlio.dumps(node)


@st.composite
def two_desks(draw: st.DrawFn) -> tuple[list[Any], list[Any], list[Any]]:
    """A shared prefix of notes, then each desk's own notes (in time order on each desk);
    same minutes and users on both desks happen on purpose."""
    note = st.tuples(st.integers(0, 6), st.sampled_from(USERS))
    shared = sorted(draw(st.lists(note, max_size=3)))
    start = shared[-1][0] if shared else 0
    later = st.tuples(st.integers(start, 9), st.sampled_from(USERS))
    mine = sorted(draw(st.lists(later, max_size=5)), key=lambda n: n[0])
    theirs = sorted(draw(st.lists(later, max_size=5)), key=lambda n: n[0])
    label = lambda prefix, items: [(m, u, f"{prefix}{i}") for i, (m, u) in enumerate(items)]
    return label("S", shared), label("A", mine), label("B", theirs)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(two_desks())
def test_merge_unites_any_interleaving_deterministically(desks: tuple[list[Any], list[Any], list[Any]]) -> None:
    shared, mine, theirs = desks
    base = with_notes(BASE, shared)
    ours_text, theirs_text = with_notes(base, mine), with_notes(base, theirs)
    merged, conflicts = merge_texts(base, ours_text, theirs_text, REL)
    assert conflicts == []
    assert merge_texts(base, theirs_text, ours_text, REL) == (merged, [])  # symmetric
    events = plain(yamlio.loads(merged, REL)["history"])
    texts = [ev["text"] for ev in events[1:]]
    assert sorted(texts) == sorted(w for _, _, w in shared + mine + theirs)  # each once
    assert texts[: len(shared)] == [w for _, _, w in shared]
    times = [ev["at"] for ev in events]
    assert times == sorted(times)
    for side in (mine, theirs):  # each desk's own order is kept
        order = [w for _, _, w in side]
        assert [t for t in texts if t in order] == order
    # merging again with what either desk had (its next sync) changes nothing
    for side_text in (ours_text, theirs_text):
        assert merge_texts(base, merged, side_text, REL) == (merged, [])
        assert merge_texts(base, side_text, merged, REL) == (merged, [])


def test_the_disposal_register_merges_by_union(tmp_path: Path) -> None:
    rel = "registers/disposal.yaml"
    head_text = "# 销毁清册 (disposal register)\nregister: disposal\nentries: []\n"

    def entry(record: str, disposed: str) -> dict[str, Any]:
        return {"record": record, "kind": "patrol", "period": "2024-01", "required_retention_months": 24,
                "cut_off": "2024-02-01", "disposable_on": "2026-02-01", "kept_days": 1000, "sha256": "ab" * 32,
                "approved_by": "lijun", "disposed_by": "admin", "disposed_at": disposed}

    def register(*entries: dict[str, Any]) -> str:
        node = yamlio.loads(head_text, rel)
        node["entries"].extend(entries)
        return yamlio.dumps(node)

    first = entry("X2401-A001", "2026-10-01T10:00:00+08:00")
    mine = entry("X2401-A002", "2026-11-02T10:00:00+08:00")
    theirs = entry("X2401-B001", "2026-11-01T10:00:00+08:00")
    base = register(first)
    ours_text, theirs_text = register(first, mine), register(first, theirs)
    merged, conflicts = merge_texts(base, ours_text, theirs_text, rel)
    assert conflicts == [] and merge_texts(base, theirs_text, ours_text, rel)[0] == merged
    node = yamlio.loads(merged, rel)
    assert [e["record"] for e in node["entries"]] == ["X2401-A001", "X2401-B001", "X2401-A002"]  # by disposal time
    assert merged.startswith("# 销毁清册")
    assert "kept_days: 1000\n" in merged and "required_retention_months: 24\n" in merged  # numbers stay numbers
    # the same entry on both sides is one entry
    assert merge_texts(base, ours_text, ours_text, rel)[0] == ours_text


# --- ID collisions: two clones on one desk letter -------------------------------------------------

def test_two_clones_on_the_same_desk_letter_do_not_fold_two_cases_into_one(office: Office) -> None:
    a = office.a
    c = office.clone("c", None)
    same_desk = {"SVC_DESK": "A"}
    mine = open_case(a, "张三", day(5, "10:00"))
    other = c.open("complaint", "--customer", "李四", "--phone", "13900139000", now=day(5, "10:30"), env=same_desk)
    assert mine == other == "C2611-A001"  # what a shared desk letter does
    sync(a)
    result = c("sync", env=same_desk)
    assert result.exit_code == 0, result.stderr
    assert "C2611-A001" in result.stderr and "C2611-A002" in result.stderr and "svc setup --desk" in result.stderr
    # each desk's customer kept: the published case keeps its ID, the other clone's is renumbered
    assert "张三" in case_path(c, mine).read_text(encoding="utf-8")
    assert "李四" in case_path(c, "C2611-A002").read_text(encoding="utf-8")
    assert git(office.remote, "rev-parse", "main").stdout.strip() == head(c.root)
    published = yamlio.loads(git(office.remote, "show", f"main:cases/2026/11/{mine}.yaml").stdout, mine)
    assert published["customer"]["name"] == "张三" and "李四" not in json.dumps(plain(published), ensure_ascii=False)
    assert not (c.root / ".git" / "rebase-merge").exists() and not (c.root / ".git" / "rebase-apply").exists()


def test_check_reports_duplicate_ids(svc: Svc) -> None:
    case = svc.open("complaint", "--customer", "张三", now=day(5))
    copy = svc.root / "cases" / "2026" / "11" / "C2611-A002.yaml"
    shutil.copy(case_path(svc, case), copy)
    result = svc("check")
    assert result.exit_code == 3
    assert f"duplicate ID {case}" in result.stdout


# --- svc log and svc show --at ------------------------------------------------------------------

def test_log_lists_each_commit_with_the_events_it_added_after_a_sync(office: Office) -> None:
    a, b = office.a, office.b
    case = open_case(a, "张三", day(5))
    sync(a)
    sync(b)
    a.ok("note", case, "A 已致电", now=day(6, "10:00"))
    b.ok("note", case, "B 客户来电", now=day(6, "11:00"), user="lina")
    b.ok("follow-up", case, "--outcome", "unsatisfied", now=day(9, "10:00"), user="lina")
    sync(b)
    sync(a)  # A's note (Nov 6 10:00) is rebased onto B's: it lands before B's events in the file

    text = a.ok("log", case).stdout
    blocks = [block for block in text.split("\n") if block and not block.startswith("    +")]
    assert len(blocks) == 4  # open, B's note, B's follow-up, A's note (newest first)
    assert "王芳 (wangfang)" in blocks[0] and "note" in blocks[0]
    assert "李娜 (lina)" in blocks[1] and "follow-up" in blocks[1]
    assert "李娜 (lina)" in blocks[2] and "open" in blocks[3]

    entries = json.loads(a.ok("log", case, "--format", "json").stdout)
    assert [len(e["commit"]) for e in entries] == [40] * 4
    added = [[(ev["by"], ev["action"]) for ev in e["events"]] for e in entries]
    assert added[0] == [("wangfang", "note")]
    assert added[1][0] == ("lina", "follow-up") and ("lina", "urging-notice") in added[1]
    assert added[2] == [("lina", "note")]
    assert added[3][0] == ("wangfang", "open")
    # every event of the record is listed once, by the commit that added it
    listed = [key(ev) for e in entries for ev in e["events"]]
    assert sorted(listed) == sorted(map(key, history(a, case)))
    assert [e["author"] for e in entries] == ["王芳 (wangfang)", "李娜 (lina)", "李娜 (lina)", "王芳 (wangfang)"]

    # as it was: at a revision, and at the end of a day (office time, when things happened)
    def as_at(when: str) -> dict[str, Any]:
        return json.loads(a.ok("show", case, "--at", when, "--format", "json").stdout)

    opened = as_at(entries[3]["commit"])
    assert [ev["action"] for ev in opened["history"]] == ["open", "deadline", "deadline", "deadline"]
    before_follow_up = as_at(entries[2]["commit"][:10])
    assert "followup_round" not in before_follow_up or not before_follow_up["followup_round"]
    assert "follow-up" not in [ev["action"] for ev in before_follow_up["history"]]
    on_the_6th = as_at("2026-11-06")
    assert [ev.get("text") for ev in on_the_6th["history"] if ev["action"] == "note"] == ["A 已致电", "B 客户来电"]
    assert "follow-up" not in [ev["action"] for ev in on_the_6th["history"]]
    assert as_at("2026-11-05")["history"][-1]["action"] == "deadline"
    assert "follow-up" in [ev["action"] for ev in as_at("2026-11-09")["history"]]

    result = a("show", case, "--at", "no-such-rev")
    assert result.exit_code == 1 and "no-such-rev" in result.stderr and "Traceback" not in result.stderr
    result = a("show", case, "--at", "2026-11-04")
    assert result.exit_code == 4 and case in result.stderr
    result = a("log", "C2611-A999")
    assert result.exit_code == 4


# --- hooks: an edited event cannot land (more in tests/test_tamper.py) ------------------------------

def test_pre_commit_refuses_a_hand_edited_event_and_lets_other_commits_through(svc: Svc) -> None:
    # svc init installed the hook
    case = svc.open("complaint", "--customer", "张三", now=day(5))
    svc.ok("note", case, "客户同意周六上门", now=day(5, "11:00"))
    path = case_path(svc, case)
    original = path.read_text(encoding="utf-8")
    lines = original.splitlines()
    assert "  text: 客户同意周六上门" in lines
    path.write_text(original.replace("客户同意周六上门", "客户同意周日上门"), encoding="utf-8")
    done = hand_commit(svc.root, "typo")
    assert done.returncode != 0
    said = done.stdout + done.stderr
    assert f"cases/2026/11/{case}.yaml: in this commit: history[5] (note at {day(5, '11:00')}) changed" in said, said
    assert svc.git("log", "-1", "--format=%s").startswith("note ")  # nothing committed

    path.write_text(original, encoding="utf-8")
    (svc.root / "README.md").write_text("本店客服台账\n", encoding="utf-8")
    assert hand_commit(svc.root, "readme").returncode == 0
    with path.open("a", encoding="utf-8") as out:  # a note written down by hand, after the others
        out.write(f"- at: '{day(5, '12:00')}'\n  by: lina\n  action: note\n  text: 纸质记录补录\n")
    done = hand_commit(svc.root, "paper note")
    assert done.returncode == 0, done.stdout + done.stderr
    svc.ok("note", case, "继续处理", now=day(5, "13:00"))


def test_pre_receive_refuses_an_altered_event_and_accepts_svc_sync(office: Office) -> None:
    a, b = office.a, office.b
    a.ok("hook", "install", "--server", str(office.remote))
    case = open_case(a, "张三", day(5))
    sync(a)  # a new branch history: checked from its first commit
    sync(b)
    # concurrent notes: A's earlier note lands between events the server already has
    a.ok("note", case, "A 上午已致电", now=day(5, "11:00"))
    b.ok("note", case, "B 中午客户来电", now=day(5, "12:00"), user="lina")
    sync(b)
    sync(a)
    sync(b)
    assert_converged(office, a, b)

    # a hand edit of a recorded event, committed past the pre-commit hook: sync does not push it,
    # and the server refuses it
    path = case_path(b, case)
    path.write_text(path.read_text(encoding="utf-8").replace("B 中午客户来电", "B 客户没来电"), encoding="utf-8")
    assert hand_commit(b.root, "tidy").returncode != 0
    git(b.root, "-c", "user.name=手工", "-c", "user.email=hand@example.invalid", "commit", "--no-verify", "-qam", "tidy")
    served = git(office.remote, "rev-parse", "main").stdout.strip()
    result = b("sync")
    assert result.exit_code == 3
    assert "refusing to push" in result.stderr and f"cases/2026/11/{case}.yaml: commit " in result.stderr
    assert "changed (记录不得涂改)" in result.stderr
    assert git(office.remote, "rev-parse", "main").stdout.strip() == served
    done = git(b.root, "push", "origin", "HEAD:main", check=False)
    assert done.returncode != 0 and "pre-receive hook declined" in done.stderr
    # the clone puts it right; the next sync goes through
    git(b.root, "reset", "-q", "--hard", "origin/main")
    b.ok("note", case, "B 更正：客户未来电", now=day(5, "13:00"), user="lina")
    sync(b)
    sync(a)
    sync(b)
    assert_converged(office, a, b)


def test_pre_receive_accepts_a_true_conflict_resolved_by_sync(office: Office) -> None:
    office.a.ok("hook", "install", "--server", str(office.remote))
    a, b = office.a, office.b
    case = open_case(a, "张三", day(5, "09:00"))
    sync(a)
    sync(b)
    a.ok("follow-up", case, "--outcome", "satisfied", now=day(6, "09:00"))
    b.ok("follow-up", case, "--outcome", "unsatisfied", now=day(6, "10:00"), user="lina")
    sync(b)  # B's later follow-up reaches the server first
    result = a("sync")  # B's pushed follow-up stands; A's is kept as a note, so nothing published changes
    assert result.exit_code == 0, result.stderr

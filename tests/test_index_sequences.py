"""The index after any sequence of changes (svc commands, hand edits, deletions, garbled
files, commits, checkouts) lists exactly what parsing every file lists."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from svc import agenda, index, render
from svc.store import Store
from tests.conftest import Svc, make_store

# --- any sequence of changes: the index says what parsing every file says ------------------------

OPS = ["open", "edit", "delete", "garble", "close", "commit", "revert"]


def _truth(svc: Svc) -> tuple[dict[str, dict], list[str]]:
    """Every case file parsed now, as the index would keep it, and the unreadable ones."""
    store = Store.open(svc.root, 1.0)
    problems: list = []
    rows = {r.case.id: index.row_of(r.case) for r in store.iter_cases(problems)}
    return rows, sorted({str(p.path) for p in problems})


@pytest.mark.parametrize("git", [True, False], ids=["git", "no-git"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 9)), min_size=1, max_size=9),
       overlay_max=st.sampled_from([0, 2, 100]))
def test_any_sequence_of_changes_matches_a_fresh_parse(git: bool, steps: list[tuple[str, int]], overlay_max: int,
                                                       tmp_path_factory: pytest.TempPathFactory,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index, "OVERLAY_MAX", overlay_max)  # folded at once, after two, or kept in the overlay
    svc = Svc(make_store(tmp_path_factory.mktemp("seq") / "store", git=git))
    svc.open("complaint", "--customer", "张三", "--phone", "13800138000", "--summary", "起始")
    for op, n in steps:
        files = sorted((svc.root / "cases").glob("*/*/*.yaml"))
        path = files[n % len(files)] if files else None
        if op == "open":
            svc.open("complaint", "--customer", "李四", "--phone", f"1380013800{n % 3}", "--summary", f"第{n}次")
        elif op == "edit" and path is not None:
            text = path.read_text(encoding="utf-8")
            path.write_text(text.replace("summary: ", f"summary: 改{n}", 1), encoding="utf-8")
        elif op == "delete" and path is not None:
            path.unlink()
        elif op == "garble" and path is not None:
            path.write_text("id: [unclosed\n", encoding="utf-8")
        elif op == "close" and path is not None:
            svc("close", path.stem, "--resolution", "已处理")  # refused for an edited or unreadable case: fine
        elif op == "commit" and git:
            svc.git("add", "-A")
            svc.git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "--no-verify", "-qm", "by hand", "--allow-empty")
        elif op == "revert" and git:
            svc.git("checkout", "--", ".")
        rows, unreadable = _truth(svc)
        result = svc("list", "--status", "all", "--format", "json")
        assert json.loads(result.stdout) == sorted(
            ({k: row[k] for k in render.LIST_KEYS} for row in rows.values()), key=lambda r: (r["opened_at"], r["id"]))
        assert (result.exit_code == 3) == bool(unreadable)
        opened = json.loads(svc("list", "--format", "json").stdout)  # the open cases' ready lines
        assert opened == [row for row in json.loads(result.stdout) if row["status"] == "open"]
        now = dt.datetime.fromisoformat(svc.now)
        expected = agenda.select([item for row in rows.values() for item in agenda.case_items(row, now, "zh")],
                                 now, dt.timedelta(weeks=1), None, None, None)
        due = json.loads(svc("due", "--within", "1w", "--format", "json").stdout)  # from the agenda part
        assert due == [item.as_json() for item in expected]
        again = index.CaseIndex(Store.open(svc.root, 1.0)).refresh()
        assert sorted(str(p) for p in again.unreadable()) == unreadable
        for phone in ("13800138000", "13800138001", "13800138002"):
            assert sorted(holder[0] for holder in again.holders(phone).values()) == sorted(
                id for id, row in rows.items() if row["phone_digits"] == phone)

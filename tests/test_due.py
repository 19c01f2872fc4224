"""`svc due`: what is due soon and what is overdue, across cases and projects, sorted,
filtered, grouped per person; `svc list --overdue`; and the morning cron run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Svc, make_store

THU = "2026-11-05"
AFTERNOON = "2026-11-05T16:00:00+08:00"


def items(svc: Svc, *args: str, now: str = AFTERNOON) -> list[dict[str, Any]]:
    return json.loads(svc.ok("due", *args, "--format", "json", now=now).stdout)


def keys(found: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(i["id"], i["rule"]) for i in found]


@pytest.fixture(scope="module")
def office_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """Three open cases, a closed one and a project, on Thursday 2026-11-05 (built once, copied per test)."""
    base = tmp_path_factory.mktemp("office")
    with pytest.MonkeyPatch.context() as mp:  # the same clean environment as every test gets
        for name in ("SVC_STORE", "SVC_USER", "SVC_NOW", "SVC_DESK", "SVC_DEBUG"):
            mp.delenv(name, raising=False)
        mp.setenv("GIT_CONFIG_GLOBAL", str(base / "no-gitconfig"))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        svc = Svc(make_store(base / "store"))
        ids = {
            "a": svc.open("complaint", "--customer", "张三", "--branch", "chaoyang", "--assign", "wangfang",
                          now=f"{THU}T10:00:00+08:00"),
            "c": svc.open("complaint", "--customer", "王五", "--branch", "chaoyang", "--severity", "serious",
                          now=f"{THU}T11:00:00+08:00"),
            "b": svc.open("repair", "--customer", "李四", "--branch", "haidian", "--assign", "lina",
                          now=f"{THU}T14:00:00+08:00"),
            "d": svc.open("complaint", "--customer", "赵六", "--branch", "haidian", "--assign", "lina",
                          now=f"{THU}T14:30:00+08:00"),
        }
        svc.ok("close", ids["d"], "--resolution", "当场解决", now=f"{THU}T14:40:00+08:00")
        ids["p"] = svc.ok("project", "add", "--customer", "钱七", "--branch", "haidian", "--assign", "lina",
                          "--contract-signed", "2026-11-01", "--start", "2026-11-10", "--completion", "2027-01-20",
                          now=f"{THU}T15:00:00+08:00").stdout.strip()
    return svc.root, ids


@pytest.fixture
def office(office_template: tuple[Path, dict[str, str]], tmp_path: Path) -> tuple[Svc, dict[str, str]]:
    template, ids = office_template
    root = tmp_path / "office"
    shutil.copytree(template, root)
    return Svc(root), ids


def test_due_lists_overdue_and_due_soon_sorted_by_due_time(office: tuple[Svc, dict[str, str]]) -> None:
    svc, ids = office
    a, b, c = ids["a"], ids["b"], ids["c"]
    found = items(svc)  # default window: one day
    assert keys(found) == [
        (a, "callback-3min"),   # 10:03, overdue
        (c, "callback-3min"),   # 11:03, overdue
        (b, "engineer-20min"),  # 14:20, overdue
        (a, "respond-24h"),     # tomorrow 10:00
        (c, "respond-24h"),     # tomorrow 11:00
        (b, "respond-24h"),     # tomorrow 14:00
    ]
    assert [i["overdue"] for i in found] == [True, True, True, False, False, False]
    assert [i["due_at"] for i in found] == sorted(i["due_at"] for i in found)
    first = found[0]
    assert {"id", "what", "due_at", "overdue", "rule"} <= set(first)
    assert first["due_at"] == "2026-11-05T10:03:00+08:00" and first["what"] == "3分钟内回拨客户"
    assert (first["user"], first["level"], first["branch"], first["record"]) == ("wangfang", "assistant",
                                                                                  "chaoyang", "case")
    # the closed case has nothing due, though its callback was never recorded
    assert ids["d"] not in {i["id"] for i in found}


def test_within_widens_the_window_and_overdue_is_always_listed(office: tuple[Svc, dict[str, str]]) -> None:
    svc, ids = office
    a, b, c, p = ids["a"], ids["b"], ids["c"], ids["p"]
    overdue = [(a, "callback-3min"), (c, "callback-3min"), (b, "engineer-20min")]
    assert keys(items(svc, "--within", "0m")) == overdue
    assert keys(items(svc, "--within", "2h")) == overdue
    week = keys(items(svc, "--within", "1w"))
    assert week == overdue + [(a, "respond-24h"), (c, "respond-24h"), (b, "respond-24h"),
                              (p, "visit-contract-5d"), (a, "solve-3wd"), (b, "solve-3wd")]
    assert keys(items(svc, "--within", "7d")) == week
    assert keys(items(svc, "--within", "168h")) == week
    # the horizon is inclusive: due exactly then is listed
    assert (b, "respond-24h") in keys(items(svc, "--within", "22h"))
    assert (b, "respond-24h") not in keys(items(svc, "--within", "1319m"))
    # three weeks on, everything open is overdue and listed whatever the window
    late = items(svc, "--within", "0m", now="2026-11-26T09:00:00+08:00")
    assert all(i["overdue"] for i in late)
    assert (p, "visit-start-10d") in keys(late) and (a, "solve-3wd") in keys(late)


def test_filters_by_user_level_and_branch(office: tuple[Svc, dict[str, str]]) -> None:
    svc, ids = office
    a, b, c, p = ids["a"], ids["b"], ids["c"], ids["p"]
    assert {i["id"] for i in items(svc, "--within", "1w", "--user", "lina")} == {b, p}
    assert {i["id"] for i in items(svc, "--within", "1w", "--user", "wangfang")} == {a}
    assert items(svc, "--within", "1w", "--user", "lijun") == []
    assert {i["id"] for i in items(svc, "--within", "1w", "--level", "cs-director")} == {c}
    assert {i["id"] for i in items(svc, "--within", "1w", "--level", "assistant")} == {a, b}
    assert {i["id"] for i in items(svc, "--within", "1w", "--branch", "haidian")} == {b, p}
    assert {i["id"] for i in items(svc, "--within", "1w", "--branch", "chaoyang", "--user", "wangfang")} == {a}
    bad = svc("due", "--level", "boss")
    assert bad.exit_code == 2


def test_an_escalation_moves_the_case_between_level_filters(office: tuple[Svc, dict[str, str]]) -> None:
    svc, ids = office
    a = ids["a"]
    svc.ok("escalate", a, "--reason", "客户要求主任处理", now=AFTERNOON)
    assert a in {i["id"] for i in items(svc, "--level", "cs-director")}
    assert a not in {i["id"] for i in items(svc, "--level", "assistant")}


def test_group_by_user_in_json_is_an_object_keyed_by_user(office: tuple[Svc, dict[str, str]]) -> None:
    svc, ids = office
    a, b, c, p = ids["a"], ids["b"], ids["c"], ids["p"]
    grouped = json.loads(svc.ok("due", "--within", "1w", "--group-by", "user", "--format", "json",
                                now=AFTERNOON).stdout)
    assert isinstance(grouped, dict)
    assert {"lina", "wangfang"} <= set(grouped)
    nobody = set(grouped) - {"lina", "wangfang"}
    assert len(nobody) == 1  # the unassigned work has one list of its own
    assert {i["id"] for i in grouped["lina"]} == {b, p}
    assert {i["id"] for i in grouped["wangfang"]} == {a}
    assert {i["id"] for i in grouped[nobody.pop()]} == {c}
    for group in grouped.values():
        assert [i["due_at"] for i in group] == sorted(i["due_at"] for i in group)
    flat = items(svc, "--within", "1w")
    assert sorted(keys([i for g in grouped.values() for i in g])) == sorted(keys(flat))


def test_group_by_user_table_gives_each_person_their_list(office: tuple[Svc, dict[str, str]]) -> None:
    svc, ids = office
    a, b, c = ids["a"], ids["b"], ids["c"]
    text = svc.ok("due", "--within", "1w", "--group-by", "user", now=AFTERNOON).stdout
    sections: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        if line.endswith(":") and not line.startswith(" "):
            current = line[:-1]
            sections[current] = ""
        elif current:
            sections[current] += line + "\n"
    assert {"lina", "wangfang"} <= set(sections) and len(sections) == 3
    assert b in sections["lina"] and a not in sections["lina"] and c not in sections["lina"]
    assert a in sections["wangfang"] and b not in sections["wangfang"]
    unassigned = next(body for who, body in sections.items() if who not in ("lina", "wangfang"))
    assert c in unassigned and a not in unassigned and b not in unassigned


def test_the_table_marks_overdue_lines_and_names_the_rule(office: tuple[Svc, dict[str, str]]) -> None:
    svc, ids = office
    result = svc.ok("due", now=AFTERNOON)
    lines = [line for line in result.stdout.splitlines() if ids["a"] in line or ids["b"] in line
             or ids["c"] in line]
    assert len(lines) == 6
    assert [line.lstrip().startswith("!") for line in lines] == [True] * 3 + [False] * 3
    assert "callback-3min" in lines[0] and "2026-11-05 10:03" in lines[0] and "朝阳分公司" in lines[0]
    assert "svc: 3 overdue" in result.stderr


def test_nothing_due_is_an_empty_list_and_success(svc: Svc) -> None:
    assert svc.ok("due", "--format", "json").stdout.strip() == "[]"
    assert svc.ok("due", "--group-by", "user", "--format", "json").stdout.strip() == "{}"
    result = svc.ok("due", "--strict")
    assert result.stdout == "" and result.exit_code == 0


@pytest.mark.parametrize("within", ["3 days", "1y", "-1d", "", "1.5h", "d"])
def test_a_bad_within_is_refused_clearly(svc: Svc, within: str) -> None:
    result = svc("due", "--within", within, "--format", "json")
    assert result.exit_code == 1
    assert "30m, 4h, 2d, 1w" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_list_overdue_uses_the_same_rules(office: tuple[Svc, dict[str, str]]) -> None:
    svc, ids = office
    a, b, c = ids["a"], ids["b"], ids["c"]

    def overdue(now: str, *args: str) -> list[str]:
        return svc.ok("list", "--overdue", *args, "--format", "ids", now=now).stdout.split()

    assert overdue(f"{THU}T10:02:00+08:00") == []
    assert overdue(f"{THU}T10:04:00+08:00") == [a]
    assert sorted(overdue(AFTERNOON)) == sorted([a, b, c])
    assert overdue(AFTERNOON, "--branch", "haidian") == [b]
    svc.ok("met", a, "callback-3min", "--at", f"{THU}T10:02:00+08:00", now=AFTERNOON)
    assert sorted(overdue(AFTERNOON)) == sorted([b, c])
    listed = json.loads(svc.ok("list", "--overdue", "--format", "json", now=AFTERNOON).stdout)
    assert sorted(r["id"] for r in listed) == sorted([b, c])
    # the same set as svc due's overdue cases
    due_ids = {i["id"] for i in items(svc) if i["overdue"] and i["record"] == "case"}
    assert due_ids == {b, c}


def test_a_broken_record_is_reported_and_the_rest_still_listed(office: tuple[Svc, dict[str, str]]) -> None:
    svc, ids = office
    broken = svc.root / "cases" / "2026" / "11" / "C2611-A099.yaml"
    broken.write_text("id: C2611-A099\nkind: [complaint\n", encoding="utf-8")
    result = svc("due", "--format", "json", now=AFTERNOON)
    assert result.exit_code == 3  # what could be read is listed; the rest named
    assert len(json.loads(result.stdout)) == 6
    assert "C2611-A099.yaml:" in result.stderr and "Traceback" not in result.stderr


# --- the morning cron run ---------------------------------------------------------------------------

def cron(root: Path, now: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`svc due` as cron runs it: CI=true, no TTY, stdin closed, no user, from the store's directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SVC_")}
    env.update({"CI": "true", "SVC_NOW": now, "TERM": "dumb"})
    return subprocess.run([sys.executable, "-m", "svc", "due", *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, env=env, cwd=root, timeout=60)


def test_cron_strict_json_exits_3_when_something_is_overdue_and_0_when_not(svc: Svc) -> None:
    cid = svc.open("complaint", "--customer", "张三", "--branch", "chaoyang", now=f"{THU}T10:00:00+08:00")

    calm = cron(svc.root, f"{THU}T10:01:00+08:00", "--strict", "--format", "json")
    assert calm.returncode == 0, calm.stderr
    listed = json.loads(calm.stdout)
    assert [(i["rule"], i["overdue"]) for i in listed] == [("callback-3min", False), ("respond-24h", False)]

    late = cron(svc.root, f"{THU}T16:00:00+08:00", "--strict", "--format", "json")
    assert late.returncode == 3, late.stderr
    listed = json.loads(late.stdout)  # the whole document, nothing else on stdout
    assert [(i["id"], i["rule"], i["overdue"]) for i in listed] == [(cid, "callback-3min", True),
                                                                     (cid, "respond-24h", False)]
    assert "overdue" in late.stderr and "Traceback" not in late.stderr
    assert "\x1b[" not in late.stdout + late.stderr

    # once the callback is recorded, the same run is quiet again
    svc.ok("met", cid, "callback-3min", now=f"{THU}T16:05:00+08:00")
    quiet = cron(svc.root, f"{THU}T16:10:00+08:00", "--strict", "--format", "json", "--within", "1h")
    assert quiet.returncode == 0 and json.loads(quiet.stdout) == []

    bad = cron(svc.root, f"{THU}T16:10:00+08:00", "--strict", "--format", "json", "--within", "soon")
    assert bad.returncode == 1 and bad.stdout == ""
    assert "soon" in bad.stderr and "30m, 4h, 2d, 1w" in bad.stderr and "Traceback" not in bad.stderr

"""The entry point starts the look at the work tree before the imports (svc/boot.py):
git's for commands that read the whole case index, a forked child's for a complaint's
repeat check; only in a git store with an index; and the index takes exactly that."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from svc import boot
from svc.gitrepo import Git
from tests.conftest import Svc, make_store, run_svc


@pytest.fixture(autouse=True)
def nothing_left(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(boot, "_STARTED", {})
    monkeypatch.setattr(boot, "_LOOKS", {})
    monkeypatch.delenv("SVC_STORE", raising=False)


@pytest.mark.parametrize(("argv", "words", "store"), [
    (["list"], ["list"], None),
    (["--store", "/s", "list", "--format", "json"], ["list", "--format", "json"], "/s"),
    (["--store=/s", "--as", "lina", "due", "--strict"], ["due", "--strict"], "/s"),
    (["--wait", "2", "open", "complaint", "--phone", "1"], ["open", "complaint", "--phone", "1"], None),
    (["--help"], [], None),
    (["--store"], [], None),
])
def test_the_command_is_found_after_the_root_options(argv: list[str], words: list[str], store: str | None) -> None:
    assert boot._command(argv) == (words, store)


@pytest.mark.parametrize(("words", "reads"), [
    (["list"], True),
    (["due", "--within", "1w"], True),
    (["open", "complaint", "--customer", "张三", "--phone", "13800138000"], False),  # a look of its own
    (["handover", "--to", "lina"], True),
    (["handover", "show"], False),
    (["show", "C2611-A001"], False),
    ([], False),
])
def test_only_commands_that_read_the_index_start_git(words: list[str], reads: bool) -> None:
    assert boot.reads_index(words) is reads


@pytest.mark.parametrize(("words", "finds"), [
    (["open", "complaint", "--customer", "张三", "--phone", "13800138000"], True),
    (["open", "complaint", "--phone=13800138000"], True),
    (["open", "complaint", "--customer", "张三"], False),  # no phone: no repeat lookup
    (["open", "repair", "--phone", "13800138000"], False),
    (["list"], False),
    ([], False),
])
def test_only_a_complaint_with_a_phone_starts_the_repeat_look(words: list[str], finds: bool) -> None:
    assert boot.finds_repeats(words) is finds


def test_the_index_takes_the_process_started_at_start_up(svc: Svc) -> None:
    boot.start(["--store", str(svc.root), "list"])
    assert not boot._STARTED  # no index yet: a first build asks git other things
    svc.open("complaint", "--customer", "张三", "--phone", "13800138000")
    svc.ok("list")
    boot.start(["--store", str(svc.root), "list"])
    started = dict(boot._STARTED)
    assert len(started) == 2
    git = Git(svc.root)
    process = git.start(*boot.DIFF_FILES)
    assert process is started[(str(svc.root.resolve()), *boot.DIFF_FILES)]
    assert git.finish(process) == ("", True)
    assert git.start(*boot.DIFF_FILES) is not process  # once only: the next asks git again
    svc.ok("list")  # the index takes the other (diff-index) and finishes it
    assert not boot._STARTED


def test_nothing_starts_for_a_store_without_git_or_elsewhere(svc_nogit: Svc, tmp_path: Path) -> None:
    svc_nogit.open("complaint", "--customer", "张三", "--phone", "13800138000")
    svc_nogit.ok("list")
    boot.start(["--store", str(svc_nogit.root), "list"])
    boot.start(["--store", str(tmp_path / "nowhere"), "list"])
    assert not boot._STARTED


def test_the_program_sees_a_hand_edit_and_a_repeat(svc: Svc) -> None:
    """Through the real entry point (python -m svc), as a clerk's shell runs it."""
    first = svc.open("complaint", "--customer", "张三", "--phone", "13800138000", "--summary", "漏水")
    env = {"SVC_STORE": str(svc.root), "SVC_USER": "wangfang", "SVC_NOW": "2026-11-05T10:00:00+08:00"}
    assert run_svc("list", "--format", "json", env=env).returncode == 0  # the index is built
    path = svc.root / "cases" / "2026" / "11" / f"{first}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("summary: 漏水", "summary: 改过"), encoding="utf-8")
    listed = run_svc("list", "--format", "json", env=env)
    assert [row["summary"] for row in json.loads(listed.stdout)] == ["改过"]
    svc.git("checkout", "--", ".")
    second = run_svc("open", "complaint", "--customer", "张三", "--phone", "138 0013 8000", env=env)
    assert second.returncode == 0, second.stderr
    assert json.loads(svc.ok("show", second.stdout.strip(), "--format", "json").stdout)["repeat_of"] == [first]


LOOK_SCRIPT = """
import json, sys
from svc import boot, indexscan
root = sys.argv[1]
boot.start(["--store", root, "open", "complaint", "--phone", "13800138000"])
forked = bool(boot._LOOKS)
taken = boot.take_look(root)
print(json.dumps([forked, taken, indexscan.look(root), boot.take_look(root)]))
"""


def test_the_forked_look_is_the_look_made_here_and_is_taken_once(svc: Svc) -> None:
    """In a fresh interpreter, as the entry point runs it: before any other thread."""
    first = svc.open("complaint", "--customer", "张三", "--phone", "13800138000")
    svc.ok("list")
    path = svc.root / "cases" / "2026" / "11" / f"{first}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("张三", "张三丰"), encoding="utf-8")  # by hand
    done = subprocess.run([sys.executable, "-c", LOOK_SCRIPT, str(svc.root)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    forked, taken, here, again = json.loads(done.stdout)
    assert forked and taken == here and again is None
    assert taken[3] == [f"cases/2026/11/{first}.yaml"]


def test_no_look_starts_without_an_index_or_git(svc: Svc, tmp_path: Path) -> None:
    boot.start(["--store", str(svc.root), "open", "complaint", "--phone", "13800138000"])  # no index yet
    svc_nogit = Svc(make_store(tmp_path / "plain", git=False))
    svc_nogit.open("complaint", "--customer", "张三", "--phone", "13800138000")
    svc_nogit.ok("list")
    boot.start(["--store", str(svc_nogit.root), "open", "complaint", "--phone", "13800138000"])
    assert not boot._LOOKS and not boot._STARTED

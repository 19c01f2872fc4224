"""The entry point starts git's look at the work tree before the imports (svc/boot.py):
only for commands that read the case index, only in a git store with an index, and the
index takes exactly that process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from svc import boot
from svc.gitrepo import Git
from tests.conftest import Svc, run_svc


@pytest.fixture(autouse=True)
def nothing_left(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(boot, "_STARTED", {})
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
    (["open", "complaint", "--customer", "张三", "--phone", "13800138000"], True),
    (["open", "complaint", "--phone=13800138000"], True),
    (["open", "complaint", "--customer", "张三"], False),  # no phone: no repeat lookup
    (["open", "repair", "--phone", "13800138000"], False),
    (["handover", "--to", "lina"], True),
    (["handover", "show"], False),
    (["show", "C2611-A001"], False),
    ([], False),
])
def test_only_commands_that_read_the_index_start_git(words: list[str], reads: bool) -> None:
    assert boot.reads_index(words) is reads


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

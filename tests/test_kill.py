"""kill -9 at random moments of svc's writing commands and of sync (both ends); after each,
the invariants of tests/killharness.py. A small seeded run in the default suite; the long
one (>= 200 kills) with `-m slow` or SVC_SLOW=1 (README, Development). A failure names the
seed and the step; `python bench/kill.py --seed S --kills N --commands C` replays it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import killharness
from tests.killharness import Report


def _failures(report: Report) -> str:
    return "\n".join(str(f) for f in report.failures)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """A's sync killed while B syncs with the same remote (both ends), and a killed note."""
    return killharness.run(5, 2, tmp_path_factory.mktemp("kill") / "office", ("sync-remote", "note"))


def test_killed_sync_and_write_keep_files_history_and_commits(small_run: Report) -> None:
    assert small_run.counts["kills"] == 2
    assert small_run.counts["kill:sync-remote"] == small_run.counts["kill:note"] == 1
    assert not _failures(small_run), small_run.summary() + "\n" + _failures(small_run)


@pytest.mark.slow
def test_two_hundred_kills_of_every_command(tmp_path: Path) -> None:
    report = killharness.run(13, 200, tmp_path / "office")
    print(report.summary())
    assert report.counts["kills"] == 200
    for name in killharness.COMMANDS:
        assert report.counts["kill:" + name] >= 15
    assert not _failures(report), report.summary() + "\n" + _failures(report)


@pytest.mark.slow
def test_two_hundred_kills_of_the_writing_commands(tmp_path: Path) -> None:
    report = killharness.run(17, 200, tmp_path / "office", killharness.WRITES)
    print(report.summary())
    assert not _failures(report), report.summary() + "\n" + _failures(report)

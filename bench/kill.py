"""kill -9 svc at random moments and count what survives (the kill test, at length).

    python bench/kill.py [--seed S] [--kills N] [--commands open,note,...] [--keep DIR]

Runs N kills (default 200) of svc's writing commands and of sync, both ends, on a temp
office (a bare remote and two clones), checks everything after each (see
tests/killharness.py), and prints the counts and every failure with the command that
replays it. Exit 1 when an invariant failed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import killharness  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--commands", default=",".join(killharness.COMMANDS),
                        help="comma-separated, from: " + " ".join(killharness.COMMANDS))
    parser.add_argument("--keep", type=Path, help="run in this folder and leave it (default: a temp folder)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no line per kill")
    args = parser.parse_args()
    commands = tuple(c for c in args.commands.split(",") if c)
    unknown = [c for c in commands if c not in killharness.COMMANDS]
    if unknown:
        parser.error(f"unknown command(s): {' '.join(unknown)}")
    started = time.perf_counter()

    def progress(number: int, command: str, report: killharness.Report) -> None:
        if not args.quiet:
            failed = [f for f in report.failures if f.step == number]
            print(f"{number:4d} {command:12s} {'FAIL' if failed else 'ok'}", file=sys.stderr, flush=True)
            for failure in failed:
                print(f"     {failure.invariant}: {failure.detail}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="svc-kill-") as temp:
        folder = args.keep or Path(temp) / "office"
        report = killharness.run(args.seed, args.kills, folder, commands, progress)
    print(report.summary())
    for failure in report.failures:
        print(failure)
    for note in report.notes:
        print(note)
    print(f"{time.perf_counter() - started:.0f} s")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())

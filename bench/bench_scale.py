"""Time svc on a large store against the issue's targets.

    python bench/generate.py --cases 100000 /tmp/big     # once (a few minutes)
    python bench/bench_scale.py /tmp/big

Prints, for the store given: the first index build, `svc list --status open --format
json` and `svc due` with a warm index, `svc open`, and a full `svc check` (each a real
process; medians of several runs where cheap). The store is changed by `svc open`
(run last but one); regenerate it for a clean run.

Each command runs in the store's folder, as a clerk runs it, so it is the svc installed
in this Python that is timed (after a change: `pip install .`), never a source tree that
happens to be the current folder.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGETS = {
    "first index build": 60.0,
    "svc list --status open --format json (warm)": 0.3,
    "svc due (warm)": 0.5,
    "svc open complaint --phone (repeat lookup)": 0.25,
    "svc open repair (no repeat lookup)": 0.25,
    "svc check (full)": 60.0,
}


def run(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "svc", *args], env=env, capture_output=True, text=True,
                          cwd=env["SVC_STORE"])
    took = time.perf_counter() - start
    if done.returncode not in (0, 3):
        raise SystemExit(f"svc {' '.join(args)} failed ({done.returncode}): {done.stderr[-500:]}")
    return took


def _time(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, env=env, capture_output=True, check=True)
    return time.perf_counter() - start


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    root = Path(sys.argv[1])
    cases = sum(1 for _ in (root / "cases").glob("*/*/*.yaml"))
    env = {**os.environ, "SVC_STORE": str(root), "SVC_USER": "wangfang", "SVC_NOW": "2026-11-23T10:00:00+08:00"}
    for stale in (root / ".svc").glob("index-*.marshal"):  # a cold start: the first build
        stale.unlink()
    figures = {"first index build": run(["list", "--format", "ids"], env)}
    figures["svc list --status open --format json (warm)"] = statistics.median(
        run(["list", "--status", "open", "--format", "json"], env) for _ in range(5))
    figures["svc due (warm)"] = statistics.median(run(["due"], env) for _ in range(5))
    # a complaint with a phone looks for repeat complaints through the index (so git's
    # stat of every file); a repair does not
    figures["svc open complaint --phone (repeat lookup)"] = statistics.median(
        run(["open", "complaint", "--customer", "基准", "--phone", f"1390000{n:04d}", "--summary", "bench"], env)
        for n in range(5))
    figures["svc open repair (no repeat lookup)"] = statistics.median(
        run(["open", "repair", "--customer", "基准", "--summary", "bench"], env) for _ in range(5))
    figures["svc check (full)"] = run(["check"], env)
    # what no svc command can go below on this machine: start-up, and git's stat of every file
    floor = {
        "python -c pass": statistics.median(_time([sys.executable, "-c", "pass"], env) for _ in range(5)),
        "svc --version (start-up and imports)": statistics.median(run(["--version"], env) for _ in range(5)),
    }
    if (root / ".git").exists():
        floor["git diff-files (stat of every case file)"] = statistics.median(
            _time(["git", "-C", str(root), "diff-files", "--name-only", "--", "cases"], env) for _ in range(5))
    print(f"store: {root} ({cases} cases), {os.cpu_count()} cores")
    for what, took in floor.items():
        print(f"{what:<48} {took:>8.3f}")
    print(f"{'what':<48} {'seconds':>8} {'target':>8}  ")
    for what, took in figures.items():
        target = TARGETS[what]
        print(f"{what:<48} {took:>8.3f} {target:>8.2f}  {'ok' if took <= target else 'OVER'}")


if __name__ == "__main__":
    main()

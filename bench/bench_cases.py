"""Time the everyday commands on a generated store of N cases.

    python bench/bench_cases.py [N ...]        (default: 1000 5000)

Builds each store in a temp dir with bench/generate.py (no git), then runs each command as
a real process several times and prints the median. See bench_scale.py for 100,000 cases.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(root: Path, count: int) -> None:
    """A realistic store of `count` cases, made by bench/generate.py (no git: plain files)."""
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "--cases", str(count), "--no-git", str(root)],
                   check=True, capture_output=True)


def timed(args: list[str], env: dict[str, str], runs: int = 5) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "svc", *args], env=env, capture_output=True, text=True)
        samples.append(time.perf_counter() - start)
        if done.returncode not in (0, 3):
            raise SystemExit(f"svc {' '.join(args)} failed: {done.stderr}")
    return statistics.median(samples)


def main() -> None:
    counts = [int(a) for a in sys.argv[1:]] or [1000, 5000]
    print(f"{'cases':>7}  {'command':<44} {'median s':>9}")
    for count in counts:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            build(root, count)
            env = {**os.environ, "SVC_STORE": str(root), "SVC_USER": "wangfang", "SVC_NOW": "2026-11-23T10:00:00+08:00"}
            env.pop("SVC_DESK", None)
            rows = [
                (["--help"], 5),
                (["open", "complaint", "--customer", "测试", "--phone", "13900000042", "--summary", "bench"], 3),
                (["show", "C2611-A001"], 5),
                (["due"], 3),
                (["list", "--status", "open", "--format", "json"], 3),
                (["check"], 1),
            ]
            for args, runs in rows:
                print(f"{count:>7}  {'svc ' + ' '.join(args[:3]):<44} {timed(args, env, runs):>9.3f}", flush=True)


if __name__ == "__main__":
    main()

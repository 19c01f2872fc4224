"""Time the everyday commands on a generated store of N cases.

    python bench/bench_cases.py [N ...]        (default: 1000 5000)

Builds each store in a temp dir (N case files derived from the demo store's cases, no
git), then runs each command as a real process several times and prints the median.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "records"


def build(root: Path, count: int) -> None:
    shutil.copy(DEMO / "svc.yaml", root / "svc.yaml")
    templates = sorted((DEMO / "cases").glob("*/*/*.yaml"))
    texts = [p.read_text(encoding="utf-8") for p in templates]
    for n in range(count):
        year, month = 2024 + (n // 12000) % 3, 1 + (n // 1000) % 12
        source = templates[n % len(templates)]
        text = texts[n % len(texts)]
        old_id = source.stem
        new_id = f"C{year % 100:02d}{month:02d}-B{n % 1000 + 1:03d}"
        stamp_old = f"{old_id[1:3]}-{old_id[3:5]}"
        text = text.replace(old_id, new_id).replace(f"20{stamp_old}-", f"{year}-{month:02d}-")
        text = text.replace("13801012345", f"139{n:08d}")
        folder = root / "cases" / f"{year}" / f"{month:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{new_id}.yaml").write_text(text, encoding="utf-8")


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
                (["list", "--status", "open", "--format", "json"], 3),
                (["check"], 1),
            ]
            for args, runs in rows:
                print(f"{count:>7}  {'svc ' + ' '.join(args[:3]):<44} {timed(args, env, runs):>9.3f}", flush=True)


if __name__ == "__main__":
    main()

"""How fast letters are made: N one-page Chinese letters in one process, PDF then DOCX.

    python bench/bench_letters.py [N]          (default: 500)

Builds a store of N complaint cases in a temp dir (from the demo store's customer
cases, no git), then makes a formal letter (《关于……的函》, as a draft so no approval or
commit is involved) for all of them in one batch, exactly as `svc letter formal-letter
--ids-from - --draft` does: every case is checked first, then each letter is laid out
and written. Prints letters per second for each format. Targets on the 2-core
reference machine: PDF >= 50/s, DOCX >= 30/s.

Then, for scale, it issues 50 handling notices for real in a git store: each one numbered,
its files fsynced, its register entry and case event committed (one git commit each).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from svc.env import Env  # noqa: E402
from svc.letters import issue  # noqa: E402
from svc.yamlio import loads_fast  # noqa: E402

DEMO = ROOT / "records"
BODY = """您好！您于本月反映的卫生间漏水问题，我中心已于当日转朝阳分公司处理，分公司工程部于次日上门勘查。
经勘查，漏水系卫生间防水层局部施工不到位所致。依据双方签订的装饰装修合同及保修约定，我公司将于本函发出后七日内重做卫生间防水层，并承担由此造成的楼下邻居天花板修复费用，施工期间的安排由分公司与您另行商定。
如您对上述处理方案有异议，请于收到本函之日起七日内与我中心联系；逾期未联系的，视为同意上述方案。感谢您对我公司工作的理解和支持。"""


def build(root: Path, count: int) -> list[str]:
    (root / "svc.yaml").write_text((DEMO / "svc.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    sources = []
    for path in sorted((DEMO / "cases").glob("*/*/*.yaml")):
        text = path.read_text(encoding="utf-8")
        node = loads_fast(text, str(path))
        customer = node.get("customer") or {}
        usable = customer.get("name") and customer.get("phone") and node.get("branch")
        if node["kind"] == "complaint" and node["status"] != "archived" and usable:
            sources.append((path.stem, text))
    ids = []
    for n in range(count):
        old_id, text = sources[n % len(sources)]
        new_id = f"{old_id[:5]}-B{n + 1:03d}"
        folder = root / "cases" / f"20{old_id[1:3]}" / old_id[3:5]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{new_id}.yaml").write_text(text.replace(old_id, new_id), encoding="utf-8")
        ids.append(new_id)
    return ids


def run(count: int) -> dict[str, float]:
    rates: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "store"
        root.mkdir()
        ids = build(root, count)
        env = Env(str(root), "wangfang", 5.0, "2026-12-20T10:00:00+08:00", root)
        for fmt in ("pdf", "docx"):
            out = Path(tmp) / fmt
            request = issue.LetterRequest("formal-letter", ids, (fmt,), out, True, "卫生间漏水维修事宜", BODY)
            ctx = env.context()
            warm = issue.LetterRequest("formal-letter", ids[:1], (fmt,), Path(tmp) / "warm", True, "预热", BODY)
            list(issue.make_letters(ctx, warm, root))  # font and template loading happen once per process
            start, cpu = time.perf_counter(), time.process_time()
            made = list(issue.make_letters(ctx, request, root))
            elapsed, used = time.perf_counter() - start, time.process_time() - cpu
            assert len(made) == count and len(list(out.iterdir())) == count
            rates[fmt] = count / elapsed
            # CPU time too: on a machine busy with other work the wall clock says little
            print(f"{fmt:5} {count} letters in {elapsed:5.2f} s: {count / elapsed:6.1f} letters/s "
                  f"({count / used:6.1f} per CPU-second)", flush=True)
        issued = min(count, 50)
        git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        subprocess.run([*git, "add", "-A"], cwd=root, check=True)
        subprocess.run([*git, "commit", "-qm", "cases"], cwd=root, check=True)
        env = Env(str(root), "wangfang", 5.0, "2026-12-20T10:00:00+08:00", root)
        request = issue.LetterRequest("handling-notice", ids[:issued], ("pdf",))
        start = time.perf_counter()
        made = list(issue.make_letters(env.context(), request, root))
        elapsed = time.perf_counter() - start
        assert len(made) == issued and all(m.number for m in made)
        rates["issued"] = issued / elapsed
        print(f"issued {issued} letters in {elapsed:5.2f} s: {issued / elapsed:6.1f} letters/s "
              f"(numbered, registered, one git commit each)", flush=True)
    return rates


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 500)

"""Generate a realistic store of N cases in a git repository, for benchmarks.

    python bench/generate.py --cases 100000 /tmp/big

Cases of every kind and stage over the last years (about 8% still open), built with the
real rules (svc.workflow, svc.deadlines, svc.model.replay) and written with libyaml for
speed (svc reads them the same; a record svc later changes is rewritten in its own style).
Deterministic for a given N and --seed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from svc import deadlines, workflow  # noqa: E402
from svc.calendar import load_calendar  # noqa: E402
from svc.model import Case, replay  # noqa: E402
from svc.store import CASE_KEYS  # noqa: E402
from svc.timeutil import stamp  # noqa: E402

TZ_NAME = "Asia/Shanghai"
USERS = ["wangfang", "lina", "chenjing", "zhaomin", "sunlv", "zhouxing"]
BRANCHES = ["chaoyang", "haidian", "tongzhou", "fengtai", "shunyi"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["建国", "秀兰", "海燕", "志强", "丽", "敏", "磊", "静", "晓明", "雪梅", "立新", "伟"]
PROBLEMS = ["卫生间防水渗漏", "墙面乳胶漆起皮", "橱柜门板色差", "地板起拱", "吊顶开裂", "插座无电", "工期延误",
            "门窗关闭不严", "瓷砖空鼓", "水管接头滴水", "甲醛超标", "施工噪音扰邻"]
KIND_WEIGHTS = [("complaint", 50), ("repair", 30), ("visit", 8), ("inquiry", 8), ("staff-complaint", 2),
                ("crew-complaint", 2)]

SVC_YAML = """office: BENCH
name: 基准测试客服中心
lang: zh
timezone: Asia/Shanghai
users:
""" + "".join(f"  {u}: {{name: {u}, role: {r}}}\n" for u, r in zip(
    USERS, ["assistant", "assistant", "cs-director", "center-director", "legal", "admin"])) + "branches:\n" + "".join(
    f"  {b}: {{name: {b}}}\n" for b in BRANCHES)


class Dumper(yaml.CSafeDumper):
    pass


def _str(dumper: yaml.Dumper, data: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="'" if _looks_typed(data) else None)


def _looks_typed(text: str) -> bool:
    return text[:1].isdigit() or text.lower() in ("yes", "no", "on", "off", "true", "false", "null", "~", "y", "n")


Dumper.add_representer(str, _str)


def make_case(rng: random.Random, n: int, opened: dt.datetime, cal: object, now: dt.datetime) -> dict:
    kind = rng.choices([k for k, _ in KIND_WEIGHTS], [w for _, w in KIND_WEIGHTS])[0]
    user = rng.choice(USERS[:2])
    phone = f"13{rng.randrange(10**9):09d}"
    fields: dict = {"branch": rng.choice(BRANCHES), "channel": "phone",
                    "summary": f"{rng.choice(PROBLEMS)}（{n}）"}
    if kind in ("staff-complaint", "crew-complaint"):
        fields.update(complainant={"name": rng.choice(SURNAMES) + rng.choice(GIVEN), "contact": phone},
                      accused={"name": rng.choice(SURNAMES) + "某", "role": "工长"},
                      incident={"at": opened.date().isoformat(), "place": "工地"})
    else:
        fields["customer"] = {"name": rng.choice(SURNAMES) + rng.choice(GIVEN), "phone": phone,
                              "address": f"小区{rng.randrange(1, 80)}号楼{rng.randrange(1, 30)}01"}
    severity = rng.choices(["general", "serious", "major"], [85, 12, 3])[0]
    decision = workflow.opening(kind, fields, severity, [], "zh")
    first = workflow.event("open", opened, user, severity=decision.severity, level=decision.level,
                           reason="; ".join(decision.reasons) or None)
    history = deadlines.consequences({**fields, "kind": kind}, [first], cal, "zh", user)
    at = opened
    stage = rng.random() if (now - opened).days > 30 else rng.random() * 0.5
    rounds = rng.choices([0, 1, 2, 3, 4], [60, 25, 8, 5, 2])[0]
    case_fields = {**fields, "kind": kind}
    for r in range(rounds):
        at = at + dt.timedelta(days=rng.randrange(2, 8), minutes=rng.randrange(600))
        if at > now:
            break
        state = replay(history)
        case_fields.update(state.as_fields())
        view = Case({**case_fields, "id": "X", "opened_at": stamp(opened), "history": history})
        outcome = "satisfied" if r == rounds - 1 and stage > 0.3 else rng.choice(["unsatisfied", "not-handled"])
        events = workflow.follow_up(view, outcome, None, at, user, "zh", "分公司")
        history += deadlines.consequences(view.fields, events, cal, "zh", user)
        if outcome == "satisfied":
            break
    state = replay(history)
    if state.status == "open" and stage > 0.08:
        at = at + dt.timedelta(days=rng.randrange(1, 5))
        if at <= now:
            view_fields = {**case_fields, **state.as_fields(), "history": history}
            close = workflow.event("close", at, user, resolution="已处理完毕，客户确认", satisfaction=rng.randrange(3, 6))
            history += deadlines.consequences(view_fields, [close], cal, "zh", user)
            state = replay(history)
            if at < now - dt.timedelta(days=90):
                history.append(workflow.event("archive", at + dt.timedelta(days=30), "zhouxing"))
                state = replay(history)
    node = {**fields, "kind": kind, "opened_at": stamp(opened), "history": history, **state.as_fields()}
    return node


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--now", default="2026-11-23T09:00:00+08:00")
    parser.add_argument("--no-git", action="store_true")
    parser.add_argument("dir", type=Path)
    args = parser.parse_args()
    root: Path = args.dir
    if (root / "svc.yaml").exists():
        raise SystemExit(f"{root} is a store already")
    root.mkdir(parents=True, exist_ok=True)
    (root / "svc.yaml").write_text(SVC_YAML, encoding="utf-8")
    (root / ".gitignore").write_text(".svc/\n.*.tmp\n", encoding="utf-8")
    (root / ".gitattributes").write_text("*.yaml text eol=lf merge=svc\n", encoding="utf-8")
    (root / ".svc").mkdir(exist_ok=True)
    (root / ".svc" / "desk").write_text("A\n", encoding="utf-8")
    rng = random.Random(args.seed)
    now = dt.datetime.fromisoformat(args.now)
    cal = load_calendar(None, TZ_NAME)
    start = now - dt.timedelta(days=3 * 365)
    span = (now - start).total_seconds()
    moments = sorted(start + dt.timedelta(seconds=rng.random() * span) for _ in range(args.cases))
    seq: dict[str, int] = {}
    began = time.perf_counter()
    for n, opened in enumerate(moments, 1):
        opened = opened.astimezone(cal.tz).replace(microsecond=0)
        stem = f"C{opened:%y%m}-A"
        seq[stem] = seq.get(stem, 0) + 1
        case_id = f"{stem}{seq[stem]:03d}"
        node = make_case(rng, n, opened, cal, now)
        node["id"] = case_id
        ordered = {k: node[k] for k in CASE_KEYS if node.get(k) not in (None, "", [], {})}
        path = root / "cases" / f"{opened:%Y}" / f"{opened:%m}" / f"{case_id}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.dump(ordered, Dumper=Dumper, allow_unicode=True, sort_keys=False, width=1 << 16),
                        encoding="utf-8")
        if n % 10000 == 0:
            print(f"{n} cases in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    print(f"{args.cases} cases written in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    if not args.no_git:
        began = time.perf_counter()
        env_id = ["-c", "user.name=bench", "-c", "user.email=bench@bench.invalid"]
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        subprocess.run(["git", "add", "-A"], cwd=root, check=True)
        subprocess.run(["git", *env_id, "commit", "-q", "-m", f"generated store of {args.cases} cases"], cwd=root, check=True)
        # as `svc init` leaves a store: the merge driver, and git's settings for many files
        subprocess.run([sys.executable, "-m", "svc", "--store", str(root), "setup"], check=True, capture_output=True)
        subprocess.run(["git", "update-index", "--index-version", "4", "--split-index"], cwd=root, check=True)
        print(f"git repository made in {time.perf_counter() - began:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()

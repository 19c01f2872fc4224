"""The kill test: kill -9 at random moments of svc's writing commands and of sync, then
check what a records officer would: every YAML file parses, the next svc commands (`svc
list`, then `svc sync`) leave nothing of svc's uncommitted, `git fsck` is clean, every
commit made before the kill is still reachable from the branch or the remote (as itself
or as the copy a rebase made of it: same author, author date and message), and `svc check`
passes or names what is wrong.

One office: a bare remote and two clones (desks A and B) in a temp folder, real `svc`
processes, real git. Each step prepares a command on clone A (unkilled set-up runs, such as
opening a case to note on), starts it in a process group of its own, and after a delay drawn
from the seeded random generator (spread over the command's usual duration) sends SIGKILL to
the whole group: svc, its git children and the merge driver. "sync-remote" kills A's sync
while B syncs with the same remote at the same moment.

Used by tests/test_kill.py and bench/kill.py. A failure names the seed and the step, and
`python bench/kill.py --seed S --kills N` replays the run up to it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

COMMANDS = ("open", "note", "follow-up", "close", "letter", "retention", "duty", "handover", "sync", "sync-remote")
WRITES = COMMANDS[:8]
SYNCS = COMMANDS[8:]
# the usual duration of each command on the 2-core reference machine, in seconds (the
# delay before the kill is drawn from 0 to 1.2 times this, times the machine's pace)
USUAL = {"open": 0.45, "note": 0.45, "follow-up": 0.45, "close": 0.45, "letter": 1.6, "retention": 0.6,
         "duty": 0.45, "handover": 0.5, "sync": 1.6, "sync-remote": 1.6}

from tests.conftest import SVC_YAML  # noqa: E402  (the same office as every test's store)


@dataclass
class Failure:
    seed: int
    step: int
    command: str
    invariant: str
    detail: str
    commands: tuple[str, ...] = COMMANDS  # the run's commands: the seed draws the order from them

    def __str__(self) -> str:
        return (f"seed {self.seed} step {self.step} ({self.command}): {self.invariant}: {self.detail}\n"
                f"  replay: python bench/kill.py --seed {self.seed} --kills {self.step + 1} "
                f"--commands {','.join(self.commands)}")


@dataclass
class Report:
    seed: int
    commands: tuple[str, ...] = COMMANDS
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        c = self.counts
        lines = [f"seed {self.seed}: {c['kills']} kills ({c['finished']} finished before the kill), "
                 f"{c['mid_git']} landed while git ran, {c['half_done']} left something uncommitted, "
                 f"{c['forward']} recovered forward (the command's change kept), {c['back']} back (none of it), "
                 f"{c['check_found']} times svc check named a problem, {c['rebuilt']} office(s) rebuilt after a failure"]
        lines.append("  by command: " + ", ".join(f"{name} {c['kill:' + name]}" for name in COMMANDS
                                                  if c["kill:" + name]))
        failed = Counter((f.command, f.invariant) for f in self.failures)
        lines.append(f"  failures: {len(self.failures)}" + ("" if not failed else " — " + ", ".join(
            f"{cmd}/{inv} {n}" for (cmd, inv), n in sorted(failed.items()))))
        return "\n".join(lines)


class Office:
    """A bare remote and two clones, desks A and B, driven through real svc processes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        self.remote, self.a, self.b = folder / "remote.git", folder / "a", folder / "b"
        self.out = folder / "letters-out"
        self.letters_reported: set[str] = set()
        (folder / "gitconfig").write_text("", encoding="utf-8")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("SVC_", "GIT_"))}
        self.env.update(GIT_CONFIG_GLOBAL=str(folder / "gitconfig"), GIT_CONFIG_NOSYSTEM="1", PYTHONDONTWRITEBYTECODE="1")
        self.clock = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        self.serial = 0
        self.old_month = dt.date(2022, 1, 1)
        self.durations: dict[str, list[float]] = {}  # of the runs that ended before their kill
        self.git(folder, "init", "-q", "--bare", str(self.remote))
        self.git(self.remote, "symbolic-ref", "HEAD", "refs/heads/main")
        self.svc(folder, "init", str(self.a), "--office", "BJ01", "--name", "北京示例客服中心", now="2026-11-01T08:00:00+08:00")
        (self.a / "svc.yaml").write_text(SVC_YAML, encoding="utf-8")
        self.git(self.a, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "users")
        self.git(self.a, "branch", "-M", "main")
        self.git(self.a, "remote", "add", "origin", str(self.remote))
        self.git(self.a, "push", "-q", "-u", "origin", "main")
        self.git(folder, "clone", "-q", str(self.remote), str(self.b))
        self.svc(self.b, "setup", "--desk", "B")

    # --- running things -------------------------------------------------------------------

    def now(self) -> str:
        return self.clock.isoformat()

    def tick(self, minutes: int = 7) -> str:
        self.clock += dt.timedelta(minutes=minutes)
        return self.now()

    def git(self, cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=self.env)
        if check and done.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)} in {cwd}: {done.stderr.strip()}")
        return done

    def svc_env(self, user: str, now: str | None) -> dict[str, str]:
        return {**self.env, "SVC_USER": user, "SVC_NOW": now or self.now()}

    def svc(self, cwd: Path, *args: str, user: str = "wangfang", now: str | None = None, check: bool = True,
            ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "svc", *args], cwd=cwd, capture_output=True, text=True,
                              env=self.svc_env(user, now), timeout=120)
        if check and done.returncode != 0:
            raise RuntimeError(f"svc {' '.join(args)} in {cwd.name}: exit {done.returncode}: {done.stderr.strip()}")
        return done

    def start(self, cwd: Path, args: list[str], user: str, now: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "svc", *args], cwd=cwd, env=self.svc_env(user, now),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)

    # --- the office's records ------------------------------------------------------------------

    def cases(self, clone: Path, status: str = "open") -> list[dict[str, object]]:
        done = self.svc(clone, "list", "--status", status, "--format", "json", check=False)
        return json.loads(done.stdout) if done.returncode in (0, 3) and done.stdout.strip() else []

    def open_case(self, clone: Path) -> str:
        self.serial += 1
        case = self.svc(clone, "open", "complaint", "--customer", f"客户{self.serial}", "--phone",
                        f"139{self.serial:08d}", "--summary", "卫生间漏水", "--branch", "chaoyang", now=self.tick(1)
                        ).stdout.strip()
        self.svc(clone, "met", case, "callback-3min", now=self.tick(1))
        return case

    def open_cases(self, clone: Path, need: int, where: dict[str, object] | None = None) -> list[str]:
        found = [str(c["id"]) for c in self.cases(clone) if all(c.get(k) == v for k, v in (where or {}).items())]
        while len(found) < need:
            case = self.open_case(clone)
            if where and where.get("followup_round") == 1:
                self.svc(clone, "follow-up", case, "--outcome", "unsatisfied", now=self.tick(1))
            found.append(case)
        return found

    def commits(self) -> dict[str, str]:
        """Every commit on A's branch, B's branch and the remote: commit -> identity."""
        out: dict[str, str] = {}
        for cwd, ref in ((self.a, "refs/heads/main"), (self.b, "refs/heads/main"), (self.remote, "refs/heads/main")):
            out.update(identities(self, cwd, ref))
        return out


def identities(office: Office, cwd: Path, *revs: str) -> dict[str, str]:
    done = office.git(cwd, "log", "--format=%H%x1f%an%x1f%ae%x1f%ad%x1f%B%x1e", "--date=raw", *revs, "--", check=False)
    out = {}
    for chunk in done.stdout.split("\x1e"):
        chunk = chunk.strip("\n")
        if chunk:
            sha, rest = chunk.split("\x1f", 1)
            out[sha] = rest.strip()
    return out


# --- one step ----------------------------------------------------------------------------------

def prepare(office: Office, command: str, rng: random.Random) -> tuple[list[str], str]:
    """The argv of the command to kill on clone A and who runs it (unkilled set-up done)."""
    a = office.a
    office.tick()
    if command == "open":
        office.serial += 1
        return ["open", "complaint", "--customer", f"客户{office.serial}", "--phone", f"139{office.serial:08d}",
                "--summary", "电梯异响", "--branch", "haidian"], "wangfang"
    if command == "note":
        return ["note", rng.choice(office.open_cases(a, 2)), f"客户来电询问进度 {office.serial}"], "wangfang"
    if command == "follow-up":
        return ["follow-up", office.open_cases(a, 1, {"followup_round": 0})[0], "--outcome",
                rng.choice(["unsatisfied", "satisfied"])], "wangfang"
    if command == "close":
        return ["close", rng.choice(office.open_cases(a, 2)), "--resolution", "已维修，客户确认"], "wangfang"
    if command == "letter":
        ids = office.open_cases(a, 3, {"followup_round": 1})
        return ["letter", "urging-notice", *rng.sample(ids, 3), "--out", str(office.out)], "wangfang"
    if command == "retention":
        office.old_month = (office.old_month + dt.timedelta(days=32)).replace(day=1)
        month = office.old_month
        for n in range(2):
            office.svc(a, "patrol", "add", "--area", f"{n + 1}号楼", user="admin",
                       now=f"{month.isoformat()}T1{n}:00:00+08:00")
        cut = (month + dt.timedelta(days=32)).replace(day=1)
        office.svc(a, "patrol", "summary", "--month", month.strftime("%Y-%m"), user="admin",
                   now=f"{cut.isoformat()}T09:00:00+08:00")
        return ["retention", "apply", "--approved-by", "zhaomin"], "admin"
    if command == "duty":
        return ["duty", "add", f"{office.clock:%H:%M} 接业主电话，已登记 {office.serial}"], "wangfang"
    if command == "handover":
        office.tick(60 * 13)  # past the shift: earlier callbacks do not hold the desk
        return ["handover", "--to", "lina", "--equipment", "正常", "--note", "交接"], "wangfang"
    # sync: both clones change one case, so A's rebase goes through the merge driver
    office.svc(office.b, "sync")
    shared = [str(c["id"]) for c in office.cases(office.b)]
    if not shared:
        office.open_case(a)
        office.svc(a, "sync")
        office.svc(office.b, "sync")
        shared = [str(c["id"]) for c in office.cases(office.b)]
    case = rng.choice(shared)
    office.svc(office.b, "note", case, "B 台备注", now=office.tick(1))
    office.svc(office.b, "open", "repair", "--customer", "B客户", "--summary", "报修", now=office.tick(1))
    if command == "sync":
        office.svc(office.b, "sync")
    office.svc(a, "note", case, "A 台备注", now=office.tick(1))
    office.svc(a, "duty", "add", f"{office.clock:%H:%M} A 台值班记录", now=office.tick(1))
    return ["sync"], "wangfang"


def _in_git(pgid: int) -> bool:
    """Whether a process of the group is git (or the merge driver git runs) right now."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[2]) != pgid:
                continue
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        if os.path.basename(argv[0]).startswith(b"git") or b"merge-file" in argv:
            return True
    return False


def yaml_problems(root: Path) -> list[str]:
    from svc import yamlio
    from svc.errors import SvcError

    out = []
    for path in sorted(root.rglob("*.yaml")):
        rel = path.relative_to(root)
        if rel.parts[0] in (".git", ".svc"):
            continue
        try:
            yamlio.loads_fast(path.read_text(encoding="utf-8"), str(rel))
        except (SvcError, UnicodeDecodeError) as exc:
            out.append(str(exc))
    return out


def letter_problems(office: Office) -> list[str]:
    """Every numbered letter file has its register entry, and no number is given twice."""
    if not office.out.exists():
        return []
    text = "\n".join(p.read_text(encoding="utf-8") for p in (office.a / "register").rglob("*.yaml"))
    out = [f"{path.name} has no register entry" for path in sorted(office.out.iterdir())
           if path.suffix == ".pdf" and path.name not in text]
    numbers = Counter(re.findall(r"BJ01-\d{4}-[A-Z]+\d+", " ".join(p.name for p in office.out.iterdir())))
    out += [f"letter number {n} was given to {k} files" for n, k in numbers.items() if k > 1]
    return out


def check_after(office: Office, clones: list[Path], before: dict[str, str], fail: Callable[[str, str], None],
                noted: list[str]) -> None:
    for clone in clones:
        for problem in yaml_problems(clone):
            fail("yaml", problem)
        listed = office.svc(clone, "list", "--status", "all", "--format", "ids", check=False)
        if listed.returncode not in (0, 3):
            fail("next-command", f"svc list exit {listed.returncode}: {listed.stderr.strip()}")
        synced = office.svc(clone, "sync", check=False)
        if synced.returncode != 0:
            fail("next-sync", f"{clone.name}: svc sync exit {synced.returncode}: {synced.stderr.strip()[-300:]}")
        status = office.git(clone, "status", "--porcelain").stdout.strip()
        if status:
            fail("uncommitted", f"{clone.name}: {' | '.join(status.splitlines()[:6])}")
        fsck = office.git(clone, "fsck", "--no-progress", "--no-dangling", check=False)
        if fsck.returncode != 0 or fsck.stdout.strip():
            fail("fsck", f"{clone.name}: {(fsck.stdout + fsck.stderr).strip()[:300]}")
        if office.git(clone, "symbolic-ref", "-q", "HEAD", check=False).returncode != 0:
            fail("on-branch", f"{clone.name}: HEAD is detached")
        checked = office.svc(clone, "check", check=False)
        if checked.returncode not in (0, 3) or (checked.returncode == 3 and not (checked.stdout + checked.stderr).strip()):
            fail("check", f"{clone.name}: svc check exit {checked.returncode}: {checked.stderr.strip()[-300:]}")
        elif checked.returncode == 3:  # it names what is wrong: kept as a note, not a failure
            noted.append(f"{clone.name}: {(checked.stdout + checked.stderr).strip()[:300]}")
    fsck = office.git(office.remote, "fsck", "--no-progress", "--no-dangling", check=False)
    if fsck.returncode != 0 or fsck.stdout.strip():
        fail("fsck", f"remote: {(fsck.stdout + fsck.stderr).strip()[:300]}")
    kept = set(identities(office, office.a, "refs/heads/main").values())
    kept |= set(identities(office, office.remote, "refs/heads/main").values())
    lost = [sha[:10] + " " + ident.split("\x1f")[-1][:60] for sha, ident in before.items() if ident not in kept]
    if lost:
        fail("commits-kept", f"{len(lost)} commit(s) made before the kill are on neither A's branch nor the remote: "
                             + "; ".join(lost[:4]))
    for problem in letter_problems(office):
        if problem not in office.letters_reported:  # the folder persists: each problem once
            office.letters_reported.add(problem)
            fail("letters", problem)


def repair(office: Office) -> bool:
    """After a failure, what a person would do so the next steps mean something: commit what
    was left by hand and sync. Whether the office is sound again."""
    for clone in (office.a, office.b):
        if office.git(clone, "status", "--porcelain").stdout.strip():
            office.git(clone, "add", "-A", check=False)
            office.git(clone, "-c", "user.name=hand", "-c", "user.email=hand@x.invalid", "commit", "-qm",
                       "kill test: what a killed command left, committed by hand", check=False)
        if office.svc(clone, "sync", check=False).returncode != 0:
            return False
    return office.git(office.a, "symbolic-ref", "-q", "HEAD", check=False).returncode == 0


def step(office: Office, rng: random.Random, report: Report, number: int, command: str, pace: float) -> bool:
    """Kill one command at a random moment and check everything after. Whether it all held."""
    argv, user = prepare(office, command, rng)
    before = office.commits()
    head_before = office.git(office.a, "rev-parse", "HEAD").stdout.strip()
    remote_before = office.git(office.remote, "rev-parse", "main").stdout.strip()
    seen = sorted(office.durations.get(command, []))
    usual = seen[len(seen) // 2] if len(seen) >= 2 else USUAL[command] * pace
    delay = rng.uniform(0.0, 1.1 * usual)
    now = office.tick()
    other = None
    proc = office.start(office.a, argv, user, now)
    if command == "sync-remote":  # B pushes to the same remote while A's push is killed
        other = office.start(office.b, ["sync"], "wangfang", now)
    launched = time.monotonic()
    deadline = launched + delay
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.005)
    report.counts["kills"] += 1
    report.counts["kill:" + command] += 1
    if proc.poll() is not None:
        report.counts["finished"] += 1
        office.durations.setdefault(command, []).append(time.monotonic() - launched)
    else:
        if _in_git(proc.pid):
            report.counts["mid_git"] += 1
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()
    if proc.stderr:
        proc.stderr.close()
    failures: list[Failure] = []

    def fail(invariant: str, detail: str) -> None:
        failures.append(Failure(report.seed, number, command, invariant, detail, report.commands))

    if other is not None:
        _, err = other.communicate(timeout=120)
        if other.returncode != 0:
            fail("other-sync", f"B's sync while A's was killed: exit {other.returncode}: {err.decode()[-300:]}")
    if office.git(office.a, "status", "--porcelain").stdout.strip():
        report.counts["half_done"] += 1
    head_after = office.git(office.a, "rev-parse", "HEAD").stdout.strip()
    remote_after = office.git(office.remote, "rev-parse", "main").stdout.strip()
    moved = remote_after != remote_before and head_before in identities(office, office.remote, "main") \
        if command in SYNCS else head_after != head_before
    report.counts["forward" if moved else "back"] += 1
    noted: list[str] = []
    check_after(office, [office.a, office.b] if command in SYNCS else [office.a], before, fail, noted)
    report.counts["check_found"] += bool(noted)
    report.notes += [f"seed {report.seed} step {number} ({command}): svc check named: {n}" for n in noted]
    report.failures += failures
    return not failures


def run(seed: int, kills: int, folder: Path, commands: tuple[str, ...] = COMMANDS,
        progress: Callable[[int, str, Report], None] | None = None) -> Report:
    """`kills` kills, commands drawn from `commands` in turn (shuffled by the seed)."""
    rng = random.Random(seed)
    report = Report(seed, commands)
    office = Office(folder)
    started = time.perf_counter()
    office.svc(office.a, "list")
    pace = max(1.0, (time.perf_counter() - started) / 0.35)  # a slow machine: longer delays
    order: list[str] = []
    for number in range(kills):
        if not order:
            order = list(commands)
            rng.shuffle(order)
        command = order.pop()
        if not step(office, rng, report, number, command, pace):
            if not repair(office):
                report.counts["rebuilt"] += 1
                office = Office(folder)
        if progress:
            progress(number, command, report)
    return report

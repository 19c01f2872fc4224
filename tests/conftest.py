"""Shared fixtures: every test gets a clean environment and, on request, a real store
(a git repository with users and branches) in a temp dir. No test touches real data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from svc.cli import cli

SVC_YAML = """\
office: BJ01
name: 北京示例客服中心
lang: zh
timezone: Asia/Shanghai
users:
  wangfang: {name: 王芳, role: assistant}
  lina: {name: 李娜, role: assistant}
  lijun: {name: 李军, role: cs-director}
  zhaomin: {name: 赵敏, role: center-director}
  fawu: {name: 孙律, role: legal}
  admin: {name: 周行, role: admin}
branches:
  chaoyang: {name: 朝阳分公司, manager: 赵刚}
  haidian: {name: 海淀分公司, manager: 钱伟}
"""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow tests run only when asked for: `-m slow` (or an -m naming slow) or SVC_SLOW=1."""
    if os.environ.get("SVC_SLOW") == "1" or "slow" in (config.getoption("markexpr", "") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow or SVC_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("SVC_STORE", "SVC_USER", "SVC_NOW", "SVC_DESK", "SVC_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    # git must work on a machine with no identity configured, as on a fresh CI box
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@dataclass
class Svc:
    """Runs `svc` in-process against one store, with a clock and a user."""

    root: Path
    now: str = "2026-11-05T09:30:00+08:00"
    user: str = "wangfang"

    def __call__(self, *args: str, now: str | None = None, user: str | None = None, input: str | None = None,
                 env: dict[str, str] | None = None) -> Result:
        full_env = {"SVC_NOW": now or self.now, "SVC_USER": user or self.user, **(env or {})}
        return CliRunner().invoke(cli, ["--store", str(self.root), *args], env=full_env, input=input,
                                  catch_exceptions=False)

    def ok(self, *args: str, **kw: Any) -> Result:
        result = self(*args, **kw)
        assert result.exit_code == 0, f"svc {' '.join(args)} -> {result.exit_code}\n{result.stderr}{result.stdout}"
        return result

    def open(self, kind: str = "complaint", *args: str, **kw: Any) -> str:
        return self.ok("open", kind, *args, **kw).stdout.strip()

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True, check=True).stdout


def make_store(root: Path, git: bool = True) -> Path:
    args = ["init", str(root), "--office", "BJ01", "--name", "北京示例客服中心"]
    if not git:
        args.append("--no-git")
    result = CliRunner().invoke(cli, args, env={"SVC_NOW": "2026-11-01T08:00:00+08:00"}, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    (root / "svc.yaml").write_text(SVC_YAML, encoding="utf-8")
    if git:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--no-verify", "-qam", "users"], cwd=root, check=True)
    return root


@pytest.fixture
def svc(tmp_path: Path) -> Svc:
    """A git store with users and branches, and a runner for it."""
    return Svc(make_store(tmp_path / "store"))


@pytest.fixture
def svc_nogit(tmp_path: Path) -> Svc:
    return Svc(make_store(tmp_path / "store", git=False))


def run_svc(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the real `svc` program in a subprocess (for concurrency, signals, start-up)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SVC_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "svc", *args], capture_output=True, text=True, env=full_env,
                          cwd=cwd, timeout=timeout, preexec_fn=_ctrl_c_as_at_a_terminal)


def _ctrl_c_as_at_a_terminal() -> None:
    """A suite started in the background (`cmd &` in a script) ignores SIGINT, and children
    inherit that: give svc the disposition it has at a terminal, so Ctrl-C tests mean it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)

"""The demo store in records/ is what scripts/make_demo.py generates, and it is valid."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from click.testing import CliRunner

from svc.cli import cli

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "records"


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".svc" not in p.relative_to(root).parts
    }


def test_demo_store_is_reproducible(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_demo", ROOT / "scripts" / "make_demo.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build(tmp_path / "demo")
    fresh, shipped = _files(tmp_path / "demo"), _files(RECORDS)
    assert sorted(fresh) == sorted(shipped), "records/ is stale: run python scripts/make_demo.py records"
    stale = [name for name in fresh if fresh[name] != shipped[name]]
    assert not stale, f"records/ is stale ({stale}): run python scripts/make_demo.py records"


def test_demo_store_passes_check_and_covers_every_kind_and_stage() -> None:
    runner = CliRunner()
    check = runner.invoke(cli, ["--store", str(RECORDS), "check"])
    assert check.exit_code == 0, check.stdout + check.stderr
    assert check.stdout == ""
    listed = runner.invoke(cli, ["--store", str(RECORDS), "list", "--status", "all", "--format", "json"])
    import json

    cases = json.loads(listed.stdout)
    assert len(cases) >= 12
    assert {c["kind"] for c in cases} == {"complaint", "repair", "visit", "inquiry", "staff-complaint", "crew-complaint"}
    assert {c["status"] for c in cases} == {"open", "closed", "archived"}
    assert {c["level"] for c in cases} == {"assistant", "cs-director", "center-director", "legal"}
    staff = [c for c in cases if c["kind"] == "staff-complaint"]
    assert staff and all(c["customer"] is None for c in staff)

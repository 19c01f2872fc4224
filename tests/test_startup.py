"""Start-up and the clock: `svc --help` and `svc open` stay light (no PDF or DOCX
libraries), and a record's month is the office's month whatever the machine's TZ."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Svc, run_svc

HEAVY = ("reportlab", "docx")

# Runs the CLI like the `svc` script does, then reports which modules were imported.
PROBE = """
import json, sys
from svc.cli import cli
try:
    cli.main(args=sys.argv[1:], prog_name="svc")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print("MODULES " + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


@pytest.fixture
def stub_heavy(tmp_path: Path) -> Path:
    """Importable stand-ins for reportlab and docx, so the test bites even where they
    are not installed: importing one puts it in sys.modules."""
    folder = tmp_path / "stubs"
    for name in HEAVY:
        (folder / name).mkdir(parents=True)
        (folder / name / "__init__.py").write_text("", encoding="utf-8")
    return folder


def probe(*args: str, env: dict[str, str], stubs: Path) -> tuple[int, list[str], str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SVC_")}
    full_env.update(env)
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(stubs), full_env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=full_env,
                          timeout=60)
    line = next(l for l in done.stdout.splitlines() if l.startswith("MODULES "))
    report = json.loads(line[len("MODULES "):])
    return report["code"], report["modules"], done.stdout


def heavy_in(modules: list[str]) -> list[str]:
    return [m for m in modules if m.split(".")[0] in HEAVY]


def test_help_and_open_do_not_import_pdf_or_docx_libraries(svc: Svc, stub_heavy: Path) -> None:
    env = {"SVC_STORE": str(svc.root), "SVC_USER": "wangfang", "SVC_NOW": "2026-11-05T09:30:00+08:00"}
    # the stubs are really importable in that environment (else the test proves nothing)
    check = subprocess.run([sys.executable, "-c", "import reportlab, docx; print(reportlab.__file__)"],
                           capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(stub_heavy)})
    assert str(stub_heavy) in check.stdout

    for args in (("--help",), ("open", "complaint", "--customer", "张三", "--phone", "13800138000"),
                 ("show", "C2611-A001")):
        code, modules, out = probe(*args, env=env, stubs=stub_heavy)
        assert code in (0, None), (args, out)
        assert heavy_in(modules) == [], f"svc {' '.join(args)} imported {heavy_in(modules)}"
    assert (svc.root / "cases" / "2026" / "11" / "C2611-A001.yaml").is_file()


def test_the_command_table_names_every_command_of_every_module() -> None:
    import importlib
    import pkgutil

    import svc.commands
    from svc.cli import COMMAND_MODULES

    found = {}
    for info in pkgutil.iter_modules(svc.commands.__path__):
        module = importlib.import_module(f"svc.commands.{info.name}")
        found[info.name] = tuple(command.name for command in module.COMMANDS)
    assert found == COMMAND_MODULES


def test_list_loads_only_its_own_command_module(svc: Svc, stub_heavy: Path) -> None:
    env = {"SVC_STORE": str(svc.root), "SVC_USER": "wangfang", "SVC_NOW": "2026-11-05T09:30:00+08:00"}
    code, modules, out = probe("list", "--format", "json", env=env, stubs=stub_heavy)
    assert code in (0, None), out
    loaded = {m for m in modules if m.startswith("svc.commands.")}
    assert loaded == {"svc.commands.listing"}
    heavy = {"ruamel", "jinja2", "tabulate", "svc.sync", "svc.checks", "svc.letters.pdf", "svc.letters.word",
             "svc.actions"}  # nor the code that changes cases
    assert not heavy & ({m.split(".")[0] for m in modules} | set(modules))


def test_help_works_without_a_store_or_user(tmp_path: Path) -> None:
    done = run_svc("--help", cwd=tmp_path)
    assert done.returncode == 0 and "Example" in done.stdout and done.stderr == ""
    done = run_svc("open", "--help", cwd=tmp_path)
    assert done.returncode == 0 and "--complainant" in done.stdout
    done = run_svc("--version", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("svc")


# --- the office's clock, not the machine's ---------------------------------------------------------

@pytest.mark.parametrize("machine_tz", ["UTC", "Asia/Shanghai"])
def test_month_of_a_case_is_office_time_whatever_the_machine_tz(svc: Svc, machine_tz: str) -> None:
    env = {"SVC_STORE": str(svc.root), "SVC_USER": "wangfang", "TZ": machine_tz}
    late = run_svc("open", "complaint", "--customer", "月底", env={**env, "SVC_NOW": "2026-11-30T23:30:00+08:00"})
    assert late.returncode == 0, late.stderr
    assert late.stdout == "C2611-A001\n"
    assert (svc.root / "cases" / "2026" / "11" / "C2611-A001.yaml").is_file()

    # 16:30 UTC on 30 November is half past midnight on 1 December in Beijing
    utc = run_svc("open", "complaint", "--customer", "月初", env={**env, "SVC_NOW": "2026-11-30T16:30:00Z"})
    assert utc.returncode == 0, utc.stderr
    assert utc.stdout == "C2612-A001\n"
    path = svc.root / "cases" / "2026" / "12" / "C2612-A001.yaml"
    assert path.is_file()
    assert "opened_at: '2026-12-01T00:30:00+08:00'" in path.read_text(encoding="utf-8")

    # a time without an offset is office time, not machine time
    local = run_svc("open", "complaint", "--at", "2026-11-30T23:50", env={**env, "SVC_NOW": "2026-12-01T08:00:00+08:00"})
    assert local.returncode == 0 and local.stdout == "C2611-A002\n"
    text = (svc.root / "cases" / "2026" / "11" / "C2611-A002.yaml").read_text(encoding="utf-8")
    assert "opened_at: '2026-11-30T23:50:00+08:00'" in text

    check = svc("check")
    assert (check.exit_code, check.stdout) == (0, ""), check.stdout + check.stderr


def test_bad_clock_in_a_real_process(svc: Svc) -> None:
    done = run_svc("open", "complaint", env={"SVC_STORE": str(svc.root), "SVC_USER": "wangfang",
                                             "SVC_NOW": "2026-13-45"})
    assert done.returncode == 1 and "SVC_NOW" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_listing_from_a_current_index_loads_no_yaml_library(svc: Svc, stub_heavy: Path) -> None:
    """`svc list` and `svc due` answer from the index: with nothing changed since it was
    brought up to date, neither YAML library is even imported."""
    env = {"SVC_STORE": str(svc.root), "SVC_USER": "wangfang", "SVC_NOW": "2026-11-05T09:30:00+08:00"}
    svc.open("complaint", "--customer", "张三", "--phone", "13800138000")
    for path in [svc.root / "svc.yaml", *(svc.root / "cases").rglob("*")]:  # older than the racy window
        os.utime(path, (path.stat().st_atime - 60, path.stat().st_mtime - 60))
    svc.ok("list")  # the index is brought up to date
    for args in (("list", "--format", "json"), ("list",), ("due",)):
        code, modules, out = probe(*args, env=env, stubs=stub_heavy)
        assert code in (0, None), (args, out)
        assert not {"yaml", "ruamel.yaml"} & set(modules), f"svc {' '.join(args)} loaded a YAML library"


def test_a_write_imports_no_pyyaml(svc: Svc, stub_heavy: Path) -> None:
    """A write dumps through ruamel; the official calendar comes from its copy in .svc/
    and a repeat's case from the index, so PyYAML's import is not paid for."""
    env = {"SVC_STORE": str(svc.root), "SVC_USER": "wangfang", "SVC_NOW": "2026-11-05T09:30:00+08:00"}
    first = svc.open("complaint", "--customer", "张三", "--phone", "13800138000")  # keeps the calendar in .svc/
    assert (svc.root / ".svc" / "calendar-cn.yaml.marshal").is_file()
    for path in [svc.root / "svc.yaml", *(svc.root / "cases").rglob("*")]:  # older than the racy window
        os.utime(path, (path.stat().st_atime - 60, path.stat().st_mtime - 60))
    svc.ok("list")  # the index is brought up to date
    for args in (("open", "complaint", "--customer", "张三", "--phone", "138-0013-8000"), ("note", first, "回访")):
        code, modules, out = probe(*args, env=env, stubs=stub_heavy)
        assert code in (0, None), (args, out)
        assert "yaml" not in modules and "ruamel.yaml" in modules, f"svc {' '.join(args)}"
    second = json.loads(svc.ok("list", "--format", "json").stdout)[-1]
    assert json.loads(svc.ok("show", second["id"], "--format", "json").stdout)["repeat_of"] == [first]

"""docs/operator.md and the systemd unit: every documented command exists and the offline ones run."""

from __future__ import annotations

import configparser
import re
import shlex
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kkmp_sheets import config
from kkmp_sheets.cli import main
from kkmp_sheets.clock import SimulatedClock
from kkmp_sheets.demo import build_demo_city
from kkmp_sheets.service.serve import Service

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "operator.md"
UNIT = ROOT / "docs" / "deploy" / "kkmp-sheets.service"
CONFIG = "/srv/kkmp-sheets/kota/city.toml"  # the guide's example city
WIB = ZoneInfo("Asia/Jakarta")


def documented() -> list[list[str]]:
    """Every `kkmp-sheets ...` line of the guide's shell blocks, split like a shell would."""
    text = GUIDE.read_text(encoding="utf-8")
    blocks = re.findall(r"^[ \t]*```sh\n(.*?)^[ \t]*```", text, re.S | re.M)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [shlex.split(line) for line in lines if line.startswith("kkmp-sheets ")]


def test_the_guide_documents_the_service_commands():
    assert {c[1] for c in documented()} >= {
        "run", "digest", "status", "history", "restore", "confirm",
    }  # fmt: skip
    assert "kkmp-sheets serve --config" in UNIT.read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted({c[1] for c in documented()} | {"serve"}))
def test_every_documented_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    assert "--config" in capsys.readouterr().out


def test_documented_commands_run_offline_on_the_demo(tmp_path, monkeypatch, capsys):
    city = build_demo_city(tmp_path / "kota", size=5, as_of=date(2026, 1, 28))
    assert "KKMP-3173011001" in {c.id for c in city.coops}
    cfg = config.load(city.config_path)
    Service(cfg, clock=SimulatedClock(datetime(2026, 1, 28, 7, 30, tzinfo=WIB))).sync()
    monkeypatch.chdir(tmp_path)
    for command in documented():
        args = [a.replace(CONFIG, str(city.config_path)) for a in command[1:]]
        assert main(args) == 0, command
    out = capsys.readouterr().out
    assert "pulihan 2026-01-28" in out and "nothing is held" in out


def test_the_unit_runs_serve_unprivileged_and_restarts_after_a_crash():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read_string(UNIT.read_text(encoding="utf-8"))
    service = unit["Service"]
    assert service["User"] not in ("", "root") and service["Group"]
    assert service["ExecStart"].split()[1:3] == ["serve", "--config"]
    assert service["Restart"] == "on-failure"
    assert service["EnvironmentFile"] and service["WorkingDirectory"]
    assert service["KillSignal"] == "SIGTERM"
    assert set(service["RestartPreventExitStatus"].split()) == {"2", "5"}
    assert unit["Install"]["WantedBy"] == "multi-user.target"

"""The tooling of pyproject.toml, run as part of the suite so that CI and a newcomer run the same."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


@pytest.mark.skipif(
    shutil.which("ruff") is None, reason="ruff is not installed (pip install -e '.[test]')"
)
def test_ruff_lint_is_clean():
    result = run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(
    shutil.which("ruff") is None, reason="ruff is not installed (pip install -e '.[test]')"
)
def test_ruff_format_is_clean():
    result = run("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(
    shutil.which("mypy") is None, reason="mypy is not installed (pip install -e '.[test]')"
)
def test_mypy_is_clean():
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


# --- the layers (pyproject.toml [tool.importlinter]; docs/architecture.md) -----------------------

needs_import_linter = pytest.mark.skipif(
    shutil.which("lint-imports") is None,
    reason="import-linter is not installed (pip install -e '.[test]')",
)


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on the package under `root` (not an installed copy elsewhere)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        ["lint-imports", "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@needs_import_linter
def test_every_import_contract_is_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@needs_import_linter
@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # the pure core reaching up for the config
        ("core/zoning.py", "from kkmp_sheets.config import Config", "The core is pure"),
        # the store going up to the service: a layer crossed, and a circle with the cycle
        ("store/history.py", "from kkmp_sheets.service import cycle", "Layers"),
        # two core modules importing each other
        ("core/template.py", "from kkmp_sheets.core import parse", "No import circles"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(tmp_path, module, line, broken):
    shutil.copytree(ROOT / "kkmp_sheets", tmp_path / "kkmp_sheets")
    target = tmp_path / "kkmp_sheets" / module
    text = target.read_text(encoding="utf-8")
    # after `from __future__ import annotations`, which must stay first
    head, sep, rest = text.partition("from __future__ import annotations\n")
    target.write_text(head + sep + line + "\n" + rest, encoding="utf-8")
    result = lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    assert f"{broken}" in result.stdout
    assert "BROKEN" in result.stdout


def test_the_architecture_doc_shows_the_declared_layers():
    import re
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [layers] = [
        c["layers"] for c in declared["tool"]["importlinter"]["contracts"] if c["type"] == "layers"
    ]
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = re.search(r"## The layer rule.*?```\n(.*?)```", doc, re.S)
    assert block is not None
    shown = [line.strip() for line in block[1].splitlines() if line.strip()]
    assert shown == [layer for layer in layers if layer != "__main__"]

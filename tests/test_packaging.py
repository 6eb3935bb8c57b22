"""A regular install works: the wheel built from this repository carries the digest templates and
the data files, and, installed into a fresh virtual environment, runs `demo`, `run --once` and
`check` from a folder outside the repository, rendering every digest from its own templates.

The wheel is built the way `pip install .` builds it (an isolated build of a copy of the
sources, so no leftover `build/` folder can slip into it). The virtual environment sees this
machine's packages (`--system-site-packages`) so no dependency is downloaded; the wheel is
installed with `--no-deps`, and the test checks that `kkmp_sheets` is imported from the
environment, not from this checkout or an editable install of it.
"""

from __future__ import annotations

import email
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from kkmp_sheets.delivery.templates import TEMPLATES_ENV

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
BIN = "Scripts" if os.name == "nt" else "bin"
AS_OF = "2026-01-29"
LEFTOVERS = shutil.ignore_patterns(
    ".git", "build", "dist", "*.egg-info", "__pycache__", ".*cache", ".hypothesis", "out",
    "demo-kota", "results", ".benchmarks",
)  # fmt: skip


def shipped(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {""}


def environment(venv: Path | None = None) -> dict[str, str]:
    """This process's environment without what would point Python or the service at this
    checkout (the test suite runs with PYTHONPATH set to it)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", TEMPLATES_ENV)}
    if venv is not None:
        env["PATH"] = f"{venv / BIN}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(venv)
    return env


def run(*args: str | Path, cwd: Path, venv: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=environment(venv),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, (
        f"{done.args} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    )
    return done.stdout


def sources(to: Path) -> Path:
    shutil.copytree(REPO, to, ignore=LEFTOVERS)
    return to


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    src = sources(tmp / "kkmp-sheets")
    ok(
        run(
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            tmp / "dist",
            src,
            cwd=tmp,
        )
    )
    [built] = (tmp / "dist").glob("kkmp_sheets-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed (dependencies from this machine)."""
    tmp = tmp_path_factory.mktemp("venv")
    env = tmp / "venv"
    ok(run(sys.executable, "-m", "venv", "--system-site-packages", env, cwd=tmp))
    python = env / BIN / "python"
    ok(run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel, cwd=tmp))
    return env


def test_the_wheel_carries_the_templates_and_the_data_files(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = {f"kkmp_sheets/report_templates/{n}" for n in shipped(REPO / "report_templates")}
    data = {f"kkmp_sheets/data/{n}" for n in shipped(REPO / "kkmp_sheets" / "data")}
    assert templates and templates <= names
    assert data and data <= names
    assert not [n for n in names if n.startswith(("report_templates/", "tests/", "bench/"))]


def test_the_installed_package_is_the_wheels_and_finds_its_own_templates(
    venv: Path, tmp_path: Path
):
    probe = (
        "import kkmp_sheets, importlib.metadata as m\n"
        "from kkmp_sheets.delivery.templates import templates_dir\n"
        "print(kkmp_sheets.__file__); print(templates_dir()); print(m.version('kkmp-sheets'))"
    )
    where, templates, version = ok(run(venv / BIN / "python", "-c", probe, cwd=tmp_path)).split()
    package = Path(where).parent
    assert package.is_relative_to(venv) and not package.is_relative_to(REPO)
    assert Path(templates) == package / "report_templates"
    assert shipped(Path(templates)) == shipped(REPO / "report_templates")
    assert version
    assert (venv / BIN / "kkmp-sheets").is_file()


def digests_in(outbox: Path) -> Counter[str]:
    """How many digests of each kind an outbox holds, each one read and checked whole."""
    kinds: Counter[str] = Counter()
    for path in outbox.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes())
        parts = {p.get_content_type() for p in message.walk()}
        assert {"text/plain", "text/html"} <= parts, path.name
        kinds[path.name.split("_", 1)[0]] += 1
    return kinds


def test_demo_run_once_and_check_from_the_installed_wheel(venv: Path, tmp_path: Path):
    python, cli = venv / BIN / "python", venv / BIN / "kkmp-sheets"

    out = ok(run(python, "-m", "kkmp_sheets", "demo", "kota", "--size", "12", cwd=tmp_path))
    city = tmp_path / "kota"
    assert (city / "out" / "status-kota.xlsx").is_file()
    kinds = digests_in(city / "out" / "outbox")
    assert kinds["city"] == 1 and kinds["kecamatan"] >= 1 and kinds["coop"] == 12, out

    # The same city as an office would set it up by hand: its first `run --once` delivers all.
    again = tmp_path / "kantor"
    again.mkdir()
    for name in ("city.toml", "registry.csv", "workbooks"):
        (shutil.copytree if name == "workbooks" else shutil.copy)(city / name, again / name)
    ok(run(cli, "run", "--once", "--config", again / "city.toml", "--as-of", AS_OF, cwd=tmp_path))
    assert (again / "out" / "status-kota.xlsx").is_file()
    assert digests_in(again / "out" / "outbox") == kinds

    done = run(cli, "check", "--config", again / "city.toml", cwd=tmp_path)
    assert done.returncode in (0, 7), done.stderr  # 7: the demo's seeded registry mistakes
    [line] = [x for x in done.stdout.splitlines() if "digest template" in x]
    assert line.startswith("OK") and "every one compiles" in line, done.stdout
    templates = line.rsplit(" in ", 1)[1]
    assert Path(templates).is_relative_to(venv) and templates.endswith(
        "kkmp_sheets/report_templates"
    )


def test_an_sdist_carries_what_building_the_wheel_needs(wheel: Path, tmp_path: Path):
    """`pip install` from a source archive: the archive has the templates and the build hook,
    and the wheel built from it is the same as the one built from the repository."""
    pytest.importorskip("setuptools.build_meta")
    src = sources(tmp_path / "kkmp-sheets")
    build = "import sys; from setuptools import build_meta as b; print(b.build_sdist(sys.argv[1]))"
    name = ok(run(sys.executable, "-c", build, tmp_path / "sdist", cwd=src)).split()[-1]
    archive = tmp_path / "sdist" / name
    with tarfile.open(archive) as tar:
        members = {m.split("/", 1)[1] for m in tar.getnames() if "/" in m}
    assert {"setup.py", "MANIFEST.in", "pyproject.toml"} <= members
    assert {f"report_templates/{n}" for n in shipped(REPO / "report_templates")} <= members

    dist = tmp_path / "from-sdist"
    ok(
        run(
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            dist,
            archive,
            cwd=tmp_path,
        )
    )
    [rebuilt] = dist.glob("kkmp_sheets-*.whl")
    assert set(zipfile.ZipFile(rebuilt).namelist()) == set(zipfile.ZipFile(wheel).namelist())

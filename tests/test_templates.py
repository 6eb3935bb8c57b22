"""Where the digest templates are found, and `template_problems` finding every broken one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import kkmp_sheets
from kkmp_sheets.delivery import digest, templates
from kkmp_sheets.errors import KkmpError

REPO_TEMPLATES = Path(__file__).resolve().parents[1] / "report_templates"


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for where `kkmp_sheets` lives (`<root>/kkmp_sheets/__init__.py`), so that the
    package's own copy and the folder next to it can be laid out at will."""
    package = tmp_path / "root" / "kkmp_sheets"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    monkeypatch.setattr(kkmp_sheets, "__file__", str(package / "__init__.py"))
    monkeypatch.delenv(templates.TEMPLATES_ENV, raising=False)
    return package


def copy_templates(to: Path) -> Path:
    shutil.copytree(REPO_TEMPLATES, to)
    return to


def test_an_installed_package_uses_its_own_copy(layout: Path):
    inside = copy_templates(layout / "report_templates")
    assert templates.templates_dir() == inside
    copy_templates(layout.parent / "report_templates")  # e.g. another project's folder
    assert templates.templates_dir() == inside


def test_a_checkout_uses_the_top_level_folder(layout: Path):
    top = copy_templates(layout.parent / "report_templates")
    assert templates.templates_dir() == top


def test_the_environment_overrides_and_is_not_second_guessed(
    layout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    copy_templates(layout / "report_templates")
    office = copy_templates(tmp_path / "kantor")
    monkeypatch.setenv(templates.TEMPLATES_ENV, str(office))
    assert templates.templates_dir() == office
    monkeypatch.setenv(templates.TEMPLATES_ENV, str(tmp_path / "salah"))
    with pytest.raises(KkmpError, match="salah"):
        templates.templates_dir()


def test_no_folder_names_every_place_looked(layout: Path):
    (layout / "report_templates").mkdir()  # a folder without the layout is not a templates folder
    with pytest.raises(KkmpError) as caught:
        templates.templates_dir()
    message = str(caught.value)
    assert str(layout / "report_templates") in message
    assert str(layout.parent / "report_templates") in message
    assert templates.TEMPLATES_ENV in message and "reinstall" in message


def test_this_checkout_finds_its_templates(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(templates.TEMPLATES_ENV, raising=False)
    assert templates.templates_dir() == REPO_TEMPLATES


# --- template_problems ------------------------------------------------------------------------


def problems(root: Path, language: str = "id") -> list[tuple[str, str]]:
    env = digest.environment(language, root)
    return templates.template_problems(env, root, language, digest.KINDS)


@pytest.mark.parametrize("language", digest.LANGUAGES)
def test_the_shipped_templates_have_no_problem(language: str):
    assert problems(REPO_TEMPLATES, language) == []


BREAKAGES = {  # file → (how it is broken, what the problem says)
    "id/coop.txt.j2": (lambda text: text + "\n{% if %}\n", "line"),
    "id/_changes.txt.j2": (lambda text: text + "\n{{ 5 | rupiahh }}\n", "rupiahh"),
    "shared/bars.html.j2": (lambda text: text + "\n{% endfor %}\n", "endfor"),
    "id/subjects.j2": (lambda text: text.replace("macro alert(", "macro peringatan("), "alert"),
}


@pytest.mark.parametrize("name", BREAKAGES)
def test_a_broken_template_is_named_with_what_is_wrong(tmp_path: Path, name: str):
    root = copy_templates(tmp_path / "t")
    breaks, said = BREAKAGES[name]
    path = root / name
    path.write_text(breaks(path.read_text(encoding="utf-8")), encoding="utf-8")
    [(found, problem)] = problems(root)
    assert found == name
    assert said in problem


def test_a_missing_template_is_named(tmp_path: Path):
    root = copy_templates(tmp_path / "t")
    (root / "id" / "alert.html.j2").unlink()
    assert problems(root) == [("id/alert.html.j2", "missing")]
    assert problems(root, "en") == []  # English is whole

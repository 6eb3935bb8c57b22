"""Where the digest templates are, and whether they load.

`report_templates/` stays at the top of the repository, where an office reads and customises it;
a regular install (`pip install .`, a wheel) carries a copy inside the package as
`kkmp_sheets/report_templates/` (setup.py puts it there). The folder used is, in this order:

1. the `templates` argument (tests; `render_digests(templates=...)`);
2. the folder named by the environment variable `KKMP_REPORT_TEMPLATES` (an office's own copy) —
   when it is set, nothing else is tried, so a wrong path is an error rather than a surprise;
3. `kkmp_sheets/report_templates/` inside the package: an installed package uses the templates
   it was built with;
4. `report_templates/` next to the package: a source checkout or an editable install, where the
   top-level folder is the one being edited.

A folder counts when it holds `shared/layout.html.j2`. When none does, `templates_dir` raises a
`KkmpError` naming every place it looked.

`template_problems` compiles every template a language uses (`kkmp-sheets check` runs it), so a
missing or broken template is found before the first digest is due, not when it is rendered.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import jinja2

import kkmp_sheets
from kkmp_sheets.errors import KkmpError

TEMPLATES_ENV = "KKMP_REPORT_TEMPLATES"
FOLDER = "report_templates"
SHARED = "shared"
_MARKER = (SHARED, "layout.html.j2")


def templates_dir(explicit: str | Path | None = None) -> Path:
    """The `report_templates/` folder to render from (see the module docstring for the order)."""
    package = Path(kkmp_sheets.__file__).resolve().parent
    candidates: list[Path] = []
    if explicit is not None:
        candidates.append(Path(explicit))
    elif os.environ.get(TEMPLATES_ENV):
        candidates.append(Path(os.environ[TEMPLATES_ENV]))
    else:
        candidates += [package / FOLDER, package.parent / FOLDER]
    for path in candidates:
        if path.joinpath(*_MARKER).is_file():
            return path
    searched = ", ".join(str(p) for p in candidates)
    raise KkmpError(
        f"digest templates not found (looked in {searched}): reinstall kkmp-sheets, or set the "
        f"environment variable {TEMPLATES_ENV} to a copy of the report_templates folder"
    )


def required_templates(language: str, kinds: Iterable[str]) -> list[str]:
    """The templates the digests of `kinds` render: each kind's text and HTML part, and the
    subject lines (one macro per kind)."""
    names = [f"{language}/{kind}.{part}.j2" for kind in kinds for part in ("txt", "html")]
    return [*names, f"{language}/subjects.j2"]


def template_problems(
    env: jinja2.Environment, root: Path, language: str, kinds: Iterable[str]
) -> list[tuple[str, str]]:
    """`(template, what is wrong)` for every template of `language` that is missing or does not
    compile, every `.j2` under `<language>/` and `shared/` (parts included by others are only
    compiled when rendered, so each is compiled here on its own), and every digest kind without
    a subject macro. Empty: every digest can be rendered from `root` by `env`."""
    kinds = list(kinds)
    present = sorted(
        path.relative_to(root).as_posix()
        for folder in (language, SHARED)
        for path in (root / folder).rglob("*.j2")
        if path.is_file()
    )
    problems: list[tuple[str, str]] = [
        (name, "missing") for name in required_templates(language, kinds) if name not in present
    ]
    for name in present:
        try:
            template = env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            problems.append((name, f"line {exc.lineno}: {exc.message}"))
            continue
        except jinja2.TemplateError as exc:
            problems.append((name, exc.message or type(exc).__name__))
            continue
        except (OSError, UnicodeDecodeError) as exc:
            problems.append((name, f"cannot be read: {exc}"))
            continue
        if name == f"{language}/subjects.j2":
            problems += _subject_problems(name, template, kinds)
    return problems


def _subject_problems(
    name: str, template: jinja2.Template, kinds: list[str]
) -> list[tuple[str, str]]:
    try:
        module = template.module
    except jinja2.TemplateError as exc:
        return [(name, exc.message or type(exc).__name__)]
    return [(name, f"no macro {kind}(...)") for kind in kinds if not hasattr(module, kind)]

"""Build hook: ship the top-level `report_templates/` inside the package.

Every piece of metadata lives in `pyproject.toml`; this file only teaches `build_py` one thing.
The digest templates stay at the top of the repository, where offices find and customise them,
and a wheel (or `pip install .`) carries a copy as `kkmp_sheets/report_templates/`, listed among
the build's outputs like the package's own data files; `kkmp_sheets/delivery/templates.py` finds
it there. An editable install needs no copy: it finds the folder next to the package.
"""

from __future__ import annotations

import os
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PACKAGE = "kkmp_sheets"
TEMPLATES = "report_templates"


class build_py_with_templates(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # an editable install reads the top-level folder itself
        for source, target in self._templates():
            self.mkpath(os.path.dirname(target))
            self.copy_file(source, target, preserve_mode=False)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = list(super().get_outputs(include_bytecode))
        if not self.editable_mode:
            outputs += [target for _, target in self._templates()]
        return outputs

    def _templates(self) -> list[tuple[str, str]]:
        """(source, build path) of every file under report_templates/."""
        root = Path(TEMPLATES)
        if not (root / "shared" / "layout.html.j2").is_file():
            raise SystemExit(f"{TEMPLATES}/ is missing from {Path.cwd()}: the digests need it")
        target = os.path.join(self.build_lib, PACKAGE, TEMPLATES)
        return [
            (str(path), os.path.join(target, *path.relative_to(root).parts))
            for path in sorted(root.rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts
        ]


setup(cmdclass={"build_py": build_py_with_templates})

"""A non-editable install into a fresh virtual environment, run from another folder, renders every format."""

from __future__ import annotations

import shutil
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("latexmk") is None, reason="TeX Live is not installed (.ci/run installs it)")
def test_wheel_install_renders_every_format(tmp_path):
    env_dir = tmp_path / "venv"
    # the dependencies (sympy, jinja2) come from the system site-packages; derive itself from a real
    # build in pip's isolated build environment (setuptools and wheel from pyproject.toml)
    venv.create(env_dir, system_site_packages=True, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(ROOT)],
                   check=True, capture_output=True, cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run([str(python), "-c", "import derive; print(derive.__file__)"], check=True,
                           capture_output=True, text=True, cwd=elsewhere).stdout
    assert str(env_dir) in where  # the installed copy, not the source tree
    result = subprocess.run([str(env_dir / "bin" / "derive"), "solve", "mazur", "--out", "out"],
                            capture_output=True, text=True, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (elsewhere / "out").iterdir()) == [
        "network.svg", "solution.json", "solution.md", "solution.pdf", "solution.tex"]
    slides = subprocess.run([str(env_dir / "bin" / "derive"), "slides", "mazur", "--out", "out"],
                            capture_output=True, text=True, cwd=elsewhere)
    assert slides.returncode == 0, slides.stderr

"""A non-editable install into a fresh virtual environment, run from another folder, renders every format.

Hermetic: the new environment is built on the one running the tests, whatever it is (the
system Python, a virtual environment of its own, with or without system site-packages).
It has no system site-packages; the running environment's package folders are made
visible to it by a ``.pth`` file, so that its dependencies (sympy, jinja2, latex2mathml,
python-flint, ...) are exactly those the tests run with, and derive itself is a real
build of the source tree installed into the new environment.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def package_folders() -> list[str]:
    """The folders the running interpreter imports installed packages from (not the source tree)."""
    found = []
    for entry in sys.path:
        path = Path(entry or ".").resolve()
        if path.name in ("site-packages", "dist-packages") and path.is_dir() and str(path) not in found:
            found.append(str(path))
    return found


def fresh_environment(folder: Path) -> Path:
    """A virtual environment without system site-packages that sees the running one's packages; its python."""
    venv.create(folder, system_site_packages=False, with_pip=True, symlinks=True)
    python = folder / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    # plain folder lines: their own .pth files (an editable install of derive) are not run
    (Path(purelib) / "running-environment.pth").write_text("\n".join(package_folders()) + "\n", encoding="utf-8")
    return python


def test_the_fresh_environment_sees_the_running_ones_packages_but_not_derive(tmp_path):
    python = fresh_environment(tmp_path / "venv")
    probe = subprocess.run([str(python), "-c", "import sys, sympy, jinja2, latex2mathml, flint; print(sys.prefix); "
                            "import importlib.util; print(importlib.util.find_spec('derive'))"],
                           capture_output=True, text=True, cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr
    prefix, derive_spec = probe.stdout.split("\n")[:2]
    assert Path(prefix).resolve() == (tmp_path / "venv").resolve() and derive_spec == "None"
    assert sysconfig.get_paths()["stdlib"]  # the running interpreter's own layout, for the record


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="TeX Live is not installed (.ci/run installs it)")
def test_wheel_install_renders_every_format(tmp_path):
    env_dir = tmp_path / "venv"
    python = fresh_environment(env_dir)
    # derive from a real build of the source tree in pip's isolated build environment (the build tools of
    # pyproject.toml, as `pip install .` gets them); its dependencies are the running environment's
    # from a copy of the source tree as a fresh clone has it: setuptools reuses a build/ folder left by an
    # earlier install, whose modules may no longer exist in the tree (a module that became a package)
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns("build", "dist", "*.egg-info", ".git", "outputs",
                                                                  "__pycache__", ".pytest_cache", ".hypothesis"))
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(source)],
                             capture_output=True, text=True, cwd=tmp_path)
    assert install.returncode == 0, install.stderr
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


def test_setup_cfg_lists_every_package_of_the_source_tree():
    """A subpackage missing from setup.cfg would be missing from the wheel (and the editable install hides it)."""
    import configparser

    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    listed = {name.strip() for name in config["options"]["packages"].replace("\n", ",").split(",") if name.strip()}
    found = {".".join(path.parent.relative_to(ROOT).parts) for path in (ROOT / "derive").rglob("__init__.py")}
    assert found <= listed, f"setup.cfg [options] packages lacks {sorted(found - listed)}"


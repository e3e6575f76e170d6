"""outputs/ is what the tool makes today: every committed file equals a fresh render."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import make_outputs  # noqa: E402
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))


needs_tex = pytest.mark.skipif(shutil.which("latexmk") is None, reason="TeX Live is not installed (.ci/run installs it)")


def pdf_text(path: Path) -> str:
    """The text of a PDF, for a comparison that does not depend on byte layout."""
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def zip_members(path: Path) -> list:
    """A zip's member names and contents, in order."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


@needs_tex
def test_outputs_are_up_to_date(tmp_path):
    make_outputs.generate(tmp_path)
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(ROOT / "outputs") for p in (ROOT / "outputs").rglob("*") if p.is_file())
    assert fresh == committed, "outputs/ holds other files than the tool makes: run python tools/make_outputs.py"
    stale = []
    for name in fresh:
        new, old = tmp_path / name, ROOT / "outputs" / name
        if name.suffix == ".pdf":
            if pdf_text(new) != pdf_text(old):
                stale.append(str(name))
        elif name.suffix == ".zip":  # by members: the compressed bytes depend on the zlib build
            if zip_members(new) != zip_members(old):
                stale.append(str(name))
        elif new.read_bytes() != old.read_bytes():
            stale.append(str(name))
    assert not stale, f"stale outputs (run python tools/make_outputs.py): {stale}"

"""Writing output files all or nothing: everything is rendered first, then each file is renamed into place."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from derive.errors import DeriveError

_UMASK = os.umask(0)
os.umask(_UMASK)


def write_files(folder: str | Path, files: dict[str, bytes | str]) -> list[Path]:
    """Write ``files`` (name -> content) into ``folder`` atomically; return the paths written.

    Each file goes to a temporary file in the same folder and is renamed over the old
    one only when every file has been written, so an interrupted run leaves the
    previous outputs intact and no partial files behind.
    """
    folder = Path(folder)
    for name in files:
        if Path(name).name != name or name in ("", ".", ".."):
            raise ValueError(f"output names are plain file names, not paths: {name!r}")
    if folder.exists() and not folder.is_dir():
        raise DeriveError(str(folder), "is a file, not a folder; give --out a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DeriveError(str(folder), f"cannot create the output folder ({error.strerror})") from None
    if not folder.is_dir():
        raise DeriveError(str(folder), "the output folder is not a folder")
    staged = []
    try:
        for name, content in files.items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
            staged.append((temporary, folder / name))
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs are ordinary files
        for temporary, final in staged:
            os.replace(temporary, final)
    except OSError as error:
        raise DeriveError(str(folder), f"cannot write the output ({error.strerror})") from None
    finally:
        for temporary, _ in staged:
            if os.path.exists(temporary):
                os.unlink(temporary)
    return [final for _, final in staged]

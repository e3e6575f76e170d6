"""Writing output files all or nothing: everything is rendered first, then each file is renamed into place.

Before anything is written, every target is checked: it must be a regular file or not
exist yet. A folder, a device (``/dev/null``), a named pipe or a socket of that name is
refused with a message naming it, so that a run never replaces half of a folder and then
stops. The renames themselves run with SIGINT and SIGTERM held back, so that an
interrupt lands before or after them, never between two files.
"""

from __future__ import annotations

import os
import signal
import stat
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

from derive.errors import DeriveError

_UMASK = os.umask(0)
os.umask(_UMASK)

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
          (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"))


def refuse_special(path: Path, option: str = "--out") -> None:
    """Raise unless ``path`` is a regular file (through symbolic links) or does not exist."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):  # a missing file, or a folder path through a file (said later)
        return
    except OSError as error:
        raise DeriveError(str(path), f"cannot be written ({error.strerror})") from None
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    raise DeriveError(str(path), f"is {kind}, not a regular file; derive writes only regular files, so nothing "
                      f"was written (choose another {option} or move it away)")


@contextmanager
def _signals_held():
    """Hold SIGINT and SIGTERM back while the block runs (main thread only; elsewhere they cannot arrive)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def write_files(folder: str | Path, files: dict[str, bytes | str], stale=()) -> list[Path]:
    """Write ``files`` (name -> content) into ``folder`` atomically; return the paths written.

    Each file goes to a temporary file in the same folder and is renamed over the old
    one only when every file has been written, so an interrupted run leaves the
    previous outputs intact and no partial files behind. ``stale`` names files of an
    earlier run that no longer belong with these (a failed build's kept source) and
    are removed once the new files are in place.
    """
    folder = Path(folder)
    for name in files:
        if Path(name).name != name or name in ("", ".", ".."):
            raise ValueError(f"output names are plain file names, not paths: {name!r}")
    if folder.exists() and not folder.is_dir():
        raise DeriveError(str(folder), "is a file, not a folder; give --out a folder")
    for name in files:
        refuse_special(folder / name)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DeriveError(str(folder), f"cannot create the output folder ({error.strerror})") from None
    if not folder.is_dir():
        raise DeriveError(str(folder), "the output folder is not a folder")
    staged = []
    current = folder
    try:
        for name, content in files.items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
            staged.append((temporary, folder / name))
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs are ordinary files
        with _signals_held():
            for temporary, final in staged:
                current = final
                os.replace(temporary, final)
            for name in stale:
                old = folder / name
                if name not in files and old.is_file():
                    current = old
                    old.unlink()
    except OSError as error:
        raise DeriveError(str(current), f"cannot write the output ({error.strerror})") from None
    finally:
        for temporary, _ in staged:
            if os.path.exists(temporary):
                os.unlink(temporary)
    return [final for _, final in staged]

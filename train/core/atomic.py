"""Atomic writes: a reader sees the old output or the new one, never half of either.

Everything kalimat writes (datasets, reports, exported models, prediction files) goes
through here: content is written next to its destination under a temporary name, flushed
to the disk (``fsync``) and moved into place with a rename only once it is complete; the
folder is flushed after the rename, so the rename itself survives a power cut.

* A file (:func:`atomic_file`): a kill at any moment leaves the previous file whole and at
  most a ``.tmp-<name>-*`` file beside it.
* A folder (:func:`atomic_dir`): see there; a kill leaves the old or the new folder whole.
* A symbolic link is followed: the file it points to is replaced and the link stays.
* A destination that is not a regular file is never replaced: a FIFO, a character device
  (``/dev/null``, a terminal) or a path under ``/dev/`` or ``/proc/`` (``/dev/stdout``) is
  a stream, written through as the data comes (:func:`is_stream`); a socket or a block
  device is refused.
"""

import contextlib
import ctypes
import errno
import fcntl
import gzip
import json
import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path

from .errors import KalimatError
from .paths import is_model_folder, is_run_folder


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _readable(path: Path, mode: int) -> None:
    """Give a temporary file or folder the permissions a plain ``open``/``mkdir`` would.

    ``mkstemp``/``mkdtemp`` create them private (0600/0700); outputs are meant to be shared.
    """
    os.chmod(path, mode & ~_umask())


def fsync_path(path) -> None:
    """Flush a file's or a folder's content (a folder's: its entries, i.e. renames) to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------- destinations


def is_stream(path) -> bool:
    """True for a destination that is written through, never replaced: a FIFO, a character
    device, or any path under ``/dev/`` or ``/proc/`` (``/dev/stdout`` is a link to whatever
    standard output is, possibly a file the shell opened: replacing it would cut the shell's
    redirection)."""
    absolute = os.path.abspath(path)
    if absolute.startswith(("/dev/", "/proc/")):
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


def destination(path) -> Path:
    """Where an atomic write of ``path`` lands: the file a symbolic link points to (the link
    stays), else ``path``. Refuses a socket or a block device, which must never be replaced."""
    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return path
    if stat.S_ISSOCK(mode) or stat.S_ISBLK(mode):
        kind = "a socket" if stat.S_ISSOCK(mode) else "a block device"
        raise KalimatError(f"{path}: is {kind}, not a file; write to a file, a FIFO or /dev/stdout instead")
    return path


def check_output(option: str, path, run_folders: bool = False) -> None:
    """Refuse, before any slow work, an output path its final write would fail on (a folder,
    a file where a parent folder should be, a folder that cannot be written) or one inside a
    model folder, whose files it could replace (``--output models/x/tokenizer.json``); with
    ``run_folders`` also one inside a run folder (a comparison must not replace a run's report)."""
    path = Path(path)
    for folder in path.absolute().parents:
        if is_model_folder(folder) or (run_folders and is_run_folder(folder)):
            kind = "a run or model folder" if run_folders else "a model folder"
            raise KalimatError(f"{option} {path}: {folder} is {kind}, whose files this output could replace; "
                               "write it outside run and model folders")
    if path.is_dir():
        raise KalimatError(f"{option} {path}: is a folder; give a file name (one inside it will do)")
    if is_stream(path):
        if not os.access(path, os.W_OK):
            raise KalimatError(f"{option} {path}: cannot be written (permission denied); choose another path")
        return
    try:
        target = destination(path)
    except KalimatError as err:
        raise KalimatError(f"{option} {err}") from None
    folder = next(parent for parent in target.absolute().parents if parent.exists())
    if not folder.is_dir():
        raise KalimatError(f"{option} {path}: {folder} is a file, not a folder; choose another path")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise KalimatError(f"{option} {path}: cannot write in the folder {folder} (permission denied); "
                           "choose another path or fix the folder's permissions")


# ---------------------------------------------------------------- files


def empty_dir(folder: Path) -> None:
    """Delete everything inside ``folder``; a link goes, never what it points to.

    A run that replaces another (``train.overwrite=true``) starts from an empty folder, so
    nothing of the old run is left beside its own files.
    """
    for entry in Path(folder).iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def make_parents(path: Path) -> list[Path]:
    """Create the missing folders above ``path``; return them, outermost first, for :func:`remove_if_empty`."""
    made = [folder for folder in reversed(path.parents) if not folder.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    return made


def remove_if_empty(folders: list[Path]) -> None:
    """Remove the folders :func:`make_parents` made that are still empty: a failed run leaves none behind."""
    for folder in reversed(folders):
        with contextlib.suppress(OSError):
            folder.rmdir()


@contextlib.contextmanager
def atomic_file(path, mode: str = "w", encoding: str | None = "utf-8"):
    """Open a temporary file beside ``path``; on success move it onto ``path``.

    A stream (:func:`is_stream`) is opened and written directly instead.
    """
    encoding = None if "b" in mode else encoding
    if is_stream(path):
        with open(path, mode, encoding=encoding) as handle:
            yield handle
        return
    path = destination(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _readable(Path(tmp), 0o666)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_path(path.parent)


def write_text(path, text: str) -> None:
    with atomic_file(path) as handle:
        handle.write(text)


def write_json(path, obj) -> None:
    write_text(path, json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def write_jsonl(path, records) -> None:
    """One JSON object a line, UTF-8 kept readable (no ``\\u`` escapes); gzip-compressed when ``path``
    ends in ``.gz`` (with no time stamp inside, so the same records give the same bytes)."""
    lines = (json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    if str(path).endswith(".gz"):
        with atomic_file(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as handle:
            for line in lines:
                handle.write(line.encode())
        return
    with atomic_file(path) as handle:
        handle.writelines(lines)


# ---------------------------------------------------------------- folders


_RENAME_EXCHANGE = 2  # linux/fs.h


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``).

    False where the system or the file system cannot (another OS, an old C library, a file
    system without the flag): the caller then falls back to two renames.
    """
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def backup_path(path) -> Path:
    """``.old-<name>``: where the two-rename fallback parks the old folder for a moment."""
    path = Path(path)
    return path.parent / f".old-{path.name}"


@contextlib.contextmanager
def _folder_lock(folder: Path):
    """Serialise the final renames of atomic folders in ``folder`` (a blocking ``flock`` on the
    folder itself), so a recovery never runs while another process is between its renames."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def recover_dir(path) -> str | None:
    """Finish what a kill between :func:`atomic_dir`'s two fallback renames left; say what was done.

    ``path`` missing and ``.old-<name>`` present: the old folder was moved aside and the new
    one not yet in: the old one is moved back. Both present: the new one was in place and
    the old one not yet deleted: it is deleted now.
    """
    path = Path(path)
    backup = backup_path(path)
    if not backup.is_dir():
        return None
    if path.exists():
        shutil.rmtree(backup, ignore_errors=True)
        return f"removed {backup}, left by an interrupted replacement of {path}"
    os.rename(backup, path)
    fsync_path(path.parent)
    return f"restored {path} from {backup}, left by an interrupted replacement"


@contextlib.contextmanager
def atomic_dir(path):
    """Yield an empty temporary folder; on success it replaces ``path`` as a whole.

    The steps, and what a kill at each leaves:

    1. the caller writes into ``.tmp-<name>-*`` beside ``path``: the old ``path`` untouched
       and that temporary folder (removed here on an exception, left behind by a kill);
    2. every file and folder in it is flushed to the disk (fsync): the same;
    3. the two folders are swapped in one atomic step (Linux ``RENAME_EXCHANGE``): before
       it the old ``path``, after it the new one, never neither;
    4. the old folder, now under the temporary name, is deleted and the parent flushed: a
       kill leaves the new ``path`` and the old content under ``.tmp-<name>-*``.

    Where an atomic swap is not available step 3 is two renames, ``path`` to ``.old-<name>``
    and the new folder to ``path``. A kill between them leaves no ``path`` for a moment but
    the complete old folder in ``.old-<name>``: the next ``atomic_dir`` or
    :func:`recover_dir` of ``path`` moves it back (and deletes it once the new one is in).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{path.name}-", dir=path.parent))
    _readable(tmp, 0o777)
    try:
        yield tmp
        # Libraries write some files through private temporary files (safetensors weights
        # came out 0600): everything inside follows the umask, like any other output.
        inner = sorted(tmp.rglob("*"), key=lambda p: len(p.parts), reverse=True)  # files before their folders
        for item in inner:
            _readable(item, 0o777 if item.is_dir() else 0o666)
            fsync_path(item)
        fsync_path(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    with _folder_lock(path.parent):
        recover_dir(path)
        if not path.exists():
            os.rename(tmp, path)
        elif _exchange(tmp, path):
            pass
        else:
            backup = backup_path(path)
            os.rename(path, backup)
            os.rename(tmp, path)
            tmp = backup
        fsync_path(path.parent)
    shutil.rmtree(tmp, ignore_errors=True)

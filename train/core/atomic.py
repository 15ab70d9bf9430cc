"""Atomic writes: a reader sees the old output or the new one, never half of either.

Everything kalimat writes (datasets, reports, exported models, prediction files) goes
through here: content is written next to its destination under a temporary name and moved
into place with ``os.replace`` only once it is complete. An interrupted run leaves the
previous output untouched and at most a ``.tmp-*`` sibling behind.
"""

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _readable(path: Path, mode: int) -> None:
    """Give a temporary file or folder the permissions a plain ``open``/``mkdir`` would.

    ``mkstemp``/``mkdtemp`` create them private (0600/0700); outputs are meant to be shared.
    """
    os.chmod(path, mode & ~_umask())


@contextlib.contextmanager
def atomic_file(path, mode: str = "w", encoding: str | None = "utf-8"):
    """Open a temporary file beside ``path``; on success move it onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as handle:
            yield handle
        _readable(Path(tmp), 0o666)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path, text: str) -> None:
    with atomic_file(path) as handle:
        handle.write(text)


def write_json(path, obj) -> None:
    write_text(path, json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def write_jsonl(path, records) -> None:
    """One JSON object a line, UTF-8 kept readable (no ``\\u`` escapes)."""
    with atomic_file(path) as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


@contextlib.contextmanager
def atomic_dir(path):
    """Yield an empty temporary directory; on success it replaces ``path`` as a whole.

    The old directory is moved aside first and deleted only after the new one is in
    place, so at every instant ``path`` is either the complete old or the complete new one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{path.name}-", dir=path.parent))
    _readable(tmp, 0o777)
    try:
        yield tmp
        # Libraries write some files through private temporary files (safetensors weights
        # came out 0600): everything inside follows the umask, like any other output.
        for inner in tmp.rglob("*"):
            _readable(inner, 0o777 if inner.is_dir() else 0o666)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if path.exists():
        old = path.parent / f".old-{path.name}-{os.getpid()}"
        os.replace(path, old)
    os.replace(tmp, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)

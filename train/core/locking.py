"""One job at a time per output: an exclusive, non-blocking ``flock`` on a lock file.

The lock belongs to the open file, so the kernel drops it when the process ends however
it ends (a kill included): a lock file left by a killed job is just a file, and the next
job takes it at once. A lock file holds the process id of its holder, for the message that
refuses a second job; the holder removes it when it is done.
"""

import atexit
import contextlib
import fcntl
import os
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from .errors import KalimatError, exit_on_error


class Locked(Exception):
    """The lock is held by another process (``pid``, when it wrote one)."""

    def __init__(self, path: Path, pid: str):
        super().__init__(f"{path} is held by process {pid or 'unknown'}")
        self.path, self.pid = path, pid


class FileLock:
    """``acquire()`` or raise :class:`Locked`; ``release()`` removes the file and unlocks."""

    def __init__(self, path):
        self.path = Path(path)
        self.fd = None

    def acquire(self) -> "FileLock":
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid = os.read(fd, 32).decode("ascii", "replace").strip()
                os.close(fd)
                raise Locked(self.path, pid) from None
            # The holder before us may have removed the file between our open and our flock:
            # then we hold a lock on a file nobody else can see, and must start over.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return self

    def release(self) -> None:
        """Remove the file while still holding the lock, then unlock (see :meth:`acquire`)."""
        if self.fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        os.close(self.fd)
        self.fd = None

    def __enter__(self) -> "FileLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


# ---------------------------------------------------------------- training runs

_held: dict[Path, FileLock] = {}


def run_lock_path(run_dir) -> Path:
    """``runs/.<run_name>.lock``: beside the run folder (which may not exist yet), hidden from globs of runs."""
    run_dir = Path(run_dir)
    return run_dir.parent / f".{run_dir.name}.lock"


def lock_run_dir(run_dir) -> None:
    """Hold the lock of ``run_dir`` until this process ends, or refuse the run with one line.

    Taken before Hydra creates the folder or writes a byte into it (see :class:`RunFolderLock`),
    so a refused run leaves the other run's folder as it was. Held by the process, not a
    context: the kernel drops it at exit, a kill included, and the file goes at a normal exit.
    """
    lock_path = run_lock_path(run_dir)
    if lock_path in _held:
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _held[lock_path] = FileLock(lock_path).acquire()
    except Locked as err:
        raise KalimatError(
            f"run_name={Path(run_dir).name}: another run (process {err.pid or 'unknown'}) is using {run_dir} "
            f"(lock {lock_path}); wait for it to finish, or choose another run_name"
        ) from None
    atexit.register(_held[lock_path].release)


class RunFolderLock(Callback):
    """Hydra callback (``configs/hydra/default.yaml``): lock the run folder before Hydra makes it.

    ``on_run_start`` runs before Hydra creates ``hydra.run.dir`` and writes its own files
    there. Only the main process of an ``accelerate launch`` (``RANK`` 0) locks: the others
    are the same run. A multirun job's folder is new (time-stamped) and is locked when the
    job starts (:class:`train.core.run_folder.RunFolder`).
    """

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        run_dir = Path(config.hydra.run.dir)  # resolved in every process: ${launch_time:} is collective
        if os.environ.get("RANK", "0") == "0":
            exit_on_error(lock_run_dir)(run_dir)

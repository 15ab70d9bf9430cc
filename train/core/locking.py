"""One job at a time per output: an exclusive, non-blocking ``flock`` on a lock file.

The lock belongs to the open file, so the kernel drops it when the process ends however
it ends (a kill included): a lock file left by a killed job is just a file, and the next
job takes it at once. A lock file holds the process id of its holder, for the message that
refuses a second job; the holder removes it when it is done.
"""

import contextlib
import fcntl
import os
from pathlib import Path


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

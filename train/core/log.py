"""Warnings: one format (``warning: ...`` on standard error) through :mod:`logging`, from every command.

Every module warns with :func:`warn`, which logs to the ``kalimat`` logger. Its handler
writes through ``tqdm.write``, so a warning lands above a progress bar rather than through
it. A caller that wants warnings elsewhere (a file, silence) configures that logger as any
other: ``logging.getLogger("kalimat")``.
"""

import logging
import sys

from tqdm.auto import tqdm

LOGGER = logging.getLogger("kalimat")


class _TqdmHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # noqa: BLE001 (logging's contract: a handler never raises)
            self.handleError(record)


if not LOGGER.handlers:
    _handler = _TqdmHandler()
    _handler.setFormatter(logging.Formatter("warning: %(message)s"))
    LOGGER.addHandler(_handler)
    LOGGER.setLevel(logging.WARNING)
    # Hydra's job logging would print each warning a second time, in its own format, on standard output.
    LOGGER.propagate = False


def warn(message: str) -> None:
    LOGGER.warning(message)

"""User-facing errors: one line that names the problem and the fix, and a non-zero exit.

Entry points wrap their ``main`` with :func:`exit_on_error`, so a :class:`KalimatError`
raised anywhere below becomes ``error: <message>`` on standard error and exit status 2,
instead of a traceback. Anything else is a bug and keeps its traceback. The wrapper also
makes sure Ctrl-C reaches the entry point even when it lands in a finalizer (see
:func:`_redeliver_ctrl_c`), where Python would drop it.
"""

import functools
import os
import signal
import sys
import threading


class KalimatError(Exception):
    """A problem with the user's input or environment that the user can fix."""

    exit_code = 2


class Interrupted(KalimatError):
    """Ctrl-C: the message says what was kept and how to continue; exit status 130, as for SIGINT."""

    exit_code = 130


def exit_on_error(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if not getattr(sys.unraisablehook, "redelivers_ctrl_c", False):
            sys.unraisablehook = _redeliver_ctrl_c(sys.unraisablehook)
        try:
            return func(*args, **kwargs)
        except KalimatError as err:
            print(f"error: {err}", file=sys.stderr)
            sys.exit(err.exit_code)

    return wrapper


def _redeliver_ctrl_c(previous_hook):
    """A ``sys.unraisablehook`` that presses Ctrl-C again when Python had to drop it.

    Ctrl-C that lands while Python runs a finalizer (a ``__del__``, e.g. of a
    ``datasets.Dataset`` freed between two steps) raises KeyboardInterrupt where Python can
    only print it and carry on: the run would go on to its end as if Ctrl-C had never been
    pressed. The signal is sent again a moment later, when the finalizer has returned.
    """
    def hook(unraisable):
        if issubclass(unraisable.exc_type, KeyboardInterrupt):
            again = threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT))
            again.daemon = True
            again.start()
        else:
            previous_hook(unraisable)

    hook.redelivers_ctrl_c = True
    return hook

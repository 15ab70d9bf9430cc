"""User-facing errors: one line that names the problem and the fix, and a non-zero exit.

Entry points wrap their ``main`` with :func:`exit_on_error`, so a :class:`KalimatError`
raised anywhere below becomes ``error: <message>`` on standard error and exit status 2,
instead of a traceback. Anything else is a bug and keeps its traceback.
"""

import functools
import sys


class KalimatError(Exception):
    """A problem with the user's input or environment that the user can fix."""

    exit_code = 2


class Interrupted(KalimatError):
    """Ctrl-C: the message says what was kept and how to continue; exit status 130, as for SIGINT."""

    exit_code = 130


def exit_on_error(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except KalimatError as err:
            print(f"error: {err}", file=sys.stderr)
            sys.exit(err.exit_code)

    return wrapper

"""Run a command the way a user without special rights would, for tests of permission errors.

Root reads a file of mode 000 and writes into a read-only folder, so a test running as
root (as in containers) cannot see the error a user would. Root is only exempt from file
permissions through two capabilities, CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH; here the
command runs without them (``setpriv`` drops them from its bounding and inheritable sets
before it starts), so it meets permissions exactly as the files' owner would, while it can
still run the Python of a virtual environment that only root may read. Run by another user,
the command runs as it is: a mode-000 file is unreadable to it already.
"""

import os
import shutil
import subprocess
import sys

import pytest

_DROP = "-dac_override,-dac_read_search"
PREFIX = ["setpriv", f"--inh-caps={_DROP}", f"--bounding-set={_DROP}"] if os.geteuid() == 0 else []

needs_permissions = pytest.mark.skipif(
    os.geteuid() == 0 and shutil.which("setpriv") is None,
    reason="running as root without setpriv(1): permissions cannot be made to apply",
)


def run_restricted(argv: list, **kwargs) -> subprocess.CompletedProcess:
    """``python argv...`` subject to file permissions; output captured as text."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    return subprocess.run([*PREFIX, sys.executable, *map(str, argv)], env=env, capture_output=True, text=True,
                          timeout=180, **kwargs)

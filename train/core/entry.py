"""The one shape of kalimat's Hydra commands: ``python -m train``, ``train.dataset``, ``train.pretrain``.

Each command is a thin module whose work function takes the composed config::

    @hydra_command("dataset")
    def main(cfg: DictConfig) -> None: ...

:func:`hydra_command` turns it into the console entry: the overrides are checked before
Hydra sees them (:func:`~train.core.overrides.check_overrides`: a bad one is one line and no
folder is made), then ``@hydra.main`` composes ``configs/<name>.yaml`` and runs the work, and
a :class:`~train.core.errors.KalimatError` from anywhere below becomes ``error: ...`` and a
non-zero exit. What the work returns (the metric a sweeper optimises) is Hydra's return value.
"""

import functools
import sys

import hydra

from . import paths
from .errors import exit_on_error
from .overrides import check_overrides


def hydra_command(config_name: str):
    def decorate(work):
        @hydra.main(config_path=str(paths.CONFIG_DIR), config_name=config_name, version_base="1.3")
        @exit_on_error
        @functools.wraps(work)
        def run(cfg):
            return work(cfg)

        @exit_on_error
        def main() -> None:
            check_overrides(config_name, sys.argv[1:])
            run()

        main.__doc__ = work.__doc__
        return main

    return decorate

"""``python -m train``: see :mod:`train.train`."""

from .train import main

main()

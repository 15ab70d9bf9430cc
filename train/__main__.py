"""``python -m train``: see :mod:`train.pipeline`."""

from .pipeline import main

main()

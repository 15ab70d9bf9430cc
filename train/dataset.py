"""``python -m train.dataset``: build the labeled dataset (see :mod:`train.data.build`)."""

from .data.build import main

if __name__ == "__main__":
    main()

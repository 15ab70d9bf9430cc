"""Compare training runs from their reports; see ``train/compare.py`` or ``--help``."""

from train.compare import main

if __name__ == "__main__":
    main()

"""Compare training runs from their reports; see ``train/reporting/compare.py`` or ``--help``."""

from train.reporting.compare import main

if __name__ == "__main__":
    main()

"""Measure how well cleaning tells prose from page leftovers, on lines a person marked.

    python scripts/evaluate_nonprose.py [LINES.jsonl] [--show-errors]

Each line of ``data/nonprose/lines.jsonl`` (``{"text", "prose", "kind", "source"}``) is
cleaned and split as an article of one line would be (configs/cleaning/default.yaml); a line
is left out when no sentence of it remains. Dropping a real sentence is worse than keeping a
leftover, so the recall of prose (the share of prose lines kept) is reported apart from the
recall of leftovers (the share left out).
"""

import argparse
import json
import sys
from pathlib import Path

from train.core.errors import KalimatError, exit_on_error
from train.core.paths import ROOT
from train.data.preprocess import Preprocessor

LINES = ROOT / "data" / "nonprose" / "lines.jsonl"


def evaluate(lines: list[dict], preprocessor: Preprocessor) -> dict:
    """Counts, recalls and precision of the leftover detection, and the lines it got wrong."""
    kept = [bool(preprocessor.split_text(line["text"]).sentences) for line in lines]
    prose = [line["prose"] for line in lines]
    dropped_prose = [line for line, k, p in zip(lines, kept, prose) if p and not k]
    kept_leftovers = [line for line, k, p in zip(lines, kept, prose) if not p and k]
    n_prose, n_left = sum(prose), len(lines) - sum(prose)
    left_out = sum(not k for k in kept)
    return {
        "lines": len(lines), "prose": n_prose, "leftovers": n_left,
        "prose_recall": (n_prose - len(dropped_prose)) / n_prose if n_prose else None,
        "leftover_recall": (n_left - len(kept_leftovers)) / n_left if n_left else None,
        "leftover_precision": (left_out - len(dropped_prose)) / left_out if left_out else None,
        "dropped_prose": dropped_prose, "kept_leftovers": kept_leftovers,
    }


def read_lines(path: Path) -> list[dict]:
    try:
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError as err:
        raise KalimatError(f"cannot read {path} ({err.strerror}); give a JSONL file of marked lines") from None
    except json.JSONDecodeError as err:
        raise KalimatError(f"{path}: not JSON lines ({err}); fix the file") from None
    if not lines or not all(isinstance(r, dict) and isinstance(r.get("text"), str)
                            and isinstance(r.get("prose"), bool) for r in lines):
        raise KalimatError(f"{path}: every line needs \"text\" and \"prose\" (true or false); fix the file")
    return lines


@exit_on_error
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lines", nargs="?", type=Path, default=LINES, help="marked lines (default: %(default)s)")
    parser.add_argument("--show-errors", action="store_true", help="print the lines it gets wrong")
    args = parser.parse_args(argv)
    result = evaluate(read_lines(args.lines), Preprocessor.default())
    print(f"{result['lines']} lines: {result['prose']} prose, {result['leftovers']} leftovers")
    print(f"prose kept (recall of prose): {result['prose_recall']:.1%} "
          f"({result['prose'] - len(result['dropped_prose'])} of {result['prose']})")
    print(f"leftovers left out (recall of leftovers): {result['leftover_recall']:.1%} "
          f"({result['leftovers'] - len(result['kept_leftovers'])} of {result['leftovers']}); "
          f"precision of leaving out: {result['leftover_precision']:.1%}")
    if args.show_errors:
        for line in result["dropped_prose"]:
            print(f"  dropped prose  [{line.get('kind', '')}] {line['text']}")
        for line in result["kept_leftovers"]:
            print(f"  kept leftover  [{line.get('kind', '')}] {line['text']}")


if __name__ == "__main__":
    sys.exit(main())

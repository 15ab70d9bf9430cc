"""Time the project's predictor against the naive pipeline and print JSON (see train/inference/benchmark.py).

    python scripts/benchmark.py [--model models/<run_name>] [--sentences 2000]
        [--precision auto [fp32 bf16 int8 ...]] [--batch-size 32] [--skip-base] [--output FILE]
"""

import argparse
from pathlib import Path

from train.core.atomic import check_output
from train.core.errors import exit_on_error
from train.core.precision import INFERENCE_PRECISIONS
from train.reporting.benchmark import print_figures, run_benchmark


@exit_on_error
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="a trained export to use as the mini model (default: random weights)")
    parser.add_argument("--sentences", type=int, default=2000, help="how many sentences (default: 2000)")
    parser.add_argument("--precision", nargs="+", choices=INFERENCE_PRECISIONS, default=["auto"],
                        help="predictor precision(s) to time (default: auto)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--skip-base", action="store_true", help="time the mini model only (minutes faster)")
    parser.add_argument("--output", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    if args.output:
        check_output("--output", args.output)
    report = run_benchmark(args.sentences, args.model, args.precision, args.batch_size, args.skip_base)
    print_figures(report, args.output)


if __name__ == "__main__":
    main()

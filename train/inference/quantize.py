"""``python scripts/quantize.py``: build the int8 engine of a model folder exported without one.

    python scripts/quantize.py --model models/<run_name> --calibration ARTICLE... [--sentences N]

Exports made by ``python -m train`` carry their engine (calibrated on their validation
sentences, :mod:`train.inference.int8_engine`); this builds one for an older export, or
after its weights were replaced. The calibration articles are read, cleaned and split
exactly as ``kalimat-predict`` reads them, and each sentence gets its real neighbours for a
model trained with context. They should look like the articles to be labeled, and never
be articles the model will be scored on.
"""

import argparse

from transformers import AutoConfig, AutoTokenizer

from ..core.errors import KalimatError, exit_on_error
from ..data.articles import read_articles
from ..data.context import article_windows, model_context
from ..data.preprocess import Preprocessor
from .int8_engine import CALIBRATION_SENTENCES, build_int8_engine
from .predictor import check_model_dir


@exit_on_error
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the int8 engine (model_int8.onnx) of an exported model folder.")
    parser.add_argument("--model", required=True, help="an exported model folder, models/<run_name>")
    parser.add_argument("--calibration", nargs="+", required=True, metavar="INPUT",
                        help="articles like the ones to be labeled, whose sentences set the int8 ranges (files, "
                             "folders or JSONL, as kalimat-predict reads them); never articles you will score "
                             "the model on")
    parser.add_argument("--sentences", type=int, default=CALIBRATION_SENTENCES,
                        help=f"calibration sentences to use (default {CALIBRATION_SENTENCES}, as an export)")
    args = parser.parse_args(argv)

    check_model_dir(args.model)
    if args.sentences < 1:
        raise KalimatError("--sentences must be at least 1")
    preprocessor = Preprocessor.load(args.model)
    articles, total = [], 0  # whole articles, so each sentence gets its real neighbours, then cut
    for article in read_articles(args.calibration):
        if total >= args.sentences:
            break
        articles.append(preprocessor.article_sentences(article)[0])
        total += len(articles[-1])
    sentences = [s for article in articles for s in article][: args.sentences]
    context = model_context(AutoConfig.from_pretrained(args.model))
    windows = article_windows(articles, AutoTokenizer.from_pretrained(args.model).sep_token, context)
    windows = None if windows is None else windows[: args.sentences]
    path = build_int8_engine(args.model, sentences, windows)
    print(f"{path}: int8 engine calibrated on {len(sentences)} sentences")


"""Export a trained classifier to ``models/<run_name>/``: everything needed to use and judge it.

The folder is what ``save_pretrained`` writes (safetensors weights, ``config.json`` with
the four labels, the tokenizer), the cleaning rules the training data went through (so
batch inference cleans articles the same way), the int8 engine ``kalimat-predict`` serves
on x86 CPUs (calibrated on the validation sentences, :mod:`train.inference.int8_engine`),
a model card and a copy of the run's ``report.json`` (:mod:`train.reporting.model_card`). It is staged and swapped in
atomically (:func:`train.core.atomic.atomic_dir`): a reader sees the previous export or the
new one, never a half-written model. The staged folder is scored as served before the swap
(:func:`score_served`), so the report describes exactly the files users get, and
``transformers.pipeline("text-classification", model="models/<run_name>")`` loads it as it is.
"""

from pathlib import Path

import datasets

from ..core.labels import LABELS
from ..core.metrics import macro_f1
from ..data.context import model_context, row_windows
from ..data.preprocess import Preprocessor
from ..inference.int8_engine import CALIBRATION_SENTENCES, build_int8_engine
from ..inference.predictor import Predictor, label_agreement


def save_model(model, tokenizer, cleaning_cfg, calibration: datasets.Dataset, folder: Path) -> None:
    """Everything of the export but its card and report: weights, tokenizer, cleaning rules, int8 engine.

    The engine's activation ranges come from (at most CALIBRATION_SENTENCES) ``calibration`` rows, the
    validation sentences: never the test sentences it is then scored on.
    """
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    Preprocessor.from_config(cleaning_cfg).save(folder)
    rows = calibration.select(range(min(len(calibration), CALIBRATION_SENTENCES)))
    build_int8_engine(folder, list(rows["text"]), row_windows(rows, tokenizer.sep_token, model_context(model.config)))


def score_served(folder: Path, rows: datasets.Dataset, fp32_labels: list[str]) -> dict:
    """The export as ``kalimat-predict`` serves it: loaded by the predictor at its default precision.

    The run's metrics score the fp32 model in memory; a user's labels come from the saved
    folder at ``--precision auto`` (the int8 engine or bf16 on a CPU). This scores that path
    on the same test sentences and says how many labels it shares with fp32.
    """
    predictor = Predictor(folder, device="auto", precision="auto")
    labels = [p.label for p in predictor.predict(list(rows["text"]), row_windows(rows, predictor.tokenizer.sep_token, predictor.context))]
    gold = [LABELS[i] for i in rows["label"]]
    return {
        "precision": predictor.precision,
        "device": str(predictor.device),
        "sentences": len(labels),
        "macro_f1": macro_f1(gold, labels),
        "label_agreement_with_fp32": label_agreement(labels, fp32_labels),
    }

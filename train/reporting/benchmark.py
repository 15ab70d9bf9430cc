"""Time the project's predictor against the naive way of labeling sentences; print JSON.

    python scripts/benchmark.py [--model models/<run_name>] [--sentences 2000]
        [--precision auto [fp32 bf16 int8 ...]] [--batch-size 32] [--output FILE]

The same N sentences (the first N of data/corpus/indosum.jsonl.gz, IndoSum's own
segmentation) are labeled by

* naive: ``transformers.pipeline("text-classification")``, one sentence at a time, which
  is what a user without this project would write;
* predictor: :class:`train.inference.predictor.Predictor` with the given precision(s)
  (engine: PyTorch for fp32/bf16/fp16, the ONNX Runtime int8 engine for int8);

for two models: the ``mini`` model (``--model``, e.g. the quickstart export, or else a
randomly initialised model of ``configs/model/mini.yaml``'s shape) and a randomly
initialised model of the IndoBERT-base shape (no download needed). The random models get
their int8 engine the way an export does, calibrated on the corpus sentences that follow
the timed ones, before any clock starts (an export builds it once). Each measurement runs
in a fresh process, so its time includes loading the model and its peak resident memory
is its own. The naive labels are fp32 labels, so each precision's label agreement with
fp32 comes for free; it is meaningful only for a trained model (random weights leave
most sentences near a tie). Every predictor run is repeated untimed at batch size 8 to
check that no label or probability (to 4 decimals) depends on batching. The machine's
matrix-product peaks are measured too, to say what share of the hardware inference reaches.
"""

import json
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from itertools import chain, islice
from multiprocessing import get_context
from pathlib import Path

import torch
from omegaconf import OmegaConf
from transformers import AutoConfig, AutoTokenizer, BertConfig, BertForSequenceClassification, pipeline
from transformers.utils import logging as hf_logging

from ..core.atomic import write_text
from ..core.errors import KalimatError
from ..core.labels import ID2LABEL, LABEL2ID
from ..core.paths import CONFIG_DIR, INDOSUM
from ..core.precision import cpu_has_amx
from ..data.context import article_windows, model_context
from ..data.segmentation_eval import corpus_paragraphs
from ..modeling.mini_model import mini_config, train_wordpiece
from ..inference.int8_engine import CALIBRATION_SENTENCES, Int8Engine, build_int8_engine
from ..inference.predictor import Predictor, check_model_dir, label_agreement, load_tokenizer

MAX_LENGTH = 128  # configs/trainer/default.yaml: what the models are trained with
CHECK_BATCH_SIZE = 8  # the untimed second run that checks labels do not depend on batching


def benchmark_sentences(count: int) -> tuple[list[str], str]:
    """The first ``count`` sentences of the IndoSum corpus, in IndoSum's own segmentation."""
    sentences = list(islice(chain.from_iterable(corpus_paragraphs(INDOSUM)), count))
    return sentences, str(INDOSUM)


def save_random_model(path: Path, config: BertConfig, tokenizer, calibration: list[str]) -> Path:
    torch.manual_seed(0)
    BertForSequenceClassification(config).eval().save_pretrained(path)
    tokenizer.save_pretrained(path)
    build_int8_engine(path, calibration)
    return path


def random_mini(path: Path, sentences: list[str], calibration: list[str]) -> Path:
    model_cfg = OmegaConf.load(CONFIG_DIR / "model" / "mini.yaml")
    tokenizer = train_wordpiece(sentences, model_cfg.vocab_size, model_cfg.min_frequency, MAX_LENGTH)
    return save_random_model(path, mini_config(model_cfg, tokenizer, MAX_LENGTH), tokenizer, calibration)


def random_base(path: Path, sentences: list[str], calibration: list[str]) -> Path:
    """BertConfig's defaults are BERT-base (12 layers, hidden 768); IndoBERT-base has 50,000 word pieces."""
    tokenizer = train_wordpiece(sentences, vocab_size=30000, min_frequency=1, max_length=MAX_LENGTH)
    config = BertConfig(vocab_size=50000, num_labels=len(ID2LABEL), id2label=dict(ID2LABEL), label2id=dict(LABEL2ID))
    return save_random_model(path, config, tokenizer, calibration)


# Each function below runs in a fresh process: load, label, report time and peak memory.


def _peak_rss_mb() -> float:
    """This process's peak resident memory. Linux's VmHWM starts afresh in a new process;
    ``ru_maxrss`` would carry over the parent's peak across the exec that starts it."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_naive(model_dir: str, sentences: list[str], windows: list[str] | None) -> dict:
    hf_logging.disable_progress_bar()
    start = time.perf_counter()
    classify = pipeline("text-classification", model=model_dir, device="cpu")
    inputs = sentences if windows is None else [{"text": s, "text_pair": w} for s, w in zip(sentences, windows)]
    # A lone string gives a list of one result, a {"text", "text_pair"} dict the result itself.
    results = [classify(x, truncation=True, max_length=MAX_LENGTH) for x in inputs]
    labels = [(r[0] if isinstance(r, list) else r)["label"] for r in results]
    return {"seconds": time.perf_counter() - start, "peak_rss_mb": _peak_rss_mb(), "labels": labels}


def run_predictor(model_dir: str, sentences: list[str], windows: list[str] | None, precision: str,
                  batch_size: int) -> dict:
    hf_logging.disable_progress_bar()
    start = time.perf_counter()
    predictor = Predictor(model_dir, device="cpu", precision=precision, batch_size=batch_size)
    predictions = predictor.predict(sentences, windows)
    seconds, peak = time.perf_counter() - start, _peak_rss_mb()
    predictor.batch_size = CHECK_BATCH_SIZE
    again = predictor.predict(sentences, windows)
    records = [[p.record("", i, s) for i, (p, s) in enumerate(zip(run, sentences))] for run in (predictions, again)]
    return {"seconds": seconds, "peak_rss_mb": peak, "labels": [p.label for p in predictions],
            "precision": predictor.precision, "identical": records[0] == records[1],
            "engine": "onnxruntime" if isinstance(predictor.model, Int8Engine) else "pytorch"}


def in_fresh_process(function, *args) -> dict:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def matmul_peaks(size: int = 2048, repeats: int = 5) -> dict:
    """Best-of-``repeats`` throughput of one size³ matrix product in fp32, bf16 and int8."""
    def best(multiply, a, b) -> float:
        multiply(a, b)
        seconds = min(_timed(multiply, a, b) for _ in range(repeats))
        return 2 * size**3 / seconds / 1e9

    x = torch.randn(size, size)
    q = torch.randint(-128, 127, (size, size), dtype=torch.int8)
    return {
        "fp32_gflops": round(best(torch.mm, x, x), 1),
        "bf16_gflops": round(best(torch.mm, x.bfloat16(), x.bfloat16()), 1),
        "int8_gops": round(best(torch._int_mm, q, q), 1),
    }


def _timed(multiply, a, b) -> float:
    start = time.perf_counter()
    multiply(a, b)
    return time.perf_counter() - start


def matmul_parameters(model_dir: Path) -> int:
    """Weights multiplied once per token: the encoder's Linear layers (pooler and head run once per sentence)."""
    config = BertConfig.from_pretrained(model_dir)
    h, i, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    return layers * (4 * h * h + 2 * h * i)


def measure(name: str, model_dir: Path, random_init: bool, sentences: list[str], precisions: list[str],
            batch_size: int, peaks: dict) -> dict:
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    # A model trained with context reads each sentence with its neighbours (here: in the corpus
    # order), the naive pipeline as a text_pair: both ways get exactly the same inputs.
    context = model_context(AutoConfig.from_pretrained(model_dir))
    windows = article_windows([sentences], tokenizer.sep_token, context)
    tokens = sum(len(ids) for ids in tokenizer(sentences, windows, truncation=True, max_length=MAX_LENGTH)["input_ids"])
    flops = 2 * matmul_parameters(model_dir) * tokens
    print(f"[{name}] naive pipeline on {len(sentences)} sentences ...", file=sys.stderr)
    naive = in_fresh_process(run_naive, str(model_dir), sentences, windows)
    result = {"name": name, "path": str(model_dir), "random_init": random_init,
              "matmul_parameters": matmul_parameters(model_dir), "tokens": tokens,
              "naive": _rates(naive, len(sentences), tokens), "predictor": []}
    for precision in precisions:
        print(f"[{name}] predictor, precision {precision} ...", file=sys.stderr)
        run = in_fresh_process(run_predictor, str(model_dir), sentences, windows, precision, batch_size)
        peak = peaks["int8_gops" if run["precision"] == "int8" else f"{run['precision']}_gflops"]
        result["predictor"].append({
            "precision": f"{precision} ({run['precision']})" if precision == "auto" else precision,
            "engine": run["engine"],
            "batch_size": batch_size,
            **_rates(run, len(sentences), tokens),
            "speedup": round(naive["seconds"] / run["seconds"], 2),
            "label_agreement_with_fp32": round(label_agreement(run["labels"], naive["labels"]), 4),
            f"identical_at_batch_size_{CHECK_BATCH_SIZE}": run["identical"],
            "share_of_matmul_peak": round(flops / run["seconds"] / 1e9 / peak, 3),
        })
    result["naive"]["share_of_matmul_peak"] = round(flops / naive["seconds"] / 1e9 / peaks["fp32_gflops"], 3)
    return result


def cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "unknown")


def _rates(run: dict, sentences: int, tokens: int) -> dict:
    return {
        "seconds": round(run["seconds"], 2),
        "sentences_per_second": round(sentences / run["seconds"], 1),
        "tokens_per_second": round(tokens / run["seconds"]),
        "peak_rss_mb": round(run["peak_rss_mb"]),
    }


def run_benchmark(count: int, model: Path | None, precisions: list[str], batch_size: int, skip_base: bool) -> dict:
    """Every measurement of the module docstring, as one JSON-ready dict.

    The arguments are checked first: a bad one fails in seconds, not after the measurements.
    """
    if count < 1:
        raise KalimatError(f"--sentences {count}: give a number of sentences of at least 1")
    if batch_size < 1:
        raise KalimatError(f"--batch-size {batch_size}: give a batch size of at least 1")
    if model:
        check_model_dir(model)
        load_tokenizer(model)  # a damaged tokenizer.json: one line now, not a traceback in the middle
    sentences, source = benchmark_sentences(count + CALIBRATION_SENTENCES)
    if len(sentences) < count:
        raise KalimatError(f"--sentences {count}: {source} holds only {len(sentences)} sentences; ask for fewer")
    sentences, calibration = sentences[:count], sentences[count:]
    report = {"sentences": len(sentences), "source": source, "cpu": cpu_name(), "amx": cpu_has_amx(),
              "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
              "matmul_peak": matmul_peaks(), "models": []}
    with tempfile.TemporaryDirectory(prefix="kalimat-benchmark-") as tmp:
        if model:
            models = [("mini", model, False)]
        else:
            models = [("mini", random_mini(Path(tmp) / "mini", sentences, calibration), True)]
        if not skip_base:
            models.append(("indobert-base shape", random_base(Path(tmp) / "base", sentences, calibration), True))
        for name, model_dir, random_init in models:
            report["models"].append(
                measure(name, model_dir, random_init, sentences, precisions, batch_size, report["matmul_peak"]))
    return report


def print_figures(report: dict, output: Path | None) -> None:
    """The benchmark scripts' result: JSON on standard output, and in ``output`` when given."""
    text = json.dumps(report, indent=2)
    print(text)
    if output:
        write_text(output, text + "\n")

"""scripts/benchmark.py runs end to end and reports the figures the README quotes."""

import json
import shutil
import subprocess
import sys

import pytest
from inference_fixtures import model_dir  # noqa: F401 (a fixture)
from transformers import AutoTokenizer

from train.core.paths import ROOT
from train.reporting.benchmark import benchmark_sentences


def test_benchmark_times_both_ways_and_prints_json(tmp_path, model_dir):  # noqa: F811
    output = tmp_path / "bench.json"
    trained_dir = model_dir
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "benchmark.py"), "--model", str(trained_dir), "--sentences", "16",
         "--skip-base", "--precision", "auto", "fp32", "int8", "--output", str(output)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    printed = json.loads(result.stdout)
    assert printed == json.loads(output.read_text())
    assert printed["sentences"] == 16 and set(printed["matmul_peak"]) == {"fp32_gflops", "bf16_gflops", "int8_gops"}
    (mini,) = printed["models"]
    sentences, _ = benchmark_sentences(16)  # the same sentences, tokenized here independently
    tokenizer = AutoTokenizer.from_pretrained(trained_dir)
    assert mini["tokens"] == sum(len(ids) for ids in tokenizer(sentences, truncation=True, max_length=128)["input_ids"])
    assert mini["naive"]["sentences_per_second"] * mini["naive"]["seconds"] == pytest.approx(16, rel=0.05)
    runs = {run["precision"].split()[0]: run for run in mini["predictor"]}
    assert set(runs) == {"auto", "fp32", "int8"}
    assert (runs["fp32"]["engine"], runs["int8"]["engine"]) == ("pytorch", "onnxruntime")
    # fp32 is the naive pipeline's own arithmetic, batched: on a trained model every label agrees
    assert runs["fp32"]["label_agreement_with_fp32"] == 1.0
    for run in runs.values():
        assert run["peak_rss_mb"] > 0 and 0 <= run["share_of_matmul_peak"] < 1
        assert run["identical_at_batch_size_8"] is True  # labels and probabilities, rerun at another batch size


@pytest.mark.parametrize("arguments, message", [
    (["--sentences", "-250"], "--sentences -250: give a number of sentences of at least 1"),
    (["--sentences", "0"], "--sentences 0: give a number of sentences of at least 1"),
    (["--sentences", "100000000"], "holds only"),
    (["--batch-size", "0"], "--batch-size 0: give a batch size of at least 1"),
    (["--model", "missing-model"], "missing-model: no such model folder"),
    (["--output", "."], "--output .: is a folder"),
    (["--output", "taken/bench.json"], "is a file, not a folder"),
])
def test_bad_arguments_fail_in_one_line_before_any_measurement(tmp_path, arguments, message):
    (tmp_path / "taken").write_text("a file where a folder should be\n")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "benchmark.py"), "--skip-base", *arguments],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()  # nothing measured, no traceback
    assert line.startswith("error: ") and message in line


@pytest.mark.parametrize("damage, arguments, message", [
    (lambda m: None, lambda m: ["--output", str(m / "config.json")], "is a model folder, whose files this output could"),
    (lambda m: (m / "tokenizer.json").write_text('{"version": "1.0", "trunc'), lambda m: [],
     "cannot load the model or tokenizer"),
])
def test_a_model_folder_is_neither_overwritten_nor_a_traceback(tmp_path, model_dir, damage, arguments, message):  # noqa: F811
    model = shutil.copytree(model_dir, tmp_path / "model")
    damage(model)
    before = {p.name: p.read_bytes() for p in model.iterdir()}
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "benchmark.py"), "--skip-base", "--sentences", "20",
         "--model", str(model), *arguments(model)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ") and message in line
    assert {p.name: p.read_bytes() for p in model.iterdir()} == before

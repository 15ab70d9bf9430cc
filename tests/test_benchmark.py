"""scripts/benchmark.py runs end to end and reports the figures the README quotes."""

import json
import subprocess
import sys

import pytest

from train.core.paths import ROOT


def test_benchmark_times_both_ways_and_prints_json(tmp_path):
    output = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "benchmark.py"), "--sentences", "16", "--skip-base",
         "--precision", "auto", "fp32", "--output", str(output)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    printed = json.loads(result.stdout)
    assert printed == json.loads(output.read_text())
    assert printed["sentences"] == 16 and set(printed["matmul_peak"]) == {"fp32_gflops", "bf16_gflops", "int8_gops"}
    (mini,) = printed["models"]
    assert mini["naive"]["sentences_per_second"] > 0 and mini["tokens"] > 16
    runs = {run["precision"].split()[0]: run for run in mini["predictor"]}
    assert set(runs) == {"auto", "fp32"}
    for run in runs.values():
        ratio = run["sentences_per_second"] / mini["naive"]["sentences_per_second"]
        assert run["speedup"] == pytest.approx(ratio, rel=0.02)
        assert run["peak_rss_mb"] > 0 and 0 <= run["label_agreement_with_fp32"] <= 1

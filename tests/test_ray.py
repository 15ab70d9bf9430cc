"""kalimat-predict --ray against a real Ray instance on 127.0.0.1 (2 CPUs, temporary folders).

The module starts a head node with ``ray start`` and stops it afterwards; the cases connect
to it with ``--ray-address``, and one starts a local instance of its own (no address).
"""

import csv
import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from inference_fixtures import SEEDS, model_dir  # noqa: F401 (a fixture)

from train.core.paths import ROOT

RAY = Path(sys.executable).with_name("ray")
# Everything on 127.0.0.1: Ray otherwise swaps a loopback address for the machine's own IP.
# The cluster and its clients share a token (Ray's token authentication).
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
       "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": os.urandom(16).hex()}
pytestmark = pytest.mark.skipif(not RAY.is_file(), reason="ray is not installed (make install installs .[ray])")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def cluster():
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # Ray's socket paths must stay short
    port = _free_port()
    env = ENV
    started = subprocess.run([str(RAY), "start", "--head", "--num-cpus", "2", "--port", str(port),
                              "--node-ip-address", "127.0.0.1", "--temp-dir", temp, "--include-dashboard", "false",
                              "--disable-usage-stats"], capture_output=True, text=True, timeout=180, env=env)
    assert started.returncode == 0, started.stderr[-3000:]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([str(RAY), "stop", "--force"], capture_output=True, timeout=120, env=env)
        shutil.rmtree(temp, ignore_errors=True)


def predict(*args, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "predict.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=ENV)


def sorted_lines(folder: Path, suffix: str) -> list[str]:
    lines = [line for part in sorted(folder.glob(f"*.{suffix}")) for line in part.read_text().splitlines()]
    return sorted(lines, key=lambda line: json.loads(line)["article_id"] + f"{json.loads(line)['sentence_index']:06d}")


@pytest.fixture(scope="module")
def articles(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("articles")
    with gzip.open(ROOT / "data" / "corpus" / "indosum.jsonl.gz", "rt", encoding="utf-8") as corpus:
        (folder / "news.jsonl").write_text("".join(line for _, line in zip(range(60), corpus)), encoding="utf-8")
    shutil.copytree(SEEDS, folder / "seeds")
    return folder


@pytest.fixture(scope="module")
def single(model_dir, articles, tmp_path_factory) -> dict:  # noqa: F811
    out = tmp_path_factory.mktemp("single")
    jsonl, csv_file = out / "single.jsonl", out / "single.csv"
    assert predict("--model", model_dir, articles, "--output", jsonl).returncode == 0
    assert predict("--model", model_dir, articles, "--output", csv_file, "--format", "csv").returncode == 0
    lines = jsonl.read_text().splitlines()
    return {"jsonl": sorted(lines, key=lambda line: json.loads(line)["article_id"]
                            + f"{json.loads(line)['sentence_index']:06d}"),
            "csv": sorted(csv_file.read_text().splitlines()[1:])}


@pytest.mark.slow
@pytest.mark.parametrize("concurrency, per_call", [(1, 64), (2, 3)])
def test_the_records_equal_single_process_output_byte_for_byte(cluster, model_dir, articles, single, tmp_path,  # noqa: F811
                                                                concurrency, per_call):
    out = tmp_path / "parts"
    done = predict("--model", model_dir, articles, "--ray", "--ray-address", cluster, "--output", out,
                   "--concurrency", concurrency, "--articles-per-call", per_call)
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted_lines(out, "jsonl") == single["jsonl"]
    (summary,) = [line for line in done.stderr.splitlines() if line.startswith("summary:")]
    assert f"65 articles (0 empty), {len(single['jsonl'])} sentences" in summary
    assert f"cpu, int8; Ray, {concurrency} actors" in summary and "weights sha256" in summary


@pytest.mark.slow
def test_csv_and_parquet_hold_the_same_records(cluster, model_dir, articles, single, tmp_path):  # noqa: F811
    done = predict("--model", model_dir, articles, "--ray", "--ray-address", cluster, "--output", tmp_path / "csv",
                   "--format", "csv", "--concurrency", 2, "--articles-per-call", 5)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line for part in (tmp_path / "csv").glob("*.csv") for line in part.read_text().splitlines()[1:]]
    assert sorted(rows) == single["csv"]
    done = predict("--model", model_dir, articles, "--ray", "--ray-address", cluster, "--output",
                   tmp_path / "parquet", "--format", "parquet")
    assert done.returncode == 0, done.stderr[-3000:]
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "parquet")
    expected = list(csv.reader(single["csv"]))
    got = sorted([[str(v) for v in row.values()] for row in table.to_pylist()])
    assert got == sorted([[a, i, t, lab, str(float(s)), *(str(float(p)) for p in ps)]
                          for a, i, t, lab, s, *ps in expected])


@pytest.mark.slow
def test_an_actor_killed_mid_job_is_replaced_and_every_sentence_written_once(cluster, model_dir, single, tmp_path):  # noqa: F811
    many = tmp_path / "many.jsonl"
    with gzip.open(ROOT / "data" / "corpus" / "indosum.jsonl.gz", "rt", encoding="utf-8") as corpus:
        many.write_text("".join(line for _, line in zip(range(1000), corpus)), encoding="utf-8")
    out = tmp_path / "parts"
    job = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "predict.py"), "--model", str(model_dir), str(many),
                            "--ray", "--ray-address", cluster, "--output", str(out), "--concurrency", "2",
                            "--articles-per-call", "4", "--chunk-sentences", "16"],
                           env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True)
    deadline = time.monotonic() + 300
    killed = None
    while killed is None:
        assert job.poll() is None and time.monotonic() < deadline, "finished before an actor could be killed"
        pids = subprocess.run(["pgrep", "-f", "LabelArticles"], capture_output=True, text=True).stdout.split()
        busy = [pid for pid in pids if int(pid) != job.pid]
        if len(busy) == 2:
            time.sleep(3)  # both labeling
            killed = int(busy[0])
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.2)
    _, err = job.communicate(timeout=600)
    assert job.returncode == 0, err[-3000:]
    reference = tmp_path / "single.jsonl"
    assert predict("--model", model_dir, many, "--output", reference).returncode == 0
    keys = [(json.loads(line)["article_id"], json.loads(line)["sentence_index"]) for line in sorted_lines(out, "jsonl")]
    assert len(keys) == len(set(keys))  # every sentence exactly once
    assert sorted_lines(out, "jsonl") == sorted(reference.read_text().splitlines(), key=lambda line: json.loads(line)[
        "article_id"] + f"{json.loads(line)['sentence_index']:06d}")


@pytest.mark.slow
def test_a_local_instance_is_started_without_an_address_and_bad_input_is_counted(model_dir, articles, tmp_path):  # noqa: F811
    (tmp_path / "in").mkdir()
    shutil.copy(articles / "news.jsonl", tmp_path / "in" / "news.jsonl")
    with open(tmp_path / "in" / "news.jsonl", "a", encoding="utf-8") as handle:
        handle.write("not json\n")
    refused = predict("--model", model_dir, tmp_path / "in", "--ray", "--output", tmp_path / "parts")
    assert refused.returncode == 2 and not (tmp_path / "parts").exists()
    (line,) = refused.stderr.splitlines()
    assert line.startswith("error: ") and "news.jsonl:61: malformed JSON" in line
    env = {key: value for key, value in ENV.items() if key != "RAY_ADDRESS"}
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "predict.py"), "--model", str(model_dir),
                           str(tmp_path / "in"), "--ray", "--skip-bad", "--output", str(tmp_path / "parts")],
                          capture_output=True, text=True, timeout=600,
                          env={**env, "RAY_TMPDIR": tempfile.mkdtemp(prefix="ray", dir="/tmp")})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "60 articles (0 empty)" in done.stderr and "1 skipped as bad input" in done.stderr


@pytest.mark.parametrize("damage, args, message", [
    (lambda m: (m / "model.safetensors").write_bytes(b"cut"), [], "cannot load the model or tokenizer"),
    (lambda m: (m / "config.json").unlink(), [], "no config.json"),
    (lambda m: None, ["--resume"], "--ray writes part files in parallel"),
    (lambda m: None, ["--concurrency", "0"], "--concurrency 0: give a number above 0"),
])
def test_bad_settings_and_an_unloadable_model_are_one_line_before_any_work(model_dir, tmp_path, damage, args,  # noqa: F811
                                                                            message):
    model = shutil.copytree(model_dir, tmp_path / "model")
    damage(model)
    done = predict("--model", model, SEEDS, "--ray", "--output", tmp_path / "parts", *args)
    assert done.returncode == 2 and not (tmp_path / "parts").exists() and "Traceback" not in done.stderr
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert message in line


def test_kalimat_predict_without_ray_never_imports_ray(model_dir, tmp_path):  # noqa: F811
    probe = (f"import sys; from train.inference.predict import main; main(['--model', {str(model_dir)!r}, "
             f"{str(SEEDS)!r}, '--output', {str(tmp_path / 'out.jsonl')!r}]); print('ray' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, env=ENV)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"

"""The Label Studio round trip against a real Label Studio server started on 127.0.0.1.

``make install`` puts Label Studio in its own virtual environment (``.venv-label-studio``:
its pins clash with the project's); the server runs with a temporary data folder and stops
after the module. Two annotators label exported tasks through the API, the export comes back
through ``kalimat-annotate import`` and ``python -m train.dataset data=own`` builds from it.
"""

import html
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from browser import BROWSER, logged_in_page, stop
from inference_fixtures import model_dir  # noqa: F401 (a fixture)

from train.annotation.label_studio import LABELING_CONFIG, region
from train.core.labels import DEFINITIONS, LABELS
from train.core.paths import ROOT

LABEL_STUDIO = Path(os.environ.get("KALIMAT_LABEL_STUDIO", ROOT / ".venv-label-studio" / "bin" / "label-studio"))
TOKEN = "kalimat-test-token"
ARTICLES = [
    {"id": "own-1", "source": "contoh", "category": "nasional", "text": (
        "Pemerintah Kota Bogor meresmikan jalur sepeda baru sepanjang 12 kilometer pada Senin (4/3). "
        "\"Jalur ini aman untuk anak sekolah dan pekerja,\" kata Wali Kota Bogor. "
        "Jalur itu menghubungkan Stasiun Bogor dengan Kebun Raya. "
        "Pembangunan jalur sepeda sudah direncanakan sejak 2019.")},
    {"id": "own-2", "source": "contoh", "category": "olahraga", "text": (
        "Persib Bandung menang 2-1 atas Persija di Stadion Gelora Bandung Lautan Api, Sabtu malam. "
        "Kemenangan itu seharusnya menjadi modal penting bagi tim. "
        "Kedua tim terakhir bertemu pada musim lalu dengan skor imbang.")},
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, url: str):
        self.url = url

    def call(self, method: str, path: str, body=None):
        request = urllib.request.Request(self.url + path, method=method,
                                         data=None if body is None else json.dumps(body).encode(),
                                         headers={"Authorization": f"Token {TOKEN}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"null")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not LABEL_STUDIO.is_file():
        pytest.skip(f"Label Studio is not installed at {LABEL_STUDIO} (make label-studio puts it there)")
    data = tmp_path_factory.mktemp("label-studio")
    port = _free_port()
    env = {**os.environ, "LABEL_STUDIO_BASE_DATA_DIR": str(data), "HOME": str(data)}
    process = subprocess.Popen(
        [str(LABEL_STUDIO), "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(port),
         "--data-dir", str(data), "--username", "first@example.com", "--password", "kalimat-first",
         "--user-token", TOKEN, "--enable-legacy-api-token"],
        cwd=data, env=env, stdout=open(data / "server.log", "w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                urllib.request.urlopen(url + "/health", timeout=5)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("Label Studio did not start:\n" + (data / "server.log").read_text()[-3000:])
                time.sleep(1)
        yield Server(url)
    finally:
        stop(process, timeout=30)


def annotate(args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "train.annotation.cli", *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_labeling_configuration_names_the_four_labels_with_their_definitions_and_hotkeys():
    root = ElementTree.parse(LABELING_CONFIG).getroot()
    labels = root.find("ParagraphLabels").findall("Label")
    assert [label.get("value") for label in labels] == list(LABELS)
    assert [label.get("hint") for label in labels] == [DEFINITIONS[label] for label in LABELS]
    assert len({label.get("hotkey") for label in labels}) == 4
    assert "annotation_guidelines.md" in root.find("HyperText").get("value")


@pytest.mark.slow  # a Label Studio server starts for the module
def test_export_annotate_import_and_build(server, tmp_path):
    (tmp_path / "own" / "articles").mkdir(parents=True)
    articles = tmp_path / "own" / "articles" / "articles.jsonl"
    articles.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in ARTICLES), encoding="utf-8")
    exported = annotate(["export", articles, "--output", tmp_path / "tasks.json"], tmp_path)
    assert exported.returncode == 0, exported.stderr
    tasks = json.loads((tmp_path / "tasks.json").read_text())
    assert [t["data"]["article_id"] for t in tasks] == ["own-1", "own-2"] and "predictions" not in tasks[0]

    guidelines = (ROOT / "docs" / "annotation_guidelines.md").read_text(encoding="utf-8")
    project = server.call("POST", "/api/projects", {
        "title": "kalimat", "label_config": LABELING_CONFIG.read_text(encoding="utf-8"),
        "expert_instruction": f"<pre>{html.escape(guidelines)}</pre>", "show_instruction": True})
    server.call("POST", f"/api/projects/{project['id']}/import", tasks)
    stored = server.call("GET", f"/api/tasks?project={project['id']}&page_size=10")["tasks"]
    assert [t["data"]["sentences"] for t in stored] == [t["data"]["sentences"] for t in tasks]

    second = server.call("POST", "/api/users/", {"email": "second@example.com", "username": "second",
                                                "password": "kalimat-second"})
    gold = {"own-1": ["claim", "quote", "background", "background"], "own-2": ["claim", "opinion", "background"]}
    for t in stored:
        sentences = [s["text"] for s in t["data"]["sentences"]]
        labels = gold[t["data"]["article_id"]]
        assert len(sentences) == len(labels)
        server.call("POST", f"/api/tasks/{t['id']}/annotations",
                    {"result": [region(i, s, label) for i, (s, label) in enumerate(zip(sentences, labels))]})
        other = ["claim" if t["data"]["article_id"] == "own-1" and i == 2 else label for i, label in enumerate(labels)]
        server.call("POST", f"/api/tasks/{t['id']}/annotations", {"completed_by": second["id"], "result": [
            region(i, s, label) for i, (s, label) in enumerate(zip(sentences, other))]})
    export = tmp_path / "export.json"
    export.write_text(json.dumps(server.call("GET", f"/api/projects/{project['id']}/export?exportType=JSON")))

    output = tmp_path / "own" / "annotations.jsonl"
    first = annotate(["import", export, "--output", output, "--articles", articles], tmp_path)
    assert first.returncode == 2 and not output.exists()
    assert "1 sentences are labeled apart by their annotators and not adjudicated" in first.stderr
    assert "Cohen's kappa" in first.stderr
    sheet = (tmp_path / "own" / "annotations.jsonl.disagreements.md").read_text()
    assert "[2] Jalur itu menghubungkan Stasiun Bogor dengan Kebun Raya.  <-- DISAGREE: annotator-1 background, " \
           "annotator-2 claim" in sheet
    adjudications = tmp_path / "adjudications.jsonl"
    adjudications.write_text(json.dumps({"article_id": "own-1", "index": 2, "label": "background",
                                         "reason": "claim/background step 4: a standing description"}) + "\n")
    done = annotate(["import", export, "--output", output, "--articles", articles, "--adjudications", adjudications],
                    tmp_path)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [r["label"] for r in records] == gold["own-1"] + gold["own-2"]
    assert records[2]["annotators"] == {"annotator-1": "background", "annotator-2": "claim"}
    assert records[2]["adjudication"].startswith("claim/background step 4")

    built = subprocess.run([sys.executable, "-m", "train.dataset", "data=own", f"paths.own_dir={tmp_path / 'own'}",
                            f"paths.processed_dir={tmp_path / 'processed'}"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    sentences = [json.loads(line) for line in (tmp_path / "processed" / "news_own" / "sentences.jsonl").open()]
    own = [r for r in sentences if r["article_id"].startswith("own-")]
    assert [(r["text"], r["label"], r["label_source"]) for r in own] == [
        (r["text"], r["label"], "gold") for r in records]


@pytest.mark.slow
@pytest.mark.skipif(BROWSER is None, reason="no Chromium binary found (Debian: apt-get install chromium)")
def test_the_labeling_page_shows_the_article_and_the_four_labels(server, tmp_path):
    """What an annotator sees: headless Chromium logs in and opens an exported task in Label Studio."""
    articles = tmp_path / "articles.jsonl"
    articles.write_text(json.dumps(ARTICLES[0], ensure_ascii=False) + "\n", encoding="utf-8")
    assert annotate(["export", articles, "--output", tmp_path / "tasks.json"], tmp_path).returncode == 0
    tasks = json.loads((tmp_path / "tasks.json").read_text())
    project = server.call("POST", "/api/projects", {"title": "kalimat page",
                                                    "label_config": LABELING_CONFIG.read_text(encoding="utf-8")})
    server.call("POST", f"/api/projects/{project['id']}/import", tasks)
    (task,) = server.call("GET", f"/api/tasks?project={project['id']}&page_size=10")["tasks"]
    sentences = [s["text"] for s in task["data"]["sentences"]]
    text, png = logged_in_page(f"{server.url}/user/login", "first@example.com", "kalimat-first",
                               f"{server.url}/projects/{project['id']}/data?task={task['id']}",
                               f"document.body.innerText.includes({json.dumps(sentences[-1])})")
    assert all(sentence in text for sentence in sentences)
    assert [label for label in LABELS if f"{label}\n{label[0]}" in text] == list(LABELS)  # each with its hotkey
    assert "annotation_guidelines.md" in text
    assert png.startswith(b"\x89PNG") and len(png) > 20_000


@pytest.mark.parametrize("export, message", [
    ([{"id": 1, "data": {"text": "no sentences"}, "annotations": []}], "task 1: no article_id and sentences"),
    ([{"id": 1, "data": {"article_id": "a", "sentences": [{"index": 0, "text": "Satu."}]},
       "annotations": [{"completed_by": 1, "result": [{"from_name": "sentiment", "type": "choices",
                                                       "value": {"choices": ["x"]}}]}]}],
     "another labeling configuration"),
    ([{"id": 1, "data": {"article_id": "a", "sentences": [{"index": 0, "text": "Satu."}]},
       "annotations": [{"completed_by": 1, "result": [region(0, "Satu.", "fact")]}]}], "label ['fact'] is not one of"),
    ({"tasks": []}, "not a Label Studio JSON export"),
])
def test_a_bad_export_is_one_line_and_writes_nothing(tmp_path, export, message):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    process = annotate(["import", path, "--output", tmp_path / "out.jsonl"], tmp_path)
    assert process.returncode == 2 and not (tmp_path / "out.jsonl").exists()
    (line,) = process.stderr.splitlines()
    assert line.startswith("error: ") and message in line


def test_model_labels_are_predictions_only_when_asked(tmp_path, model_dir):  # noqa: F811
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    process = annotate(["export", tmp_path / "seeds", "--output", tmp_path / "tasks.json", "--predictions", model_dir],
                       tmp_path)
    assert process.returncode == 0, process.stderr
    tasks = json.loads((tmp_path / "tasks.json").read_text())
    (prediction,) = tasks[0]["predictions"]
    assert "not gold" in prediction["model_version"]
    assert len(prediction["result"]) == len(tasks[0]["data"]["sentences"])
    assert all("annotations" not in t for t in tasks)
    bad = annotate(["export", tmp_path / "seeds", "--output", tmp_path / "t2.json", "--predictions", tmp_path], tmp_path)
    assert bad.returncode == 2 and "no config.json" in bad.stderr and not (tmp_path / "t2.json").exists()


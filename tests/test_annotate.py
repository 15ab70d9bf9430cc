"""kalimat-annotate suggest and review: what to annotate next and which labels to re-read.

The Label Studio round trip (export, import) is tested against a real server in
test_label_studio.py; these two commands need a model or a run folder, not a server.
"""

import json
import subprocess
import sys

import numpy as np
from inference_fixtures import model_dir  # noqa: F401 (a fixture)
from report_fixtures import write_run

from train.annotation.suggest import entropy, rank
from train.core.labels import LABELS
from train.data.preprocess import Preprocessor
from train.inference.predictor import Predictor

POOL = [
    {"id": "a-1", "source": "alpha", "category": "nasional", "text":
        "Pemerintah meresmikan jalan tol baru sepanjang 12 kilometer pada Senin. "
        "\"Jalan ini memangkas waktu tempuh,\" kata menteri. Proyek itu dimulai pada 2019."},
    {"id": "a-2", "source": "alpha", "category": "nasional", "text":
        "Harga beras naik 5 persen pekan ini. Kenaikan itu seharusnya tidak terjadi menjelang panen."},
    {"id": "a-3", "source": "alpha", "category": "nasional", "text":
        "Banjir merendam 300 rumah di Bekasi. Warga mengungsi ke masjid terdekat. Banjir serupa terjadi tahun lalu."},
    {"id": "b-1", "source": "beta", "category": "olahraga", "text":
        "Persib menang 2-1 atas Persija, Sabtu malam. \"Kami bermain disiplin,\" ujar pelatih."},
    {"id": "b-2", "source": "beta", "category": "olahraga", "text":
        "Timnas berlatih di Bali menjelang piala Asia. Penampilan mereka sungguh mengecewakan."},
]


def annotate(args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "train.annotation.cli", *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, timeout=300)


def _pool(tmp_path):
    path = tmp_path / "pool.jsonl"
    path.write_text("".join(json.dumps(a) + "\n" for a in POOL))
    return path


def _uncertainty(model, article) -> float:
    """An article's mean sentence entropy, computed here from the predictor, apart from the command."""
    sentences, _ = Preprocessor.load(model).article_sentences(_article(article))
    (predictions,) = Predictor(model).predict_articles([sentences])
    return float(entropy(np.array([[p.probs[label] for label in LABELS] for p in predictions])).mean())


def _article(record):
    from train.data.articles import Article

    return Article(id=record["id"], text=record["text"], outlet=record["source"], category=record["category"],
                   source="pool")


def test_rank_orders_by_uncertainty_and_deals_groups_round_robin():
    articles = [{"id": "x1", "uncertainty": 0.9, "group": "x"}, {"id": "x2", "uncertainty": 0.8, "group": "x"},
                {"id": "x3", "uncertainty": 0.7, "group": "x"}, {"id": "y1", "uncertainty": 0.5, "group": "y"},
                {"id": "z1", "uncertainty": 0.6, "group": "z"}]
    assert [a["id"] for a in rank(articles, "uncertainty")] == ["x1", "x2", "x3", "z1", "y1"]
    assert [a["id"] for a in rank(articles, "balanced")] == ["x1", "z1", "y1", "x2", "x3"]
    shuffled = [a["id"] for a in rank(articles, "random", seed=3)]
    assert sorted(shuffled) == sorted(a["id"] for a in articles)
    assert shuffled == [a["id"] for a in rank(articles, "random", seed=3)]


def test_suggest_ranks_the_pool_by_the_models_uncertainty(tmp_path, model_dir):  # noqa: F811
    pool = _pool(tmp_path)
    done = annotate(["suggest", "--model", model_dir, "--pool", pool, "-n", "5", "--strategy", "uncertainty",
                     "--output", tmp_path / "next.jsonl"], tmp_path)
    assert done.returncode == 0, done.stderr
    chosen = [json.loads(line) for line in (tmp_path / "next.jsonl").read_text().splitlines()]
    expected = sorted(POOL, key=lambda a: -_uncertainty(model_dir, a))
    assert [c["id"] for c in chosen] == [a["id"] for a in expected]
    for c, a in zip(chosen, expected):
        assert c["text"] == a["text"] and abs(c["uncertainty"] - _uncertainty(model_dir, a)) < 1e-3

    # balanced (the default): the two outlets alternate while both have articles left; annotated ones are skipped
    annotated = tmp_path / "annotated.jsonl"
    annotated.write_text(json.dumps({"article_id": chosen[0]["id"], "text": "x", "label": "claim"}) + "\n")
    done = annotate(["suggest", "--model", model_dir, "--pool", pool, "-n", "4", "--exclude", annotated,
                     "--output", tmp_path / "balanced.jsonl"], tmp_path)
    assert done.returncode == 0, done.stderr
    picked = [json.loads(line) for line in (tmp_path / "balanced.jsonl").read_text().splitlines()]
    assert chosen[0]["id"] not in {p["id"] for p in picked} and len(picked) == 4
    assert picked[0]["source"] != picked[1]["source"]

    # the list is ready for export: one Label Studio task per suggested article
    done = annotate(["export", tmp_path / "balanced.jsonl", "--output", tmp_path / "tasks.json"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert [t["data"]["article_id"] for t in json.loads((tmp_path / "tasks.json").read_text())] == \
        [p["id"] for p in picked]


def test_suggest_bad_input_is_one_line_and_writes_nothing(tmp_path, model_dir):  # noqa: F811
    pool = _pool(tmp_path)
    for args, message in [
        (["--model", model_dir, "--pool", pool, "-n", "0"], "-n 0: ask for at least 1 article"),
        (["--model", tmp_path, "--pool", pool], "no config.json"),
        (["--model", model_dir, "--pool", tmp_path / "missing.jsonl"], "missing.jsonl"),
    ]:
        done = annotate(["suggest", *args, "--output", tmp_path / "next.jsonl"], tmp_path)
        assert done.returncode == 2, done.stderr
        (line,) = done.stderr.strip().splitlines()[-1:]
        assert line.startswith("error: ") and message in line, done.stderr
        assert not (tmp_path / "next.jsonl").exists()


def test_review_flags_the_labels_the_out_of_fold_model_contradicts(tmp_path):
    rng = np.random.default_rng(0)
    gold = [LABELS[i] for i in rng.integers(0, 4, 200)]
    wrong = {7, 42, 99, 150}  # the model confidently disagrees with these gold labels
    pred = [LABELS[(LABELS.index(g) + 1) % 4] if i in wrong else g for i, g in enumerate(gold)]
    run = write_run(tmp_path / "runs" / "cv-run", gold[:20], gold[:20], cv_gold=gold, cv_pred=pred)
    records = [json.loads(line) for line in (run / "cv_predictions.jsonl").read_text().splitlines()]
    records[42]["text"] = "<script>alert('x')</script> & co."
    (run / "cv_predictions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))

    done = annotate(["review", run, "--output", tmp_path / "review.html", "--list", tmp_path / "suspects.jsonl"],
                    tmp_path)
    assert done.returncode == 0, done.stderr
    suspects = [json.loads(line) for line in (tmp_path / "suspects.jsonl").read_text().splitlines()]
    flagged = {(s["article_id"], s["sentence_index"]) for s in suspects}
    assert flagged == {(records[i]["article_id"], records[i]["sentence_index"]) for i in wrong}
    assert all(s["label"] == gold[i] for s in suspects for i in wrong
               if (records[i]["article_id"], records[i]["sentence_index"]) == (s["article_id"], s["sentence_index"]))
    page = (tmp_path / "review.html").read_text()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co." in page and "<script>" not in page

    # --limit keeps the least self-confident first
    done = annotate(["review", run, "--output", tmp_path / "two.html", "--limit", "2", "--list",
                     tmp_path / "two.jsonl"], tmp_path)
    assert done.returncode == 0 and len((tmp_path / "two.jsonl").read_text().splitlines()) == 2


def test_review_of_a_run_without_cross_validation_is_one_line(tmp_path):
    run = write_run(tmp_path / "runs" / "plain", ["claim", "quote"] * 10, ["claim", "quote"] * 10)
    done = annotate(["review", run, "--output", tmp_path / "review.html"], tmp_path)
    assert done.returncode == 2 and not (tmp_path / "review.html").exists()
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: ") and "cv.folds=5" in line

"""kalimat-predict end to end: every input form, every output form, resume, and every bad input."""

import csv
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
from inference_fixtures import SEEDS, model_dir  # noqa: F401 (model_dir is a fixture)
from launcher import accelerate_launch
from other_user import needs_permissions, run_restricted
from transformers import AutoTokenizer

from train.core.labels import LABELS
from train.core.locking import FileLock, Locked
from train.inference.predict import main
from train.inference.resume import provenance
from train.inference.writers import CSV_COLUMNS
from train.inference.predictor import Predictor

ROOT = Path(__file__).resolve().parents[1]
RECORD_KEYS = ["article_id", "sentence_index", "text", "label", "score", "probs"]


def predict(capsys, *argv, expect_exit: int = 0) -> tuple[str, str]:
    """Run kalimat-predict in this process; return (stdout, stderr)."""
    if expect_exit:
        with pytest.raises(SystemExit) as exited:
            main([*map(str, argv)])
        assert exited.value.code == expect_exit
    else:
        main([*map(str, argv)])
    captured = capsys.readouterr()
    return captured.out, captured.err


def records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@pytest.fixture
def jsonl(tmp_path):
    path = tmp_path / "articles.jsonl"
    path.write_text(
        json.dumps({"id": "raw", "text": "Logo Bloomberg Technoz\n\nPresiden tiba di Jakarta. Ia disambut 500 orang."}) + "\n"
        + json.dumps({"id": "split", "sentences": ["Kalimat tanpa titik", "Dua. Tiga."]}) + "\n",
        encoding="utf-8",
    )
    return path


# ---------------------------------------------------------------- input forms


def test_seed_folder_prints_labeled_sentences(capsys, model_dir):
    out, err = predict(capsys, "--model", model_dir, SEEDS)
    rows = records(out)
    assert [list(r) for r in rows] == [RECORD_KEYS] * len(rows)
    ids = [r["article_id"] for r in rows]
    assert ids == sorted(ids) and len(set(ids)) == 5
    first = [r for r in rows if r["article_id"] == ids[0]]
    assert [r["sentence_index"] for r in first] == list(range(len(first)))
    for r in rows:
        assert list(r["probs"]) == list(LABELS)
        assert r["label"] == max(r["probs"], key=r["probs"].get) and r["score"] == r["probs"][r["label"]]
    assert "Logo Bloomberg Technoz" not in {r["text"] for r in rows}  # cleaned like the training data
    assert f"summary: 5 articles (0 empty, 0 resumed), {len(rows)} sentences" in err


def stdin(monkeypatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))


@pytest.mark.parametrize("text, skipped", [("", ""),
                                           ('{bad}\n{"id": 1}\n', " (2 skipped as bad input: <stdin>:1: malformed")])
def test_standard_input_without_articles_is_an_error_like_a_file(capsys, model_dir, monkeypatch, tmp_path, text,
                                                                 skipped):
    stdin(monkeypatch, text)
    out, err = predict(capsys, "--model", model_dir, "--skip-bad", "--output", tmp_path / "out.jsonl", "-",
                       expect_exit=2)
    *warnings, last = err.strip().splitlines()  # standard input is reported as it is read
    assert last.startswith(f"error: -: no articles to label{skipped}") and out == ""
    assert len(warnings) == (2 if skipped else 0)
    assert os.listdir(tmp_path) == []  # no output, no partial file


def test_csv_on_standard_output_is_not_started_before_standard_input_holds_an_article(capsys, model_dir,
                                                                                     monkeypatch):
    stdin(monkeypatch, "")
    out, err = predict(capsys, "--model", model_dir, "--format", "csv", "-", expect_exit=2)
    assert out == "" and error_line(err).startswith("error: -: no articles to label")
    stdin(monkeypatch, '{"id": "kosong", "text": "   "}\n')  # an article with no sentences: the header alone
    out, _ = predict(capsys, "--model", model_dir, "--format", "csv", "-")
    assert out.splitlines() == [",".join(CSV_COLUMNS)]


def test_input_files_are_checked_before_the_run_even_beside_standard_input(capsys, model_dir, monkeypatch, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": \n', encoding="utf-8")
    stdin(monkeypatch, "Satu kalimat.")
    out, err = predict(capsys, "--model", model_dir, SEEDS, bad, "-", expect_exit=2)
    assert f"{bad}:1: malformed JSON" in error_line(err) and out == ""


# ---------------------------------------------------------------- output forms


def test_csv_has_the_jsonl_fields(capsys, model_dir, jsonl):
    expected = records(predict(capsys, "--model", model_dir, jsonl)[0])
    out, _ = predict(capsys, "--model", model_dir, "--format", "csv", jsonl)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == RECORD_KEYS[:5] + [f"prob_{label}" for label in LABELS]
    assert [(r["article_id"], int(r["sentence_index"]), r["text"], r["label"], float(r["score"])) for r in rows] == [
        (r["article_id"], r["sentence_index"], r["text"], r["label"], r["score"]) for r in expected]
    assert [float(rows[0][f"prob_{label}"]) for label in LABELS] == list(expected[0]["probs"].values())


def test_output_file_and_html_page_escape_text(capsys, model_dir, tmp_path):
    source = tmp_path / "x.jsonl"
    source.write_text(json.dumps({"id": "<b>id</b>", "sentences": ["Ia menulis <script>alert(1)</script> & pergi."]}) + "\n")
    out, err = predict(capsys, "--model", model_dir, "--output", tmp_path / "out.jsonl",
                       "--html", tmp_path / "page.html", source)
    assert out == "" and "summary: 1 article (0 empty, 0 resumed), 1 sentence:" in err
    assert records((tmp_path / "out.jsonl").read_text())[0]["text"] == "Ia menulis <script>alert(1)</script> & pergi."
    page = (tmp_path / "page.html").read_text()
    assert "<script>" not in page and "<b>id" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; pergi." in page and "&lt;b&gt;id&lt;/b&gt;" in page
    assert all(f'<li class="s {label}"><span class="tag">{label}</span>' in page for label in LABELS)  # the legend
    (record,) = records((tmp_path / "out.jsonl").read_text())
    # the label and score are written beside the sentence, not only shown by colour or on hover
    assert f'<p class="s {record["label"]}"><span class="tag">[{record["label"]} {record["score"]:.2f}]</span> Ia menulis' in page
    assert f"Labeled by {model_dir}" in page
    assert page.count('class="counts"') == 2  # the article's counts and the totals
    # no partial files left; out.jsonl.json records what made out.jsonl
    assert sorted(os.listdir(tmp_path)) == ["out.jsonl", "out.jsonl.json", "page.html", "x.jsonl"]


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_page_colours_keep_text_readable():
    """WCAG contrast of the page's text (#111) on every label's background, and borders that stand out."""
    from train.inference.writers import COLOURS

    text = _luminance("#111111")
    for light, dark in COLOURS.values():
        assert (_luminance(light) + 0.05) / (text + 0.05) >= 7  # AAA for body text
        assert (_luminance(light) + 0.05) / (_luminance(dark) + 0.05) >= 3  # the border is visible on it
    assert len({light for light, _ in COLOURS.values()}) == len(COLOURS)


# ---------------------------------------------------------------- resume


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_resume_after_interruption_equals_a_clean_run(capsys, model_dir, tmp_path, monkeypatch, fmt):
    # The interrupted run labels one article a chunk, the clean run all five in one batch pass,
    # at the int8 engine: the records must still be the same, to the last digit.
    clean = tmp_path / f"clean.{fmt}"
    predict(capsys, "--model", model_dir, "--precision", "int8", "--format", fmt, "--output", clean, SEEDS)

    output = tmp_path / f"out.{fmt}"
    calls = []
    real_predict = Predictor.predict

    def interrupted_on_third_chunk(self, sentences, windows=None):
        calls.append(len(sentences))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_predict(self, sentences, windows)

    monkeypatch.setattr(Predictor, "predict", interrupted_on_third_chunk)
    _, err = predict(capsys, "--model", model_dir, "--precision", "int8", "--format", fmt, "--output", output,
                     "--chunk-sentences", "1", SEEDS, expect_exit=130)
    assert "--resume" in err and not output.exists()
    partial = Path(f"{output}.partial")
    with open(partial, "a", encoding="utf-8") as handle:
        handle.write('"cut-off line')  # as if killed in the middle of a write
    monkeypatch.setattr(Predictor, "predict", real_predict)

    _, err = predict(capsys, "--model", model_dir, "--precision", "int8", "--format", fmt, "--output", output,
                     "--resume", "--chunk-sentences", "1", SEEDS)
    assert output.read_text() == clean.read_text() and not partial.exists()
    assert "5 articles (0 empty, 1 resumed)" in err  # the second article may have been cut short

    _, err = predict(capsys, "--model", model_dir, "--precision", "int8", "--format", fmt, "--output", output,
                     "--resume", "--chunk-sentences", "1", SEEDS)
    assert output.read_text() == clean.read_text()
    assert "(0 empty, 4 resumed)" in err  # a finished output: only its last article is labeled again


def test_resume_with_another_model_or_precision_is_refused(capsys, model_dir, tmp_path, jsonl):
    output = tmp_path / "out.jsonl"
    predict(capsys, "--model", model_dir, "--precision", "fp32", "--output", output, jsonl)
    made_by = json.loads(Path(f"{output}.json").read_text())  # kept beside the finished output
    assert made_by == provenance(model_dir, "fp32") and not Path(f"{output}.partial.json").exists()
    before = output.read_bytes()
    # a finished output is checked as a partial one is
    _, err = predict(capsys, "--model", model_dir, "--precision", "int8", "--output", output, "--resume", jsonl,
                     expect_exit=2)
    assert f"{output} was labeled by {model_dir.resolve()} at precision fp32, not by" in error_line(err)
    assert output.read_bytes() == before and not Path(f"{output}.partial").exists()
    # as if killed: the partial output and the sidecar naming what made it
    output.rename(f"{output}.partial")
    Path(f"{output}.json").rename(f"{output}.partial.json")
    _, err = predict(capsys, "--model", model_dir, "--precision", "int8", "--output", output, "--resume", jsonl,
                     expect_exit=2)
    assert f"labeled by {model_dir.resolve()} at precision fp32, not by {model_dir.resolve()} at int8" in error_line(err)
    _, err = predict(capsys, "--model", model_dir, "--precision", "fp32", "--output", output, "--resume", jsonl)
    assert f"model {model_dir.resolve()}, weights sha256" in err
    assert output.exists() and not Path(f"{output}.partial").exists() and not Path(f"{output}.partial.json").exists()
    assert json.loads(Path(f"{output}.json").read_text()) == made_by


@pytest.mark.parametrize("change", ["temperature", "cleaning", "no record"])
def test_resume_after_the_model_settings_changed_is_refused(capsys, model_dir, tmp_path, jsonl, change):
    model = tmp_path / "model"
    shutil.copytree(model_dir, model)
    output = tmp_path / "out.jsonl"
    predict(capsys, "--model", model, "--output", output, jsonl)
    if change == "temperature":  # the calibration: every probability moves
        config = json.loads((model / "config.json").read_text())
        (model / "config.json").write_text(json.dumps({**config, "kalimat_temperature": 2.0}))
    elif change == "cleaning":
        (model / "kalimat_preprocessing.json").write_text(json.dumps({"drop_lines": ["^Presiden"], "strip": []}))
    else:  # a finished output from before its provenance was kept
        Path(f"{output}.json").unlink()
    before = output.read_bytes()
    _, err = predict(capsys, "--model", model, "--output", output, "--resume", jsonl, expect_exit=2)
    message = "has no out.jsonl.json beside it" if change == "no record" else "(settings_sha256 differ)"
    assert message in error_line(err) and output.read_bytes() == before
    assert not Path(f"{output}.partial").exists()


def test_resume_keeps_empty_articles_on_the_page_and_in_the_summary(capsys, model_dir, tmp_path):
    source = tmp_path / "articles.jsonl"
    source.write_text("".join(json.dumps({"id": i, "text": text}) + "\n" for i, text in
                              [("a", "Satu kalimat."), ("kosong", " "), ("b", "Dua kalimat."), ("c", "Tiga.")]))
    output, page = tmp_path / "out.jsonl", tmp_path / "page.html"
    _, err = predict(capsys, "--model", model_dir, "--output", output, "--html", page, source)
    assert "summary: 4 articles (1 empty, 0 resumed)" in err
    clean = page.read_text()
    # a finished output: a, the empty article and b are kept, c is labeled again
    _, err = predict(capsys, "--model", model_dir, "--output", output, "--html", page, "--resume", source)
    assert "summary: 4 articles (1 empty, 3 resumed)" in err
    assert page.read_text() == clean and "<h2>kosong</h2>" in clean


def test_resume_with_other_inputs_is_refused(capsys, model_dir, tmp_path, jsonl):
    output = tmp_path / "out.jsonl"
    predict(capsys, "--model", model_dir, "--output", output, SEEDS)
    _, err = predict(capsys, "--model", model_dir, "--output", output, "--resume", jsonl, expect_exit=2)
    assert "same inputs" in error_line(err)


@pytest.mark.parametrize("existing", ["jsonl output", "not output"])
def test_resume_refuses_a_file_it_cannot_continue(capsys, model_dir, tmp_path, jsonl, existing):
    output = tmp_path / "out.jsonl"
    if existing == "jsonl output":
        predict(capsys, "--model", model_dir, "--output", output, jsonl)
    else:
        output.write_text("notes, not records\n", encoding="utf-8")
    before = sorted(os.listdir(tmp_path)), output.read_bytes()
    # Asking for CSV must not overwrite finished JSONL output with a fresh CSV run.
    _, err = predict(capsys, "--model", model_dir, "--output", output, "--resume", "--format", "csv", jsonl,
                     expect_exit=2)
    assert f"{output} is not csv output" in error_line(err)
    assert (sorted(os.listdir(tmp_path)), output.read_bytes()) == before  # no .partial copy left


def test_resume_needs_an_output_file(capsys, model_dir):
    _, err = predict(capsys, "--model", model_dir, "--resume", SEEDS, expect_exit=2)
    assert "--resume needs --output" in error_line(err)


# ---------------------------------------------------------------- arguments and output paths


@pytest.mark.parametrize("argv, message", [
    (["--batch-size", "abc"], "argument --batch-size: invalid int value: 'abc'"),
    (["--format", "xml"], "argument --format: invalid choice"),
    ([], "the following arguments are required: INPUT"),
])
def test_usage_errors_are_one_line(capsys, model_dir, argv, message):
    _, err = predict(capsys, "--model", model_dir, *argv, expect_exit=2)
    assert message in error_line(err) and "--help" in err


def test_help_still_prints_usage(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0 and capsys.readouterr().out.startswith("usage: kalimat-predict")


def test_output_naming_a_new_folder_is_refused(capsys, model_dir, tmp_path, jsonl):
    _, err = predict(capsys, "--model", model_dir, "--output", f"{tmp_path}/results/", jsonl, expect_exit=2)
    assert "argument --output" in error_line(err) and "ends with /" in err
    assert os.listdir(tmp_path) == ["articles.jsonl"]


@pytest.mark.parametrize("late_error", ["--batch-size", "--precision"])
def test_an_argument_error_keeps_the_interrupted_run_and_makes_no_folders(capsys, model_dir, tmp_path, jsonl,
                                                                          late_error):
    model = tmp_path / "model"
    shutil.copytree(model_dir, model)
    (model / "model_int8.onnx").unlink()  # --precision int8 is refused when the model is loaded
    output = tmp_path / "out.jsonl"
    predict(capsys, "--model", model, "--precision", "fp32", "--output", output, jsonl)
    output.rename(f"{output}.partial")  # as if interrupted
    Path(f"{output}.json").rename(f"{output}.partial.json")
    kept = {name: Path(f"{output}{name}").read_bytes() for name in (".partial", ".partial.json")}
    bad = ["--batch-size", "0"] if late_error == "--batch-size" else ["--precision", "int8"]
    for target in (output, tmp_path / "new" / "out.jsonl"):
        _, err = predict(capsys, "--model", model, *bad, "--output", target, jsonl, expect_exit=2)
        assert late_error in error_line(err)
    assert {name: Path(f"{output}{name}").read_bytes() for name in kept} == kept
    assert not (tmp_path / "new").exists()


def test_output_into_new_folders_creates_them(capsys, model_dir, tmp_path, jsonl):
    output = tmp_path / "new" / "deeper" / "out.jsonl"
    predict(capsys, "--model", model_dir, "--output", output, jsonl)
    # raw text is cleaned and split with the model's preprocessing; sentences already split are kept as given
    assert [(r["article_id"], r["text"]) for r in records(output.read_text())] == [
        ("raw", "Presiden tiba di Jakarta."), ("raw", "Ia disambut 500 orang."),
        ("split", "Kalimat tanpa titik"), ("split", "Dua. Tiga."),
    ]


@pytest.mark.parametrize("option", ["--output", "--html"])
def test_output_naming_a_folder_is_refused_up_front(capsys, model_dir, tmp_path, jsonl, option):
    folder = tmp_path / "results"
    folder.mkdir()
    _, err = predict(capsys, "--model", model_dir, option, folder, jsonl, expect_exit=2)
    assert f"{option} {folder}: is a folder" in error_line(err)
    assert os.listdir(folder) == [] and sorted(os.listdir(tmp_path)) == ["articles.jsonl", "results"]


def test_output_under_a_file_is_refused_up_front(capsys, model_dir, tmp_path, jsonl):
    _, err = predict(capsys, "--model", model_dir, "--output", jsonl / "out.jsonl", jsonl, expect_exit=2)
    assert "is a file, not a folder" in error_line(err)


@pytest.mark.parametrize("paths, message", [
    (lambda tmp, src: ["--output", src], "--output"),
    (lambda tmp, src: ["--html", tmp / "absent" / ".." / src.name], "--html"),  # same file, other spelling
    (lambda tmp, src: ["--output", tmp / "out.jsonl", "--html", tmp / "out.jsonl"], "--html"),
    (lambda tmp, src: ["--output", tmp / "out.jsonl", "--html", tmp / "out.jsonl.json"], "--html"),  # provenance
])
def test_writing_over_an_input_or_the_output_is_refused(capsys, model_dir, tmp_path, jsonl, paths, message):
    before = jsonl.read_bytes()
    _, err = predict(capsys, "--model", model_dir, *paths(tmp_path, jsonl), jsonl, expect_exit=2)
    assert error_line(err).startswith(f"error: {message} ") and "is also" in err
    assert jsonl.read_bytes() == before and os.listdir(tmp_path) == ["articles.jsonl"]


@pytest.mark.parametrize("option, name", [("--output", "tokenizer.json"), ("--html", "README.md"),
                                          ("--output", "sub/out.jsonl")])
def test_an_output_inside_a_model_folder_is_refused(capsys, model_dir, tmp_path, jsonl, option, name):
    model = shutil.copytree(model_dir, tmp_path / "model")
    before = {p.name: p.read_bytes() for p in model.iterdir() if p.is_file()}
    _, err = predict(capsys, "--model", model, option, model / name, jsonl, expect_exit=2)
    assert error_line(err) == (f"error: {option} {model / name}: {model} is a model folder, whose files this output "
                               "could replace; write it outside run and model folders")
    assert {p.name: p.read_bytes() for p in model.iterdir() if p.is_file()} == before and not (model / "sub").exists()


def test_closed_pipe_stops_quietly(capsys, model_dir, monkeypatch):
    # As `kalimat-predict ... | head -1`: the reader is gone before the first record.
    read_end, write_end = os.pipe()
    os.close(read_end)
    with open(write_end, "w", encoding="utf-8") as pipe:
        monkeypatch.setattr(sys, "stdout", pipe)
        with pytest.raises(SystemExit) as exited:
            main(["--model", str(model_dir), str(SEEDS)])
        assert exited.value.code == 141
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------- bad input


def test_missing_input_path(capsys, model_dir, tmp_path):
    out, err = predict(capsys, "--model", model_dir, "--output", tmp_path / "out.jsonl", tmp_path / "absent.txt",
                       expect_exit=2)
    assert "no such file" in error_line(err) and out == ""
    assert os.listdir(tmp_path) == []


def test_bad_model_folder(capsys, model_dir, tmp_path):
    # Which damage check_model_dir names how is test_predictor.py's; here, that the run stops before any output.
    broken = tmp_path / "model"
    broken.mkdir()
    for name in os.listdir(model_dir):
        (broken / name).write_bytes((model_dir / name).read_bytes())
    (broken / "model.safetensors").unlink()
    torch.save({}, broken / "pytorch_model.bin")  # pickled weights only: refused, never loaded
    message = "safe_serialization"
    _, err = predict(capsys, "--model", broken, "--output", tmp_path / "out.jsonl", SEEDS, expect_exit=2)
    assert message in error_line(err)
    assert not (tmp_path / "out.jsonl").exists() and not (tmp_path / "out.jsonl.partial").exists()
    _, err = predict(capsys, "--model", broken, "--output", tmp_path / "new" / "out.jsonl", SEEDS, expect_exit=2)
    assert message in error_line(err) and not (tmp_path / "new").exists()


@pytest.mark.parametrize("name, content, message, kept", [
    ("bad.txt", b"\x00\x01\x02binary", "binary file", []),  # each kind of bad file: test_articles.py
    ("bad.jsonl", b'{"id": "a", "text": "Satu kalimat."}\n{"id": "b", "text": \n{"id": "c", "text": "Dua."}\n',
     "bad.jsonl:2: malformed JSON", ["a", "c"]),
])
def test_bad_input_stops_the_run_before_any_output_or_is_skipped(capsys, model_dir, tmp_path, name, content,
                                                                  message, kept):
    bad = tmp_path / name
    bad.write_bytes(content)
    out, err = predict(capsys, "--model", model_dir, "--output", tmp_path / "out.jsonl", bad, expect_exit=2)
    assert message in error_line(err) and str(bad) in err
    assert sorted(os.listdir(tmp_path)) == [name]  # nothing written, not even a partial file
    out, err = predict(capsys, "--model", model_dir, SEEDS, bad, expect_exit=2)
    assert out == ""  # checked before the first record, even on standard output

    out, err = predict(capsys, "--model", model_dir, "--skip-bad", bad, expect_exit=0 if kept else 2)
    assert [r["article_id"] for r in records(out)] == kept
    if kept:
        assert f"warning: skipped: {bad}" in err
    else:  # everything skipped: nothing to label is an error, as for an empty folder
        assert f"no articles to label (1 skipped as bad input: {bad}" in error_line(err)


def test_an_input_without_articles_is_an_error_like_an_empty_folder(capsys, model_dir, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    out, err = predict(capsys, "--model", model_dir, "--output", tmp_path / "out.jsonl", empty, expect_exit=2)
    assert f"{empty}: no articles to label" in error_line(err) and out == ""
    assert sorted(os.listdir(tmp_path)) == ["empty.jsonl"]


def test_duplicate_ids_are_reported(capsys, model_dir, tmp_path):
    source = tmp_path / "dup.jsonl"
    source.write_text('{"id": 7, "text": "Satu kalimat."}\n{"id": "7", "text": "Dua kalimat."}\n', encoding="utf-8")
    out, err = predict(capsys, "--model", model_dir, source)
    assert [r["article_id"] for r in records(out)] == ["7", "7"]
    assert f"warning: {source}:2: article id '7' was used before ({source}:1)" in err


def test_empty_article_is_reported_not_fatal(capsys, model_dir, tmp_path):
    (tmp_path / "a.txt").write_text("Satu kalimat.", encoding="utf-8")
    (tmp_path / "b.txt").write_text("  \n\n ", encoding="utf-8")
    out, err = predict(capsys, "--model", model_dir, tmp_path)
    assert [r["article_id"] for r in records(out)] == ["a"]
    assert "warning:" in err and "'b' is empty" in err
    assert "summary: 2 articles (1 empty, 0 resumed), 1 sentence:" in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_gpu(capsys, model_dir):
    _, err = predict(capsys, "--model", model_dir, "--device", "cuda", SEEDS, expect_exit=2)
    assert "no CUDA GPU" in error_line(err)


# ---------------------------------------------------------------- many processes


@pytest.mark.slow
def test_accelerate_launch_merges_shards_in_order(model_dir, tmp_path, jsonl):
    # One article a chunk, so both runs batch every article alike; the processes run on
    # one thread each, which may move probabilities in the last digits, never the order.
    options = ["--model", str(model_dir), "--chunk-sentences", "1", str(SEEDS), str(jsonl)]
    single = tmp_path / "single.jsonl"
    main(["--output", str(single), *options])
    merged = tmp_path / "merged.jsonl"
    launched = subprocess.run(
        [*accelerate_launch(), str(ROOT / "scripts" / "predict.py"), "--output", str(merged), *options],
        timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True,
    )
    assert launched.returncode == 0, launched.stderr[-3000:]
    (summary,) = [line for line in launched.stderr.splitlines() if line.startswith("summary:")]
    assert "2 processes; model " in summary
    expected, got = records(single.read_text()), records(merged.read_text())
    assert [(r["article_id"], r["sentence_index"], r["text"], r["label"]) for r in got] == [
        (r["article_id"], r["sentence_index"], r["text"], r["label"]) for r in expected]
    for a, b in zip(got, expected):
        assert a["probs"] == pytest.approx(b["probs"], abs=2e-3)
    assert sorted(os.listdir(tmp_path)) == ["articles.jsonl", "merged.jsonl", "merged.jsonl.json", "single.jsonl",
                                            "single.jsonl.json"]


# ---------------------------------------------------------------- outputs that are not regular files


def _read_fifo(fifo: Path) -> tuple[threading.Thread, list[str]]:
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text(encoding="utf-8")), daemon=True)
    reader.start()
    return reader, received


def test_a_fifo_is_written_through_and_stays_a_fifo(capsys, model_dir, tmp_path, jsonl):
    expected = predict(capsys, "--model", model_dir, jsonl)[0]
    fifo, page = tmp_path / "records", tmp_path / "page"
    os.mkfifo(fifo)
    os.mkfifo(page)
    (reader, received), (page_reader, page_received) = _read_fifo(fifo), _read_fifo(page)
    predict(capsys, "--model", model_dir, "--output", fifo, "--html", page, jsonl)
    reader.join(30)
    page_reader.join(30)
    assert received == [expected] and "</html>" in page_received[0]
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and stat.S_ISFIFO(page.lstat().st_mode)
    assert sorted(os.listdir(tmp_path)) == ["articles.jsonl", "page", "records"]  # no .partial, no .lock


def test_a_device_is_never_replaced_and_a_link_is_followed(capsys, model_dir, tmp_path, jsonl):
    expected = predict(capsys, "--model", model_dir, jsonl)[0]
    to_device, to_file = tmp_path / "to-null", tmp_path / "to-file.jsonl"
    to_device.symlink_to("/dev/null")
    (tmp_path / "real").mkdir()
    to_file.symlink_to(tmp_path / "real" / "out.jsonl")
    predict(capsys, "--model", model_dir, "--output", to_device, "--html", to_file.with_suffix(".html"), jsonl)
    assert to_device.is_symlink() and stat.S_ISCHR(os.stat("/dev/null").st_mode)
    predict(capsys, "--model", model_dir, "--output", to_file, jsonl)
    # the link survives; the file it points to was written atomically beside itself
    assert to_file.is_symlink() and (tmp_path / "real" / "out.jsonl").read_text() == expected
    assert sorted(os.listdir(tmp_path / "real")) == ["out.jsonl", "out.jsonl.json"]


def test_standard_output_by_name_is_written_through(model_dir, jsonl):
    process = subprocess.run([sys.executable, str(ROOT / "scripts" / "predict.py"), "--model", str(model_dir),
                              "--output", "/dev/stdout", str(jsonl)], capture_output=True, text=True, timeout=120,
                             env={**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"})
    assert process.returncode == 0, process.stderr
    assert [r["article_id"] for r in records(process.stdout)] == ["raw", "raw", "split", "split"]
    assert not os.path.lexists("/dev/stdout.partial") and not os.path.lexists("/dev/stdout.lock")


def test_resume_on_a_stream_is_refused(capsys, model_dir, tmp_path, jsonl):
    fifo = tmp_path / "records"
    os.mkfifo(fifo)
    _, err = predict(capsys, "--model", model_dir, "--output", fifo, "--resume", jsonl, expect_exit=2)
    assert f"--resume: --output {fifo} is a stream" in error_line(err)


def test_a_full_device_is_one_line_saying_what_was_written(capsys, model_dir, jsonl):
    _, err = predict(capsys, "--model", model_dir, "--output", "/dev/full", jsonl, expect_exit=2)
    line = error_line(err)
    assert line.startswith("error: no space left on device while writing /dev/full: /dev/full received 0 complete")
    assert "a stream cannot be resumed" in line and stat.S_ISCHR(os.stat("/dev/full").st_mode)


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1) to mount a small file system")
def test_a_full_disk_keeps_the_finished_articles_for_resume(capsys, model_dir, tmp_path):
    """A real full disk: a 4 KiB tmpfs in a private mount namespace, then --resume elsewhere."""
    clean = tmp_path / "clean.jsonl"
    predict(capsys, "--model", model_dir, "--output", clean, SEEDS)
    disk, kept = tmp_path / "disk", tmp_path / "kept"
    disk.mkdir()
    kept.mkdir()
    predict_cli = f"{sys.executable} {ROOT / 'scripts' / 'predict.py'} --model {model_dir} --output {disk}/out.jsonl {SEEDS}"
    script = (f"mount -t tmpfs -o size=8k tmpfs {disk} || exit 99; {predict_cli}; code=$?; "
              f"cp -a {disk}/. {kept}/; exit $code")
    process = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=180,
                             env={**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"})
    if process.returncode == 99:
        pytest.skip("this machine does not let the tests mount a tmpfs")
    assert process.returncode == 2, process.stderr
    (line,) = [line for line in process.stderr.splitlines() if line.startswith("error:")]
    assert line.startswith(f"error: no space left on device while writing {disk}/out.jsonl: "
                           f"{disk}/out.jsonl.partial keeps ")
    assert line.endswith("free some space and run the same command with --resume to label the rest")
    assert "Traceback" not in process.stderr
    assert sorted(os.listdir(kept)) == ["out.jsonl.partial", "out.jsonl.partial.json"]
    # what was kept continues on a disk with room
    _, err = predict(capsys, "--model", model_dir, "--output", kept / "out.jsonl", "--resume", SEEDS)
    assert (kept / "out.jsonl").read_text() == clean.read_text()


# ---------------------------------------------------------------- one run per output


def test_a_second_run_on_the_same_output_is_refused(capsys, model_dir, tmp_path, jsonl):
    output = tmp_path / "out.jsonl"
    partial = Path(f"{output}.partial")
    partial.write_text("the first run's records\n")  # the other run's work so far
    with FileLock(f"{output}.lock"):
        _, err = predict(capsys, "--model", model_dir, "--output", output, jsonl, expect_exit=2)
    assert error_line(err) == (f"error: --output {output}: another kalimat-predict run (process {os.getpid()}) is "
                               f"writing it (lock {output}.lock); wait for it to finish, or choose another --output")
    assert partial.read_text() == "the first run's records\n" and not output.exists()
    with FileLock(tmp_path / "page.html.lock"):
        _, err = predict(capsys, "--model", model_dir, "--html", tmp_path / "page.html", jsonl, expect_exit=2)
    assert "--html" in error_line(err) and not (tmp_path / "page.html").exists()


def test_the_lock_of_a_killed_run_does_not_block_the_next(capsys, model_dir, tmp_path, jsonl):
    output = tmp_path / "out.jsonl"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from train.core.locking import FileLock; "
                               f"FileLock({str(output) + '.lock'!r}).acquire(); print('held', flush=True); "
                               "time.sleep(120)"], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    predict(capsys, "--model", model_dir, "--output", output, jsonl, expect_exit=2)
    holder.send_signal(signal.SIGKILL)
    holder.wait(30)
    assert Path(f"{output}.lock").exists()  # left by the kill, but no longer locked
    predict(capsys, "--model", model_dir, "--output", output, jsonl)
    assert len(records(output.read_text())) == 4
    assert sorted(os.listdir(tmp_path)) == ["articles.jsonl", "out.jsonl", "out.jsonl.json"]


# ---------------------------------------------------------------- permissions


def _predict_restricted(*argv) -> subprocess.CompletedProcess:
    return run_restricted([ROOT / "scripts" / "predict.py", *argv])


@needs_permissions
def test_an_unwritable_output_folder_is_found_before_the_model_loads(tmp_path, jsonl):
    locked = tmp_path / "results"
    locked.mkdir()
    locked.chmod(0o555)
    # No model at all: the output folder is checked first.
    process = _predict_restricted("--model", tmp_path / "no-model", "--output", locked / "sub" / "out.jsonl", jsonl)
    assert process.returncode == 2
    assert error_line(process.stderr) == (
        f"error: --output {locked / 'sub' / 'out.jsonl'}: cannot write in the folder {locked} (permission denied); "
        "choose another path or fix the folder's permissions")
    assert os.listdir(locked) == []


@needs_permissions
def test_unreadable_inputs_are_one_error_or_a_reported_skip(model_dir, tmp_path):
    inputs = tmp_path / "in"
    (inputs / "a").mkdir(parents=True)
    (inputs / "a" / "ok.txt").write_text("Presiden tiba di Jakarta. Ia disambut 500 orang.", encoding="utf-8")
    (inputs / "locked").mkdir()
    (inputs / "locked" / "lost.txt").write_text("Artikel yang hilang.", encoding="utf-8")
    (inputs / "secret.txt").write_text("Artikel rahasia.", encoding="utf-8")
    (inputs / "locked").chmod(0)
    (inputs / "secret.txt").chmod(0)
    output = tmp_path / "out.jsonl"
    try:
        process = _predict_restricted("--model", model_dir, "--output", output, inputs)
        assert process.returncode == 2
        assert error_line(process.stderr) == (f"error: {inputs / 'locked'}: folder cannot be read (Permission denied); "
                                              "its articles are left out, fix its permissions")
        assert not output.exists() and not Path(f"{output}.partial").exists()

        process = _predict_restricted("--model", model_dir, "--output", output, "--skip-bad", inputs)
    finally:
        (inputs / "locked").chmod(0o755)
    assert process.returncode == 0, process.stderr
    warnings = [line for line in process.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: skipped: {inputs / 'locked'}: folder cannot be read (Permission denied); its articles are left out, "
        "fix its permissions",
        f"warning: skipped: {inputs / 'secret.txt'}: cannot be read (Permission denied); check the file and its "
        "permissions",
    ]
    assert [r["article_id"] for r in records(output.read_text())] == ["a/ok", "a/ok"]


# ---------------------------------------------------------------- length


def test_sentences_longer_than_the_model_reads_are_counted(capsys, model_dir, tmp_path):
    sentences = ["Presiden tiba di Jakarta.", "Ia disambut " + "ribuan warga yang bersorak " * 60 + "di bandara."]
    source = tmp_path / "long.jsonl"
    source.write_text(json.dumps({"id": "long", "sentences": sentences}) + "\n", encoding="utf-8")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    limit = Predictor(model_dir, device="cpu").max_length
    longer = sum(len(tokenizer(s)["input_ids"]) > limit for s in sentences)
    assert longer == 1  # the test's own premise
    out, err = predict(capsys, "--model", model_dir, source)
    assert len(records(out)) == 2
    assert f"; 1 of the 2 labeled were longer than the model's {limit} tokens and cut;" in err


def test_a_file_written_beside_another_runs_output_is_locked_with_it(capsys, model_dir, tmp_path, jsonl):
    """Run A writes cc.jsonl (and cc.jsonl.partial); run B may not write its page over A's partial file."""
    output = tmp_path / "cc.jsonl"
    with FileLock(f"{output}.lock"):
        for option, name in [("--html", "cc.jsonl.partial"), ("--nonprose", "cc.jsonl.json"),
                             ("--output", "cc.jsonl.partial.json")]:
            _, err = predict(capsys, "--model", model_dir, option, tmp_path / name, jsonl, expect_exit=2)
            assert error_line(err).startswith(f"error: {option} {tmp_path / name}: another kalimat-predict run")
            assert f"(lock {output}.lock)" in err
    assert sorted(os.listdir(tmp_path)) == ["articles.jsonl"]


def test_lines_that_are_not_prose_are_left_out_counted_and_listed(capsys, model_dir, tmp_path):
    article = tmp_path / "raw.txt"
    article.write_text("Presiden meresmikan jalan tol baru, Senin.\nADVERTISEMENT\n-\n"
                       "\"Jalan ini penting,\" katanya.\nEditor: Aprillia Ika\nBaca Juga :\n"
                       "Jokowi Resmikan Tol Baru di Sumatera\n(Foto: Istimewa)\n", encoding="utf-8")
    out, err = predict(capsys, "--model", model_dir, article, "--nonprose", tmp_path / "left.jsonl")
    assert [r["text"] for r in records(out)] == ["Presiden meresmikan jalan tol baru, Senin.",
                                                 "\"Jalan ini penting,\" katanya."]
    assert "6 lines left out as not prose" in err
    left = records((tmp_path / "left.jsonl").read_text())
    assert [(r["text"], r["after_sentence"], r["reason"]) for r in left] == [
        ("ADVERTISEMENT", 0, "ad marker"), ("-", 0, "no words"), ("Editor: Aprillia Ika", 1, "byline"),
        ("Baca Juga :", 1, "related-article link"), ("Jokowi Resmikan Tol Baru di Sumatera", 1, "related-article link"),
        ("(Foto: Istimewa)", 1, "photo credit")]


@pytest.mark.slow
def test_a_killed_multi_process_run_keeps_its_finished_articles_for_resume(model_dir, tmp_path):
    import gzip
    articles = tmp_path / "many.jsonl"
    with gzip.open(ROOT / "data" / "corpus" / "indosum.jsonl.gz", "rt", encoding="utf-8") as corpus:
        articles.write_text("".join(line for _, line in zip(range(700), corpus)), encoding="utf-8")
    output = tmp_path / "acck.jsonl"
    options = ["--model", str(model_dir), "--chunk-sentences", "64", str(articles)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    launched = subprocess.Popen([*accelerate_launch(), str(ROOT / "scripts" / "predict.py"), "--output", str(output),
                                 *options], env=env, stderr=subprocess.DEVNULL, start_new_session=True)
    partial = Path(f"{output}.partial")
    deadline = time.monotonic() + 240
    while not (partial.exists() and partial.read_text().count('"sentence_index": 0,') > 40):
        assert launched.poll() is None and time.monotonic() < deadline, "finished or stuck before the kill"
        time.sleep(0.05)
    os.killpg(launched.pid, signal.SIGKILL)  # the launcher and every process it started: kill -9 of the job
    subprocess.run(["pkill", "-KILL", "-f", str(output)])  # workers the launcher put in sessions of their own
    launched.wait(30)
    while True:  # the kernel drops the dead workers' lock as they go
        try:
            FileLock(f"{output}.lock").acquire().release()
            break
        except Locked:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    kept = partial.read_text().count('"sentence_index": 0,')
    assert kept > 40 and not output.exists() and Path(f"{output}.partial.shards").is_dir()

    main(["--output", str(output), "--resume", *options])
    assert not Path(f"{output}.partial.shards").exists() and not partial.exists()
    single = tmp_path / "single.jsonl"
    main(["--output", str(single), *options])
    got, expected = records(output.read_text()), records(single.read_text())
    assert [(r["article_id"], r["sentence_index"], r["label"]) for r in got] == [
        (r["article_id"], r["sentence_index"], r["label"]) for r in expected]
    for a, b in zip(got, expected):
        assert a["probs"] == pytest.approx(b["probs"], abs=2e-3)

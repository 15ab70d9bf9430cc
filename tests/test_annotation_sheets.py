"""scripts/annotation_sheets.py: sheets of seed articles, labeled, merged, compared and combined."""

import importlib.util
import json

import pytest

from train.core.paths import ROOT

_spec = importlib.util.spec_from_file_location("annotation_sheets", ROOT / "scripts" / "annotation_sheets.py")
sheets_script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sheets_script)

SEEDS = ROOT / "seeds"
# An article with the same sentence twice: labels must stay on their own sentence.
REPEATED = {"id": "repeat", "category": "olahraga",
            "text": "Tim itu menang lagi. Skornya 3-1 di kandang. Tim itu menang lagi."}


def run(capsys, *argv) -> str:
    """Run the script; its one-line error (and exit status 2) as text, or '' on success."""
    try:
        sheets_script.main([str(a) for a in argv])
    except SystemExit as exit:
        assert exit.code == 2
        (line,) = capsys.readouterr().err.splitlines()
        assert line.startswith("error: ")
        return line
    return ""


@pytest.fixture
def sheets(tmp_path, capsys):
    corpus = tmp_path / "articles.jsonl"
    corpus.write_text(json.dumps(REPEATED) + "\n")
    out = tmp_path / "sheets"
    assert run(capsys, "make", SEEDS / "000_da2521d8e10fc030.txt", corpus, "--out", out,
               "--per-batch", "5", "--second-share", "1") == ""
    return out


def label_file(path, sheet_dir, sheet, label=lambda article_id, index: "claim", skip=()) -> None:
    """Label every sentence of ``sheet`` (but the articles in ``skip``)."""
    sentences = json.loads((sheet_dir / "sentences.json").read_text())
    ids = json.loads((sheet_dir / "sheets.json").read_text())[sheet]
    path.write_text("".join(
        json.dumps({"article_id": aid, "index": i, "label": label(aid, i)}) + "\n"
        for aid in ids if aid not in skip for i in range(len(sentences[aid]))
    ))


def test_second_share_zero_makes_no_second_sheets(tmp_path, capsys):
    assert run(capsys, "make", SEEDS / "000_da2521d8e10fc030.txt", "--out", tmp_path, "--second-share", "0") == ""
    assert json.loads((tmp_path / "sheets.json").read_text()) == {"batch_01": ["000_da2521d8e10fc030"]}
    assert not list(tmp_path.glob("second_*"))


def test_merge_refuses_a_sheet_with_an_unlabeled_article(sheets, tmp_path, capsys):
    labels = tmp_path / "batch_01.jsonl"
    label_file(labels, sheets, "batch_01", skip={"repeat"})
    error = run(capsys, "merge", sheets, labels, "--output", tmp_path / "first.jsonl")
    assert "article repeat: sentences [0, 1, 2] have no label" in error
    assert not (tmp_path / "first.jsonl").exists()


def test_a_repeated_sentence_keeps_its_own_labels_through_disagreements_and_combine(sheets, tmp_path, capsys):
    first_labels, second_labels = tmp_path / "batch_01.jsonl", tmp_path / "second_01.jsonl"
    label_file(first_labels, sheets, "batch_01")
    # The second annotator differs only on the second "Tim itu menang lagi."
    label_file(second_labels, sheets, "second_01", label=lambda aid, i: "background" if (aid, i) == ("repeat", 2)
               else "claim")
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    assert run(capsys, "merge", sheets, first_labels, "--output", first) == ""
    assert run(capsys, "merge", sheets, second_labels, "--output", second) == ""
    assert run(capsys, "disagreements", sheets, first, second, "--out", tmp_path / "adjudicate.md") == ""
    page = (tmp_path / "adjudicate.md").read_text()
    assert "[0] Tim itu menang lagi.\n" in page and "[2] Tim itu menang lagi.  <-- DISAGREE: claim / background" in page
    adjudications = tmp_path / "adjudicated.jsonl"
    adjudications.write_text(json.dumps({"article_id": "repeat", "index": 2, "label": "background",
                                         "reason": "repeats the lead"}) + "\n")
    assert run(capsys, "combine", sheets, first, second, "--adjudications", adjudications,
               "--output", tmp_path / "gold.jsonl") == ""
    rows = [json.loads(line) for line in (tmp_path / "gold.jsonl").read_text().splitlines()]
    assert len(rows) == len(first.read_text().splitlines())  # no sentence dropped
    repeat = [(r["text"], r["label"]) for r in rows if r["article_id"] == "repeat"]
    assert repeat == [("Tim itu menang lagi.", "claim"), ("Skornya 3-1 di kandang.", "claim"),
                      ("Tim itu menang lagi.", "background")]


def test_bad_input_gives_one_line_errors(sheets, tmp_path, capsys):
    labels = tmp_path / "batch_01.jsonl"
    label_file(labels, sheets, "batch_01", label=lambda aid, i: "Claim")
    assert "unknown label 'Claim'" in run(capsys, "merge", sheets, labels, "--output", tmp_path / "x.jsonl")
    assert "--per-batch 0" in run(capsys, "make", SEEDS, "--out", tmp_path / "s", "--per-batch", "0")
    assert "sentences.json" in run(capsys, "merge", tmp_path / "missing", labels, "--output", tmp_path / "x.jsonl")
    stray = tmp_path / "batch_09.jsonl"
    stray.write_text("")
    assert "no sheet batch_09.md" in run(capsys, "merge", sheets, stray, "--output", tmp_path / "x.jsonl")
    # The second reading names articles the first file lacks.
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text("")
    label_file(tmp_path / "second_01.jsonl", sheets, "second_01")
    assert run(capsys, "merge", sheets, tmp_path / "second_01.jsonl", "--output", second) == ""
    error = run(capsys, "disagreements", sheets, first, second, "--out", tmp_path / "d.md")
    assert "are not in" in error and not (tmp_path / "d.md").exists()

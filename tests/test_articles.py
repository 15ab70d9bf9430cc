"""Reading articles: every input form, and every bad input named in one line."""

import io
import sys

import pytest

from train.core.errors import KalimatError
from train.core.paths import ROOT
from train.data.articles import BadInput, read_articles


def test_reads_seed_folder_in_sorted_order(tmp_path):
    ids = [a.id for a in read_articles([str(ROOT / "seeds")])]
    assert ids == sorted(ids) and len(ids) == 5
    assert ids[0] == "000_da2521d8e10fc030"


def test_bom_and_crlf_are_normalised(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes("\ufeffBaris satu.\r\nBaris dua.\rBaris tiga.".encode("utf-8"))
    (article,) = read_articles([str(path)])
    assert article.text == "Baris satu.\nBaris dua.\nBaris tiga."
    assert article.id == "a"


def test_jsonl_text_and_presplit_forms(tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_text(
        '{"id": "x", "text": "Satu. Dua."}\n\n{"id": 7, "sentences": ["Satu", "Dua"]}\n',
        encoding="utf-8",
    )
    first, second = read_articles([str(path)])
    assert (first.id, first.text, first.sentences) == ("x", "Satu. Dua.", None)
    assert (second.id, second.sentences) == ("7", ["Satu", "Dua"])


def test_nested_folder_ids_keep_their_subfolder(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.txt").write_text("Satu.", encoding="utf-8")
    (tmp_path / "b" / "x.txt").write_text("Dua.", encoding="utf-8")
    (tmp_path / "notes.md").write_text("ignored", encoding="utf-8")
    # a JSONL file sorts among the sub-folders by its path, not before or after them
    (tmp_path / "articles.jsonl").write_text(
        '{"id": "raw", "text": "Tiga."}\n{"id": "split", "sentences": ["Empat."]}\n', encoding="utf-8")
    assert [a.id for a in read_articles([str(tmp_path)])] == ["a/x", "raw", "split", "b/x"]


def test_hidden_files_and_folders_in_a_folder_are_passed_over(tmp_path):
    """A Mac's ``._*`` metadata files stopped the build as binary; Jupyter's checkpoint copies
    were read as more articles."""
    (tmp_path / "a.txt").write_text("Satu.", encoding="utf-8")
    (tmp_path / "._a.txt").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "a-checkpoint.txt").write_text("Satu.", encoding="utf-8")
    assert [a.id for a in read_articles([str(tmp_path)])] == ["a"]
    hidden = tmp_path / ".draft.txt"  # named on its own, it is read
    hidden.write_text("Dua.", encoding="utf-8")
    assert [a.id for a in read_articles([str(hidden)])] == [".draft"]


def test_stdin_text_and_jsonl(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"Satu. Dua.")))
    (article,) = read_articles(["-"])
    assert (article.id, article.text) == ("stdin", "Satu. Dua.")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'{"id": "q", "text": "T."}\n')))
    assert [a.id for a in read_articles(["-"])] == ["q"]
    for blank in (b"", b"  \n"):  # nothing piped in holds no article, as an empty JSONL file does
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(blank)))
        assert list(read_articles(["-"])) == []


def test_missing_path_fails_before_reading_anything(tmp_path):
    good = tmp_path / "a.txt"
    good.write_text("Satu.", encoding="utf-8")
    with pytest.raises(KalimatError, match="no such file"):
        read_articles([str(good), str(tmp_path / "missing.txt")])


BAD_INPUTS = [  # (file name, content, what the error says, articles still read with skip_bad)
    ("bin.txt", b"\x89PNG\x00\x00\x01", "binary", []),
    ("late-nul.txt", b"Kalimat biasa. " * 1000 + b"\x00", "binary", []),  # past the first 8 KB
    ("latin.txt", "Bogotá".encode("latin-1"), "UTF-8", []),
    ("c.jsonl", b'{"id": "a", "text": "Satu."}\n{"id": "b", "text": \n{"id": "c", "text": "Dua."}\n',
     r"c\.jsonl:2: malformed JSON", ["a", "c"]),
]


@pytest.mark.parametrize("name, content, message, kept", BAD_INPUTS)
def test_bad_input_is_named_or_skipped(tmp_path, name, content, message, kept):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(BadInput, match=message) as raised:
        list(read_articles([str(path)]))
    assert str(raised.value).startswith(str(path))  # the message names the file by the path given
    warnings = []
    assert [a.id for a in read_articles([str(path)], skip_bad=True, warn=warnings.append)] == kept
    assert len(warnings) == 1 and str(path) in warnings[0]


@pytest.mark.parametrize(
    "line, message",
    [('["a"]', "object with an"), ('{"text": "x"}', "object with an"), ('{"id": "a"}', "needs a"),
     ('{"id": "a", "sentences": [1]}', "list of strings"),
     ('{"id": "a\\nb", "text": "x"}', "line break or control character"),
     ('{"id": "a", "text": "x", "sentences": ["y"]}', 'both "text" and "sentences"'),
     ('{"id": "a", "sentences": ["Satu.", "", " ", "Empat."]}', '"sentences" item 1 \\(from 0\\) is empty'),
     ('{"id": "sur", "text": "Kalimat \\ud800 rusak di sini."}', "lone surrogate"),
     ('{"id": "\\udfff", "text": "x"}', "lone surrogate"),
     ('{"id": "a", "sentences": ["Satu.", "\\ud83d"]}', "lone surrogate")],
)
def test_jsonl_records_of_the_wrong_shape(tmp_path, line, message):
    path = tmp_path / "d.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(BadInput, match=message):
        list(read_articles([str(path)]))


def test_a_surrogate_pair_is_text(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": "a", "text": "Senyum \\ud83d\\ude00."}\n', encoding="utf-8")
    assert [a.text for a in read_articles([str(path)])] == ["Senyum \U0001F600."]


def test_linked_sub_folders_are_followed_once(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "b.txt").write_text("Dua.", encoding="utf-8")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.txt").write_text("Satu.", encoding="utf-8")
    (folder / "linked").symlink_to(outside)
    (folder / "again").symlink_to(outside)  # a second link to the same folder: read once
    (folder / "loop").symlink_to(folder)  # a cycle: must end
    assert [(a.id, a.text) for a in read_articles([str(folder)])] == [("a", "Satu."), ("again/b", "Dua.")]


def test_empty_article_is_yielded_and_flagged(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("  \n\n", encoding="utf-8")
    (article,) = read_articles([str(path)])
    assert article.is_empty


def test_folder_without_articles_is_refused(tmp_path):
    (tmp_path / "notes.md").write_text("ignored", encoding="utf-8")
    with pytest.raises(KalimatError, match="no .txt, .jsonl or .jsonl.gz files in this folder") as raised:
        read_articles([str(tmp_path)])
    assert str(raised.value).startswith(f"{tmp_path}: ")  # the message names the folder


@pytest.mark.parametrize("article_id", ["null", '{"a": 1}', '""', "true", "1.5", '["a"]'])
def test_jsonl_id_must_be_a_string_or_whole_number(tmp_path, article_id):
    path = tmp_path / "e.jsonl"
    path.write_text(f'{{"id": "ok", "text": "Satu."}}\n{{"id": {article_id}, "text": "Dua."}}\n', encoding="utf-8")
    with pytest.raises(BadInput, match=r'e\.jsonl:2: "id" must be a non-empty string or a whole number'):
        list(read_articles([str(path)]))


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_file_is_named_as_such(tmp_path, encoding):
    path = tmp_path / "wide.txt"
    path.write_bytes("\ufeffPresiden tiba di Jakarta.".encode(encoding))  # with its byte-order mark, as saved
    with pytest.raises(BadInput, match=r"wide\.txt: UTF-16 text; re-save it as UTF-8"):
        list(read_articles([str(path)]))

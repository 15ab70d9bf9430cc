"""The preprocessing API: config loading, saving beside a model, and article sentences."""

import json

import pytest
from omegaconf import OmegaConf

from train.core.errors import KalimatError
from train.core.paths import ROOT
from train.data.articles import Article, read_articles
from train.data.preprocess import PREPROCESSING_FILE, Preprocessor


def test_from_config_accepts_dictconfig_dict_and_the_plain_lists_of_older_exports():
    kinds = {"drop_lines": {"ad marker": ["Iklan"]}, "strip": [r"\[foto\]"]}
    plain = {"drop_lines": ["Iklan"], "strip": [r"\[foto\]"]}
    for cfg, reason in ((OmegaConf.create(kinds), "ad marker"), (kinds, "ad marker"), (plain, "leftover")):
        split = Preprocessor.from_config(cfg).split_text("Iklan\nHujan turun [foto] deras.")
        assert split.sentences == ["Hujan turun deras."] and split.stripped == ["[foto]"]
        assert [(line.text, line.after) for line in split.left_out] == [("Iklan", -1)]
        assert split.left_out[0].reason == reason


@pytest.mark.parametrize("key, patterns, named", [("drop_lines", {"ad": ["ok", "[unclosed"]}, "drop_lines.ad"),
                                                   ("drop_with_next", {"link": ["[unclosed"]}, "drop_with_next.link"),
                                                   ("strip", ["ok", "[unclosed"], "strip")])
def test_bad_regex_names_pattern_and_key(key, patterns, named):
    cfg = {"drop_lines": {}, "strip": [], key: patterns}
    with pytest.raises(KalimatError, match=rf"cleaning\.{named}: .*\[unclosed"):
        Preprocessor.from_config(cfg)


def test_patterns_must_be_a_list():
    with pytest.raises(KalimatError, match=r"cleaning\.strip"):
        Preprocessor.from_config({"drop_lines": [], "strip": "(bbn)"})


def test_save_load_round_trip(tmp_path):
    original = Preprocessor(drop_lines={"ad": ["Iklan.*"]}, strip=[r"\s*\(bbn\)$"], drop_with_next={"link": ["Baca:"]})
    original.save(tmp_path)
    assert json.loads((tmp_path / PREPROCESSING_FILE).read_text(encoding="utf-8")) == original.to_dict()
    loaded = Preprocessor.load(tmp_path)
    assert loaded.to_dict() == original.to_dict()
    text = "Iklan mobil\nHarga naik. Warga mengeluh (bbn)\nBaca:\nJudul lain"
    assert loaded.split_text(text) == original.split_text(text)
    assert loaded.article_sentences(Article("a", text)) == (
        ["Harga naik.", "Warga mengeluh"], ["Iklan mobil", "Baca:", "Judul lain", "(bbn)"])


def test_load_without_file_falls_back_to_default(tmp_path):
    assert Preprocessor.load(tmp_path).to_dict() == Preprocessor.default().to_dict()


def test_load_of_a_corrupt_file_is_a_user_error(tmp_path):
    (tmp_path / PREPROCESSING_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(KalimatError, match=PREPROCESSING_FILE):
        Preprocessor.load(tmp_path)


def test_sentences_clean_then_split_every_line():
    preprocessor = Preprocessor.default()
    text = "Logo Kabar Kita\n\nJudul tanpa titik\nDr. Budi datang.\u00a0Ia  pulang.\nBaca juga: Berita lain"
    split = preprocessor.split_text(text)
    assert split.sentences == ["Judul tanpa titik", "Dr. Budi datang.", "Ia pulang."]
    assert [(line.text, line.reason, line.after) for line in split.left_out] == [
        ("Logo Kabar Kita", "logo", -1), ("Baca juga: Berita lain", "related-article link", 2)]


def test_presplit_article_is_kept_as_given():
    article = Article("a", sentences=["  Satu.\u00a0 Dua ", "Baca juga: tetap ada"])
    assert Preprocessor.default().article_sentences(article) == (["Satu. Dua", "Baca juga: tetap ada"], [])


def test_text_article_is_cleaned_and_split():
    article = Article("b", text="Tinggalkan komentar\nSatu. Dua.")
    assert Preprocessor.default().article_sentences(article) == (["Satu.", "Dua."], ["Tinggalkan komentar"])


def test_seed_sentences_keep_quotes_whole():
    (article,) = [a for a in read_articles([str(ROOT / "seeds")]) if a.id.startswith("000")]
    sentences, _ = Preprocessor.default().article_sentences(article)
    assert sentences[-3:] == [
        "“Namun, pemogokan tidak dilakukan dengan kata-kata.",
        "Hal-hal seperti itu tidak diumumkan.",
        "Rudal-rudal akan berbicara sendiri.”",
    ]
    assert all("  " not in s and "\u00a0" not in s for s in sentences)

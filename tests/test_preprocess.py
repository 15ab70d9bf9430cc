"""The preprocessing API: config loading, saving beside a model, and article sentences."""

import json

import pytest
from omegaconf import OmegaConf

from train.core.errors import KalimatError
from train.core.paths import CONFIG_DIR, ROOT
from train.data.articles import Article, read_articles
from train.data.preprocess import PREPROCESSING_FILE, Preprocessor


def test_default_loads_the_project_config():
    config = OmegaConf.to_container(OmegaConf.load(CONFIG_DIR / "cleaning" / "default.yaml"))
    assert Preprocessor.default().to_dict() == {"drop_lines": config["drop_lines"], "strip": config["strip"]}


def test_from_config_accepts_dictconfig_and_dict():
    node = OmegaConf.create({"drop_lines": ["Iklan"], "strip": [r"\[foto\]"]})
    for cfg in (node, {"drop_lines": ["Iklan"], "strip": [r"\[foto\]"]}):
        preprocessor = Preprocessor.from_config(cfg)
        assert preprocessor.clean("Iklan\nHujan turun [foto] deras.") == (["Hujan turun deras."], ["Iklan", "[foto]"])


@pytest.mark.parametrize("key", ["drop_lines", "strip"])
def test_bad_regex_names_pattern_and_key(key):
    cfg = {"drop_lines": [], "strip": [], key: ["ok", "[unclosed"]}
    with pytest.raises(KalimatError, match=rf"cleaning\.{key}.*\[unclosed"):
        Preprocessor.from_config(cfg)


def test_patterns_must_be_a_list():
    with pytest.raises(KalimatError, match=r"cleaning\.strip"):
        Preprocessor.from_config({"drop_lines": [], "strip": "(bbn)"})


def test_save_load_round_trip(tmp_path):
    original = Preprocessor(drop_lines=["Iklan.*"], strip=[r"\s*\(bbn\)$"])
    original.save(tmp_path)
    assert json.loads((tmp_path / PREPROCESSING_FILE).read_text(encoding="utf-8")) == original.to_dict()
    loaded = Preprocessor.load(tmp_path)
    assert loaded.to_dict() == original.to_dict()
    text = "Iklan mobil\nHarga naik. Warga mengeluh (bbn)"
    expected = (["Harga naik.", "Warga mengeluh"], ["Iklan mobil", "(bbn)"])
    assert loaded.sentences(text) == original.sentences(text) == expected


def test_load_without_file_falls_back_to_default(tmp_path):
    assert Preprocessor.load(tmp_path).to_dict() == Preprocessor.default().to_dict()


def test_load_of_a_corrupt_file_is_a_user_error(tmp_path):
    (tmp_path / PREPROCESSING_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(KalimatError, match=PREPROCESSING_FILE):
        Preprocessor.load(tmp_path)


def test_sentences_clean_then_split_every_line():
    preprocessor = Preprocessor.default()
    text = "Logo Kabar Kita\n\nJudul tanpa titik\nDr. Budi datang.\u00a0Ia  pulang.\nBaca juga: Berita lain"
    sentences, removed = preprocessor.sentences(text)
    assert sentences == ["Judul tanpa titik", "Dr. Budi datang.", "Ia pulang."]
    assert removed == ["Logo Kabar Kita", "Baca juga: Berita lain"]


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

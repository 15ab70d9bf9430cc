"""Cleaning: every outlet leftover in the seeds is removed, and no news sentence is lost."""

import pytest

from train.core.errors import KalimatError
from train.core.paths import ROOT
from train.data.articles import read_articles
from train.data.cleaning import clean_text, compile_patterns, normalize_whitespace
from train.data.preprocess import Preprocessor

SEEDS = {article.id[:3]: article.text for article in read_articles([str(ROOT / "seeds")])}

# (seed, leftover as it appears once whitespace is normalised)
LEFTOVERS = [
    ("000", "Logo Bloomberg Technoz"),
    ("000", "(bbn)"),
    ("000", "No more pages"),
    ("001", "MEMBACA Mantan PM yang Dikudeta akan Kembali ke Bangladesh, kata anaknya."),
    ("001", "MEMBACA Google akan menutup Google One VPN karena 'orang-orang tidak hanya menggunakannya'"),
    ("001", "Berapa derajat perbedaan antara Anda dan pemimpin bisnis terkuat di dunia?"),
    ("001", "Tinggalkan komentar"),
    ("002", "WASHINGTON, DC, Compass.com –"),
    ("002", "Baca Juga: AS: Korea Utara Kirim 10.000 Tentara untuk Berlatih di Rusia"),
    ("002", "Baca Juga: Sekjen NATO Konfirmasi Tentara Korea Utara Dikirim ke Rusia"),
    ("002", "Baca juga: Ringkasan 976 Hari Invasi Rusia ke Ukraina"),
    ("002", "Dengarkan berita dan pilihan berita kami di ponsel Anda"),
    ("004", "Dunia"),
    ("004", "Redaksi Ilmiah"),
    ("004", "Ilmiah merupakan situs media online"),
    ("004", "Artikel Terkait"),
    ("004", "Back to top button"),
]

# News text that must survive cleaning unchanged.
KEPT = [
    ("000", "Pemerintahan Biden telah mengatakan akan mengirimkan bantuan sebanyak mungkin ke Kyiv"),
    ("000", "“Ada banyak hal yang dikatakan tentang kami mendapatkan izin"),
    ("001", "Korea Utara mungkin akan mengirim 100.000 tentara ke Rusia untuk perang"),
    ("001", "Ukraina telah meminta sekutu selama berbulan-bulan"),
    ("002", "Rusia berencana mengerahkan hingga 10.000 tentara Korea Utara ke Ukraina minggu depan"),
    ("002", "Lavrov juga mengatakan bahwa penasihat militer Barat Ukraina telah mendukung pasukan"),
    ("003", "TPengiriman sekitar 10.000 tentara Korea Utara ke Rusia"),
    ("003", "Mengapa Ukraina harus terus berperang dengan satu tangan terikat di belakang?"),
    ("004", "Korut Kembangkan Kerja Sama Militer, Kirim Senjata dan Prajurit ke Rusia"),
    ("004", "Presiden Ukraina Volodymyr Zelensky baru-baru ini"),
    ("004", "Melihat ke depan, dinamika ini menuntut kepemimpinan"),
]

# Whole lines each seed loses to cleaning (the dateline of 002 is cut, not dropped).
DROPPED_LINES = {"000": 3, "001": 4, "002": 4, "003": 0, "004": 5}


def clean(preprocessor, text):
    """(paragraphs kept, every line left out and snippet cut)."""
    kept, left_out, stripped = clean_text(text, preprocessor._drop_lines, preprocessor._drop_with_next,
                                          preprocessor._strip)
    return kept, [line.text for line in left_out] + stripped


@pytest.fixture(scope="module")
def cleaned():
    preprocessor = Preprocessor.default()
    return {seed: clean(preprocessor, text) for seed, text in SEEDS.items()}


@pytest.mark.parametrize("seed,leftover", LEFTOVERS)
def test_every_seed_leftover_is_removed_and_reported(cleaned, seed, leftover):
    kept, removed = cleaned[seed]
    assert not any(leftover in paragraph for paragraph in kept)
    assert any(snippet.startswith(leftover) for snippet in removed)


@pytest.mark.parametrize("seed,news", KEPT)
def test_news_paragraphs_are_kept(cleaned, seed, news):
    kept, _ = cleaned[seed]
    assert any(news in paragraph for paragraph in kept)


@pytest.mark.parametrize("seed", sorted(DROPPED_LINES))
def test_nothing_but_leftovers_is_lost(cleaned, seed):
    lines = [normalize_whitespace(line) for line in SEEDS[seed].splitlines() if line.strip()]
    kept, _ = cleaned[seed]
    assert len(kept) == len(lines) - DROPPED_LINES[seed]
    # Every kept paragraph is a line of the seed, or its end once a prefix was cut.
    assert all(any(line.endswith(paragraph) for line in lines) for paragraph in kept)


def test_dateline_is_cut_but_its_sentence_kept(cleaned):
    kept, _ = cleaned["002"]
    assert kept[0].startswith("Rusia berencana")
    assert "Compass.com" not in " ".join(kept)


def test_every_line_is_a_paragraph_and_whitespace_is_normalised():
    kept, left_out, stripped = clean_text(" Satu\u00a0\u00a0dua.\nTiga  empat.\n\n\n Lima. ", [], [], [])
    assert kept == ["Satu dua.", "Tiga empat.", "Lima."]
    assert left_out == stripped == []


def test_strip_patterns_leave_look_alikes_alone():
    preprocessor = Preprocessor.default()
    text = (
        "Rapat digelar Senin (27/3) di kantor gubernur (rdk/asp)\n"
        "Malang (Kabarmalang.com) – Warga memadati alun-alun kota.\n"
        "Pejabat Amerika Serikat (AS) hadir dalam rapat itu."
    )
    kept, removed = clean(preprocessor, text)
    assert kept == [
        "Rapat digelar Senin (27/3) di kantor gubernur",
        "Warga memadati alun-alun kota.",
        "Pejabat Amerika Serikat (AS) hadir dalam rapat itu.",
    ]
    assert removed == ["(rdk/asp)", "Malang (Kabarmalang.com) –"]


def test_drop_lines_must_match_the_whole_line():
    preprocessor = Preprocessor.default()
    kept, removed = clean(preprocessor, "Dunia\nDunia internasional menyoroti Korea Utara.")
    assert kept == ["Dunia internasional menyoroti Korea Utara."]
    assert removed == ["Dunia"]


def test_compile_patterns_names_key_and_pattern():
    with pytest.raises(KalimatError, match=r"cleaning\.strip.*'\(unclosed'"):
        compile_patterns(["(unclosed"], "strip")

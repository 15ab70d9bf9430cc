"""Sentence splitting: the Indonesian hard cases, and agreement with IndoSum's segmentation."""

import subprocess
import sys

import pytest

from train.core.paths import INDOSUM, ROOT
from train.data.segmentation_eval import BoundaryScore, boundaries, corpus_paragraphs, evaluate
from train.data.splitter import split_sentences

CASES = {
    "abbreviations": (
        "Dr. Budi tinggal di Jl. Merdeka No. 5 bersama Prof. Andi. Ia pensiun.",
        ["Dr. Budi tinggal di Jl. Merdeka No. 5 bersama Prof. Andi.", "Ia pensiun."],
    ),
    "titles": (
        "Surat untuk Sdr. Tono dari Bpk. Ahmad, Tn. Ali dan Ny. Siti diterima H. Umar. Selesai.",
        ["Surat untuk Sdr. Tono dari Bpk. Ahmad, Tn. Ali dan Ny. Siti diterima H. Umar.", "Selesai."],
    ),
    "company forms, ranks and institutions before a name": (
        "Direktur Utama PT. Pertamina (Persero) Nicke Widyawati hadir. Kapolres AKBP. Budi dan "
        "Kombes Pol. Yusri dirawat di RS. Siloam di Jalan Jend. Sudirman. Copyright 2008 - 2024 PT. Kompas Cyber Media",
        ["Direktur Utama PT. Pertamina (Persero) Nicke Widyawati hadir.",
         "Kapolres AKBP. Budi dan Kombes Pol. Yusri dirawat di RS. Siloam di Jalan Jend. Sudirman.",
         "Copyright 2008 - 2024 PT. Kompas Cyber Media"],
    ),
    "acronyms that end a sentence": (
        "Chelsea menjuarai Piala FA. Klub itu senang. Ia pindah ke Kedah FA. Andik sudah tes medis.",
        ["Chelsea menjuarai Piala FA.", "Klub itu senang.", "Ia pindah ke Kedah FA.", "Andik sudah tes medis."],
    ),
    "dotted abbreviations": (
        "Transfer a.n. Yayasan Mandiri u.p. Bagian Keuangan, yth. Ketua. Terima kasih.",
        ["Transfer a.n. Yayasan Mandiri u.p. Bagian Keuangan, yth. Ketua.", "Terima kasih."],
    ),
    "abbreviation before lowercase": (
        "Ia membeli buku, pena, dll. untuk sekolah. Rudi dkk. datang terlambat, tsb. di atas.",
        ["Ia membeli buku, pena, dll. untuk sekolah.", "Rudi dkk. datang terlambat, tsb. di atas."],
    ),
    "abbreviation ending a sentence": (
        "Ia membeli buku, pena, dsb. Kemudian ia pulang.",
        ["Ia membeli buku, pena, dsb.", "Kemudian ia pulang."],
    ),
    "degrees": (
        "Pembicara ialah Andi, S.H. Ia didampingi Dewi, M.Si. dari kampus yang sama.",
        ["Pembicara ialah Andi, S.H.", "Ia didampingi Dewi, M.Si. dari kampus yang sama."],
    ),
    "numbers": (
        "Sebanyak 100.000 tentara naik 3,5 persen atau 2.5 poin. Angka itu besar.",
        ["Sebanyak 100.000 tentara naik 3,5 persen atau 2.5 poin.", "Angka itu besar."],
    ),
    "times and dates": (
        "Rapat dimulai pukul 10.30 WIB, Senin (27/3). Semua hadir.",
        ["Rapat dimulai pukul 10.30 WIB, Senin (27/3).", "Semua hadir."],
    ),
    "ellipses": (
        "Dia menunggu... Lalu pergi. Kami diam… dan pulang.",
        ["Dia menunggu... Lalu pergi.", "Kami diam… dan pulang."],
    ),
    "initials": (
        "Buku J. K. Rowling laris. Susilo B. Yudhoyono hadir.",
        ["Buku J. K. Rowling laris.", "Susilo B. Yudhoyono hadir."],
    ),
    "closing quotes after the full stop": (
        "“Saya senang.” Dia tertawa. \"Kami juga.\" Semua setuju. ‘Ya.’ Oke.",
        ["“Saya senang.”", "Dia tertawa.", "\"Kami juga.\"", "Semua setuju.", "‘Ya.’", "Oke."],
    ),
    "quotation of several sentences": (
        "“Namun, itu tidak cukup. Kami butuh lebih. Sekarang,” kata Menteri. Ia lalu pergi.",
        ["“Namun, itu tidak cukup.", "Kami butuh lebih.", "Sekarang,” kata Menteri.", "Ia lalu pergi."],
    ),
    "speaker after a closed quote": (
        "“Ini kenapa?” tanya Budi. “Sudah selesai!” seru Ani.",
        ["“Ini kenapa?” tanya Budi.", "“Sudah selesai!” seru Ani."],
    ),
    "question and exclamation marks": (
        "Benarkah? Ya! Tentu saja.",
        ["Benarkah?", "Ya!", "Tentu saja."],
    ),
    "urls, e-mails and domains": (
        "Baca di kumparan.com atau tulis ke redaksi@kumparan.com. Lihat https://www.kumparan.com/a.b. Terima kasih.",
        [
            "Baca di kumparan.com atau tulis ke redaksi@kumparan.com.",
            "Lihat https://www.kumparan.com/a.b.",
            "Terima kasih.",
        ],
    ),
    "brackets": (
        "Harga turun (lihat hal. 5 dan Bab 2.) Namun naik lagi (Uu. ANT/B002)",
        ["Harga turun (lihat hal. 5 dan Bab 2.)", "Namun naik lagi (Uu. ANT/B002)"],
    ),
    "spaced quotes": (
        "“ Saya senang . ” Dia tertawa. Ia menulis ' Selesai. ' Lalu tidur.",
        ["“ Saya senang . ”", "Dia tertawa.", "Ia menulis ' Selesai. '", "Lalu tidur."],
    ),
    "whitespace": (
        "  Satu\u00a0 dua.\tTiga   empat.  ",
        ["Satu dua.", "Tiga empat."],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hard_cases(name):
    paragraph, expected = CASES[name]
    assert split_sentences(paragraph) == expected


def test_empty_paragraph_has_no_sentences():
    assert split_sentences("  ") == []


def test_boundaries_ignore_spacing():
    assert boundaries(["Satu dua.", "Tiga."]) == {8}
    assert boundaries(["Satu  dua .", "Tiga."]) == {8}
    assert boundaries(["Satu."]) == set()


def test_boundary_score_counts_hits_misses_and_extras():
    score = BoundaryScore()
    assert score.add(["A b.", "C d.", "E."], ["A b.", "C d.", "E."])
    assert not score.add(["A b.", "C d. E."], ["A b. C d.", "E."])
    assert (score.true_positives, score.false_positives, score.false_negatives) == (2, 1, 1)
    assert score.precision == score.recall == pytest.approx(2 / 3)


def test_evaluate_reports_disagreements():
    seen = []
    score = evaluate([["Dr. Budi datang.", "Ia pulang."], ["Satu. Dua."]], on_disagreement=lambda g, p: seen.append(p))
    assert score.paragraphs == 2
    assert seen == [["Satu.", "Dua."]]


def test_evaluation_script_fails_in_one_line_without_corpus(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "evaluate_splitter.py"), str(tmp_path / "missing.jsonl")],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "missing.jsonl" in result.stderr


def test_agrees_with_indosum_on_a_corpus_sample():
    score = evaluate(corpus_paragraphs(INDOSUM, limit=400))
    assert score.true_positives > 2000
    assert score.f1 >= 0.97


@pytest.mark.parametrize("content, arguments, message", [
    ('{"paragraphs": [["Satu.", "Dua."]]}\nnot json\n', [], "corpus.jsonl:2: not valid JSON"),
    ('{"paragraphs": [["Satu.", "Dua."]]}\n{"paragraphs": 3}\n', [], "corpus.jsonl:2: not an IndoSum article"),
    ("", [], "no sentence break to compare"),
    ('{"paragraphs": [["Satu kalimat saja."]]}\n', [], "no sentence break to compare"),
    ('{"paragraphs": [["Satu.", "Dua."]]}\n', ["--limit", "0"], "--limit 0: give at least 1 article"),
])
def test_evaluation_script_refuses_bad_or_empty_input_instead_of_scoring_it(tmp_path, content, arguments, message):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(content)
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "evaluate_splitter.py"), str(corpus), *arguments],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert result.returncode == 2 and "precision" not in result.stdout
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ") and message in line

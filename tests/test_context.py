"""Sentences in context: the window a model reads beside each sentence."""

from train.data.context import context_text, neighbours
from train.data.preprocess import Preprocessor

SEP = "[SEP]"


def test_article_edges_have_an_empty_side():
    sentences = ["Satu.", "Dua.", "Tiga."]
    assert neighbours(sentences) == [("", "Dua."), ("Satu.", "Tiga."), ("Dua.", "")]
    assert neighbours(["Sendiri."]) == [("", "")]
    assert neighbours([]) == []
    assert context_text("", "Dua.", SEP) == "[SEP] Dua."
    assert context_text("Dua.", "", SEP) == "Dua. [SEP]"
    assert context_text("", "", SEP) == "[SEP]"


def test_a_sentence_inside_a_multi_sentence_quote_sees_the_opening_mark():
    text = ('Menteri itu berbicara di Jakarta. “Kami sudah siap. Semua pihak akan dilibatkan. '
            'Tidak ada yang ditinggalkan,” katanya. Rapat berlanjut sore hari.')
    sentences, _ = Preprocessor.default().sentences(text)
    assert sentences[2] == "Semua pihak akan dilibatkan."  # no quotation mark of its own
    previous, following = neighbours(sentences)[2]
    window = context_text(previous, following, SEP)
    assert window == "“Kami sudah siap. [SEP] Tidak ada yang ditinggalkan,” katanya."
    assert "Semua pihak" not in window  # the sentence itself is the first segment, never repeated

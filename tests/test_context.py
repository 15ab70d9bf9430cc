"""Sentences in context: the window a model reads beside each sentence."""

from train.data.context import article_windows, context_text, neighbours
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
    sentences = Preprocessor.default().split_text(text).sentences
    assert sentences[2] == "Semua pihak akan dilibatkan."  # no quotation mark of its own
    previous, following = neighbours(sentences)[2]
    window = context_text(previous, following, SEP)
    assert window == "“Kami sudah siap. [SEP] Tidak ada yang ditinggalkan,” katanya."
    assert "Semua pihak" not in window  # the sentence itself is the first segment, never repeated


def test_windows_of_several_articles_never_cross_and_can_lead_with_the_rules():
    articles = [["Harga beras naik 10 persen.", "“Kami sudah siap membantu warga,” kata menteri."], ["Pemerintah harus bertindak."]]
    assert article_windows(articles, SEP, "none") is None
    assert article_windows(articles, SEP, "neighbours") == [
        "[SEP] “Kami sudah siap membantu warga,” kata menteri.", "Harga beras naik 10 persen. [SEP]", "[SEP]"]
    assert article_windows(articles, SEP, "neighbours_rules") == [  # the rules' evidence leads, not just a label
        "number_or_estimate [SEP] [SEP] “Kami sudah siap membantu warga,” kata menteri.",
        "quote_with_speaker quote_marks_3_words reporting_verb [SEP] Harga beras naik 10 persen. [SEP]",
        "modal_should [SEP] [SEP]"]


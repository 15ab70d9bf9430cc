"""Sentences in context: the window a model reads beside each sentence."""

from train.data.context import article_windows, context_text, neighbours
from train.data.preprocess import Preprocessor
from train.data.weak_labels import RULE_LABELS, fired_rules

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
    with_rules = article_windows(articles, SEP, "neighbours_rules")
    fired = fired_rules(articles[0]) + fired_rules(articles[1])
    assert with_rules == [f"{' '.join(r)} {SEP} {w}" for r, w in zip(fired, article_windows(articles, SEP, "neighbours"))]
    assert "quote" in {RULE_LABELS[name] for name in fired[1]}  # the rules' evidence, not just a label


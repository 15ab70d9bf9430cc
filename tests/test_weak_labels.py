"""Labeling functions: each cue fires where it should, and the vote follows the precedence."""

from train.data.weak_labels import FALLBACK, INSIDE_QUOTE, fired_rules, vote


def labels_of(sentences):
    return [vote(rules) for rules in fired_rules(sentences)]


def test_each_kind_of_cue_votes_for_its_label():
    sentences = [
        "“Kami tidak akan mundur dari perjuangan ini,” kata Presiden.",
        "Pemerintah seharusnya mendengar suara rakyat.",
        "Apakah ini jalan yang benar?",
        "Sebanyak 1.200 tentara tewas setiap hari, menurut laporan itu.",
        "Gedung itu berdiri di tepi sungai.",
    ]
    assert labels_of(sentences) == ["quote", "opinion", "opinion", "claim", "background"]
    assert fired_rules(sentences)[-1] == [FALLBACK]


def test_short_scare_quotes_are_not_quotes():
    rules = fired_rules(["Mereka menyetujui kemitraan “tanpa batas” tahun lalu."])[0]
    assert "quote_marks_3_words" not in rules and vote(rules) != "quote"


def test_sentences_inside_a_multi_sentence_quote_are_quotes():
    sentences = [
        "“Namun, pemogokan tidak dilakukan dengan kata-kata.",
        "Hal-hal seperti itu tidak diumumkan.",
        "Rudal-rudal akan berbicara sendiri.”",
        "Pasukan bergerak ke utara.",
    ]
    fired = fired_rules(sentences)
    assert [INSIDE_QUOTE in rules for rules in fired] == [True, True, True, False]
    assert labels_of(sentences)[:3] == ["quote"] * 3


def test_quote_beats_opinion_beats_claim():
    assert vote(["number_or_estimate", "modal_should"]) == "opinion"
    assert vote(["modal_should", "quote_with_speaker"]) == "quote"
    assert vote(["background_cue", "reporting_verb"]) == "claim"

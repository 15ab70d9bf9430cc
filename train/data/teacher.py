"""Teacher labels for the sentences of unlabeled articles (``data.weak_labeler=teacher``).

The labeling functions' vote alone is a weak teacher: as extra training data it did not
lift the model. A logistic regression that reads the sentence's words and character
n-grams *and* the functions that fire on it scores clearly higher than either on the
validation articles, so its labels carry more of what the gold annotations teach, over
far more sentences than anyone annotated. It is fit on the gold sentences of the training
split only, so the validation and test articles stay unseen.
"""

from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline, make_union
from sklearn.preprocessing import FunctionTransformer


def tfidf_features():
    """Word uni/bigrams plus character 2-5-grams (robust to Indonesian affixes), each TF-IDF weighted.

    The teacher's text features and the TF-IDF baseline's, defined here so that a change to
    them rebuilds the datasets the teacher labeled.
    """
    return make_union(
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=1, sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=1, sublinear_tf=True),
    )


def _texts(records):
    return [r["text"] for r in records]


def _evidence(records):
    """The fired functions and their vote as words: ``rule_modal_should vote_opinion``."""
    return [" ".join([*(f"rule_{name}" for name in r["rules"]), f"vote_{r['weak_label']}"]) for r in records]


def fit_teacher(train_records: list[dict]):
    """A balanced logistic regression on TF-IDF of the text plus the rules' evidence (deterministic: lbfgs)."""
    features = make_union(
        make_pipeline(FunctionTransformer(_texts), tfidf_features()),
        make_pipeline(FunctionTransformer(_evidence), CountVectorizer(token_pattern=r"\S+", binary=True)),
    )
    classifier = LogisticRegression(class_weight="balanced", max_iter=3000)
    return make_pipeline(features, classifier).fit(train_records, [r["label"] for r in train_records])

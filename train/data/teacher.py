"""Teacher labels for the sentences of unlabeled articles (``data.weak_labeler=teacher``).

The labeling functions' vote alone is a weak teacher: as extra training data it did not
lift the model. A logistic regression that reads the sentence's words and character
n-grams *and* the functions that fire on it scores clearly higher than either on the
validation articles, so its labels carry more of what the gold annotations teach, over
far more sentences than anyone annotated. It is fit on the gold sentences of the training
split only, so the validation and test articles stay unseen.
"""

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline, make_union
from sklearn.preprocessing import FunctionTransformer

from ..reporting.baselines import tfidf_features

# data.weak_labeler: who labels the sentences without a gold label, as the cards say it.
WEAK_LABELERS = {
    "rules": "the labeling functions' vote",
    "teacher": "a logistic regression on TF-IDF and the labeling functions, fit on the gold training sentences",
}


def _texts(records):
    return [r["text"] for r in records]


def _evidence(records):
    """The fired functions and their vote as words: ``rule_modal_should vote_opinion``."""
    return [" ".join([*(f"rule_{name}" for name in r["rules"]), f"vote_{r['weak_label']}"]) for r in records]


def fit_teacher(train_records: list[dict], seed: int):
    """A balanced logistic regression on TF-IDF of the text plus the rules' evidence."""
    features = make_union(
        make_pipeline(FunctionTransformer(_texts), tfidf_features()),
        make_pipeline(FunctionTransformer(_evidence),
                      TfidfVectorizer(token_pattern=r"\S+", use_idf=False, norm=None, binary=True)),
    )
    classifier = LogisticRegression(class_weight="balanced", max_iter=3000, random_state=seed)
    return make_pipeline(features, classifier).fit(train_records, [r["label"] for r in train_records])

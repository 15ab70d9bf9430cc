"""Which labels to re-read: likely label errors, ranked by confident learning (cleanlab).

``python -m train cv.folds=k`` predicts every annotated sentence of the train and validation
articles with a model that never trained on it (``cv_predictions.jsonl``). Where such an
out-of-fold prediction confidently contradicts the gold label, the label is more likely
wrong than the model: cleanlab's ``find_label_issues`` estimates, from the joint of given
and predicted labels, how many labels of each kind are noisy, and flags that many of the
least self-confident ones (``prune_by_noise_rate``). They are ranked by self-confidence, the
probability the model gives the gold label, lowest first.

The page shows each suspect inside its article (every sentence of it the run predicted),
with the given label and the model's alternative; the person who re-reads decides. The
test articles are never in ``cv_predictions.jsonl``, so the fixed test set is never cleaned
with a model's help (that would flatter the model).
"""

import html
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.errors import KalimatError
from ..core.labels import DEFINITIONS, LABELS
from ..core.render import HTML_END, html_start
from ..reporting.report import load_predictions, load_report


@dataclass
class Suspect:
    article_id: str
    sentence_index: int
    text: str
    label: str  # the gold label under suspicion
    suggested: str  # the model's most probable label
    quality: float  # the probability the model gives the gold label (cleanlab's self-confidence)
    probs: dict[str, float]

    def record(self) -> dict:
        return {"article_id": self.article_id, "sentence_index": self.sentence_index, "text": self.text,
                "label": self.label, "suggested": self.suggested, "quality": round(self.quality, 4)}


def out_of_fold_records(run_dir) -> list[dict]:
    """The out-of-fold predictions of a run with cross-validation; one line naming the fix otherwise."""
    run_dir = Path(run_dir)
    records = load_predictions(run_dir, load_report(run_dir), "cv")
    if not records:
        raise KalimatError(f"{run_dir}: no cross-validation predictions (cv_predictions.jsonl); train with "
                           "cross-validation first, e.g. python -m train cv.folds=5, and review that run")
    if len({r["gold"] for r in records}) < 2:
        raise KalimatError(f"{run_dir}: its out-of-fold predictions hold one gold label only; nothing to rank")
    return records


def find_suspects(records: list[dict], limit: int | None = None) -> list[Suspect]:
    """The sentences cleanlab flags as likely label errors, least self-confident first."""
    from cleanlab.filter import find_label_issues  # slow to import; only this command needs it

    labels = np.array([LABELS.index(r["gold"]) for r in records])
    probs = np.array([[r["probs"][label] for label in LABELS] for r in records], dtype=float)
    probs /= probs.sum(axis=1, keepdims=True)  # rounded to 4 decimals in the file
    ranked = find_label_issues(labels, probs, return_indices_ranked_by="self_confidence", n_jobs=1)
    suspects = []
    for i in ranked[:limit]:
        r = records[i]
        suspects.append(Suspect(str(r["article_id"]), r["sentence_index"], r["text"], r["gold"],
                                LABELS[int(probs[i].argmax())], float(probs[i, labels[i]]),
                                dict(zip(LABELS, probs[i].round(4).tolist()))))
    return suspects


CSS = (".s{margin:.2em 0;padding:.1em .4em}.suspect{background:#fff3b0;border-left:.4em solid #8a6d00}"
       ".tag{font-family:monospace;white-space:nowrap}.meta{color:#333}section{margin-bottom:2em}")


def review_page(suspects: list[Suspect], records: list[dict], source: str) -> str:
    """Every suspect in its article: the article's sentences, the suspect marked, its labels written out."""
    articles = defaultdict(dict)
    for r in records:
        articles[str(r["article_id"])][r["sentence_index"]] = r
    legend = "".join(f"<li><b>{label}</b>: {html.escape(DEFINITIONS[label])}</li>" for label in LABELS)
    parts = [html_start("kalimat: labels to re-read", CSS),
             "<h1>Labels to re-read</h1>\n",
             f"<p>{len(suspects)} likely label errors among {len(records)} sentences of {html.escape(source)}, "
             "ranked by the probability an out-of-fold model gives the given label (lowest first). Re-read each in "
             "its article under the annotation guidelines; the model's alternative is a hint, not a label.</p>\n",
             f"<ul>{legend}</ul>\n"]
    for rank, s in enumerate(suspects, start=1):
        sentences = []
        for index, r in sorted(articles[s.article_id].items()):
            mark = ' suspect' if index == s.sentence_index else ''
            tag = (f'<span class="tag">[{index}] given: {s.label}, model: {s.suggested} '
                   f'{s.probs[s.suggested]:.2f}]</span> ' if mark else f'<span class="tag">[{index}] {r["gold"]}</span> ')
            sentences.append(f'<p class="s{mark}">{tag}{html.escape(r["text"])}</p>')
        parts.append(f'<section>\n<h2>{rank}. {html.escape(s.article_id)}, sentence {s.sentence_index}</h2>\n'
                     f'<p class="meta">given <b>{s.label}</b> (probability {s.quality:.2f}); the model says '
                     f'<b>{s.suggested}</b> ({s.probs[s.suggested]:.2f})</p>\n' + "\n".join(sentences) + "\n</section>\n")
    parts.append(HTML_END)
    return "".join(parts)

"""The model card of an export (``README.md`` in ``models/<run_name>/``), built from the run report.

Hugging Face model-card front matter (``huggingface_hub.ModelCardData``) and kalimat's own sections:
how to call the model (its context window, its temperature), what it was trained on, its
metrics with their intervals and the baselines, and its limits.
"""

from pathlib import Path

from ..core.atomic import write_json, write_text
from ..core.labels import DEFINITIONS, LABELS
from ..core.render import Heading, Paragraph, Table, card_front_matter, to_markdown
from ..core.settings import WEAK_LABELERS
from .report import results_blocks


def write_card(folder: Path, report: dict, model_dir: Path) -> None:
    """The model card and the run report, in the staged export ``folder`` of ``model_dir``."""
    write_text(folder / "README.md", model_card(report, model_dir))
    write_json(folder / "report.json", report)


def _input_blocks(report: dict, model_dir: Path) -> list:
    """How to call the model: with its context window if it was trained with one, and what its scores mean."""
    context = report["hyperparameters"].get("model.context", "none")
    temperature = report["calibration"]["temperature"]
    name = f"models/{model_dir.name}"
    blocks = [Paragraph(
        "Articles must be cleaned and split the way the training data was: kalimat_preprocessing.json in this "
        "folder holds the cleaning rules that kalimat's own prediction command (kalimat-predict) applies. "
        "model_int8.onnx is the int8 engine kalimat-predict runs on x86 CPUs (ONNX Runtime, activation "
        "scales fixed on the validation sentences); transformers loads model.safetensors and ignores it."
    )]
    if context == "neighbours":
        blocks.append(Paragraph(
            "This model reads each sentence with its neighbours: the sentence is the first segment of a sentence "
            "pair, and the previous and next sentence, joined by [SEP], the second (train/data/context.py). "
            "kalimat-predict builds that window from each article. With the plain pipeline: "
            f'classify = pipeline("text-classification", model="{name}", truncation=True); '
            'classify({"text": sentence, "text_pair": previous + " [SEP] " + next_sentence}). '
            "A lone sentence (no text_pair) still works, as if it stood alone in its article."
        ))
    elif context == "rules":
        blocks.append(Paragraph(
            "This model reads each sentence with the names of kalimat's labeling functions that fire on it (in its "
            "article: one of them tells a sentence inside a quotation that spans several): the sentence is the first "
            "segment of a sentence pair, the rule names, space-separated, the second (train/data/context.py, "
            "article_windows). kalimat-predict builds them from each article; use it rather than a plain pipeline() "
            "call, which would need them built by hand."
        ))
    elif context == "neighbours_rules":
        blocks.append(Paragraph(
            "This model reads each sentence with its neighbours and with the names of kalimat's labeling functions "
            "that fire on it: the sentence is the first segment of a sentence pair, the second is the rule names, "
            "[SEP], the previous sentence, [SEP], the next sentence (train/data/context.py, article_windows). "
            "kalimat-predict builds that window from each article; use it rather than a plain pipeline() call, "
            "which would need the same window built by hand."
        ))
    else:
        blocks.append(Paragraph(
            f'Input is one sentence: from transformers import pipeline; classify = pipeline("text-classification", '
            f'model="{name}", truncation=True); classify("Harga beras naik 10 persen bulan ini.")'
        ))
    blocks.append(Paragraph(
        "truncation=True cuts a longer input to the length the model reads (model_max_length in "
        "tokenizer_config.json, at most the model's max_position_embeddings); without it a pipeline() call on a "
        "longer input fails, since transformers pipelines do not truncate by default."
    ))
    blocks.append(Paragraph(
        f"Scores: kalimat-predict divides the logits by the temperature {temperature:.3f} fitted on the validation "
        "articles (kalimat_temperature in config.json), so a score of 0.8 is right about 80% of the time; a plain "
        "pipeline() call applies no temperature, and its scores are uncalibrated."
    ))
    return blocks


def model_card(report: dict, model_dir: Path) -> str:
    """The model's ``README.md``: intended use, labels, training data, metrics with intervals, limitations."""
    name_or_path = report["model"]["name_or_path"]
    base = name_or_path if name_or_path and not Path(name_or_path).exists() else None
    header = card_front_matter("text-classification", ["kalimat", "sentence-classification", "indonesian", "news"],
                               base)
    return header + to_markdown(_card_blocks(report, model_dir))


def _card_blocks(report: dict, model_dir: Path) -> list:
    dataset = report["dataset"]
    gold, weak = dataset["label_sources"].get("gold", 0), dataset["label_sources"].get("weak", 0)
    model = report["model"]
    origin = (
        f"fine-tuned from {model['name_or_path']}"
        if model["name_or_path"]
        else "a small BERT trained from random weights, with a WordPiece vocabulary learned from its training sentences"
    )
    blocks = [
        Heading(f"{report['run_name']}: sentence roles in Indonesian news", 1),
        Paragraph(
            f"Labels each sentence of an Indonesian news article as {', '.join(LABELS)}. "
            f"Model: {model['name']} ({model['num_parameters']:,} parameters), {origin}."
        ),
        Heading("Intended use"),
        Paragraph(
            "Sorting the sentences of Indonesian news articles by role, to help newsroom data teams, "
            "fact-checkers and researchers find the checkable claims and tell quotations and opinion "
            "from reporting. It labels a sentence's role, not whether the sentence is true, and every "
            "label should be read as a suggestion for a person to confirm."
        ),
        *_input_blocks(report, model_dir),
        Heading("Labels"),
        Table(["id", "label", "meaning"], [[i, label, DEFINITIONS[label]] for i, label in enumerate(LABELS)]),
        Heading("Training data"),
        Paragraph(
            f"Dataset {dataset['name']} (content hash {dataset['content_hash']}): "
            f"{gold} human-labelled training sentences"
            + (f" and {weak} weakly labelled ones (weak labels come from {WEAK_LABELERS[dataset['weak_labeler']]})"
               if weak else "")
            + ". Splits are by article, so no test article was seen in training."
        ),
        Heading("Evaluation"),
        *results_blocks(report),
        Heading("Limitations"),
        Paragraph(
            "Trained and tested on few articles: the intervals above are wide and say more than the point "
            "estimates. The articles come from a handful of outlets and topics; other outlets, topics and "
            "writing styles (opinion columns, press releases, social media) will score lower. The boundary "
            "between claim and background, and between claim and opinion, is hard for annotators too "
            "(docs/annotation_guidelines.md). Weak labels carry the errors of the rules that made them."
        ),
        Paragraph("report.json in this folder is the full run report (schema: docs/report_schema.md)."),
    ]
    return blocks

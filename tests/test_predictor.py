"""The inference engine: what it refuses to load, and that speed tricks never change answers."""

import json
import shutil

import onnx
import pytest
import torch
from inference_fixtures import SEEDS, model_dir, rule_label, seed_sentences  # noqa: F401 (model_dir is a fixture)
from transformers import AutoModelForSequenceClassification

from train.core import precision as precision_module
from train.core.errors import KalimatError
from train.core.hashing import files_sha256
from train.core.labels import LABELS
from train.data.articles import read_articles
from train.data.context import article_windows
from train.data.preprocess import Preprocessor
from train.inference import quantize as quantize_module
from train.inference.int8_engine import ENGINE_FILE, INFO_FILE, Int8Engine, find_int8_engine
from train.inference.predictor import Predictor, check_model_dir, label_agreement
from train.inference.quantize import main as quantize_main


@pytest.fixture(scope="module")
def sentences():
    return seed_sentences()


def copy_model(model_dir, tmp_path):
    return shutil.copytree(model_dir, tmp_path / "model")


def test_tokenizer_knows_the_seed_words(model_dir, sentences):
    tokenizer = Predictor(model_dir, precision="fp32").tokenizer
    tokens = [t for s in sentences[:20] for t in tokenizer.tokenize(s)]
    assert tokens.count(tokenizer.unk_token) / len(tokens) < 0.05


def test_batched_length_sorted_predictions_keep_input_order(model_dir, sentences):
    sentences = sentences[:48]  # six batches of mixed lengths
    batched = Predictor(model_dir, precision="fp32", batch_size=8).predict(sentences)
    one_by_one = Predictor(model_dir, precision="fp32", batch_size=1)
    for sentence, prediction in zip(sentences, batched):
        (alone,) = one_by_one.predict([sentence])
        assert prediction.label == alone.label
        assert prediction.probs == pytest.approx(alone.probs, abs=1e-4)


def test_prediction_fields(model_dir, sentences):
    (prediction,) = Predictor(model_dir, precision="fp32").predict(sentences[:1])
    assert list(prediction.probs) == list(LABELS)
    assert sum(prediction.probs.values()) == pytest.approx(1.0, abs=1e-5)
    assert prediction.score == max(prediction.probs.values()) == prediction.probs[prediction.label]


def test_trained_model_learned_its_rule(model_dir, sentences):
    labels = [p.label for p in Predictor(model_dir, precision="fp32").predict(sentences)]
    assert label_agreement(labels, [rule_label(s) for s in sentences]) > 0.95


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_lower_precisions_agree_with_fp32(model_dir, sentences, precision):
    reference = [p.label for p in Predictor(model_dir, precision="fp32").predict(sentences)]
    predictor = Predictor(model_dir, precision=precision)
    assert predictor.precision == precision
    labels = [p.label for p in predictor.predict(sentences)]
    assert label_agreement(labels, reference) >= 0.99


def test_int8_runs_the_engine_with_fixed_scales(model_dir):
    predictor = Predictor(model_dir, precision="int8")
    assert isinstance(predictor.model, Int8Engine)
    operators = {node.op_type for node in onnx.load(model_dir / ENGINE_FILE).graph.node}
    assert "DynamicQuantizeLinear" not in operators  # no scale is computed from a batch
    assert {"QuantizeLinear", "MatMulIntegerToFloat"} <= operators


@pytest.mark.parametrize("precision, tolerance", [("int8", 0), ("fp32", 2e-4), ("bf16", 2e-4)])
def test_probabilities_do_not_depend_on_batching(model_dir, sentences, precision, tolerance):
    """Batch size, chunking and order (what --batch-size, --chunk-sentences and --resume change) change nothing.

    The int8 engine gives bit-identical records; PyTorch picks float kernels by batch shape,
    which may move a probability's last printed digit.
    """
    predictor = Predictor(model_dir, precision=precision, batch_size=32)
    reference = predictor.predict(sentences)
    for batch_size, parts in [(1, 1), (5, 3), (32, 7)]:
        predictor.batch_size = batch_size
        step = -(-len(sentences) // parts)
        chunks = [sentences[i : i + step][::-1] for i in range(0, len(sentences), step)]
        labeled = [p for chunk in chunks for p in predictor.predict(chunk)[::-1]]
        assert [p.label for p in labeled] == [p.label for p in reference]
        for p, q, s in zip(labeled, reference, sentences):
            if tolerance:
                assert p.probs == pytest.approx(q.probs, abs=tolerance)
            else:
                assert p.record("a", 0, s) == q.record("a", 0, s)


def test_an_engine_built_from_other_weights_is_not_used(model_dir, tmp_path, sentences):
    path = copy_model(model_dir, tmp_path)
    model = AutoModelForSequenceClassification.from_pretrained(path)
    with torch.no_grad():  # other weights, labels as clear-cut as before: the classes' rows swapped
        model.classifier.weight.copy_(model.classifier.weight.flip(0))
        model.classifier.bias.copy_(model.classifier.bias.flip(0))
    model.save_pretrained(path)
    assert "built from other weights" in find_int8_engine(path)
    with pytest.raises(KalimatError, match="^--precision int8: .* python scripts/quantize.py --model"):
        Predictor(path, precision="int8")

    quantize_main(["--model", str(path), "--calibration", str(SEEDS), "--sentences", "40"])
    assert find_int8_engine(path) is None
    reference = [p.label for p in Predictor(path, precision="fp32").predict(sentences)]
    labels = [p.label for p in Predictor(path, precision="int8").predict(sentences)]
    assert label_agreement(labels, reference) >= 0.99


def test_calibration_cut_mid_article_keeps_each_sentences_real_neighbours(model_dir, tmp_path, monkeypatch):
    path = copy_model(model_dir, tmp_path)
    config = json.loads((path / "config.json").read_text())
    (path / "config.json").write_text(json.dumps({**config, "kalimat_context": "neighbours"}))
    calibrated = {}
    monkeypatch.setattr(quantize_module, "build_int8_engine",
                        lambda folder, sentences, windows: calibrated.update(sentences=sentences, windows=windows))
    quantize_main(["--model", str(path), "--calibration", str(SEEDS), "--sentences", "3"])
    first = Preprocessor.load(path).article_sentences(next(read_articles([str(SEEDS)])))[0]
    assert len(first) > 3 and calibrated["sentences"] == first[:3]
    assert calibrated["windows"] == article_windows([first], "[SEP]", "neighbours")[:3]
    assert calibrated["windows"][2].endswith(first[3])  # the cut sentence still reads the one after it


def test_a_damaged_engine_is_one_line_naming_the_fix(model_dir, tmp_path):
    path = copy_model(model_dir, tmp_path)
    engine = path / ENGINE_FILE
    engine.write_bytes(engine.read_bytes()[:5000])  # cut, as by a full disk
    with pytest.raises(KalimatError, match=r"^--precision int8: .*model_int8.onnx is not the engine kalimat_int8.json "
                                           r"records .*; build it with: python scripts/quantize.py"):
        Predictor(path, precision="int8")
    info = json.loads((path / INFO_FILE).read_text())  # a record that vouches for the cut file: ONNX Runtime refuses it
    (path / INFO_FILE).write_text(json.dumps({**info, "engine_sha256": files_sha256([engine])}))
    with pytest.raises(KalimatError, match=r"model_int8.onnx: cannot be loaded \(.*\); rebuild it with: python scripts"):
        Predictor(path, precision="int8")


def test_another_models_engine_copied_in_is_caught_not_served(model_dir, tmp_path, sentences, capsys):
    other = copy_model(model_dir, tmp_path / "other")
    model = AutoModelForSequenceClassification.from_pretrained(other)
    with torch.no_grad():  # another model: the classes' rows swapped, so its engine labels differently
        model.classifier.weight.copy_(model.classifier.weight.flip(0))
        model.classifier.bias.copy_(model.classifier.bias.flip(0))
    model.save_pretrained(other)
    quantize_main(["--model", str(other), "--calibration", str(SEEDS), "--sentences", "40"])
    path = copy_model(model_dir, tmp_path / "first")
    shutil.copy(other / ENGINE_FILE, path / ENGINE_FILE)
    assert "is not the engine kalimat_int8.json records" in find_int8_engine(path)
    with pytest.raises(KalimatError, match="^--precision int8: .*is not the engine"):
        Predictor(path, precision="int8")
    served = Predictor(path)  # auto: the plain model, with a warning naming the fix
    assert served.precision != "int8" and "is not the engine" in capsys.readouterr().err
    reference = [p.label for p in Predictor(path, precision="fp32").predict(sentences)]
    assert [p.label for p in served.predict(sentences)] == reference


@pytest.mark.parametrize("amx, fallback", [(False, "fp32"), (True, "bf16")])
def test_auto_without_the_engine_runs_the_next_fastest_and_says_how_to_build_it(
        model_dir, tmp_path, monkeypatch, capsys, amx, fallback):
    monkeypatch.setattr(precision_module, "cpu_has_amx", lambda: amx)
    monkeypatch.setattr(precision_module, "cpu_is_x86", lambda: True)
    path = copy_model(model_dir, tmp_path)
    assert Predictor(path).precision == "int8"
    (path / ENGINE_FILE).unlink()
    assert Predictor(path).precision == fallback
    assert f"no model_int8.onnx, so it runs in {fallback} (slower); build it with: python scripts/quantize.py" in (
        capsys.readouterr().err)


def test_label_agreement():
    assert label_agreement(["quote", "claim"], ["quote", "opinion"]) == 0.5
    with pytest.raises(ValueError):
        label_agreement(["quote"], [])


def test_missing_model_folder(tmp_path):
    with pytest.raises(KalimatError, match="no such model folder"):
        check_model_dir(tmp_path / "absent")


def test_model_without_label_maps(model_dir, tmp_path):
    path = copy_model(model_dir, tmp_path)
    config = json.loads((path / "config.json").read_text())
    del config["id2label"], config["label2id"]
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(KalimatError, match="id2label/label2id"):
        check_model_dir(path)


def test_model_with_other_labels(model_dir, tmp_path):
    path = copy_model(model_dir, tmp_path)
    config = json.loads((path / "config.json").read_text())
    config["id2label"] = {"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2", "3": "LABEL_3"}
    config["label2id"] = {v: int(k) for k, v in config["id2label"].items()}
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(KalimatError, match="must name exactly the labels"):
        check_model_dir(path)


def test_model_without_weights(model_dir, tmp_path):
    path = copy_model(model_dir, tmp_path)
    (path / "model.safetensors").unlink()
    with pytest.raises(KalimatError, match="no model weights"):
        check_model_dir(path)


def test_pickled_weights_are_refused(model_dir, tmp_path):
    path = copy_model(model_dir, tmp_path)
    (path / "model.safetensors").unlink()
    torch.save({}, path / "pytorch_model.bin")
    with pytest.raises(KalimatError, match="safe_serialization"):
        check_model_dir(path)


def test_model_without_tokenizer(model_dir, tmp_path):
    path = copy_model(model_dir, tmp_path)
    (path / "tokenizer.json").unlink()
    with pytest.raises(KalimatError, match="no tokenizer.json"):
        check_model_dir(path)


def edit_config(path, change):
    config = json.loads((path / "config.json").read_text())
    (path / "config.json").write_text(json.dumps(change(config)))


@pytest.mark.parametrize("change, message", [
    (lambda config: [config], "not a JSON object"),
    (lambda config: {**config, "id2label": list(config["id2label"].values())}, "id2label/label2id"),
    (lambda config: {**config, "label2id": list(config["label2id"])}, "id2label/label2id"),
    (lambda config: {**config, "id2label": dict(zip("0125", LABELS)), "label2id": dict(zip(LABELS, (0, 1, 2, 5)))},
     "id2label/label2id"),  # consistent maps, but the outputs are read by ids 0-3
])
def test_config_of_the_wrong_shape(model_dir, tmp_path, change, message):
    path = copy_model(model_dir, tmp_path)
    edit_config(path, change)
    with pytest.raises(KalimatError, match=message):
        check_model_dir(path)


def test_truncated_weights_are_one_line_error(model_dir, tmp_path):
    path = copy_model(model_dir, tmp_path)
    weights = (path / "model.safetensors").read_bytes()
    (path / "model.safetensors").write_bytes(weights[: len(weights) // 2])
    with pytest.raises(KalimatError, match="cannot load the model.*re-export the model") as raised:
        Predictor(path, precision="fp32")
    assert "\n" not in str(raised.value) and str(path) in str(raised.value)


def test_config_value_of_the_wrong_type_is_one_line_error(model_dir, tmp_path):
    path = copy_model(model_dir, tmp_path)
    edit_config(path, lambda config: {**config, "max_position_embeddings": "abc"})
    with pytest.raises(KalimatError, match="max_position_embeddings.*re-export the model") as raised:
        Predictor(path, precision="fp32")
    assert "\n" not in str(raised.value)

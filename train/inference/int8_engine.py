"""int8 inference through ONNX Runtime with activation scales fixed once, at export.

Why this engine: on x86 CPUs int8 matrix products are the fastest thing the hardware does
(on 2 cores without AMX: about 1,000 GOP/s against under 300 GFLOP/s for fp32; with AMX
tiles 3,300 GOP/s, ahead of bf16's 2,700 GFLOP/s), but
*dynamic* quantization (PyTorch's or ONNX Runtime's) picks each activation's int8 scale
from the whole batch, so a sentence's probabilities, and now and then its label, change
with the sentences it happens to be batched with. Here the scales are measured once, on
calibration sentences (the validation articles, when a training run exports), and frozen
into the graph, so a sentence's result depends only on the sentence (the predictor batches
only sentences of the same token length, so nothing is padded).

Building (:func:`build_int8_engine`, seconds for the mini model, about a minute for the
IndoBERT-base shape):

1. the saved model is exported to ONNX with ``torch.onnx.export(dynamo=False)`` and eager
   attention: the graph ONNX Runtime's transformer optimizer knows how to fuse;
2. ``onnxruntime.transformers.optimizer`` fuses attention, the embeddings, GELU and the
   layer norms;
3. ``onnxruntime.quantization.quantize_dynamic`` makes every matrix product int8;
4. every ``DynamicQuantizeLinear`` (a scale computed per batch at run time) becomes a
   ``QuantizeLinear`` with the range the calibration sentences reached, and each
   ``MatMulInteger -> Cast -> Mul`` chain becomes one fused ``MatMulIntegerToFloat``: the
   same int8 kernels the dynamic graph runs, so fixing the scales costs no speed.

The result, ``model_int8.onnx``, lives in the model folder beside ``kalimat_int8.json``,
which records the SHA-256 of the weights it was built from: a folder whose weights changed
since is not served by a stale engine. The engine is used only by the predictor; plain
``pipeline()`` users load the safetensors weights as before.
"""

import json
import logging
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import helper, numpy_helper
from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidGraph, InvalidProtobuf
from tqdm.auto import tqdm
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from ..core.atomic import write_json
from ..core.errors import KalimatError
from ..core.hashing import files_sha256

ENGINE_FILE = "model_int8.onnx"
INFO_FILE = "kalimat_int8.json"
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
# Sentences whose activations set the int8 ranges: exports, the benchmark and scripts/quantize.py alike.
CALIBRATION_SENTENCES = 512


def weights_sha256(model_dir) -> str:
    """SHA-256 of the folder's safetensors weights (every shard, in name order)."""
    return files_sha256(sorted(Path(model_dir).resolve().glob("model*.safetensors")))


def build_int8_engine(model_dir, sentences: list[str], windows: list[str] | None = None) -> Path:
    """Build ``model_int8.onnx`` in ``model_dir`` (a saved model), calibrated on ``sentences``.

    ``windows`` are the sentences' context windows for a model trained with them, exactly as
    the predictor will pass them. Calibrate on sentences like the ones to be labeled (never
    on test sentences whose scores will be reported).
    """
    # Needed only here, and slow to import: not paid by every prediction job.
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer

    if not sentences:
        raise KalimatError("int8 engine: no calibration sentences given")
    model_dir = Path(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir, use_safetensors=True, attn_implementation="eager", dtype=torch.float32).eval()
    config = model.config
    max_length = min(tokenizer.model_max_length, config.max_position_embeddings)  # as the predictor cuts
    with tempfile.TemporaryDirectory(prefix=".int8-", dir=model_dir) as tmp:
        plain, fused, dynamic = (Path(tmp) / name for name in ("plain.onnx", "fused.onnx", "dynamic.onnx"))
        example = tokenizer(["Contoh kalimat.", "Kalimat kedua sedikit lebih panjang."], padding=True,
                            return_tensors="pt")
        names = [name for name in INPUT_NAMES if name in example]
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
            torch.onnx.export(
                model, tuple(example[name] for name in names), plain, input_names=names, output_names=["logits"],
                dynamic_axes={**{name: {0: "batch", 1: "sequence"} for name in names}, "logits": {0: "batch"}},
                opset_version=17, dynamo=False)
        del model
        # Both tools log every step (and advise a shape-inference pass that is not needed here): silenced.
        logging.disable(logging.WARNING)
        try:
            optimizer.optimize_model(str(plain), model_type="bert", num_heads=config.num_attention_heads,
                                     hidden_size=config.hidden_size).save_model_to_file(str(fused))
            quantize_dynamic(fused, dynamic, weight_type=QuantType.QInt8,
                             extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        finally:
            logging.disable(logging.NOTSET)
        graph = onnx.load(dynamic)
        ranges = _calibrate(graph, tokenizer, names, sentences, windows, max_length)
        _freeze_scales(graph, ranges)
        onnx.save(graph, Path(tmp) / ENGINE_FILE)
        (Path(tmp) / ENGINE_FILE).replace(model_dir / ENGINE_FILE)
    write_json(model_dir / INFO_FILE, {
        "weights_sha256": weights_sha256(model_dir),
        "engine_sha256": files_sha256([model_dir / ENGINE_FILE]),
        "calibration_sentences": len(sentences),
        "onnxruntime": ort.__version__,
        "inputs": names,
    })
    return model_dir / ENGINE_FILE


def _calibrate(graph, tokenizer, names, sentences, windows, max_length) -> dict[str, tuple[float, float]]:
    """The range every dynamically quantized tensor reaches on the calibration sentences (real tokens only)."""
    probe = onnx.ModelProto()
    probe.CopyFrom(graph)
    tensors = [node.input[0] for node in graph.graph.node if node.op_type == "DynamicQuantizeLinear"]
    for name in tensors:
        probe.graph.output.append(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    session = _session(probe.SerializeToString())
    low, high = np.zeros(len(tensors)), np.zeros(len(tensors))  # every range includes 0, as int8's must
    batch = 16
    for start in tqdm(range(0, len(sentences), batch), desc="int8 calibration", unit="batch", file=sys.stderr,
                      delay=2):
        pair = windows[start : start + batch] if windows is not None else None
        encoded = tokenizer(sentences[start : start + batch], pair, padding=True, truncation=True,
                            max_length=max_length, return_tensors="np")
        real = encoded["attention_mask"].astype(bool)
        outputs = session.run(tensors, {name: encoded[name].astype(np.int64) for name in names})
        for k, values in enumerate(outputs):
            values = values[real] if values.ndim == 3 and values.shape[:2] == real.shape else values
            low[k], high[k] = min(low[k], values.min()), max(high[k], values.max())
    return {name: (float(lo), float(hi)) for name, lo, hi in zip(tensors, low, high)}


def _freeze_scales(graph, ranges: dict[str, tuple[float, float]]) -> None:
    """Replace each DynamicQuantizeLinear by a fixed QuantizeLinear, and fuse the int8 products' rescaling.

    DynamicQuantizeLinear's scale and zero point outputs become constants of the same names,
    so every consumer (QAttention, MatMulInteger) reads them unchanged.
    """
    nodes = []
    for node in graph.graph.node:
        if node.op_type != "DynamicQuantizeLinear":
            nodes.append(node)
            continue
        low, high = ranges[node.input[0]]
        scale = np.float32(max(high - low, 1e-8) / 255)
        zero_point = np.uint8(np.clip(round(-low / scale), 0, 255))
        graph.graph.initializer.extend([numpy_helper.from_array(np.array(scale), node.output[1]),
                                        numpy_helper.from_array(np.array(zero_point), node.output[2])])
        nodes.append(helper.make_node("QuantizeLinear", [node.input[0], node.output[1], node.output[2]],
                                      [node.output[0]], name=f"{node.name}_fixed"))
    # MatMulInteger -> Cast -> Mul(by a_scale * b_scale): ONNX Runtime fuses this into one kernel only
    # when the scale is dynamic; say it directly with the fused operator.
    producer = {output: node for node in nodes for output in node.output}
    consumers: dict[str, list] = {}
    for node in nodes:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    fused, dropped = {}, set()
    for node in nodes:
        if node.op_type != "MatMulInteger" or len(consumers.get(node.output[0], [])) != 1:
            continue
        cast = consumers[node.output[0]][0]
        rescale = consumers.get(cast.output[0], [None])[0]
        scales = producer.get(rescale.input[1]) if rescale is not None and rescale.op_type == "Mul" else None
        if cast.op_type != "Cast" or scales is None or scales.op_type != "Mul":
            continue
        a_scale, b_scale = scales.input
        fused[id(node)] = helper.make_node(
            "MatMulIntegerToFloat", [node.input[0], node.input[1], a_scale, b_scale, node.input[2], node.input[3]],
            [rescale.output[0]], name=f"{node.name}_to_float", domain="com.microsoft")
        dropped |= {id(cast), id(rescale)}
        if len(consumers[scales.output[0]]) == 1:
            dropped.add(id(scales))
    kept = [fused.get(id(node), node) for node in nodes if id(node) not in dropped]
    del graph.graph.node[:]
    graph.graph.node.extend(kept)


def _session(model):
    """A CPU session with as many threads as torch uses (results do not depend on the number)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    options.log_severity_level = 3  # errors only: not the optimizer's notes on unused initializers
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


class Int8Engine:
    """A built ``model_int8.onnx``, run on the CPU: int64 inputs in, fp32 logits out."""

    def __init__(self, model_dir):
        path = Path(model_dir) / ENGINE_FILE
        try:
            self.session = _session(str(path))
        except (Fail, InvalidGraph, InvalidProtobuf) as err:  # a damaged or cut graph file
            detail = " ".join(str(err).split())[:200]
            raise KalimatError(f"{path}: cannot be loaded ({detail}); rebuild it with: python scripts/quantize.py "
                               f"--model {model_dir} --calibration ARTICLES") from None
        self.names = [node.name for node in self.session.get_inputs()]

    def __call__(self, batch: dict) -> torch.Tensor:
        feed = {name: np.asarray(batch[name], dtype=np.int64) for name in self.names}
        return torch.from_numpy(self.session.run(["logits"], feed)[0])


def find_int8_engine(model_dir) -> str | None:
    """Why ``model_dir`` cannot serve int8 through the engine, or ``None`` when it can."""
    model_dir = Path(model_dir)
    if not (model_dir / ENGINE_FILE).is_file() or not (model_dir / INFO_FILE).is_file():
        return f"{model_dir} has no {ENGINE_FILE}"
    try:
        info = json.loads((model_dir / INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"{model_dir / INFO_FILE} is not valid JSON"
    if not isinstance(info, dict) or info.get("weights_sha256") != weights_sha256(model_dir):
        return f"{model_dir / ENGINE_FILE} was built from other weights than {model_dir}'s"
    if info.get("engine_sha256") != files_sha256([model_dir / ENGINE_FILE]):
        # Another model's engine copied in, or one built before the engine itself was pinned.
        return f"{model_dir / ENGINE_FILE} is not the engine {INFO_FILE} records for these weights"
    return None


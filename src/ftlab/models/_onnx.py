"""ONNX export of a classifier, and an ONNX Runtime model with the same ``Batch -> logits`` call.

Bag-of-embeddings and transformer models export (``torch.onnx.export``, the dynamo exporter,
dynamic batch and sequence axes); RNN models do not: their packed sequences
(``pack_padded_sequence``) are not exportable by ``torch.export``. Exporting a whole run
(config, encoder, checkpoint) is :func:`ftlab.runs.export_onnx_run`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import logging
import os
import tempfile
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ftlab.core import Batch, optional_import
from ftlab.errors import ConfigError

__all__ = ["Int8Settings", "OnnxRuntimeModel", "export_onnx", "fp32_head_nodes", "onnx_input_names",
           "quantize_onnx_int8"]

OPSET = 18


@contextlib.contextmanager
def _quiet() -> Any:
    """The exporter and the quantizer log advice (torchvision ops skipped, "consider
    pre-processing") that a user of ``ftlab export`` cannot act on; keep errors only."""
    logging.disable(logging.WARNING)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        logging.disable(logging.NOTSET)


def onnx_input_names(model: nn.Module) -> list[str]:
    """The ONNX graph's inputs for ``model``, named after the :class:`Batch` fields.

    Raises:
        ConfigError: the model family cannot be exported.
    """
    from ftlab.models._bow import BagOfEmbeddings
    from ftlab.models._transformer import TransformerClassifier

    if isinstance(model, TransformerClassifier):
        return ["ids", "mask"] + (["token_type_ids"] if model.uses_token_type_ids else [])
    if isinstance(model, BagOfEmbeddings):
        return ["ids", "mask"] + (["pair_ids", "pair_mask"] if model.text_pairs else [])
    raise ConfigError(
        f"ONNX export supports the bow and transformer families, got {type(model).__name__}: "
        "RNN models run packed sequences (pack_padded_sequence), which torch.onnx cannot "
        "export; use the torch backend for this run."
    )


class _FromTensors(nn.Module):
    """``(ids, mask, ...)`` -> the wrapped model's logits: the graph ONNX sees."""

    def __init__(self, model: nn.Module, names: Sequence[str]) -> None:
        super().__init__()
        self.model = model
        self.names = list(names)

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        given = dict(zip(self.names, tensors))
        ids, mask = given["ids"], given["mask"]
        n = ids.shape[0]
        unused = torch.zeros(n, dtype=torch.long)
        pair_mask = given.get("pair_mask")
        batch = Batch(ids=ids, mask=mask, lengths=mask.sum(dim=1), labels=unused, index=unused,
                      pair_ids=given.get("pair_ids"), pair_mask=pair_mask,
                      pair_lengths=pair_mask.sum(dim=1) if pair_mask is not None else None,
                      token_type_ids=given.get("token_type_ids"))
        return self.model(batch)  # (B, num_outputs)


def export_onnx(model: nn.Module, path: str | Path, *, opset: int = OPSET) -> Path:
    """Write ``model`` (eval mode, CPU) as one ONNX file with dynamic batch and length axes.

    Inputs are int64 ``ids`` (B, T) and ``mask`` (B, T) (plus ``token_type_ids`` for
    transformers that use them, ``pair_ids``/``pair_mask`` for separately encoded pairs); the
    output ``logits`` is (B, num_outputs) float32, as ``model(batch)`` returns. The write is
    atomic (temporary file, rename).

    Raises:
        ConfigError: the model family cannot be exported (:func:`onnx_input_names`).
        MissingDependencyError: onnx / onnxscript are not installed (``ftlab[onnx]``).
    """
    names = onnx_input_names(model)
    optional_import("onnxscript", "ONNX export")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.cpu().eval()
    t = 8  # example length; any value > 1 (1 would be specialised as a constant)
    ids = torch.arange(1, 3 * t + 1, dtype=torch.long).reshape(3, t) % 50 + 1
    mask = torch.ones(3, t, dtype=torch.long)
    mask[1, t // 2:] = 0
    example = {"ids": ids, "mask": mask, "pair_ids": ids.flip(1), "pair_mask": mask.flip(0),
               "token_type_ids": torch.zeros(3, t, dtype=torch.long)}
    dim = torch.export.Dim
    batch, length, pair_length = dim("batch"), dim("length"), dim("pair_length")
    dynamic = tuple({0: batch, 1: pair_length if n.startswith("pair") else length}
                    for n in names)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        # the exporter reports its steps on stdout; a CLI command prints its own summary
        with _quiet(), torch.no_grad():
            torch.onnx.export(_FromTensors(model, names).eval(), tuple(example[n] for n in names),
                              tmp, input_names=names, output_names=["logits"],
                              dynamic_shapes=(dynamic,), opset_version=opset, dynamo=True,
                              external_data=False)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


@dataclasses.dataclass(frozen=True)
class Int8Settings:
    """How :func:`quantize_onnx_int8` quantizes (ONNX Runtime dynamic quantization).

    The defaults are what ``--quantize int8`` uses (measured in BENCHMARKS.md, "Inference:
    torch vs ONNX Runtime"): one int8 scale per output channel, and the last two linear layers
    before the logits left in float32.

    Attributes:
        per_channel: one scale per output channel of each weight matrix (else one per tensor).
        reduce_range: 7-bit weights, for CPUs without VNNI whose u8 x s8 products can saturate
            (AVX2/AVX-512 without VNNI); not needed where VNNI or AMX is present.
        fp32_head_layers: how many linear layers, counted back from the logits, stay float32:
            1 keeps the classifier, 2 also the layer that feeds it (BERT's pooler, DistilBERT's
            pre_classifier, the bow model's last hidden layer). They run once per example, not
            once per token, so int8 would save almost no time there.
    """

    per_channel: bool = True
    reduce_range: bool = False
    fp32_head_layers: int = 2

    def key(self) -> str:
        """A short digest of the settings, for cache file names."""
        text = json.dumps(dataclasses.asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:10]


_LINEAR = ("MatMul", "Gemm")


def fp32_head_nodes(graph: Any, layers: int) -> list[str]:
    """Names of the MatMul/Gemm nodes among the last ``layers`` linear layers before the output.

    A node's depth is the least number of MatMul/Gemm nodes on a path from it to a graph
    output, itself included (the classifier has depth 1, the layer feeding it 2, ...); nodes of
    depth <= ``layers`` are returned. ``graph`` is an ``onnx.GraphProto``.
    """
    if layers <= 0:
        return []
    nodes = list(graph.node)
    producer = {out: i for i, node in enumerate(nodes) for out in node.output}
    depth: dict[int, int] = {}
    queue: deque[tuple[int, int]] = deque((producer[o.name], 0) for o in graph.output
                                          if o.name in producer)
    while queue:  # 0-1 breadth-first search: passing a linear node costs 1
        i, d = queue.popleft()
        d += nodes[i].op_type in _LINEAR
        if d > layers or depth.get(i, layers + 1) <= d:
            continue
        depth[i] = d
        for name in nodes[i].input:
            if name in producer:
                j = producer[name]
                (queue.append if nodes[j].op_type in _LINEAR else queue.appendleft)((j, d))
    return sorted(nodes[i].name for i, d in depth.items()
                  if nodes[i].op_type in _LINEAR and nodes[i].name)


def quantize_onnx_int8(src: str | Path, dst: str | Path,
                       settings: Int8Settings | None = None) -> Path:
    """Dynamic int8 quantization of an ONNX model's MatMul/Gemm weights (ONNX Runtime).

    Weights become int8 (per output channel with the default ``settings``, see
    :class:`Int8Settings`);
    activations are quantized on the fly per batch, as torch's ``quantize_dynamic`` does for
    Linear layers. Embedding tables and the ``settings.fp32_head_layers`` last linear layers
    (:func:`fp32_head_nodes`) stay float32.
    """
    settings = settings or Int8Settings()
    quant = optional_import("onnxruntime.quantization", "int8 quantization of an ONNX model")
    onnx = optional_import("onnx", "int8 quantization of an ONNX model")
    dst = Path(dst)
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".onnx", dir=dst.parent)
    os.close(fd)
    try:
        # the exporter's intermediate shapes hold the example's batch size in places; the
        # quantizer re-infers shapes and refuses the mismatch, so it starts without them
        proto = onnx.load(str(src))
        del proto.graph.value_info[:]
        onnx.save(proto, tmp)
        keep = fp32_head_nodes(proto.graph, settings.fp32_head_layers)
        # dynamic quantization first rewrites each Gemm as a MatMul named "<gemm>_MatMul" (+ Add)
        # and matches nodes_to_exclude against the rewritten graph; the test that the head's
        # weights stay float32 in the int8 file guards this naming
        keep += [f"{name}_MatMul" for name in keep]
        with _quiet():
            quant.quantize_dynamic(tmp, tmp, weight_type=quant.QuantType.QInt8,
                                   op_types_to_quantize=list(_LINEAR),
                                   per_channel=settings.per_channel,
                                   reduce_range=settings.reduce_range,
                                   nodes_to_exclude=keep,
                                   extra_options={"MatMulConstBOnly": True})
        os.replace(tmp, dst)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return dst


class OnnxRuntimeModel(nn.Module):
    """An ONNX file run by ONNX Runtime (CPU), called like a torch model: ``Batch -> logits``.

    It has no parameters; ``eval()``/``train()`` are accepted and change nothing. Logits come
    back as a float32 CPU tensor, so everything after the model (probabilities, temperature,
    the prediction files) is the torch backend's code.

    Args:
        path: an ONNX file written by :func:`export_onnx` (or :func:`quantize_onnx_int8`).
        threads: ONNX Runtime's intra-op threads (``None``: torch's current count, so
            ``train.threads`` / ``--threads`` apply to both backends).
    """

    def __init__(self, path: str | Path, *, threads: int | None = None) -> None:
        super().__init__()
        ort = optional_import("onnxruntime", "ONNX Runtime inference")
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(threads or torch.get_num_threads())
        options.inter_op_num_threads = 1
        self.path = Path(path)
        self.session: Any = ort.InferenceSession(str(path), options,
                                                 providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]

    def forward(self, batch: Batch) -> torch.Tensor:
        feeds = {}
        for name in self.input_names:
            value = getattr(batch, name, None)
            if value is None:
                raise ConfigError(f"{self.path}: the ONNX model needs input {name!r}, which this "
                                  "batch does not have (was it exported from another run?)")
            feeds[name] = value.detach().cpu().to(torch.int64).numpy()
        (logits,) = self.session.run(["logits"], feeds)
        return torch.from_numpy(logits)  # (B, num_outputs)

"""``ftlab predict`` and ``ftlab calibrate`` on a trained run."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from ftlab.core import dumps_json, guard_write, writes_run
from ftlab.errors import ConfigError, DataError
from ftlab.models import Int8Settings
from ftlab.runs._evaluate import (
    join_torchrun, leave_torchrun, load_run_model, predict_encoded, read_calibration,
    choice_read_options, input_caps, refuse_non_finite,
)
from ftlab.runs._rundir import write_json_atomic

__all__ = ["predict_file", "calibrate_run", "quantize_dynamic_int8"]


def quantize_dynamic_int8(model: torch.nn.Module) -> torch.nn.Module:
    """int8 dynamic quantization of Linear/LSTM/GRU weights for CPU inference.

    Activations stay float and are quantized on the fly per batch; embeddings stay float.
    """
    from torch.ao.quantization import quantize_dynamic

    return quantize_dynamic(model.cpu(), {torch.nn.Linear, torch.nn.LSTM, torch.nn.GRU},
                            dtype=torch.qint8)


def predict_file(
    run_dir: Path, *, input: Path, output: Path, quantize: Literal["none", "int8"] = "none",
    text_column: str | None = None, text_pair_column: str | None = None,
    distributed: bool = False, threads: int | None = None,
    backend: Literal["torch", "onnxruntime"] = "torch",
    int8: Int8Settings | None = None,
) -> dict[str, Any]:
    """Predict every row of ``input`` (any reader format; labels optional) into JSONL.

    Output rows keep the input order: id, text, pred, probs (and label when present).
    Inference runs in length-sorted batches; temperature/threshold from ``ftlab calibrate``
    are applied when present. With ``distributed=True`` under torchrun every rank predicts
    its share of the batches, the results are gathered in input order and rank 0 alone writes
    ``output`` (other ranks return ``{}``).

    ``threads`` sets torch's intra-op CPU threads (default: the run's ``train.threads``, else
    ``OMP_NUM_THREADS``, else torch's default); ONNX Runtime gets the same count.

    ``backend="onnxruntime"`` runs the run's model exported to ONNX (bow and transformer runs;
    exported once and cached in ``RUN/onnx/``, rebuilt when the checkpoint changes); with
    ``quantize="int8"`` ONNX Runtime's dynamic int8 quantization instead of torch's, set by
    ``int8`` (default :class:`~ftlab.models.Int8Settings`: per-channel weights, the classifier
    and the layer before it in float32). The output file has the same rows and fields as the
    torch backend's.

    Returns:
        Counts and timing: rows, seconds, examples_per_s, quantized, backend, world_size,
        threads (and ``int8``, the quantization settings, for ONNX Runtime int8).

    Raises:
        ConfigError: ``backend="onnxruntime"`` for an RNN run, or under torchrun.
    """
    from ftlab.data import read_file
    from ftlab.training import torchrun_world_size, world_size

    if backend == "onnxruntime" and distributed and torchrun_world_size() > 1:
        raise ConfigError("--backend onnxruntime runs in one process; start ftlab predict "
                          "without torchrun")
    config, encoder, model = load_run_model(
        run_dir, device=join_torchrun(run_dir) if distributed else None, threads=threads)
    if backend == "onnxruntime":
        from ftlab.runs._export import onnx_model_for_run

        model = onnx_model_for_run(run_dir, model, quantize=quantize, threads=threads,
                                   int8=int8)
    elif quantize == "int8":
        model = quantize_dynamic_int8(model)
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    cols = config.data.columns
    read: dict[str, Any] = dict(
        text_column=text_column or cols.text, encoding=config.data.encoding,
        text_pair_column=text_pair_column if text_pair_column is not None else cols.text_pair,
        split="predict", **choice_read_options(config, encoder))
    max_bytes, max_field_chars = input_caps(config)
    try:  # gold labels are optional: kept in the output when the file has them
        examples = read_file(input, label_column=cols.label, max_bytes=max_bytes,
                             max_field_chars=max_field_chars, **read)
    except DataError:
        examples = read_file(input, label_column=None, max_bytes=max_bytes,
                             max_field_chars=max_field_chars, **read)
    if not examples:
        raise DataError(f"{input}: no rows to predict")
    started = time.perf_counter()
    encoded = [e for e in encoder.encode([ex if ex.label in encoder.labels.names else
                                          _unlabelled(ex) for ex in examples])]
    probs, _ = predict_encoded(model, encoded, config, pad_id=encoder.tokenizer.pad_id,
                               device=device)
    seconds = time.perf_counter() - started
    world = world_size()
    if distributed and not leave_torchrun():
        return {}
    refuse_non_finite(probs, run_dir, what="input rows")
    cal = read_calibration(run_dir)
    if cal.get("temperature"):
        from ftlab.evaluation import apply_temperature

        probs = apply_temperature(probs, cal["temperature"])
    names = encoder.labels.names
    threshold = cal.get("threshold")

    def write() -> None:
        output.parent.mkdir(parents=True, exist_ok=True)
        with output.open("w", encoding="utf-8") as fh:
            for ex, p in zip(examples, probs):
                pred = int(p.argmax()) if threshold is None else int(p[1] >= threshold)
                rec: dict[str, Any] = {"id": ex.id, "text": ex.text, "pred": names[pred],
                                       "probs": {n: round(float(v), 6) for n, v in zip(names, p)}}
                if ex.label is not None:
                    rec["label"] = ex.label
                if ex.choices is not None:  # multiple choice: the pred is a position
                    rec["choices"] = list(ex.choices)
                fh.write(dumps_json(rec) + "\n")

    guard_write(write, output, what="the predictions", intact="the run itself is untouched")
    return {"rows": len(examples), "seconds": round(seconds, 3),
            "examples_per_s": round(len(examples) / max(seconds, 1e-9), 1),
            "quantized": quantize, "backend": backend, "output": str(output),
            "world_size": world,
            "threads": torch.get_num_threads(),
            **({"int8": dataclasses.asdict(int8 or Int8Settings())}
               if backend == "onnxruntime" and quantize == "int8" else {})}


def _unlabelled(example: Any) -> Any:
    from dataclasses import replace

    return replace(example, label=None)


@writes_run("calibrate")
def calibrate_run(
    run_dir: Path, *, threshold_metric: Literal["f1", "accuracy", "balanced_accuracy"] | None = None,
) -> dict[str, Any]:
    """Fit one temperature on the validation split (minimising NLL) and optionally a decision
    threshold (binary); saved as ``calibration.json`` and used by evaluate and predict.

    A fitted temperature that worsens validation NLL or ECE is not applied: the record keeps
    it as ``fitted_temperature``, sets ``temperature`` to null and says why in
    ``temperature_skipped``. The threshold is tuned for the run's positive class (recorded
    as ``positive``).

    Returns:
        The calibration record: temperature, ECE and NLL before/after, threshold.
    """
    from ftlab.evaluation import (
        apply_temperature, expected_calibration_error, fit_temperature, tune_threshold,
    )
    from ftlab.runs._prepare import prepare_data

    run_dir = Path(run_dir)
    config, encoder, model = load_run_model(run_dir)
    prepared = prepare_data(config, encoder_dir=run_dir / "artifacts" / "encoder")
    device = next(model.parameters()).device
    probs, labels = predict_encoded(model, prepared.encoded["validation"], config,
                                    pad_id=encoder.tokenizer.pad_id, device=device)
    refuse_non_finite(probs, run_dir, what="validation examples")
    fitted = float(fit_temperature(probs, labels))
    calibrated = apply_temperature(probs, fitted)

    def nll(p: np.ndarray) -> float:
        return float(-np.mean(np.log(np.clip(p[np.arange(len(labels)), labels], 1e-12, 1.0))))

    record: dict[str, Any] = {
        "split": "validation", "n": int(len(labels)), "temperature": fitted,
        "fitted_temperature": fitted,
        "ece_before": float(expected_calibration_error(probs, labels)),
        "ece_after": float(expected_calibration_error(calibrated, labels)),
        "nll_before": nll(probs), "nll_after": nll(calibrated), "threshold": None,
        "temperature_skipped": None,
    }
    worse = [f"{k.upper()} {record[k + '_before']:.4f} -> {record[k + '_after']:.4f}"
             for k in ("nll", "ece") if record[k + "_after"] > record[k + "_before"] + 1e-12]
    if worse:  # a temperature that hurts validation is not applied
        record["temperature_skipped"] = (
            f"temperature {fitted:.3f} not applied: it worsened validation "
            f"{' and '.join(worse)}; probabilities are used as the model gives them")
        record["temperature"] = None
        calibrated = probs
    if threshold_metric is not None:
        if probs.shape[1] != 2:
            raise DataError(f"a decision threshold needs a binary task; this run has "
                            f"{probs.shape[1]} classes")
        from ftlab.runs._evaluate import positive_class

        train_labels = [e.label for e in prepared.encoded.get("train", [])]
        pos, _ = positive_class(encoder.labels.names, train_labels,
                                configured=config.eval.positive_label)
        assert pos is not None
        threshold, score = tune_threshold((labels == pos).astype(np.int64), calibrated[:, pos],
                                          metric=threshold_metric)
        record.update(threshold=float(threshold), threshold_metric=threshold_metric,
                      threshold_score=float(score), positive=encoder.labels.names[pos])
    old = read_calibration(run_dir)
    if old and old.get("threshold") is not None and threshold_metric is None:
        record["threshold"] = None  # a new temperature invalidates a threshold tuned before
    write_json_atomic(run_dir / "calibration.json", record)
    return record

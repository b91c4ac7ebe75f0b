"""The training doctor: each rule fires on a history built for it, none on a healthy one."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ftlab.errors import DataError
from ftlab.evaluation import (
    Finding,
    History,
    diagnose,
    format_findings,
    load_history,
    write_doctor,
)
from ftlab.training import EpochEnd, EvalEnd, JsonlTracker, StepEnd, TrainEnd, TrainStart


def write_run(
    path: Path,
    losses: Sequence[float],
    *,
    steps_per_epoch: int,
    evals: Sequence[dict[str, float]] = (),
    epochs: int | None = None,
    grad_norms: Sequence[float] | None = None,
    monitor: str = "accuracy",
    end_reason: str | None = None,
) -> Path:
    """Feed JsonlTracker the events of a synthetic run: one eval per epoch end (``evals[e]``)."""
    n = len(losses)
    epochs = epochs if epochs is not None else math.ceil(n / steps_per_epoch)
    grads = list(grad_norms) if grad_norms is not None else [1.0] * n
    tracker = JsonlTracker(path)
    tracker.on_train_start(TrainStart(total_steps=epochs * steps_per_epoch,
                                      steps_per_epoch=steps_per_epoch, epochs=epochs,
                                      resumed_from_step=None, hparams={"lr": 1e-3}))
    best, best_step, epoch = None, None, 0
    for i, loss in enumerate(losses):
        step, epoch = i + 1, i // steps_per_epoch
        tracker.on_step_end(StepEnd(step=step, epoch=epoch, loss=float(loss), lr=1e-3,
                                    grad_norm=float(grads[i]), examples=32, tokens=640,
                                    padded_tokens=700, seconds=0.01))
        if step % steps_per_epoch == 0:
            if epoch < len(evals):
                metrics = evals[epoch]
                value = metrics[monitor]
                if best is None or (value < best if monitor == "loss" else value > best):
                    best, best_step = value, step
                tracker.on_eval_end(EvalEnd(step, epoch, metrics))
            tracker.on_epoch_end(EpochEnd(epoch, step))
    reason = end_reason or f"completed {epochs} epochs"
    tracker.on_train_end(TrainEnd(n, epoch + 1, reason, best, best_step))
    return path


def _evals(loss: Sequence[float], acc: Sequence[float]) -> list[dict[str, float]]:
    return [{"loss": lo, "accuracy": a, "macro_f1": a - 0.02, "n": 200.0}
            for lo, a in zip(loss, acc, strict=True)]


def _noisy(curve: np.ndarray, rel: float = 0.03, seed: int = 0) -> np.ndarray:
    """Mini-batch noise: +-``rel`` of the level."""
    rng = np.random.default_rng(seed)
    return curve * (1 + rel * rng.standard_normal(curve.size))


def _decay(n: int, start: float = 0.85, floor: float = 0.15, tau: float = 40.0) -> np.ndarray:
    return floor + (start - floor) * np.exp(-np.arange(n) / tau)


# --- synthetic histories, one per rule -----------------------------------------------------------
def healthy(path: Path) -> Path:
    # smoothly decreasing training loss; validation loss decreasing then flat; accuracy rising
    return write_run(path, _noisy(_decay(120)), steps_per_epoch=20,
                     grad_norms=_noisy(np.linspace(2.0, 0.8, 120), 0.2, seed=1),
                     evals=_evals([0.60, 0.45, 0.38, 0.36, 0.355, 0.354],
                                  [0.70, 0.78, 0.82, 0.838, 0.840, 0.841]))


def not_decreasing(path: Path) -> Path:
    return write_run(path, _noisy(np.full(100, 0.69), 0.03), steps_per_epoch=50,
                     evals=_evals([0.69, 0.69], [0.50, 0.51]))


def diverging(path: Path) -> Path:
    return write_run(path, _noisy(np.linspace(0.7, 1.3, 100)), steps_per_epoch=50,
                     evals=_evals([0.8, 1.1], [0.6, 0.55]))


def oscillating(path: Path) -> Path:
    trend = np.linspace(1.5, 0.8, 120)  # falls, but every other step jumps by +-0.7
    swing = 0.7 * np.where(np.arange(120) % 2 == 0, 1.0, -1.0)
    return write_run(path, trend + swing, steps_per_epoch=60, evals=_evals([0.7, 0.6], [0.6, 0.65]))


def exploding(path: Path) -> Path:
    losses = np.concatenate([_noisy(np.full(30, 0.7)), 0.7 * 10.0 ** np.arange(1, 6)])
    grads = np.concatenate([_noisy(np.full(30, 1.0), 0.1), 50.0 * 10.0 ** np.arange(5)])
    return write_run(path, losses, steps_per_epoch=35, grad_norms=grads)


def non_finite(path: Path) -> Path:
    grads = np.concatenate([np.full(25, 1.0), [80.0, 900.0]])
    return write_run(path, _noisy(_decay(27)), steps_per_epoch=100, grad_norms=grads, epochs=1,
                     end_reason="non-finite loss at step 28")


def leakage(path: Path) -> Path:
    losses = np.concatenate([np.geomspace(0.7, 0.002, 10), np.full(110, 0.001)])
    return write_run(path, losses, steps_per_epoch=40,
                     evals=_evals([0.71, 0.70, 0.70], [0.52, 0.51, 0.53]))


def negative(path: Path) -> Path:
    return write_run(path, np.linspace(0.5, -0.5, 60), steps_per_epoch=30)


def overfitting(path: Path) -> Path:
    return write_run(path, _noisy(_decay(120, floor=0.05)), steps_per_epoch=20,
                     evals=_evals([0.60, 0.50, 0.45, 0.47, 0.50, 0.55],
                                  [0.70, 0.75, 0.78, 0.77, 0.76, 0.75]))


def confident(path: Path) -> Path:
    return write_run(path, _noisy(_decay(120, floor=0.05)), steps_per_epoch=20,
                     evals=_evals([0.60, 0.50, 0.45, 0.48, 0.52, 0.58],
                                  [0.70, 0.75, 0.78, 0.800, 0.802, 0.804]))


def best_early(path: Path) -> Path:
    return write_run(path, _noisy(_decay(100, tau=15)), steps_per_epoch=10,
                     evals=_evals([0.40, 0.41, 0.40, 0.42, 0.41, 0.42, 0.43, 0.42, 0.43, 0.44],
                                  [0.85, 0.84, 0.84, 0.83, 0.84, 0.83, 0.83, 0.82, 0.83, 0.82]))


def best_late(path: Path) -> Path:
    return write_run(path, _noisy(_decay(100, tau=60)), steps_per_epoch=20,
                     evals=_evals([0.68, 0.62, 0.57, 0.52, 0.47], [0.60, 0.65, 0.70, 0.75, 0.80]))


def zero_recall_logged(path: Path) -> Path:
    # per-class recall logged with the evaluations (fallback when no evaluation JSON is given)
    evals = _evals([0.60, 0.45, 0.38], [0.70, 0.78, 0.80])
    for e in evals:
        e.update({"recall/fresh": 1.0, "recall/rotten": 0.0})
    return write_run(path, _noisy(_decay(60)), steps_per_epoch=20, evals=evals)


BUILDERS: dict[str, Callable[[Path], Path]] = {
    "loss_not_decreasing": not_decreasing,
    "diverging_loss": diverging,
    "oscillating_loss": oscillating,
    "exploding_loss": exploding,
    "label_leakage_suspected": leakage,
    "negative_loss": negative,
    "overfitting": overfitting,
    "confident_mistakes": confident,
    "best_epoch_early": best_early,
    "best_epoch_late": best_late,
    "zero_recall_class": zero_recall_logged,
}


def _rules(findings: Sequence[Finding]) -> list[str]:
    return [f.rule for f in findings]


@pytest.mark.parametrize("rule", sorted(BUILDERS))
def test_each_rule_fires_on_its_history_with_numbers_and_a_fix(tmp_path, rule):
    findings = diagnose(load_history(BUILDERS[rule](tmp_path / "metrics.jsonl")))
    hit = [f for f in findings if f.rule == rule]
    assert len(hit) == 1, format_findings(findings)
    f = hit[0]
    assert f.severity in ("error", "warning", "info")
    assert any(ch.isdigit() for ch in f.message), f.message  # says what was seen, with numbers
    assert f.title and len(f.fix) > 20 and f.evidence
    json.dumps(f.to_dict(), allow_nan=False)


def test_healthy_history_fires_no_rule(tmp_path):
    findings = diagnose(load_history(healthy(tmp_path / "metrics.jsonl")))
    assert findings == [], format_findings(findings)
    assert "healthy" in format_findings(findings)


@pytest.mark.parametrize("rule, silent", [
    ("loss_not_decreasing", {"diverging_loss", "overfitting", "label_leakage_suspected"}),
    ("diverging_loss", {"loss_not_decreasing", "exploding_loss"}),
    ("exploding_loss", {"diverging_loss", "oscillating_loss", "loss_not_decreasing"}),
    ("overfitting", {"confident_mistakes", "best_epoch_early", "best_epoch_late"}),
    ("confident_mistakes", {"overfitting"}),
    ("negative_loss", {"diverging_loss", "loss_not_decreasing", "oscillating_loss"}),
])
def test_rules_that_would_double_count_stay_silent(tmp_path, rule, silent):
    rules = set(_rules(diagnose(load_history(BUILDERS[rule](tmp_path / "m.jsonl")))))
    assert rule in rules and not (rules & silent), rules


def test_exploding_loss_reports_gradient_spikes_and_a_non_finite_end(tmp_path):
    f = diagnose(load_history(exploding(tmp_path / "a.jsonl")))[0]
    assert f.rule == "exploding_loss" and f.severity == "error"
    assert f.evidence["growth"] >= 100 and f.evidence["grad_spike_steps"][0] == 31
    g = [x for x in diagnose(load_history(non_finite(tmp_path / "b.jsonl")))
         if x.rule == "exploding_loss"]
    assert g and "non-finite" in g[0].message and g[0].evidence["grad_spike_steps"] == [26, 27]


def test_leakage_uses_the_majority_rate_when_accuracy_looks_decent(tmp_path):
    losses = np.concatenate([np.geomspace(0.7, 0.002, 10), np.full(70, 0.001)])
    path = write_run(tmp_path / "m.jsonl", losses, steps_per_epoch=40,
                     evals=_evals([0.50, 0.50], [0.80, 0.81]))
    history = load_history(path)
    assert "label_leakage_suspected" not in _rules(diagnose(history))
    flagged = diagnose(history, majority_accuracy=0.79)
    assert "label_leakage_suspected" in _rules(flagged)


def test_zero_recall_from_the_argument_names_the_class(tmp_path):
    history = load_history(healthy(tmp_path / "m.jsonl"))
    findings = diagnose(history, per_class_recall={"fresh": 0.93, "rotten": 0.0, "meh": 0.0})
    assert _rules(findings) == ["zero_recall_class"]
    assert findings[0].evidence["classes"] == ["meh", "rotten"] and "'rotten'" in findings[0].title


def test_best_epoch_rules_need_five_epochs_and_a_full_run(tmp_path):
    history = load_history(best_late(tmp_path / "m.jsonl"))
    assert "best_epoch_late" in _rules(diagnose(history, epochs=5))
    assert "best_epoch_late" not in _rules(diagnose(history, epochs=4))  # too few to judge
    assert "best_epoch_late" not in _rules(diagnose(history, epochs=8))  # stopped before the end
    with pytest.raises(ValueError, match="epochs"):
        diagnose(history, epochs=0)


def test_best_epoch_uses_the_monitored_metric_from_the_end_record(tmp_path):
    # monitor=loss: best validation loss at epoch 1 of 10 -> early, even though accuracy peaks late
    path = write_run(tmp_path / "m.jsonl", _noisy(_decay(100, tau=15)), steps_per_epoch=10,
                     monitor="loss",
                     evals=_evals([0.30] + [0.31] * 9, [0.7 + 0.01 * i for i in range(10)]))
    f = [x for x in diagnose(load_history(path)) if x.rule == "best_epoch_early"]
    assert f and f[0].evidence["monitor"] == "loss" and f[0].evidence["best_epoch"] == 1


def test_an_explicit_monitor_overrides_the_inferred_one(tmp_path):
    # accuracy (the run's monitor) peaks at epoch 10; validation loss is lowest at epoch 1
    path = write_run(tmp_path / "m.jsonl", _noisy(_decay(100, tau=15)), steps_per_epoch=10,
                     evals=_evals([0.30] + [0.31] * 9, [0.7 + 0.001 * i for i in range(10)]))
    history = load_history(path)
    assert "best_epoch_early" not in _rules(diagnose(history))
    early = [f for f in diagnose(history, monitor="loss") if f.rule == "best_epoch_early"]
    assert early and early[0].evidence["best_epoch"] == 1


def test_a_tiny_accuracy_gain_is_overfitting_not_confident_mistakes(tmp_path):
    path = write_run(tmp_path / "m.jsonl", _noisy(_decay(120, floor=0.05)), steps_per_epoch=20,
                     evals=_evals([0.60, 0.50, 0.45, 0.48, 0.52, 0.58],
                                  [0.70, 0.75, 0.780, 0.781, 0.782, 0.783]))
    assert "overfitting" in _rules(diagnose(load_history(path)))
    assert "confident_mistakes" not in _rules(diagnose(load_history(path)))


# --- reading metrics.jsonl ------------------------------------------------------------------------
def test_load_history_reads_the_tracker_layout(tmp_path):
    history = load_history(healthy(tmp_path / "metrics.jsonl"))
    assert len(history.steps) == 120 and len(history.evals) == 6
    assert history.steps[0].step == 1 and history.steps[-1].epoch == 5
    assert history.evals[2].step == 60 and history.evals[2].epoch == 2
    assert history.epochs_completed == (0, 1, 2, 3, 4, 5) and history.epochs_requested == 6
    assert history.end is not None and history.end["best_step"] == 120
    assert history.train_loss.shape == (120,) and history.eval_series("accuracy")[0] == 0.70


def test_load_history_skips_a_truncated_last_line(tmp_path):
    path = healthy(tmp_path / "metrics.jsonl")
    text = path.read_text()
    path.write_text(text[: text.rindex("\n", 0, len(text) - 1) + 1] + '{"kind": "end", "st')
    history = load_history(path)
    assert history.skipped_lines == 1 and history.end is None and len(history.steps) == 120


def test_load_history_rejects_a_broken_line_in_the_middle(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"kind": "step", "step": 1, "values": {"loss": 1}}\nnot json\n'
                    '{"kind": "step", "step": 2, "values": {"loss": 1}}\n')
    with pytest.raises(DataError, match=r"metrics.jsonl:2: not valid JSON"):
        load_history(path)
    with pytest.raises(DataError, match="not found"):
        load_history(tmp_path / "missing.jsonl")


def test_load_history_keeps_the_last_copy_of_resumed_steps(tmp_path):
    path = tmp_path / "metrics.jsonl"
    recs = [{"kind": "start", "step": 0, "epoch": None, "values": {"epochs": 2}}]
    recs += [{"kind": "step", "step": s, "epoch": 0, "values": {"loss": 1.0}} for s in (1, 2, 3)]
    recs += [{"kind": "start", "step": 2, "epoch": None, "values": {"epochs": 2}}]
    recs += [{"kind": "step", "step": s, "epoch": 0, "values": {"loss": 0.5}} for s in (3, 4)]
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    history = load_history(path)
    assert [s.step for s in history.steps] == [1, 2, 3, 4]
    assert history.train_loss.tolist() == [1.0, 1.0, 0.5, 0.5]


# --- write_doctor and formatting ------------------------------------------------------------------
def test_write_doctor_reads_config_and_evaluation_and_writes_valid_json(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    best_late(run / "metrics.jsonl")
    (run / "config.yaml").write_text("train: {epochs: 5, lr: 0.001}\neval: {monitor: accuracy}\n")
    (run / "evaluation").mkdir()
    (run / "evaluation" / "validation.json").write_text(json.dumps({
        "split": "validation",
        "per_class": {"fresh": {"recall": 0.97, "precision": 0.6, "f1": 0.7, "support": 50},
                      "rotten": {"recall": 0.0, "precision": 0.0, "f1": 0.0, "support": 10}},
        "baselines": {"majority": {"label": "fresh", "accuracy": 0.83}},
    }))
    findings = write_doctor(run)
    assert set(_rules(findings)) == {"best_epoch_late", "zero_recall_class"}
    doc = json.loads((run / "doctor.json").read_text(),
                     parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert [f["rule"] for f in doc["findings"]] == _rules(findings)
    zero = next(f for f in doc["findings"] if f["rule"] == "zero_recall_class")
    assert zero["message"].startswith("On validation:")
    assert zero["evidence"]["classes"] == ["rotten"]
    assert set(zero) == {"rule", "severity", "title", "message", "fix", "evidence"}
    # config.yaml's epochs win over the start record's: 4 epochs are too few to judge
    (run / "config.yaml").write_text("train: {epochs: 4}\neval: {monitor: accuracy}\n")
    assert "best_epoch_late" not in _rules(write_doctor(run))


def test_write_doctor_without_history_and_without_run_dir(tmp_path):
    findings = write_doctor(tmp_path)
    assert _rules(findings) == ["no_training_history"]
    assert json.loads((tmp_path / "doctor.json").read_text())["findings"][0]["severity"] == "info"
    (tmp_path / "metrics.jsonl").write_text('{"kind": "start", "step": 0, "values": {}}\n')
    assert "holds no training step" in write_doctor(tmp_path)[0].message
    with pytest.raises(DataError, match="run directory not found"):
        write_doctor(tmp_path / "nope")


def test_format_findings_lists_errors_first_with_fix(tmp_path):
    findings = diagnose(load_history(overfitting(tmp_path / "a.jsonl")),
                        per_class_recall={"a": 0.0, "b": 1.0})
    text = format_findings(findings)
    assert text.startswith("doctor: 2 findings (2 warnings)")
    assert "[warning] overfitting:" in text and "fix:" in text
    errors = diagnose(load_history(negative(tmp_path / "b.jsonl")), per_class_recall={"a": 0.0})
    assert [f.severity for f in errors] == sorted((f.severity for f in errors),
                                                  key=["error", "warning", "info"].index)
    assert errors[0].severity == "error"


def test_finding_is_frozen_and_to_dict_drops_non_finite_numbers():
    f = Finding("r", "info", "t", "m", "f", {"x": float("nan"), "y": [1.0, float("inf")],
                                              "z": np.float32(0.5), "n": np.int64(3)})
    d = f.to_dict()
    assert d["evidence"] == {"x": None, "y": [1.0, None], "z": 0.5, "n": 3}
    json.dumps(d, allow_nan=False)
    with pytest.raises(AttributeError):
        f.rule = "other"  # type: ignore[misc]


_value = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32),
                   st.floats(-5, 5, allow_nan=False))


@given(
    losses=st.lists(_value, max_size=60),
    grads=st.lists(_value, max_size=60),
    val=st.lists(st.tuples(_value, _value), max_size=8),
    epochs=st.one_of(st.none(), st.integers(1, 12)),
)
def test_diagnose_never_crashes_and_always_gives_valid_json(losses, grads, val, epochs):
    recs = [{"kind": "start", "step": 0, "epoch": None, "values": {"epochs": 3}}]
    recs += [{"kind": "step", "step": i + 1, "epoch": i // 10,
              "values": {"loss": lo, "grad_norm": grads[i] if i < len(grads) else 1.0}}
             for i, lo in enumerate(losses)]
    recs += [{"kind": "eval", "step": 10 * (k + 1), "epoch": k,
              "values": {"loss": lo, "accuracy": acc}} for k, (lo, acc) in enumerate(val)]
    findings = diagnose(History.from_records(recs), epochs=epochs)
    for f in findings:
        json.dumps(f.to_dict(), allow_nan=False)
    assert isinstance(format_findings(findings), str)


# --- a real (tiny) training run -------------------------------------------------------------------
def test_a_real_tiny_training_run_only_fires_expected_rules(tmp_path):
    from ftlab.batching import Batch
    from ftlab.training import build_optimizer, fit

    g = torch.Generator().manual_seed(0)
    n, vocab, seq = 256, 20, 6
    ids = torch.randint(1, vocab, (n, seq), generator=g)
    labels = (ids[:, 0] > vocab // 2).long()  # learnable: the first token decides

    def batch(idx: torch.Tensor) -> Batch:
        return Batch(ids=ids[idx], mask=torch.ones(len(idx), seq, dtype=torch.long),
                     lengths=torch.full((len(idx),), seq), labels=labels[idx], index=idx)

    class Source:
        def __init__(self) -> None:
            self.epoch, self.position = 0, 0

        def _order(self) -> list[torch.Tensor]:
            perm = torch.randperm(192, generator=torch.Generator().manual_seed(self.epoch))
            return list(perm.split(16))

        def __iter__(self):
            chunks = self._order()
            while self.position < len(chunks):
                self.position += 1
                yield batch(chunks[self.position - 1])

        def __len__(self) -> int:
            return 12

        def set_epoch(self, epoch: int) -> None:
            self.epoch, self.position = epoch, 0

        def state_dict(self) -> dict:
            return {"epoch": self.epoch, "position": self.position}

        def load_state_dict(self, state: dict) -> None:
            self.epoch, self.position = state["epoch"], state["position"]

    class Model(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb, self.out = torch.nn.Embedding(vocab, 8), torch.nn.Linear(8, 2)

        def forward(self, b: Batch) -> torch.Tensor:
            return self.out(self.emb(b.ids[:, 0]))  # (B, 2)

    def evaluate(model: torch.nn.Module) -> dict[str, float]:
        with torch.no_grad():
            logits = model(batch(torch.arange(192, n)))
        y = labels[192:]
        return {"loss": float(torch.nn.functional.cross_entropy(logits, y)),
                "accuracy": float((logits.argmax(1) == y).float().mean())}

    torch.manual_seed(0)
    model = Model()
    path = tmp_path / "metrics.jsonl"
    fit(model, Source(), loss_fn=lambda lo, y: torch.nn.functional.cross_entropy(
        lo, y, reduction="sum"), optimizer=build_optimizer(model, name="adam", lr=0.05),
        epochs=4, evaluate=evaluate, observers=[JsonlTracker(path)])
    history = load_history(path)
    assert len(history.steps) == 48 and len(history.evals) == 4
    findings = diagnose(history)
    assert all(f.severity != "error" for f in findings), format_findings(findings)
    assert set(_rules(findings)) <= {"overfitting", "confident_mistakes"}, format_findings(findings)


# --- advice checked against the config and the data (issue 18) ---------------------------------
def test_doctor_respects_config_absent_classes_and_baselines(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    overfitting(run / "metrics.jsonl")
    (run / "config.yaml").write_text("train: {epochs: 6, early_stopping: {enabled: false}}\n")
    fix = next(f for f in write_doctor(run) if f.rule == "overfitting").fix
    assert "train.early_stopping.enabled: true" in fix
    (run / "config.yaml").write_text("train: {epochs: 6, early_stopping: {enabled: true}}\n")
    fix = next(f for f in write_doctor(run) if f.rule == "overfitting").fix
    assert "enabled: true" not in fix and "already on" in fix
    # a class without a single example in the split is not "never predicted correctly"
    (run / "evaluation").mkdir()
    (run / "evaluation" / "test.json").write_text(json.dumps({"per_class": {
        "a": {"recall": 0.9, "support": 10}, "b": {"recall": 0.8, "support": 10},
        "c": {"recall": 0.0, "support": 0}}}))
    assert "zero_recall_class" not in _rules(write_doctor(run))
    # multi-class: no advice to tune a threshold that calibrate refuses
    (run / "evaluation" / "test.json").write_text(json.dumps({"per_class": {
        "a": {"recall": 0.9, "support": 10}, "b": {"recall": 0.8, "support": 10},
        "c": {"recall": 0.0, "support": 5}}}))
    zero = next(f for f in write_doctor(run) if f.rule == "zero_recall_class")
    assert "threshold" not in zero.fix
    # a TF-IDF baseline run has no training history and gets no finding about it
    base = tmp_path / "base"
    base.mkdir()
    (base / "run.json").write_text(json.dumps({"model": "tfidf_lr"}))
    assert write_doctor(base) == []

"""The study report: every section, real figures, pruned trials and compute counted."""

from __future__ import annotations

import math

import pytest

optuna = pytest.importorskip("optuna")

from ftlab.report import check_report, study_sections, trial_epochs, write_study_report  # noqa: E402


def _study(n_trials: int = 12):
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial):
        lr = trial.suggest_float("train.lr", 1e-4, 1e-1, log=True)
        dropout = trial.suggest_float("model.dropout", 0.0, 0.5)
        score = 0.0
        for epoch in range(4):
            score = 0.9 - 0.1 * abs(math.log10(lr) + 2) - 0.05 * dropout + 0.01 * epoch
            trial.report(score, epoch)
            if trial.should_prune():
                trial.set_user_attr("epochs", epoch + 1)
                raise optuna.TrialPruned()
        trial.set_user_attr("epochs", 4)
        trial.set_user_attr("run_dir", f"runs/study/trial-{trial.number}")
        return score

    study = optuna.create_study(
        study_name="toy", direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0))
    study.optimize(objective, n_trials=n_trials)
    return study


def test_report_has_every_section_and_real_figures(tmp_path):
    study = _study()
    pruned = [t for t in study.trials if t.state.name == "PRUNED"]
    assert pruned, "the toy study should prune something"
    summary = {"warnings": [{"message": "train.lr best value 0.0001 is at the low edge"}]}
    out = write_study_report(study, tmp_path / "report.html", summary=summary)
    ids = ("summary", "history", "importance", "parallel", "slices", "curves", "trials")
    images = check_report(out.read_text(encoding="utf-8"), section_ids=ids)
    assert images == 5
    html = out.read_text(encoding="utf-8")
    assert "low edge" in html and "runs/study/trial-" in html
    total = sum(trial_epochs(t) for t in study.trials)
    assert total < 4 * len(study.trials)  # pruned trials trained fewer epochs
    assert f"<td>{total}</td>" in html


def test_report_of_a_study_without_completed_trials_still_renders(tmp_path):
    study = optuna.create_study(study_name="empty", direction="maximize")
    sections = study_sections(study)
    assert [s["id"] for s in sections] == ["summary", "history", "importance", "parallel",
                                           "slices", "curves", "trials"]
    assert any(b["kind"] == "note" for b in sections[0]["blocks"])
    out = write_study_report(study, tmp_path / "r.html")
    check_report(out.read_text(encoding="utf-8"), section_ids=("summary", "trials"))


def test_trial_epochs_falls_back_to_reported_values():
    study = _study(3)
    t = study.trials[0]
    t.user_attrs.pop("epochs", None)
    assert trial_epochs(t) == len(t.intermediate_values)

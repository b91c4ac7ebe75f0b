"""Build ``examples/walkthrough.ipynb`` from the cells below and execute it (outputs stored).

    .venv/bin/python examples/build_walkthrough.py

The notebook runs on the built-in offline data (Rotten Tomatoes) with small settings, through
ftlab's public API only; its runs go to ``runs/walkthrough/`` next to it (git-ignored).
``tests/test_notebook.py`` executes it top to bottom in CI and checks that the stored outputs
are clean (no object reprs, machine paths or warnings).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
NOTEBOOK = HERE / "walkthrough.ipynb"

CELLS: list[tuple[str, str]] = [
    ("md", """# ftlab walkthrough: a careful text-classification project

## Introduction

**Task.** Decide whether a movie-review snippet is *fresh* (positive) or *rotten*
(negative): binary sentiment classification.

**Data.** Rotten Tomatoes snippets (12,808, shipped offline with ftlab), split 80/10/10
(seeded, stratified, identical texts kept in one split); a 4,000-example sample of each split
keeps the notebook to a few minutes on a CPU.

**Method.** A bag of GloVe 6B-50d word embeddings (mean-pooled) with a small feed-forward head,
trained with AdamW; compared with a TF-IDF + logistic-regression baseline and the majority
class on the same test split.

**Experiments.** (1) baseline vs. model with 95% bootstrap intervals and a paired test;
(2) error analysis of the most confident mistakes; (3) robustness to typos and character
swaps; (4) data augmentation with 2,000 typo copies, compared on the clean and the typo test
sets; (5) behavioral tests; (6) a small hyperparameter search.

**Results.** Every figure below is computed by the cell that prints it; the *Interpretation*
and *Conclusion* cells write their sentences from those numbers, so the text cannot drift
from the results when the notebook is run again."""),
    ("md", """## Setup

The runs go to `runs/walkthrough/` next to this notebook (emptied first, so that a re-run
writes the same run names); each is an ordinary ftlab run directory."""),
    ("code", """import json
import re
import shutil
import warnings
from pathlib import Path

import ftlab
from ftlab.config import load_config
from ftlab.runs import QUICKSTART_CONFIG

# optuna imports tqdm.auto, which warns in notebooks without Jupyter widgets: harmless here
warnings.filterwarnings("ignore", message="IProgress not found")

RUNS = Path("runs") / "walkthrough"
shutil.rmtree(RUNS, ignore_errors=True)
# small settings: a 4,000-example sample of each split, 3 epochs, progress every 1,000 steps
BASE = ["train.trackers=[]", f"output_dir={RUNS}", "train.epochs=3", "seed=13",
        "data.max_examples=4000", "train.log_every=1000"]
print("ftlab", ftlab.__version__, "| runs in", RUNS)"""),
    ("md", """## Data inspection

The data checks run before any training: sizes, label balance, lengths, duplicates and
leakage between the splits (`ftlab data inspect` prints the same with file lines)."""),
    ("code", """from ftlab.data import list_builtin
from ftlab.runs import inspect_data

for info in list_builtin():
    print(f"{info.name:18} {info.task:20} {info.num_classes} classes, {info.size:,} examples")
print()
data_report = inspect_data("builtin:rotten_tomatoes")
print(f"{'split':<11}{'rows':>6}  {'labels':<26}characters p50 / p95 / max")
for split, st in data_report.stats.items():
    labels = ", ".join(f"{k}={v}" for k, v in st.labels.items())
    ch = st.char_length
    print(f"{split:<11}{st.rows:>6}  {labels:<26}{ch['p50']:.0f} / {ch['p95']:.0f} / {ch['max']:.0f}")
print()
for finding in data_report.findings:
    print(f"{finding.level:>7} [{finding.code}] {finding.split or 'all'}: {finding.message}")"""),
    ("md", """## Preprocessing

The quickstart config lower-cases, splits into words (clitics and punctuation apart, as GloVe
was built), builds the vocabulary on the training split only and truncates at `max_length`;
batches are bucketed by length so little padding is computed. One tokenized test example, and
how much of the test split the training vocabulary covers:"""),
    ("code", """from ftlab.runs import build_encoder, build_run_splits

config = load_config(QUICKSTART_CONFIG, BASE)
splits = build_run_splits(config)
encoder = build_encoder(config.preprocess).fit(splits["train"])
tok = encoder.tokenizer
example = splits["test"][3]
print("text:  ", example.text)
print("tokens:", tok.tokenize(encoder.normalizer(example.text)))
print("ids:   ", encoder.encode([example])[0].ids)
test_ids = [i for ex in splits["test"] for i in tok.encode(encoder.normalizer(ex.text))]
unknown = sum(i == tok.unk_id for i in test_ids)
print(f"vocabulary: {tok.vocab_size:,} entries from {len(splits['train']):,} training texts; "
      f"{1 - unknown / len(test_ids):.1%} of the {len(test_ids):,} test tokens are in it")
print("truncation:", config.preprocess.max_length, "tokens, batching:",
      config.batching.model_dump(include={"batch_size", "bucket", "maxi_batch"}))"""),
    ("md", """## A baseline first

TF-IDF (word and character n-grams) + logistic regression on the same splits: the number the
neural model has to beat. It is written as a run too, so it can be compared pairwise."""),
    ("code", """from ftlab.runs import train_baseline

baseline = train_baseline(config, name="baseline")
base_dir = Path(baseline["path"])
print("baseline test accuracy:", round(baseline["test"]["test"]["accuracy"], 4))"""),
    ("md", """## Model and training

A bag of GloVe embeddings with a small feed-forward head (`configs/quickstart.yaml`), AdamW,
linear decay, a validation evaluation after every epoch and the best checkpoint restored."""),
    ("code", """from ftlab.runs import load_run_model, train_run

summary = train_run(config, name="bow")
run_dir = Path(summary["path"])
_, _, model = load_run_model(run_dir)
print(model)
params, cov = summary["parameters"], summary["glove_coverage"]
print(f"{params['total']:,} parameters, {params['trainable']:,} trainable; GloVe has vectors for "
      f"{cov['found']:,} of the {cov['vocab_size']:,} vocabulary words ({cov['share_found']:.1%})")
print(f"{summary['stop_reason']}; best validation {summary['monitor']} "
      f"{summary['best_metric']:.4f} at step {summary['best_step']}")"""),
    ("md", """## Evaluation against the baselines

Accuracy with 95% bootstrap intervals for the model and both baselines, a paired bootstrap
test of model vs. TF-IDF on the same test examples, calibration, and the report's figures
(the same ones `report.html` holds)."""),
    ("code", """from IPython.display import Image, display

from ftlab.analysis import compare_runs
from ftlab.report import report_figures


def test_eval(run):
    \"\"\"A run's test evaluation: metrics, intervals, baselines, errors.\"\"\"
    return json.loads((Path(run) / "evaluation" / "test.json").read_text())


evaluation, tfidf_eval = test_eval(run_dir), test_eval(base_dir)
acc = {"bag of GloVe embeddings": evaluation, "TF-IDF + LR": tfidf_eval}
for name, ev in acc.items():
    ci = ev["bootstrap"]["accuracy"]
    print(f"{name:<24} accuracy {ev['metrics']['accuracy']:.4f} [95% {ci['low']:.4f}, {ci['high']:.4f}]")
majority = evaluation["baselines"]["majority"]["accuracy"]
print(f"{'majority class':<24} accuracy {majority:.4f}")
versus_tfidf = compare_runs(base_dir, run_dir, n_resamples=2000)
print("A = TF-IDF, B = model:", versus_tfidf.verdict("accuracy"))
print(f"calibration: ECE {evaluation['metrics']['ece']:.4f}")
for name, png in report_figures(run_dir).items():
    print(name)
    display(Image(data=png, width=640))"""),
    ("md", """## Error analysis

The most confidently wrong test predictions are where to look first (label noise, sarcasm,
negation, text the model cannot read). A crude language check counts the snippets with
almost no English function words."""),
    ("code", """ENGLISH = {"the", "a", "an", "and", "of", "to", "is", "it", "in", "this", "that", "with",
           "for", "but", "as", "its", "on", "be", "not", "are", "was", "by", "you", "at", "his"}


def looks_non_english(text):
    words = re.findall(r"[^\\W\\d_]+", text.lower())
    return len(words) >= 6 and sum(w in ENGLISH for w in words) / len(words) < 0.05


wrong = evaluation["errors"]["most_confident_wrong"]
for row in wrong[:8]:
    print(f"{row['label']:>7} predicted {row['pred']:>7} ({row['prob']:.2f}): {row['text'][:100]}")
foreign_wrong = sum(looks_non_english(r["text"]) for r in wrong)
foreign_train = sum(looks_non_english(ex.text) for ex in splits["train"])
print(f"\\n{foreign_wrong} of the {len(wrong)} most confident errors look non-English; "
      f"so do {foreign_train} of the {len(splits['train']):,} training texts "
      f"({foreign_train / len(splits['train']):.1%})")"""),
    ("md", """## Robustness and augmentation

The same test set with synthetic typos, character swaps and contractions (seeded per
example), then a second run whose training split gets 2,000 typo copies of training examples
(`train.augment`), compared with the first on the clean and the typo test set; finally the
built-in behavioral suite (negation, intensifiers, named entities ...)."""),
    ("code", """from ftlab.analysis import config_differences
from ftlab.runs import check_run, evaluate_transforms, format_robustness

robust = evaluate_transforms(run_dir, ["typos:0.05", "char_swap:0.1", "contractions"])
print(format_robustness(robust))
aug_config = load_config(QUICKSTART_CONFIG, BASE + [
    "train.augment=[{transform: 'typos:0.05', n: 2000}]", "robustness.transforms=[typos:0.05]"])
augmented = train_run(aug_config, name="bow-augmented")
aug_dir = Path(augmented["path"])
aug_clean = compare_runs(run_dir, aug_dir, n_resamples=2000)
aug_typos = compare_runs(run_dir, aug_dir, split="test@typos-0.05", n_resamples=2000)
print("\\nA = model, B = model trained with 2,000 typo copies; the configs differ in",
      ", ".join(config_differences(run_dir, aug_dir)))
print("clean test:", aug_clean.verdict("accuracy"))
print("typo test: ", aug_typos.verdict("accuracy"))
checks = check_run(run_dir, ["builtin:sentiment"])["suites"]["sentiment"]
print("\\nbehavioral tests, highest failure rates:")
for t in sorted(checks["tests"], key=lambda t: -t["failure_rate"])[:5]:
    print(f"{t['failure_rate']:6.1%}  {t['kind']}  {t['name']}")"""),
    ("md", """## A small tuning study

Random search over learning rate (log scale) and dropout with median pruning; every trial is
an ordinary run, and the study is resumable from its SQLite file."""),
    ("code", """from ftlab.tuning import parse_space, run_study

space = parse_space({"params": {"train.lr": {"low": 1e-3, "high": 3e-2},
                                "model.dropout": {"low": 0.0, "high": 0.5}}})
tune_config = load_config(QUICKSTART_CONFIG, BASE + ["train.epochs=2", "eval.splits=[]",
                                                    "data.max_examples=2000"])
study = run_study(tune_config, space, name="study", trials=3, sampler="random", pruner="median")
best = study.summary["best"]
params = ", ".join(f"{k}={v:.3g}" for k, v in best["params"].items())
print(f"best validation accuracy {best['value']:.4f} with {params}; "
      f"{study.summary['epochs_total']:g} epochs trained in all")"""),
    ("md", """## Interpretation

Written by code from the numbers above (re-running the notebook rewrites it)."""),
    ("code", """from ftlab.analysis import format_p


def pts(x):
    return f"{100 * abs(x):.1f} points"


def said(cmp):
    m = cmp.metrics["accuracy"]
    how = "significant" if m.p_value < cmp.alpha else "not significant"
    return f"{pts(m.difference)} [{100 * m.low:+.1f}, {100 * m.high:+.1f}], {format_p(m.p_value)}, {how}"


model_acc, tfidf_acc = evaluation["metrics"]["accuracy"], tfidf_eval["metrics"]["accuracy"]
diff = versus_tfidf.metrics["accuracy"].difference
typo = robust["transforms"]["typos:0.05"]
lines = [
    f"- The model reaches {model_acc:.3f} test accuracy, {'above' if diff > 0 else 'below'} the "
    f"TF-IDF baseline ({tfidf_acc:.3f}) by {said(versus_tfidf)}; both beat the majority class "
    f"({majority:.3f})." if min(model_acc, tfidf_acc) > majority else
    f"- The model reaches {model_acc:.3f}; TF-IDF {tfidf_acc:.3f}; majority {majority:.3f}.",
    f"- {foreign_wrong} of its {len(wrong)} most confident errors look non-English, and "
    f"{foreign_train} training texts ({foreign_train / len(splits['train']):.1%}) are like "
    f"them: too few for the model to learn another language's sentiment words, so these are "
    f"label noise for an English classifier.",
    f"- Typos at 5% of the letters cost {pts(typo['drop'])} of accuracy "
    f"(95% interval {100 * typo['drop_ci'][0]:.1f} to {100 * typo['drop_ci'][1]:.1f}); "
    f"{typo['flip_rate']:.1%} of the predictions flip.",
    f"- Training with 2,000 typo copies changes typo-test accuracy by "
    f"{'+' if aug_typos.metrics['accuracy'].difference >= 0 else '-'}{said(aug_typos)}, and clean "
    f"accuracy by {'+' if aug_clean.metrics['accuracy'].difference >= 0 else '-'}{said(aug_clean)}.",
    f"- Calibration: ECE {evaluation['metrics']['ece']:.3f} (0 is perfectly calibrated).",
]
print("\\n".join(lines))"""),
    ("md", """## Conclusion"""),
    ("code", """better = "beats" if diff > 0 and versus_tfidf.significant else (
    "does not beat" if diff <= 0 else "is not significantly better than")
helps = aug_typos.metrics["accuracy"].difference > 0 and aug_typos.significant
print(f"On this sample the bag of GloVe embeddings {better} a TF-IDF baseline "
      f"({model_acc:.3f} vs {tfidf_acc:.3f}): averaged word vectors lose word order and the "
      f"sub-word cues the baseline's character n-grams keep. Typo augmentation "
      + ("makes the model significantly more robust to typos" if helps else
         "does not significantly improve robustness to typos")
      + f" ({aug_typos.metrics['accuracy'].a:.3f} -> {aug_typos.metrics['accuracy'].b:.3f} on the "
      f"typo test set). Next steps: a contextual model (configs/sst2-minilm.yaml), filtering or "
      f"labelling the non-English snippets, and several seeds per configuration (ftlab seeds).")"""),
    ("md", """The full HTML report of the model run: [runs/walkthrough/bow/report.html](runs/walkthrough/bow/report.html)
(`ftlab report runs/walkthrough/bow runs/walkthrough/bow-augmented` puts both runs side by
side)."""),
    ("md", """## Tools used

- ftlab (`ftlab.data`, `ftlab.runs`, `ftlab.evaluation`, `ftlab.analysis`, `ftlab.robustness`,
  `ftlab.tuning`), on PyTorch, scikit-learn (baseline, metrics), nlpaug's typo lists, Optuna
  (search), matplotlib (figures), GloVe 6B-50d vectors.
- The same steps from a shell: `ftlab data inspect`, `ftlab baseline`, `ftlab train`,
  `ftlab evaluate --transform`, `ftlab compare`, `ftlab check`, `ftlab tune`, `ftlab report`."""),
]


def build() -> nbformat.NotebookNode:
    """The notebook, unexecuted."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for kind, text in CELLS:
        nb.cells.append(nbformat.v4.new_markdown_cell(text) if kind == "md"
                        else nbformat.v4.new_code_cell(text))
    return nb


def execute(nb: nbformat.NotebookNode, cwd: Path, timeout: int = 600) -> nbformat.NotebookNode:
    """Run every cell (raises ``CellExecutionError`` on the first failing cell)."""
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def main() -> None:
    nb = execute(build(), HERE)
    nbformat.write(nb, NOTEBOOK)
    print(f"wrote {NOTEBOOK}")


if __name__ == "__main__":
    main()

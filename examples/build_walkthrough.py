"""Build ``examples/walkthrough.ipynb`` from the cells below and execute it (outputs stored).

    .venv/bin/python examples/build_walkthrough.py

The notebook runs on the built-in offline data (Rotten Tomatoes) with small settings, through
ftlab's public API only; its runs go to a temporary directory. ``tests/test_notebook.py``
executes it top to bottom in CI.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
NOTEBOOK = HERE / "walkthrough.ipynb"

CELLS: list[tuple[str, str]] = [
    ("md", """# ftlab walkthrough: a careful text-classification project

**Introduction.** We classify movie-review snippets (Rotten Tomatoes, shipped offline with
ftlab) as *fresh* or *rotten*. The notebook follows the path a careful practitioner takes:
inspect the data, fit a baseline, train a model, evaluate it with intervals and calibration,
look at its errors, stress-test it with transformed inputs and behavioral tests, and tune it
a little. Everything goes through ftlab's public API with small settings (a few minutes on a
CPU)."""),
    ("md", "## Setup"),
    ("code", """import json
import tempfile
from pathlib import Path

import ftlab
from ftlab.config import load_config
from ftlab.runs import QUICKSTART_CONFIG

OUT = Path(tempfile.mkdtemp(prefix="ftlab-walkthrough-"))  # every run of this notebook goes here
# small settings: a 4,000-example sample of each split, 3 epochs (about 2 minutes on 2 cores)
BASE = ["train.trackers=[]", f"output_dir={OUT}", "train.epochs=3", "seed=13",
        "data.max_examples=4000"]
print("ftlab", ftlab.__version__, "- runs in", OUT.name)"""),
    ("md", """## Data inspection

The data checks run before any training: sizes, label balance, lengths, duplicates, and
leakage between the splits."""),
    ("code", """from ftlab.data import format_report, list_builtin
from ftlab.runs import inspect_data

for info in list_builtin():
    print(f"{info.name:18} {info.task:10} {info.num_classes} classes, {info.size} examples")
print()
print(format_report(inspect_data("builtin:rotten_tomatoes")))"""),
    ("md", """## Preprocessing

The quickstart config lower-cases, tokenizes into words, builds the vocabulary on the training
split only and truncates at `max_length`; batches are bucketed by length so little padding is
computed."""),
    ("code", """config = load_config(QUICKSTART_CONFIG, BASE)
print(config.preprocess.model_dump())
print(config.batching.model_dump(include={"batch_size", "bucket", "maxi_batch"}))"""),
    ("md", """## A baseline first

TF-IDF (word and character n-grams) + logistic regression on the same splits: the number the
neural model has to beat."""),
    ("code", """from ftlab.runs import train_baseline

baseline = train_baseline(config, name="baseline")
print("baseline test accuracy:", round(baseline["test"]["test"]["accuracy"], 4))"""),
    ("md", """## Model and training

A bag of GloVe embeddings with a small feed-forward head (`configs/quickstart.yaml`), AdamW,
linear decay, a validation evaluation after every epoch and the best checkpoint restored."""),
    ("code", """from ftlab.runs import train_run

summary = train_run(config, name="bow")
run_dir = Path(summary["path"])
test = summary["test"]["test"]
print(f"status {summary['status']}: test accuracy {test['accuracy']:.4f}, macro-F1 {test['macro_f1']:.4f}, "
      f"majority baseline {test['majority_baseline']:.4f}, TF-IDF {test['tfidf_lr']:.4f}")"""),
    ("md", """## Evaluation

Bootstrap intervals, calibration and the report's figures (the same ones `report.html`
holds)."""),
    ("code", """from IPython.display import Image, display

from ftlab.report import report_figures

evaluation = json.loads((run_dir / "evaluation" / "test.json").read_text())
ci = evaluation["bootstrap"]["accuracy"]
print(f"accuracy {evaluation['metrics']['accuracy']:.4f} [95% {ci['low']:.4f}, {ci['high']:.4f}], "
      f"ECE {evaluation['metrics']['ece']:.4f}")
for name, png in report_figures(run_dir).items():
    print(name)
    display(Image(data=png, width=640))"""),
    ("md", """## Interpretation: error analysis

The most confidently wrong test predictions are where to look first (label noise, sarcasm,
negation)."""),
    ("code", """for row in evaluation["errors"]["most_confident_wrong"][:5]:
    print(f"{row['label']:>7} predicted {row['pred']:>7} ({row['prob']:.2f}): {row['text'][:110]}")"""),
    ("md", """## Robustness

The same test set with synthetic typos and character swaps (seeded per example), and the
built-in behavioral suite (negation, intensifiers, named entities, typos ...)."""),
    ("code", """from ftlab.runs import check_run, evaluate_transforms, format_robustness

robust = evaluate_transforms(run_dir, ["typos:0.05", "char_swap:0.1", "contractions"])
print(format_robustness(robust))
checks = check_run(run_dir, ["builtin:sentiment"])["suites"]["sentiment"]
worst = sorted(checks["tests"], key=lambda t: -t["failure_rate"])[:5]
for t in worst:
    print(f"{t['failure_rate']:6.1%}  {t['kind']}  {t['name']}")"""),
    ("md", """## A small tuning study

TPE over learning rate (log scale) and dropout with median pruning; every trial is an ordinary
run, and the study is resumable from its SQLite file."""),
    ("code", """from ftlab.tuning import parse_space, run_study

space = parse_space({"params": {"train.lr": {"low": 1e-3, "high": 3e-2},
                                "model.dropout": {"low": 0.0, "high": 0.5}}})
tune_config = load_config(QUICKSTART_CONFIG, BASE + ["train.epochs=2", "eval.splits=[]",
                                                    "data.max_examples=2000"])
study = run_study(tune_config, space, name="study", trials=4, sampler="random", pruner="median")
best = study.summary["best"]
print(f"best validation accuracy {best['value']:.4f} with {best['params']}; "
      f"{study.summary['epochs_total']:g} epochs trained in all")"""),
    ("md", """## Tools used

- ftlab (`ftlab.data`, `ftlab.runs`, `ftlab.evaluation`, `ftlab.robustness`, `ftlab.tuning`),
  on PyTorch, scikit-learn (baseline, metrics), NLTK/WordNet (synonyms), nlpaug's typo lists,
  Optuna (search), matplotlib (figures).
- The same steps from a shell: `ftlab data inspect`, `ftlab baseline`, `ftlab train`,
  `ftlab evaluate --transform`, `ftlab check`, `ftlab tune`, `ftlab report`."""),
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

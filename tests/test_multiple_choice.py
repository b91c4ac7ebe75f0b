"""Multiple choice end to end through the real CLI entry point (in process, errors -> exit 2):
train, stop + resume exactly, evaluate with transformed choices, compare, ensemble; WinoGrande
and COPA files train; a bad multiple-choice row is one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runs._faults import cli


def _config(tmp: Path, extra: str = "") -> Path:
    cfg = tmp / "mc.yaml"
    cfg.write_text(f"""
seed: 3
output_dir: {tmp / 'runs'}
data:
  source: builtin:category_choice
  options: {{size: 48}}
  split: {{validation: 0.25, test: 0.25}}
preprocess: {{max_length: 16}}
model: {{family: bow, embed_dim: 8, hidden_dims: [8]}}
train: {{epochs: 2, lr: 0.02, log_every: 5, trackers: [], checkpoint: {{every_n_steps: 2}}}}
batching: {{batch_size: 8}}
{extra}""", encoding="utf-8")
    return cfg


def _ok(*args: str) -> str:
    code, out = cli(*args)
    assert code == 0, out
    return out


def test_multiple_choice_run_resumes_evaluates_compares_and_ensembles(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    runs = tmp_path / "runs"
    _ok("train", str(cfg), "--name", "full")
    full = runs / "full"
    ev = json.loads((full / "evaluation" / "test.json").read_text())
    assert ev["n"] == 12 and ev["label_names"] == ["0", "1", "2", "3"]
    bias = ev["choices"]
    assert bias["num_choices"] == 4 and len(bias["positions"]) == 4
    assert sum(r["predicted"] for r in bias["positions"]) == pytest.approx(1.0)
    assert ev["bootstrap"]["accuracy"]["low"] <= ev["metrics"]["accuracy"]
    wrong = ev["errors"]["most_confident_wrong"] + ev["errors"]["least_confident"]
    assert wrong and all(len(r["choices"]) == 4 for r in wrong)  # context and every choice
    assert "choice-position bias" in (full / "report.html").read_text(encoding="utf-8")
    pred = json.loads((full / "predictions" / "test.jsonl").read_text().splitlines()[0])
    assert len(pred["choices"]) == 4 and set(pred["probs"]) == {"0", "1", "2", "3"}

    # stop mid-run, resume: the same result as the uninterrupted run
    _ok("train", str(cfg), "--name", "part", "--stop-after", "3")
    _ok("train", "--resume", str(runs / "part"))
    assert json.loads((runs / "part" / "eval.json").read_text()) == \
        json.loads((full / "eval.json").read_text())

    # transformed choices (the context untouched)
    _ok("evaluate", str(full), "--transform", "char_swap:0.5", "--sides", "choices", "--no-report")
    rows = [json.loads(x) for x in next((full / "predictions").glob("test@*.jsonl"))
            .read_text().splitlines()]
    changed = [r for r in rows if "changes" in r]
    assert changed and all(c["side"].startswith("choice") for r in changed for c in r["changes"])
    assert all(r["choices"] != r["original_choices"] for r in changed)

    # compare and ensemble (with the resumed run: same split, here the same weights too)
    out = _ok("compare", str(full), str(runs / "part"))
    assert "accuracy" in out and "paired bootstrap" in out
    _ok("ensemble", str(full), str(runs / "part"), "--name", "ens")
    ens = json.loads((runs / "ens" / "evaluation" / "test.json").read_text())
    assert ens["n"] == 12 and ens["choices"]["num_choices"] == 4
    assert ens["metrics"]["accuracy"] == ev["metrics"]["accuracy"]


WINO = [("The trophy did not fit in the case because the _ was too big.", "trophy", "case", "1"),
        ("The trophy did not fit in the case because the _ was too small.", "trophy", "case", "2"),
        ("Ann thanked Sue because _ had received help.", "Ann", "Sue", "1"),
        ("Ann thanked Sue because _ had given help.", "Ann", "Sue", "2")]


@pytest.mark.parametrize("preset", ["winogrande", "copa"])
def test_winogrande_and_copa_files_load_and_train(tmp_path: Path, preset: str) -> None:
    rows = []
    for i in range(24):
        if preset == "winogrande":
            s, a, b, y = WINO[i % 4]
            rows.append({"sentence": s.replace("help", f"help {i}"), "option1": a,
                         "option2": b, "answer": y})
        else:
            rows.append({"premise": f"Event number {i} happened.", "choice1": f"first {i}",
                         "choice2": f"second {i}", "question": ("cause", "effect")[i % 2],
                         "label": i % 2})
    files = {}
    for split, part in (("train", rows[:16]), ("validation", rows[16:20]), ("test", rows[20:])):
        path = tmp_path / f"{split}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in part), encoding="utf-8")
        files[split] = str(path)
    cfg = _config(tmp_path)
    raw = cfg.read_text().replace("  source: builtin:category_choice\n  options: {size: 48}\n",
                                  f"  files: {json.dumps(files)}\n  preset: {preset}\n")
    cfg.write_text(raw.replace("  split: {validation: 0.25, test: 0.25}\n", ""))
    _ok("train", str(cfg), "--name", preset)
    ev = json.loads((tmp_path / "runs" / preset / "evaluation" / "test.json").read_text())
    assert ev["n"] == 4 and ev["choices"]["num_choices"] == 2


def test_bad_multiple_choice_input_is_one_line_exit_2(tmp_path: Path) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text('{"q": "a", "opts": ["x", "y"], "label": 0}\n'
                    '{"q": "b", "opts": ["x", "y"], "label": 5}\n', encoding="utf-8")
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(f"data: {{source: {data}, columns: {{text: q, choices: opts}}}}\n"
                   f"output_dir: {tmp_path / 'runs'}\n", encoding="utf-8")
    code, out = cli("train", str(cfg))
    assert code == 2 and "Traceback" not in out, out
    # the message (one line; the console may wrap it) names file, line, field and fix
    assert f"'{data}' line 2: label field 'label' is '5', out of range for 2 choices" in \
        " ".join(out.split())


def test_tfidf_baseline_refuses_multiple_choice(tmp_path: Path) -> None:
    code, out = cli("baseline", str(_config(tmp_path)))
    assert code == 2 and "cannot score the choices" in " ".join(out.split()), out
    assert not (tmp_path / "runs").exists()  # refused before any run directory is made


@pytest.mark.parametrize("name", ["winogrande-minilm", "copa-minilm"])
def test_hub_configs_run_on_local_files_of_their_schema(tmp_path: Path, name: str) -> None:
    """The WinoGrande / COPA configs need the hub for their data; on local files of the same
    schema (what the configs' comments offer offline) they build and take a step."""
    from ftlab.config import load_config
    from ftlab.runs import dry_run

    root = Path(__file__).resolve().parents[1]
    rows = []
    for i in range(16):
        if name.startswith("winogrande"):
            s, a, b, y = WINO[i % 4]
            rows.append({"sentence": f"{s} ({i})", "option1": a, "option2": b, "answer": y})
        else:
            rows.append({"premise": f"Event {i} happened.", "choice1": f"first {i}",
                         "choice2": f"second {i}", "question": ("cause", "effect")[i % 2],
                         "label": i % 2})
    files = []
    for split, part in (("train", rows[:12]), ("validation", rows[12:])):
        path = tmp_path / f"{split}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in part), encoding="utf-8")
        files.append(f"data.files.{split}={path}")
    config = load_config(root / "configs" / f"{name}.yaml",
                         ["data.source=''", *files, f"output_dir={tmp_path / 'runs'}"])
    assert config.data.preset == name.split("-")[0]
    info = dry_run(config)
    assert info["classes"] == ["0", "1"] and info["first_batch"][1] == 2  # (B, 2 choices, T)
    assert info["data_errors"] == 0 and info["first_loss"] > 0

"""The report's sections, built from a :class:`RunFiles` as plain data for the template.

A section is ``{"id", "title", "blocks"}`` (blocks: :mod:`ftlab.report._blocks`).
Every field is read defensively, so a field of the wrong type shows as text or a note instead
of breaking the page. Jinja2 escapes all of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ftlab.report import _plots
from ftlab.report._blocks import (
    marked,
    pct,
    score,
    Block,
    Section,
    as_dict,
    as_list,
    fmt,
    h3,
    kv,
    missing,
    note,
    png_block,
    table,
)
from ftlab.report._run_files import PRODUCERS, RunFiles

__all__ = ["run_sections", "summary_section"]

# texts in error tables are cut to this many characters (the full text is in predictions/)
_TEXT_CHARS = 300
_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
# flat metrics shown next to the model in the summary (baselines only know the first two)
_SUMMARY_METRICS = ("accuracy", "macro_f1", "macro_f1_present", "positive_precision",
                    "positive_recall", "positive_f1", "log_loss", "micro_f1", "weighted_f1",
                    "macro_precision", "macro_recall", "roc_auc", "pr_auc", "ece", "mce")


def _truncate(text: Any) -> str:
    s = "" if text is None else str(text)
    return s if len(s) <= _TEXT_CHARS else s[: _TEXT_CHARS - 1] + "\u2026"


def _per_split(files: RunFiles, body: Callable[[dict[str, Any]], list[Block]]) -> list[Block]:
    """Blocks for every evaluated split, with a heading when there is more than one."""
    if not files.evaluations:
        return [missing(files.note("evaluation") or "no evaluation found")]
    blocks: list[Block] = []
    for split, ev in files.evaluations.items():
        if len(files.evaluations) > 1:
            blocks.append(h3(f"split: {split} (n = {fmt(ev.get('n'))})"))
        blocks += body(ev)
    return blocks


# --- summary --------------------------------------------------------------------------------------
def _metric_rows(ev: dict[str, Any]) -> list[list[Any]]:
    metrics, boot = as_dict(ev.get("metrics")), as_dict(ev.get("bootstrap"))
    base = as_dict(ev.get("baselines"))
    majority, tfidf = as_dict(base.get("majority")), as_dict(base.get("tfidf_lr"))
    rows = []
    for name in _SUMMARY_METRICS:
        if name not in metrics:
            continue
        b = as_dict(boot.get(name))
        ci = f"[{fmt(b.get('low'))}, {fmt(b.get('high'))}]" if b else ""
        rows.append([name, metrics[name], ci, majority.get(name, ""), tfidf.get(name, "")])
    for name, value in as_dict(ev.get("argmax")).items():  # beside the thresholded figures
        if isinstance(value, (int, float)) and name != "n":
            rows.append([f"{name} (argmax)", value, "", "", ""])
    return rows


def _rule_caption(ev: dict[str, Any]) -> str:
    """``, decision rule: ..., positive class: ...`` for a metrics table caption."""
    rule = as_dict(ev.get("decision_rule"))
    classes = as_dict(ev.get("classes"))
    out = f", decision rule: {rule['rule']}" if rule.get("rule") else ""
    if classes.get("positive") is not None:
        out += f", positive class: {classes['positive']} ({classes.get('positive_source', '')})"
    return out


def summary_section(files: RunFiles, section_id: str = "summary",
                    title: str = "Summary") -> Section:
    """Name, status, model, data, best validation score and test metrics against baselines.

    Args:
        files: the run.
        section_id: the HTML id (``summary``, or ``summary-<k>`` in a comparison).
        title: the heading.

    Returns:
        The section.
    """
    run = as_dict(files.run)
    blocks: list[Block] = []
    if files.run is None:
        blocks.append(missing(files.note("run.json") or "run.json not found"))
    end = dict((files.history.end or {}) if files.history else {})
    monitor = run.get("monitor")
    best = run.get("best_metric", end.get("best_metric"))
    best_step = run.get("best_step", end.get("best_step"))
    best_text = None if best is None else f"{fmt(best)} ({monitor or 'monitor'}) at step " \
                                          f"{fmt(best_step)}"
    duration = run.get("duration_s")
    blocks.append(kv([
        ("name", files.name), ("directory", str(files.path)), ("status", run.get("status")),
        ("stop reason", run.get("stop_reason", end.get("reason"))), ("model", run.get("model")),
        ("dataset", run.get("dataset")),
        ("parameters", as_dict(run.get("parameters")).get("total")),
        ("best validation", best_text),
        ("steps / epochs", None if run.get("step") is None
         else f"{run.get('step')} / {fmt(run.get('epoch'))}"),
        ("duration", None if not isinstance(duration, (int, float))
         else f"{duration:.1f} s"),
        ("started", run.get("started")), ("ended", run.get("ended")),
    ]))
    hparams = as_dict(run.get("hparams"))
    if hparams:
        blocks.append(table(list(hparams), [list(hparams.values())], caption="hyperparameters"))
    if files.evaluations:
        for split, ev in files.evaluations.items():
            conf = as_dict(ev.get("bootstrap")).get("confidence")
            ci = f"{fmt(100 * conf)}% CI (bootstrap)" if isinstance(conf, (int, float)) else "CI"
            blocks.append(table(["metric", "model", ci, "majority class", "TF-IDF + LR"],
                                _metric_rows(ev),
                                caption=f"{split} metrics (n = {fmt(ev.get('n'))}"
                                        f"{_rule_caption(ev)})"))
            warnings = [str(w) for w in as_list(ev.get("warnings"))]
            if warnings:
                blocks.append({"kind": "list", "cls": "warnings", "items": warnings})
    else:
        blocks.append(missing(files.note("evaluation") or "no evaluation found"))
        flat = as_dict(run.get("test"))
        if flat:  # the headline numbers training wrote, without intervals or curves
            keys = sorted({k for m in flat.values() for k in as_dict(m)})
            blocks.append(table(["split", *keys], [[s, *(as_dict(m).get(k) for k in keys)]
                                                   for s, m in flat.items()],
                                caption="metrics recorded at the end of training"))
    notes = [str(n) for n in as_list(run.get("notes"))]
    if run.get("restored_best"):
        notes.append(str(run["restored_best"]))
    cov = as_dict(run.get("glove_coverage"))
    if cov:
        notes.append(f"GloVe coverage: {fmt(cov.get('found'))} of {fmt(cov.get('vocab_size'))} "
                     f"vocabulary words ({fmt(cov.get('share_found'))})")
    if notes:
        blocks.append({"kind": "list", "cls": "notes", "items": notes})
    return {"id": section_id, "title": title, "blocks": blocks}


# --- one section each -----------------------------------------------------------------------------
def _config(files: RunFiles) -> list[Block]:
    if files.config_text is None:
        return [missing(files.note("config.yaml") or "config.yaml not found")]
    return [{"kind": "pre", "text": files.config_text}]


def _percentiles(lengths: Any) -> str | None:
    p = as_dict(lengths)
    return f"{fmt(p.get('p50'))} / {fmt(p.get('p90'))} / {fmt(p.get('max'))}" if p else None


def _data(files: RunFiles) -> list[Block]:
    rep = files.data_report
    if rep is None:
        return [missing(files.note("data_report.json") or "data_report.json not found")]
    rows = []
    removed = as_dict(rep.get("removed"))
    for split, s in as_dict(rep.get("stats")).items():
        s = as_dict(s)
        labels = as_dict(s.get("labels"))
        total = sum(v for v in labels.values() if isinstance(v, (int, float))) or 1
        label_text = ", ".join(f"{k}: {fmt(v)} ({100 * v / total:.0f}%)"
                               if isinstance(v, (int, float)) else f"{k}: {fmt(v)}"
                               for k, v in labels.items())
        dropped = ", ".join(f"{k}: {fmt(v)}" for k, v in as_dict(removed.get(split)).items()
                            if v) or "none"
        rows.append([split, s.get("rows"), label_text, s.get("imbalance_ratio"),
                     _percentiles(s.get("char_length")), _percentiles(s.get("token_length")),
                     s.get("truncated_share"), s.get("duplicates"), s.get("empty"),
                     s.get("leaked"), dropped])
    blocks = [table(["split", "rows", "labels", "imbalance", "chars p50/p90/max",
                     "tokens p50/p90/max", "truncated", "duplicates", "empty", "leaked",
                     "removed"], rows,
                    caption="per split")] if rows else [note("no per-split statistics")]
    findings = [as_dict(f) for f in as_list(rep.get("findings"))]
    if findings:
        blocks.append(table(["level", "check", "split", "message", "fix", "examples"],
                            [[f.get("level"), f.get("code"), f.get("split"), f.get("message"),
                              f.get("fix"), ", ".join(map(str, as_list(f.get("examples"))))]
                             for f in findings], caption="data checks"))
    else:
        blocks.append(note("the data checks found no problems"))
    return blocks


def _curves(files: RunFiles) -> list[Block]:
    h = files.history
    if h is None:
        return [missing(files.note("metrics.jsonl") or "metrics.jsonl not found")]
    if not h.steps and not h.evals:
        return [note(f"{h.source} holds no training steps or evaluations yet")]
    names = sorted({k for e in h.evals for k in e.metrics if k != "n"})
    blocks = [png_block(_plots.learning_curves_png, [s.step for s in h.steps],
                        [s.loss for s in h.steps], [s.lr for s in h.steps],
                        [s.grad_norm for s in h.steps], [e.step for e in h.evals],
                        {n: list(h.eval_series(n)) for n in names}, alt="learning curves",
                        best_step=_best_step(files))]
    if h.evals:
        blocks.append(table(["step", "epoch", *names],
                            [[e.step, None if e.epoch is None else e.epoch + 1,
                              *(int(v) if n == "n" and isinstance(v, float) and v.is_integer()
                                else v for n, v in ((n, e.metrics.get(n)) for n in names))]
                             for e in h.evals],
                            caption="validation passes (epochs counted from 1, as in the "
                                    "terminal)"))
    if h.skipped_lines:
        blocks.append(note(f"{h.skipped_lines} unreadable last line(s) of metrics.jsonl were "
                           f"skipped (a run killed mid-write)"))
    return blocks


def _best_step(files: RunFiles) -> int | None:
    step = as_dict(files.run).get("best_step")
    if step is None and files.history is not None:
        step = (files.history.end or {}).get("best_step")
    return step if isinstance(step, int) and not isinstance(step, bool) else None


def _confusion(ev: dict[str, Any]) -> list[Block]:
    conf = as_dict(ev.get("confusion"))
    labels = [str(x) for x in as_list(conf.get("labels")) or as_list(ev.get("label_names"))]
    blocks = [png_block(_plots.confusion_png, labels, as_list(conf.get("counts")),
                        conf.get("normalized"), alt="confusion matrix")] if conf else \
        [note("no confusion matrix in this evaluation")]
    per_class = as_dict(ev.get("per_class"))
    intervals = as_dict(as_dict(ev.get("bootstrap")).get("per_class"))

    def ci(name: str, key: str) -> str:
        b = as_dict(as_dict(intervals.get(name)).get(key))
        return f"[{fmt(b.get('low'))}, {fmt(b.get('high'))}]" if b else ""

    rows = [[name, m.get("precision"), m.get("recall"), m.get("f1"), ci(name, "f1"),
             m.get("support")]
            for name, m in ((k, as_dict(v)) for k, v in per_class.items())]
    rows += [[f"{avg} average", m.get("precision"), m.get("recall"), m.get("f1"), "", ""]
             for avg, m in ((k, as_dict(v)) for k, v in as_dict(ev.get("averages")).items())]
    if rows:
        blocks.append(table(["class", "precision", "recall", "f1", "f1 interval", "support"],
                            rows, caption="per-class metrics" + _rule_caption(ev)))
    bias = as_dict(ev.get("choices"))
    if bias:  # multiple choice: the classes are answer positions
        blocks.append(table(
            ["choice position", "predicted (share)", "correct (share)",
             "accuracy when the answer is here"],
            [[r.get("position"), r.get("predicted"), r.get("correct"), r.get("accuracy")]
             for r in (as_dict(x) for x in as_list(bias.get("positions")))],
            caption=f"choice-position bias (chance {fmt(bias.get('chance'))}; largest gap "
                    f"{fmt(bias.get('max_gap'))}; chi-square p = {fmt(bias.get('p_value'))})"))
    return blocks


def _roc_pr(ev: dict[str, Any]) -> list[Block]:
    curves = as_dict(ev.get("curves"))
    roc, pr = as_dict(ev.get("roc_auc")), as_dict(ev.get("pr_auc"))
    if not curves:
        return [note("no ROC/PR curves in this evaluation")]
    blocks = [png_block(_plots.roc_pr_png, as_dict(curves.get("roc")),
                        as_dict(curves.get("pr")), as_dict(roc.get("per_class")),
                        as_dict(pr.get("per_class")),
                        alt="ROC and precision-recall curves")]
    roc_cls, pr_cls = as_dict(roc.get("per_class")), as_dict(pr.get("per_class"))
    rows = [[n, roc_cls.get(n), pr_cls.get(n)] for n in dict.fromkeys([*roc_cls, *pr_cls])]
    rows.append(["macro", roc.get("macro"), pr.get("macro")])
    blocks.append(table(["class", "ROC AUC", "average precision (PR AUC)"], rows))
    return blocks


def _calibration(ev: dict[str, Any]) -> list[Block]:
    cal = as_dict(ev.get("calibration"))
    if not cal:
        return [note("no calibration data in this evaluation")]
    rel = as_dict(cal.get("reliability"))
    blocks = [png_block(_plots.reliability_png, as_list(rel.get("bin_lower")),
                        as_list(rel.get("bin_upper")), as_list(rel.get("confidence")),
                        as_list(rel.get("accuracy")), as_list(rel.get("count")),
                        alt="reliability diagram")]
    blocks.append(kv([(k, cal.get(k)) for k in ("ece", "ece_equal_mass", "mce", "n_bins")]))
    if cal.get("temperature") is not None:
        blocks.append(table(["", "before temperature scaling", "after"],
                            [["ECE", cal.get("ece_before"), cal.get("ece_after")],
                             ["NLL", cal.get("nll_before"), cal.get("nll_after")]],
                            caption=f"temperature T = {fmt(cal.get('temperature'))}"))
    else:
        blocks.append(note("no temperature scaling (run `ftlab calibrate RUN_DIR` to fit one "
                           "on validation)"))
    thr = as_dict(ev.get("threshold"))
    if thr:
        at, half = as_dict(thr.get("at_threshold")), as_dict(thr.get("at_0.5"))
        blocks.append(table(["", f"threshold {fmt(thr.get('threshold'))}", "threshold 0.5"],
                            [[k, at.get(k), half.get(k)] for k in
                             dict.fromkeys([*at, *half])],
                            caption=f"decision threshold tuned for {fmt(thr.get('metric'))}"))
    return blocks


def _error_rows(items: list[Any], margin: bool) -> list[list[Any]]:
    rows = []
    for item in (as_dict(i) for i in items):
        text = _truncate(item.get("text"))
        if item.get("text_pair") is not None:
            text += " \u2016 " + _truncate(item.get("text_pair"))
        if item.get("choices") is not None:  # multiple choice: every choice, numbered
            text += " \u2016 " + " | ".join(f"[{k}] {_truncate(c)}"
                                            for k, c in enumerate(as_list(item.get("choices"))))
        row = [item.get("id"), text, item.get("label"), item.get("pred"), item.get("prob")]
        rows.append([*row, item.get("margin")] if margin else row)
    return rows


def _errors(ev: dict[str, Any]) -> list[Block]:
    err = as_dict(ev.get("errors"))
    head = ["id", "text", "true label", "predicted", "predicted probability"]
    wrong, unsure = as_list(err.get("most_confident_wrong")), as_list(err.get("least_confident"))
    blocks = []
    blocks.append(table(head, _error_rows(wrong, False), caption="most confidently wrong")
                  if wrong else note("no wrong predictions listed"))
    blocks.append(table([*head, "margin"], _error_rows(unsure, True), caption="least confident")
                  if unsure else note("no low-confidence predictions listed"))
    return blocks


def _slices(ev: dict[str, Any]) -> list[Block]:
    blocks = []
    for column, rows in as_dict(ev.get("slices")).items():
        rows = [as_dict(r) for r in as_list(rows)]
        keys = list(dict.fromkeys(k for r in rows for k in r))
        if rows:
            blocks.append(table(keys, [[r.get(k) for k in keys] for r in rows],
                                caption=f"by {column}"))
    return blocks or [note("no slices in this evaluation")]


def _doctor(files: RunFiles) -> list[Block]:
    if files.doctor is None:
        return [missing(files.note("doctor.json") or "doctor.json not found")]
    findings = [as_dict(f) for f in as_list(files.doctor.get("findings"))]
    if not findings:
        return [{"kind": "ok", "text": "no problems found: the training curves look healthy."}]
    findings.sort(key=lambda f: _SEVERITY_RANK.get(str(f.get("severity")), 3))
    return [{"kind": "findings", "items": [
        {"severity": str(f.get("severity", "info")), "rule": fmt(f.get("rule")),
         "title": fmt(f.get("title")), "message": fmt(f.get("message")), "fix": fmt(f.get("fix"))}
        for f in findings]}]


def files_note(files: RunFiles, key: str, what: str) -> Block:
    """An unreadable file is a problem (``missing``); an optional step not taken, a note."""
    problem = files.note(key)
    if problem:
        return missing(problem)
    return note(f"{what}; `{PRODUCERS[key]}` adds this section.")


def _pts(x: Any) -> str:
    # accuracy drops in points with one decimal, as the terminal and the paper tables print them
    return f"{100 * x:+.1f}" if isinstance(x, (int, float)) else "-"


def _spans(changes: list[Any], side: str) -> list[tuple[int, int, int, str]]:
    """``(start, end, new start, after)`` of each change on ``side``, in text order."""
    out = []
    shift = 0
    for c in sorted((as_dict(c) for c in changes if as_dict(c).get("side", "text") == side),
                    key=lambda c: int(c.get("start", 0))):
        try:
            start, end, after = int(c["start"]), int(c["end"]), str(c.get("after", ""))
        except (KeyError, TypeError, ValueError):
            continue
        out.append((start, end, start + shift, after))
        shift += len(after) - (end - start)
    return out


def _cut(parts: list[tuple[str, str]]) -> dict[str, Any]:
    """The parts, cut after ``_TEXT_CHARS`` characters (an ellipsis marks the cut)."""
    kept, used = [], 0
    for text, mark in parts:
        if used + len(text) > _TEXT_CHARS:
            kept.append((text[: max(0, _TEXT_CHARS - used - 1)] + "\u2026", mark))
            break
        kept.append((text, mark))
        used += len(text)
    return marked(kept)


def _highlight(text: Any, changes: list[Any], side: str = "text", *,
               original: bool = False) -> dict[str, Any]:
    """``text`` as a cell with the edits coloured: in the transformed text the new content
    (green), in the original (``original=True``) the replaced content (red, struck through)."""
    s = "" if text is None else str(text)
    parts: list[tuple[str, str]] = []
    pos = 0
    for start, end, new_start, after in _spans(changes, side):
        a, b = (start, end) if original else (new_start, new_start + len(after))
        if not pos <= a <= b <= len(s):
            continue
        parts += [(s[pos:a], ""), (s[a:b], "del" if original else "ins")]
        pos = b
    parts.append((s[pos:], ""))
    return _cut(parts)


def _robustness(files: RunFiles) -> list[Block]:
    if not files.robustness:
        return [files_note(files, "robustness", "not evaluated on transformed test sets")]
    blocks: list[Block] = []
    for split, rep in files.robustness.items():
        transforms = {str(k): as_dict(v) for k, v in as_dict(rep.get("transforms")).items()}
        clean = as_dict(rep.get("clean"))
        blocks.append(h3(f"split: {split} (n = {fmt(rep.get('n'))}, seed {fmt(rep.get('seed'))}, "
                         f"sides: {fmt(rep.get('sides'))})"))
        rows = [["clean", "-", score(clean.get("accuracy")), "-", "-",
                 score(clean.get("macro_f1")), "-", "-"]]
        for spec, e in transforms.items():
            ci = as_list(e.get("drop_ci"))
            interval = f"[{_pts(ci[0])}, {_pts(ci[1])}]" if len(ci) == 2 else "-"
            rows.append([spec, pct(e.get("changed_share")), score(e.get("accuracy")),
                         _pts(e.get("drop")), interval, score(e.get("macro_f1")),
                         pct(e.get("flip_rate")), score(e.get("confidence_shift"))])
        blocks.append(table(["test set", "changed share", "accuracy", "drop (points)",
                             "drop 95% interval", "macro_f1", "flip rate", "confidence shift"],
                            rows,
                            caption="clean vs transformed (transformed sets: predictions/"
                                    "<split>@<transformation>.jsonl)"))
        bars = {}
        for spec, e in transforms.items():
            ci = as_list(e.get("drop_ci"))
            if isinstance(e.get("accuracy"), (int, float)) and len(ci) == 2:
                bars[spec] = (e["accuracy"], ci[0], ci[1])
        if bars and isinstance(clean.get("accuracy"), (int, float)):
            blocks.append(png_block(_plots.robustness_png, clean["accuracy"], bars,
                                    alt="clean and transformed accuracy"))
        for spec, e in transforms.items():
            flips = [as_dict(f) for f in as_list(e.get("flips"))]
            if not flips:
                continue
            blocks.append(table(
                ["id", "label", "original (removed in red)", "transformed (changed in green)",
                 "clean prediction", "transformed prediction"],
                [[f.get("id"), f.get("label"),
                  _highlight(f.get("text"), as_list(f.get("changes")), original=True),
                  _highlight(f.get("transformed"), as_list(f.get("changes"))),
                  f"{fmt(f.get('clean_pred'))} ({fmt(f.get('clean_conf'))})",
                  f"{fmt(f.get('pred'))} ({fmt(f.get('conf'))})"] for f in flips],
                caption=f"{spec}: predictions that flipped (largest confidence loss first)"))
    return blocks


def _behavior(files: RunFiles) -> list[Block]:
    if not files.checks:
        return [files_note(files, "checks", "no behavioral test suite was run")]
    blocks: list[Block] = []
    for name, res in files.checks.items():
        tests = [as_dict(t) for t in as_list(res.get("tests"))]
        summ = as_dict(res.get("summary"))
        blocks.append(h3(f"suite: {name} ({fmt(summ.get('tests'))} tests, "
                         f"{fmt(summ.get('cases'))} cases, {fmt(summ.get('failed_cases'))} failed)"))
        blocks.append(table(
            ["test", "kind", "capability", "cases", "failed", "failure rate"],
            [[t.get("name"), t.get("kind"), t.get("capability"), t.get("n"), t.get("failed"),
              t.get("failure_rate")] for t in tests], caption="failure rate per test"))
        for t in tests:
            examples = [as_dict(x) for x in as_list(t.get("examples"))]
            if not examples:
                continue
            blocks.append(table(
                ["input", "perturbed", "expected", "predicted", "shift"],
                [[_truncate(x.get("text")), _truncate(x.get("perturbed")), x.get("expected"),
                  x.get("pred"), x.get("shift")] for x in examples[:5]],
                caption=f"{fmt(t.get('name'))}: failing examples"))
    return blocks


def _flatten(d: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        if isinstance(v, Mapping):
            out += _flatten(v, f"{prefix}{k}.")
        else:
            out.append((f"{prefix}{k}", v))
    return out


def _environment(files: RunFiles) -> list[Block]:
    if files.env is None:
        return [missing(files.note("env.json") or "env.json not found")]
    return [kv(_flatten(files.env))]


def run_sections(files: RunFiles) -> list[Section]:
    """Every section of a single-run report, in page order.

    Args:
        files: the run.

    Returns:
        Sections with ids summary, config, data, curves, confusion, roc-pr, calibration,
        errors, slices, robustness, behavior, doctor, environment.
    """
    def section(sid: str, title: str, blocks: list[Block]) -> Section:
        return {"id": sid, "title": title, "blocks": blocks}

    return [
        summary_section(files),
        section("config", "Configuration (resolved)", _config(files)),
        section("data", "Data", _data(files)),
        section("curves", "Learning curves", _curves(files)),
        section("confusion", "Confusion matrix", _per_split(files, _confusion)),
        section("roc-pr", "ROC and precision-recall", _per_split(files, _roc_pr)),
        section("calibration", "Calibration", _per_split(files, _calibration)),
        section("errors", "Errors", _per_split(files, _errors)),
        section("slices", "Slices", _per_split(files, _slices)),
        section("robustness", "Robustness: transformed test sets", _robustness(files)),
        section("behavior", "Behavioral tests", _behavior(files)),
        section("doctor", "Training doctor", _doctor(files)),
        section("environment", "Environment", _environment(files)),
    ]


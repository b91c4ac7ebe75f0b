"""Printing helpers shared by several commands."""

from __future__ import annotations

from ftlab.cli._app import console


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


_HEADLINE = ("accuracy", "macro_f1", "macro_f1_present", "positive_precision", "positive_recall",
             "positive_f1")


def _print_summary(summary: dict) -> None:
    console.print(f"[bold]run directory:[/bold] {summary.get('path')}")
    console.print(f"status: {summary.get('status')}  ({summary.get('stop_reason', '')})")
    for split, m in (summary.get("test") or {}).items():
        parts = [f"{k} {m[k]:.4f}" + (f" [{m[k + '_ci'][0]:.4f}, {m[k + '_ci'][1]:.4f}]"
                                      if isinstance(m.get(k + "_ci"), list) else "")
                 for k in (*_HEADLINE, "roc_auc", "ece") if isinstance(m.get(k), float)]
        console.print(f"{split}: " + ", ".join(parts), markup=False, highlight=False,
                      soft_wrap=True)
        if m.get("decision_rule") or m.get("positive_label"):
            console.print(f"{split} decision rule: {m.get('decision_rule') or 'argmax'}"
                          + (f"; positive class {m['positive_label']!r}"
                             if m.get("positive_label") is not None else ""),
                          markup=False, highlight=False)
        if m.get("absent_classes"):
            console.print(f"{split}: classes without an example: {m['absent_classes']} "
                          f"(macro_f1 counts them as 0; macro_f1_present leaves them out)",
                          markup=False, highlight=False)
        if isinstance(m.get("majority_baseline"), float):
            console.print(f"{split} baselines: majority-class accuracy {m['majority_baseline']:.4f}"
                          + (f", TF-IDF + LR accuracy {m['tfidf_lr']:.4f}"
                             if isinstance(m.get("tfidf_lr"), float) else "")
                          + (f", macro_f1 {m['tfidf_lr_macro_f1']:.4f}"
                             if isinstance(m.get("tfidf_lr_macro_f1"), float) else ""))


def _print_evaluation(result: dict) -> None:
    m = result.get("metrics", {})
    boot = result.get("bootstrap") or {}
    base = result.get("baselines") or {}
    rule = result.get("decision_rule") or {}
    classes = result.get("classes") or {}
    console.print(f"[bold]{result.get('split')}[/bold] (n={result.get('n')}, decision rule: "
                  f"{rule.get('rule', 'argmax')})", highlight=False)
    if classes.get("positive") is not None:
        console.print(f"  positive class: {classes['positive']!r} "
                      f"({classes.get('positive_source', '')})", markup=False, highlight=False)
    for key in _HEADLINE:
        if m.get(key) is None:
            continue
        ci = boot.get(key) or {}
        interval = f"  [{ci['low']:.4f}, {ci['high']:.4f}]" if "low" in ci else ""
        console.print(f"  {key:<18} {m[key]:.4f}{interval}", markup=False, highlight=False)
    for key, value in (result.get("argmax") or {}).items():
        if isinstance(value, float):
            console.print(f"  {key + ' (argmax)':<27} {value:.4f}", markup=False, highlight=False)
    for key in ("log_loss", "roc_auc", "pr_auc", "ece"):
        if m.get(key) is not None:
            console.print(f"  {key:<18} {m[key]:.4f}")
    maj, tfidf = base.get("majority") or {}, base.get("tfidf_lr") or {}
    if maj:
        console.print(f"  majority-class accuracy {maj.get('accuracy', 0):.4f}")
    if tfidf:
        console.print(f"  TF-IDF + LR accuracy    {tfidf.get('accuracy', 0):.4f}, macro_f1 "
                      f"{tfidf.get('macro_f1', 0):.4f}")
    for w in result.get("warnings", []):
        console.print(f"  warning: {w}", style="yellow", markup=False)

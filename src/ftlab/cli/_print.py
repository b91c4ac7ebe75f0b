"""Printing helpers shared by several commands."""

from __future__ import annotations

from ftlab.cli._app import console


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _print_summary(summary: dict) -> None:
    console.print(f"[bold]run directory:[/bold] {summary.get('path')}")
    console.print(f"status: {summary.get('status')}  ({summary.get('stop_reason', '')})")
    for split, m in (summary.get("test") or {}).items():
        parts = [f"{k} {m[k]:.4f}" for k in ("accuracy", "macro_f1", "roc_auc", "ece")
                 if isinstance(m.get(k), float)]
        console.print(f"{split}: " + ", ".join(parts))
        if isinstance(m.get("majority_baseline"), float):
            console.print(f"{split} baselines: majority-class accuracy {m['majority_baseline']:.4f}"
                          + (f", TF-IDF + LR accuracy {m['tfidf_lr']:.4f}"
                             if isinstance(m.get("tfidf_lr"), float) else ""))


def _print_evaluation(result: dict) -> None:
    m = result.get("metrics", {})
    boot = result.get("bootstrap", {})
    base = result.get("baselines", {})
    console.print(f"[bold]{result.get('split')}[/bold] (n={result.get('n')})")
    for key in ("accuracy", "macro_f1"):
        ci = boot.get(key) or {}
        interval = f"  [{ci['low']:.4f}, {ci['high']:.4f}]" if "low" in ci else ""
        console.print(f"  {key:<10} {m.get(key, float('nan')):.4f}{interval}")
    for key in ("log_loss", "roc_auc", "pr_auc", "ece"):
        if m.get(key) is not None:
            console.print(f"  {key:<10} {m[key]:.4f}")
    maj, tfidf = base.get("majority") or {}, base.get("tfidf_lr") or {}
    if maj:
        console.print(f"  majority-class accuracy {maj.get('accuracy', 0):.4f}")
    if tfidf:
        console.print(f"  TF-IDF + LR accuracy    {tfidf.get('accuracy', 0):.4f}")
    for w in result.get("warnings", []):
        console.print(f"  warning: {w}", style="yellow", markup=False)

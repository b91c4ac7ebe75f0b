"""Report figures: each helper draws one matplotlib figure (Agg) and returns it as PNG bytes.

Figures are built with :class:`matplotlib.figure.Figure` and an Agg canvas, never through
``pyplot``: pyplot keeps every figure in a global registry until it is closed, which leaks memory
when a report is rendered in a long-lived process. Matplotlib is imported inside the helpers so
``import ftlab.report`` stays cheap.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "learning_curves_png", "confusion_png", "roc_pr_png", "reliability_png",
    "overlay_curves_png", "robustness_png", "ema", "PNG_SIGNATURE", "new_figure", "figure_png",
]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_DPI = 80
# more points than pixels only costs time: long runs are thinned to this many points per line
_MAX_POINTS = 4000
# cell annotations become unreadable beyond this many classes
_MAX_ANNOTATED_CLASSES = 15


def _figure(width: float, height: float, **margins: float) -> Figure:
    """An Agg figure with fixed margins (``subplots_adjust`` keywords).

    Fixed margins instead of a layout engine: constrained/tight layout draw the figure once
    more to measure it, which doubles the render time of every plot.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=_DPI)
    FigureCanvasAgg(fig)  # attaches itself as fig.canvas
    fig.subplots_adjust(**{"left": 0.07, "right": 0.98, "bottom": 0.1, "top": 0.93,
                           "wspace": 0.22, "hspace": 0.4, **margins})
    return fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI)
    fig.clear()  # drop artists now rather than when the figure is garbage-collected
    return buf.getvalue()


def new_figure(width: float, height: float, **margins: float) -> Figure:
    """An Agg figure (inches) with fixed margins, in the look of every ftlab report plot.

    For plots outside the run report (seed studies, the learning-rate range test); pass it to
    :func:`figure_png` when drawn.
    """
    return _figure(width, height, **margins)


def figure_png(fig: Figure) -> bytes:
    """The figure as PNG bytes (at the reports' resolution); the figure is cleared."""
    return _png(fig)


def _array(values: Sequence[Any] | None) -> np.ndarray:
    """Float array, shape (K,); entries that are not numbers become NaN."""
    out = []
    for v in () if values is None else values:
        out.append(float(v) if isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                   else math.nan)
    return np.asarray(out, dtype=np.float64)


def _thin(x: np.ndarray, *ys: np.ndarray) -> tuple[np.ndarray, ...]:
    stride = max(1, math.ceil(x.size / _MAX_POINTS))
    return (x[::stride], *(y[::stride] for y in ys))


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def ema(values: Sequence[float] | np.ndarray, weight: float = 0.9) -> np.ndarray:
    """Exponential moving average with bias correction (as TensorBoard's smoothing).

    Args:
        values: the series, shape (K,); NaN entries are skipped (their output is NaN).
        weight: smoothing in [0, 1); 0 returns the series unchanged.

    Returns:
        The smoothed series, shape (K,).

    Raises:
        ValueError: ``weight`` is outside [0, 1).
    """
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"ema weight must be in [0, 1), got {weight!r}")
    x = np.asarray(values, dtype=np.float64)
    out = np.full_like(x, np.nan)
    acc, n = 0.0, 0
    for i, v in enumerate(x):
        if not math.isfinite(v):
            continue
        acc = weight * acc + (1.0 - weight) * v
        n += 1
        out[i] = acc / (1.0 - weight**n)  # early values would be biased towards 0
    return out


def learning_curves_png(
    steps: Sequence[int], loss: Sequence[float], lr: Sequence[float],
    grad_norm: Sequence[float], eval_steps: Sequence[int],
    eval_metrics: Mapping[str, Sequence[float]], *, smoothing: float | None = None,
    best_step: int | None = None,
) -> bytes:
    """Four panels: training loss (raw and smoothed) with validation loss, validation metrics,
    learning rate and gradient norm, all against the optimizer step.

    Args:
        steps: optimizer steps, shape (S,); ``loss``, ``lr``, ``grad_norm`` align with it.
        loss: training loss per step.
        lr: learning rate per step.
        grad_norm: gradient norm (before clipping) per step.
        eval_steps: steps of the validation passes, shape (E,).
        eval_metrics: ``{name: values (E,)}``; ``"loss"`` goes to the loss panel.
        smoothing: EMA weight for the smoothed training loss and gradient norm; default:
            about 50 effective points over the run (0.9 for short runs).
        best_step: marked with a vertical line on the validation panel, if given.

    Returns:
        PNG bytes.
    """
    s = _array(steps)
    e = _array(eval_steps)
    fig = _figure(10, 7.0)
    (ax_loss, ax_metric), (ax_lr, ax_grad) = fig.subplots(2, 2)
    # room for the legends above the top panels and the y labels between the columns
    fig.subplots_adjust(hspace=0.55, top=0.88, left=0.08, wspace=0.3)

    if smoothing is None:
        smoothing = max(0.9, 1.0 - 50.0 / max(s.size, 1))
    raw = _array(loss)
    if s.size and np.isfinite(raw).any():
        x, y, sm = _thin(s, raw, ema(raw, smoothing))
        ax_loss.plot(x, y, color="tab:blue", alpha=0.25, lw=0.8, label="train (per step)")
        ax_loss.plot(x, sm, color="tab:blue", lw=1.6, label=f"train (EMA {smoothing:.3g})")
    val_loss = _array(eval_metrics.get("loss"))
    if e.size and val_loss.size == e.size and np.isfinite(val_loss).any():
        ax_loss.plot(e, val_loss, "o-", color="tab:orange", lw=1.6, ms=4, label="validation")
    if ax_loss.lines:
        ax_loss.set(xlabel="step", ylabel="loss (cross-entropy)")
        ax_loss.set_title("loss", pad=22)
        # above the panel, not over the curves (the validation curve ends where a corner
        # legend would sit)
        ax_loss.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3,
                       frameon=False, borderaxespad=0)
    else:
        _empty(ax_loss, "no loss logged")

    for name, values in eval_metrics.items():
        v = _array(values)
        if name != "loss" and v.size == e.size and e.size and np.isfinite(v).any():
            ax_metric.plot(e, v, "o-", lw=1.4, ms=4, label=name)
    if ax_metric.lines:
        if best_step is not None:
            ax_metric.axvline(best_step, color="0.5", ls=":", lw=1,
                              label=f"best (step {best_step})")
        ax_metric.set(xlabel="step", ylabel="score")
        ax_metric.set_title("validation metrics", pad=22)
        ax_metric.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3,
                         frameon=False, borderaxespad=0)
    else:
        _empty(ax_metric, "no validation metrics logged")

    for ax, values, title, color in ((ax_lr, lr, "learning rate", "tab:green"),
                                     (ax_grad, grad_norm, "gradient norm", "tab:red")):
        v = _array(values)
        if s.size and v.size == s.size and np.isfinite(v).any():
            if title == "gradient norm":  # noisy per step: raw faint, smoothed on top
                x, y, sm = _thin(s, v, ema(v, smoothing))
                ax.plot(x, y, color=color, lw=0.8, alpha=0.25)
                ax.plot(x, sm, color=color, lw=1.4)
            else:
                x, y = _thin(s, v)
                ax.plot(x, y, color=color, lw=1.2)
            ax.set(title=title, xlabel="step",
                   ylabel="learning rate" if title == "learning rate" else "L2 norm (before clipping)")
            if title == "gradient norm" and np.nanmin(v) > 0 and np.nanmax(v) / np.nanmin(v) > 100:
                ax.set_yscale("log")  # spikes would flatten the rest of the curve
        else:
            _empty(ax, f"no {title} logged")
    return _png(fig)


def confusion_png(labels: Sequence[str], counts: Sequence[Sequence[float]],
                  normalized: Sequence[Sequence[float]] | None = None) -> bytes:
    """Confusion matrix heatmaps: counts and row-normalised (rows = true, columns = predicted).

    Args:
        labels: class names, length C.
        counts: (C, C) counts.
        normalized: (C, C) rows summing to 1; computed from ``counts`` when ``None``.

    Returns:
        PNG bytes.

    Raises:
        ValueError: the matrices are not C x C.
    """
    c = np.asarray(counts, dtype=np.float64)
    k = len(labels)
    if c.shape != (k, k):
        raise ValueError(f"confusion counts must be {k} x {k} (one row/column per label), "
                         f"got shape {c.shape}")
    if normalized is None:
        rows = c.sum(axis=1, keepdims=True)
        n = np.divide(c, rows, out=np.zeros_like(c), where=rows > 0)
    else:
        n = np.asarray(normalized, dtype=np.float64)
        if n.shape != (k, k):
            raise ValueError(f"normalized confusion must be {k} x {k}, got shape {n.shape}")
    side = min(10.0, 2.2 + 0.4 * k)  # inches per heatmap
    rotate = k > 3
    label_in = min(2.8, 0.5 + 0.08 * max((len(str(x)) for x in labels), default=1))
    bottom_in = 0.6 + (0.6 * label_in if rotate else 0.1)
    width, height = 2 * side + 2 * label_in + 0.6, side + bottom_in + 0.4
    gap = label_in + 0.5  # room for the right heatmap's row labels
    span = width - label_in - 0.2
    fig = _figure(width, height, left=label_in / width, right=1 - 0.2 / width,
                  bottom=bottom_in / height, top=1 - 0.4 / height, wspace=2 * gap / (span - gap))
    for ax, m, title, fmt in zip(fig.subplots(1, 2), (c, n), ("counts", "normalised by true row"),
                                 ("{:.0f}", "{:.2f}")):
        im = ax.imshow(m, cmap="Blues", vmin=0, vmax=max(float(np.nanmax(m)), 1e-12))
        ax.set(title=title, xlabel="predicted", ylabel="true", xticks=range(k), yticks=range(k))
        ax.set_xticklabels(labels, rotation=45 if rotate else 0, ha="right" if rotate else "center")
        ax.set_yticklabels(labels)
        if k > _MAX_ANNOTATED_CLASSES:
            fig.colorbar(im, ax=ax, shrink=0.8)  # too many cells to print their values
        else:
            hi = np.nanmax(m) if m.size else 0
            for i in range(k):
                for j in range(k):
                    ax.text(j, i, fmt.format(m[i, j]), ha="center", va="center", fontsize=8,
                            color="white" if m[i, j] > 0.6 * hi else "black")
    return _png(fig)


def _plot_curves(ax: Any, curves: Mapping[str, Mapping[str, Sequence[float]]],
                 keys: tuple[str, str], scores: Mapping[str, float | None] | None,
                 score_name: str) -> None:
    # one line per class; a curve with missing or mismatched coordinates is skipped
    for name, curve in curves.items():
        x, y = _array(curve.get(keys[0])), _array(curve.get(keys[1]))
        if x.size and x.size == y.size:
            score = (scores or {}).get(name)
            label = f"{name} ({score_name} {score:.3f})" if isinstance(score, (int, float)) else name
            ax.plot(x, y, lw=1.4, label=label)


def roc_pr_png(
    roc: Mapping[str, Mapping[str, Sequence[float]]],
    pr: Mapping[str, Mapping[str, Sequence[float]]],
    roc_auc: Mapping[str, float | None] | None = None,
    pr_auc: Mapping[str, float | None] | None = None,
) -> bytes:
    """ROC (true positive rate against false positive rate) and precision-recall curves.

    Args:
        roc: ``{class: {"fpr": [...], "tpr": [...]}}`` (one-vs-rest).
        pr: ``{class: {"precision": [...], "recall": [...]}}``.
        roc_auc: ``{class: AUC}`` shown in the legend.
        pr_auc: ``{class: average precision}`` shown in the legend.

    Returns:
        PNG bytes.
    """
    fig = _figure(10, 4.4)
    ax_roc, ax_pr = fig.subplots(1, 2)
    _plot_curves(ax_roc, roc, ("fpr", "tpr"), roc_auc, "AUC")
    if ax_roc.lines:
        ax_roc.plot([0, 1], [0, 1], ls="--", color="0.6", lw=0.8)
        ax_roc.set(title="ROC", xlabel="false positive rate", ylabel="true positive rate",
                   xlim=(0, 1), ylim=(0, 1.02))
        ax_roc.legend(fontsize=8, loc="lower right")
    else:
        _empty(ax_roc, "no ROC curve")
    _plot_curves(ax_pr, pr, ("recall", "precision"), pr_auc, "AP")
    if ax_pr.lines:
        ax_pr.set(title="precision-recall", xlabel="recall", ylabel="precision",
                  xlim=(0, 1), ylim=(0, 1.02))
        ax_pr.legend(fontsize=8, loc="lower left")
    else:
        _empty(ax_pr, "no precision-recall curve")
    return _png(fig)


def reliability_png(bin_lower: Sequence[float], bin_upper: Sequence[float],
                    confidence: Sequence[float], accuracy: Sequence[float],
                    count: Sequence[float]) -> bytes:
    """Reliability diagram: accuracy per confidence bin (bars) with the bin's mean confidence
    (a tick), over a histogram of how many predictions fall in each bin.

    Args:
        bin_lower: lower bin edges, shape (B,); the other arguments align with it.
        bin_upper: upper bin edges.
        confidence: mean predicted-class probability per bin (NaN or null for empty bins).
        accuracy: accuracy per bin.
        count: predictions per bin.

    Returns:
        PNG bytes.

    Raises:
        ValueError: the sequences differ in length or are empty.
    """
    lo, hi = _array(bin_lower), _array(bin_upper)
    conf, acc, cnt = _array(confidence), _array(accuracy), _array(count)
    if not lo.size or len({lo.size, hi.size, conf.size, acc.size, cnt.size}) != 1:
        raise ValueError("reliability bins must be non-empty and of equal length, got "
                         f"{[a.size for a in (lo, hi, conf, acc, cnt)]}")
    width = hi - lo
    centers = lo + width / 2
    fig = _figure(5.6, 5.6, left=0.13, bottom=0.1, top=0.94, hspace=0.08)
    ax, ax_n = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    filled = np.isfinite(acc) & (np.nan_to_num(cnt) > 0)
    ax.bar(lo[filled], acc[filled], width=width[filled], align="edge", color="tab:blue",
           edgecolor="white", label="accuracy")
    # mean confidence as a tick over each bar: the gap to the bar top is the miscalibration,
    # readable both ways (over- and under-confident) without overlapping bars
    has_conf = filled & np.isfinite(conf)
    ax.hlines(conf[has_conf], lo[has_conf], hi[has_conf], colors="tab:red", lw=2,
              label="mean confidence")
    ax.plot([0, 1], [0, 1], ls="--", color="0.4", lw=1, label="perfect calibration")
    ax.set(title="reliability", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(fontsize=8, loc="upper left")
    ax_n.bar(centers, np.nan_to_num(cnt), width=width, color="0.5")
    ax_n.set(xlabel="confidence (predicted class probability)", ylabel="count")
    return _png(fig)


def overlay_curves_png(
    runs: Mapping[str, tuple[Sequence[float], Mapping[str, Sequence[float]]]],
    metric: str, *, x_label: str = "step",
) -> bytes:
    """Validation curves of several runs on shared axes: ``metric`` and validation loss.

    Args:
        runs: ``{run name: (eval steps or epochs (E,), {metric name: values (E,)})}``.
        metric: the metric drawn in the first panel (e.g. the runs' monitor).
        x_label: ``"step"``, or ``"epoch"`` when the x values are epochs.

    Returns:
        PNG bytes.
    """
    fig = _figure(10, 4.2)
    ax_m, ax_l = fig.subplots(1, 2)
    for name, (steps, metrics) in runs.items():
        x = _array(steps)
        for ax, key in ((ax_m, metric), (ax_l, "loss")):
            y = _array(metrics.get(key))
            if x.size and y.size == x.size and np.isfinite(y).any():
                ax.plot(x, y, "o-", lw=1.4, ms=3, label=name)
    for ax, key in ((ax_m, metric), (ax_l, "loss")):
        if ax.lines:
            ax.set(title=f"validation {key}", xlabel=x_label, ylabel=key)
            ax.legend(fontsize=8, loc="best", framealpha=0.8)
        else:
            _empty(ax, f"no validation {key} logged")
    return _png(fig)


def robustness_png(clean: float, transforms: Mapping[str, tuple[float, float, float]]) -> bytes:
    """Accuracy on the clean and on each transformed test set, with the drop's interval.

    Args:
        clean: clean accuracy.
        transforms: ``{transformation: (accuracy, drop low, drop high)}``; the error bar
            spans ``clean - high .. clean - low`` (the paired-bootstrap interval of the drop).

    Returns:
        PNG bytes.
    """
    names = ["clean", *transforms]
    accs = np.array([clean, *(v[0] for v in transforms.values())], dtype=float)
    lows = np.array([0.0, *(clean - v[2] for v in transforms.values())])
    highs = np.array([0.0, *(clean - v[1] for v in transforms.values())])
    fig = _figure(10, 0.9 + 0.38 * len(names), left=0.3, bottom=0.12, top=0.95)
    ax = fig.subplots()
    y = np.arange(len(names))[::-1]
    ax.barh(y, accs, color=["#4c72b0"] + ["#dd8452"] * (len(names) - 1))
    err = np.vstack([np.clip(accs - lows, 0, None), np.clip(highs - accs, 0, None)])
    err[:, 0] = 0.0
    ax.errorbar(accs[1:], y[1:], xerr=err[:, 1:], fmt="none", ecolor="black", capsize=3, lw=1)
    ax.axvline(clean, color="#4c72b0", ls="--", lw=1)
    ax.set_yticks(y, [n if len(n) <= 40 else n[:39] + "\u2026" for n in names], fontsize=8)
    # bars start at 0: a cut axis would exaggerate the drops; the values are written at the ends
    ax.set_xlim(0.0, 1.1)
    for yi, acc in zip(y, accs):
        if np.isfinite(acc):
            ax.text(min(acc, 1.0) + 0.01, yi, f"{acc:.4f}", va="center", fontsize=8)
    ax.set_xlabel("accuracy (0 to 1; error bars: 95% paired-bootstrap interval of the drop; "
                  "dashed: clean accuracy)")
    ax.set_ylabel("test set")
    return _png(fig)

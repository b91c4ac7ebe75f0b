"""Data preparation shared by train, evaluate and inspect: load, check, clean, encode."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftlab.config import RunConfig, load_config, parse_config
from ftlab.runs._builders import build_encoder, build_run_splits

__all__ = [
    "PreparedData", "prepare_data", "inspect_data", "check_and_clean", "augment_train",
    "token_counter",
]


@dataclass
class PreparedData:
    """Everything a run needs from the data stage."""

    splits: dict[str, list[Any]]  # split -> list[Example] (after cleaning)
    report: Any  # ftlab.data.DataReport
    encoder: Any  # fitted ftlab.preprocessing.TextEncoder
    encoded: dict[str, list[Any]]  # split -> list[Encoded]
    augmented: list[dict[str, Any]] = field(default_factory=list)  # one per train.augment entry
    augment_records: list[Any] = field(default_factory=list)  # AugmentRecord per added example


def _count_tokens(encoder: Any) -> Any:
    """A token counter for the data checks, or None when the tokenizer must be fitted first."""
    try:
        encoder.count_tokens("probe text")
    except Exception:  # noqa: BLE001 - an unfitted tokenizer may refuse; checks then skip tokens
        return None
    return encoder.count_tokens


def token_counter(encoder: Any) -> Any:
    """The encoder's token counter for the data checks, or None while its tokenizer is unfitted."""
    return _count_tokens(encoder)


def check_and_clean(
    config: RunConfig, splits: dict[str, list[Any]], encoder: Any | None
) -> tuple[dict[str, list[Any]], Any]:
    """Run the data checks, stop on fatal problems, drop rows as configured (counted)."""
    from ftlab.data import check_splits, clean_splits

    counter = _count_tokens(encoder) if encoder is not None else None
    report = check_splits(
        splits,
        max_length=config.preprocess.max_length,
        count_tokens=counter,
        imbalance_warn_ratio=config.data.imbalance_warn_ratio,
    )
    report.raise_for_errors()
    splits, _removed = clean_splits(
        splits,
        report,
        drop_empty=config.data.drop_empty,
        drop_duplicates=config.data.drop_duplicates,
        drop_leaked=config.data.drop_leaked,
    )
    return splits, report


def augment_train(config: RunConfig, train: list[Any]) -> tuple[list[Any], list[dict[str, Any]], list[Any]]:
    """``train.augment``: append transformed copies of training examples (seeded).

    Each entry draws from the cleaned original training split (not from earlier entries'
    copies) with its own tag, so entries are independent of each other's order.

    Returns:
        ``(train + added, per-entry stats, records)``.
    """
    if not config.train.augment:
        return train, [], []
    from ftlab.robustness import augment_examples, build_pipeline

    out = list(train)
    stats: list[dict[str, Any]] = []
    records: list[Any] = []
    for k, entry in enumerate(config.train.augment):
        added, recs, counts = augment_examples(
            train, build_pipeline(entry.transform), entry.n, seed=config.seed_for("split"),
            sides=entry.sides,
            tag=f"aug{k}", spec=entry.transform)
        out += added
        records += recs
        stats.append({"transform": entry.transform, "sides": entry.sides, **counts})
    return out, stats, records


def prepare_data(config: RunConfig, *, encoder_dir: Path | None = None,
                 augment: bool = False) -> PreparedData:
    """Load, check and clean the splits; fit the encoder on train only (or load a saved one).

    Args:
        config: the run config.
        encoder_dir: a saved encoder (resume/evaluate): loaded instead of refitted.
        augment: add ``train.augment``'s transformed copies to the training split (training
            and resuming do; evaluation does not need them).
    """
    from ftlab.preprocessing import TextEncoder

    splits = build_run_splits(config)
    if encoder_dir is not None:
        encoder = TextEncoder.load(encoder_dir)
    else:
        encoder = build_encoder(config.preprocess)
    splits, report = check_and_clean(config, splits, encoder)
    stats: list[dict[str, Any]] = []
    records: list[Any] = []
    if augment:
        splits["train"], stats, records = augment_train(config, splits["train"])
    if encoder_dir is None:
        encoder.fit(splits["train"])  # vocabulary and label map from training data only
    encoded = {name: encoder.encode(examples) for name, examples in splits.items()}
    return PreparedData(splits=splits, report=report, encoder=encoder, encoded=encoded,
                        augmented=stats, augment_records=records)


def inspect_data(target: str, *, overrides: list[str] | None = None) -> Any:
    """The data report for a config file or a bare data source (``ftlab data inspect``)."""
    path = Path(target)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        config = load_config(path, overrides or [])
    else:
        raw: dict[str, Any] = {"data": {"source": target}}
        from ftlab.config import apply_overrides

        config = parse_config(apply_overrides(raw, overrides or []), origin=target)
    from ftlab.data import check_splits

    splits = build_run_splits(config)
    encoder = build_encoder(config.preprocess)
    return check_splits(
        splits,
        max_length=config.preprocess.max_length,
        count_tokens=_count_tokens(encoder),
        imbalance_warn_ratio=config.data.imbalance_warn_ratio,
    )

"""Hugging Face datasets adapter: hub or local cache -> dict[split, list[Example]]."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ftlab.core import optional_import
from ftlab.core import Example
from ftlab.data._io import closest
from ftlab.data._choices import ChoiceLabel, ChoiceSchema
from ftlab.data._choices import CHOICE_SCHEMAS, choice_spec
from ftlab.data._readers import _Builder, normalize_label
from ftlab.data._splits import canonical_split
from ftlab.errors import DataError

__all__ = ["load_hf", "examples_from_hf", "parse_hf_name", "read_rows"]

logger = logging.getLogger("ftlab.data")

# datasets addressed without an organisation whose second path part is a config ("glue/sst2")
_CONFIG_DATASETS = frozenset({"glue", "super_glue", "tweet_eval", "xnli", "paws-x", "blimp"})


def parse_hf_name(name: str, config: str | None = None) -> tuple[str, str | None]:
    """Split ``"glue/sst2"`` into ``("glue", "sst2")``; ``"org/name/config"`` likewise.

    ``"org/name"`` stays a repository id unless ``org`` is a known multi-config dataset.
    An explicit ``config`` always wins and leaves ``name`` whole.
    """
    if config is not None:
        return name, config
    parts = name.split("/")
    if len(parts) >= 3:
        return "/".join(parts[:-1]), parts[-1]
    if len(parts) == 2 and parts[0] in _CONFIG_DATASETS:
        return parts[0], parts[1]
    return name, None


def load_hf(
    name: str,
    *,
    config: str | None = None,
    text_column: str = "text",
    text_pair_column: str | None = None,
    label_column: str = "label",
    revision: str | None = None,
    choices: str | Sequence[str] | None = None,
    choice_label: ChoiceLabel = "index",
    preset: ChoiceSchema | None = None,
) -> dict[str, list[Example]]:
    """Load a Hugging Face dataset (``"imdb"``, ``"glue/sst2"``) through ``datasets``.

    Args:
        name: hub id; ``"path/config"`` for known multi-config sets, ``"org/name/config"``.
        config: dataset configuration; overrides one parsed from ``name``.
        text_column: column holding the text (``"sentence"`` for GLUE SST-2).
        text_pair_column: column holding the second text of a pair.
        label_column: column holding the label (ClassLabel ints become their names).
        revision: hub revision (commit, tag or branch) to pin.
        choices, choice_label, preset: multiple choice, as in :func:`ftlab.data.read_file`
            (``preset="winogrande"`` for ``allenai/winogrande``, ``"copa"`` for
            ``super_glue/copa``).

    Returns:
        Split name -> examples; unlabelled splits (labels all -1) are dropped with a warning.

    Raises:
        DataError: the hub cannot be reached or the dataset/columns do not exist.
    """
    datasets = optional_import("datasets", purpose="loading Hugging Face datasets (hf:...)")
    path, cfg = parse_hf_name(name, config)
    try:
        loaded = datasets.load_dataset(path, cfg, revision=revision)
    except Exception as exc:  # noqa: BLE001 - many network/hub error types; re-raised with context
        raise DataError(
            f"could not load Hugging Face dataset {name!r} (path={path!r}, config={cfg!r}): "
            f"{type(exc).__name__}: {exc}. The hub may be unreachable (offline machine) or the "
            f"name/config is wrong. Offline, point `data.source` at a local copy instead: a "
            f"file (train.jsonl, .csv, .parquet), a folder-per-class directory (e.g. aclImdb), "
            f"or `data.files: {{train: ..., test: ...}}`; with HF_DATASETS_OFFLINE=1 only the "
            f"local cache is used."
        ) from exc
    if choices is not None or preset is not None:
        return _choice_splits(loaded, text_column=text_column, label_column=label_column,
                              choices=choices, choice_label=choice_label, preset=preset,
                              source=f"hf:{name}")
    return examples_from_hf(loaded, text_column=text_column, text_pair_column=text_pair_column,
                            label_column=label_column, source=f"hf:{name}")


def read_rows(
    rows: Sequence[Mapping[str, Any]],
    *,
    source: str,
    text_column: str = "text",
    label_column: str | None = "label",
    id_column: str | None = None,
    split: str = "data",
    choices: str | Sequence[str] | None = None,
    choice_label: ChoiceLabel = "index",
    preset: ChoiceSchema | None = None,
) -> list[Example]:
    """Turn in-memory rows (e.g. a Hugging Face split) into Examples with the file checks.

    The options are those of :func:`read_file`; ``source`` names the rows in messages and in
    ``meta["source"]``. An empty label (WinoGrande's unlabelled test split) reads as a missing
    label only when every row lacks one: such rows come back with ``label=None``.

    Raises:
        DataError: the row problems :func:`read_file` reports, naming ``source`` and the row.
    """
    spec = choice_spec(choices, choice_label=choice_label, schema=preset)
    if preset is not None:
        text_column = CHOICE_SCHEMAS[preset].text
        label_column = None if label_column is None else CHOICE_SCHEMAS[preset].label
    if label_column is not None and rows and all(
            normalize_label(r.get(label_column)) in (None, "-1") for r in rows):
        label_column = None
    builder = _Builder(Path(source), text_column, None, label_column, id_column, (), split,
                       None, spec)
    if rows:
        builder.check_columns(list(rows[0]), "schema")
    examples = [ex for i, row in enumerate(rows, start=1)
                if (ex := builder.build(row, i, "row")) is not None]
    builder.raise_problems()
    return examples


def _choice_splits(data: Any, *, source: str, **options: Any) -> dict[str, list[Example]]:
    """Multiple-choice splits of a DatasetDict, read row by row with the file checks."""
    out: dict[str, list[Example]] = {}
    for name, ds in data.items():
        examples = read_rows(ds.to_list(), source=f"{source}[{name}]", split=name, **options)
        if examples and all(ex.label is None for ex in examples):
            logger.warning("%s: split %r has no labels (e.g. a test split); dropped", source,
                           name)
            continue
        out[canonical_split(name)] = examples
    return out


def examples_from_hf(
    data: Any,
    *,
    text_column: str = "text",
    text_pair_column: str | None = None,
    label_column: str | None = "label",
    id_column: str | None = None,
    split: str = "train",
    source: str = "hf",
) -> dict[str, list[Example]]:
    """Convert a ``datasets.DatasetDict`` (or one ``Dataset``) into Examples per split.

    Args:
        data: a DatasetDict (split -> Dataset) or a single Dataset (named ``split``).
        text_column: column holding the text.
        text_pair_column: column holding the second text, if any.
        label_column: label column; ClassLabel ints map to names, -1 means "no label".
            ``None`` reads the data as unlabelled.
        id_column: column with unique ids (e.g. GLUE's ``idx``); default ``"<split>-<row>"``.
        split: split name for a single Dataset.
        source: recorded in ``meta["source"]``.

    Returns:
        Split name -> examples (``dev``/``valid`` normalised to ``validation``). A split whose
        labels are all missing (GLUE test, IMDB unsupervised) is dropped with a warning.

    Raises:
        DataError: a configured column is missing (the message lists the columns).
    """
    items = list(data.items()) if hasattr(data, "items") else [(split, data)]
    out: dict[str, list[Example]] = {}
    for name, ds in items:
        columns = list(ds.column_names)
        for opt, col in (("text_column", text_column), ("text_pair_column", text_pair_column),
                         ("label_column", label_column), ("id_column", id_column)):
            if col is not None and col not in columns:
                raise DataError(f"{source} split {name!r}: column {col!r} (from `{opt}`) not "
                                f"found; columns: {columns}.{closest(col, columns)} "
                                f"Set `{opt}` to the right column.")
        texts = list(ds[text_column])
        pairs = list(ds[text_pair_column]) if text_pair_column else [None] * len(texts)
        ids = [str(x) for x in ds[id_column]] if id_column else [f"{name}-{i}"
                                                                  for i in range(len(texts))]
        labels: list[str | None] = [None] * len(texts)
        if label_column is not None:
            labels = _labels(ds, label_column)
            if texts and all(lab is None for lab in labels):
                logger.warning("%s: split %r has no labels (all -1/missing, e.g. a GLUE test "
                               "split); dropped", source, name)
                continue
        out[canonical_split(name)] = [
            Example(id=i, text=t, text_pair=p, label=y, meta={"source": source, "line": r + 1})
            for r, (i, t, p, y) in enumerate(zip(ids, texts, pairs, labels, strict=True))
        ]
    return out


def _labels(ds: Any, column: str) -> list[str | None]:
    """Labels as strings: ClassLabel ints -> names; -1 and None -> None."""
    feature = ds.features[column]
    raw = list(ds[column])
    names = getattr(feature, "names", None)
    if names:
        return [None if v is None or v < 0 else names[v] for v in raw]
    return [None if v is None or v == -1 else normalize_label(v) for v in raw]

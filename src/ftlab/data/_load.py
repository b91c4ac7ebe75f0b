"""One call from a data source string to train/validation/test Examples."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ftlab.data._builtin import load_builtin
from ftlab.core import Example
from ftlab.data._folders import read_folder
from ftlab.data._io import DEFAULT_MAX_BYTES, DEFAULT_MAX_FIELD_CHARS
from ftlab.data._hf import load_hf
from ftlab.data._choices import ChoiceLabel, ChoiceSchema
from ftlab.data._readers import FileFormat, read_file
from ftlab.data._splits import canonical_split, complete_splits, subsample_examples
from ftlab.errors import ConfigError

__all__ = ["load_dataset"]


def load_dataset(
    source: str,
    *,
    format: FileFormat = "auto",
    text_column: str = "text",
    text_pair_column: str | None = None,
    label_column: str = "label",
    id_column: str | None = None,
    extra_columns: Sequence[str] = (),
    encoding: str = "utf-8",
    files: Mapping[str, str] | None = None,
    validation: float | int = 0.1,
    test: float | int = 0.1,
    seed: int = 0,
    stratify: bool = True,
    builtin_options: Mapping[str, Any] | None = None,
    max_examples: int | None = None,
    group_duplicates: bool = True,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    max_field_chars: int | None = DEFAULT_MAX_FIELD_CHARS,
    choices: str | Sequence[str] | None = None,
    choice_label: ChoiceLabel = "index",
    preset: ChoiceSchema | None = None,
) -> dict[str, list[Example]]:
    """Load a data source and return train/validation/test splits.

    Args:
        source: ``"builtin:NAME"``, ``"hf:NAME[/CONFIG]"``, a data file, or a folder-per-class
            directory; ``""`` when ``files`` gives one file per split.
        format: file format (``"auto"`` from the suffix).
        text_column: column holding the text (files and hf).
        text_pair_column: column holding the second text of a pair.
        label_column: column holding the label.
        id_column: column with unique ids (files).
        extra_columns: columns kept in ``Example.meta`` (files).
        encoding: text encoding of files and folders.
        files: split name -> file path, for sources shipped as separate split files.
        validation: fraction or count carved for validation when the source has none.
        test: fraction or count carved for test when the source has none.
        seed: seed for every split and subsample.
        stratify: stratify carved splits and subsamples by label.
        builtin_options: options for a ``builtin:`` dataset (e.g. ``{"size": 500}``).
        max_examples: cap every split at this many examples (seeded, stratified) for quick runs.
        group_duplicates: carved splits keep identical texts together (no leakage); given
            splits are never re-split.
        max_bytes: refuse a data file whose (decompressed) content is larger.
        max_field_chars: refuse a text field longer than this.
        choices: multiple choice: the columns holding the choices, or one list column
            (files and hf); ``text_column`` is then the context.
        choice_label: how the label names the correct choice (``index``, ``index_1``, ``text``).
        preset: ``"winogrande"`` or ``"copa"``: that dataset's own columns (files and hf).

    Returns:
        ``{"train", "validation", "test", ...}`` -> examples.

    Raises:
        ConfigError: both or neither of ``source`` and ``files``; options for a non-builtin.
        DataError: the data cannot be read (see the readers).
    """
    if builtin_options and not source.startswith("builtin:"):
        raise ConfigError(f"`builtin_options` only apply to builtin: sources, got source "
                          f"{source!r}. Remove them or use source: builtin:<name>.")
    columns = dict(text_column=text_column, text_pair_column=text_pair_column,
                   label_column=label_column, choices=choices, choice_label=choice_label,
                   preset=preset)
    file_opts = dict(format=format, id_column=id_column, extra_columns=tuple(extra_columns),
                     encoding=encoding, max_bytes=max_bytes, max_field_chars=max_field_chars,
                     **columns)
    if files:
        if source:
            raise ConfigError(f"give either `source` ({source!r}) or `files` ({dict(files)}), "
                              f"not both. Set `source: ''` to read one file per split.")
        splits = {canonical_split(name): read_file(path, split=canonical_split(name),
                                                   **file_opts)  # type: ignore[arg-type]
                  for name, path in files.items()}
    elif not source:
        raise ConfigError("no data: set `source` (builtin:NAME, hf:NAME, a file or a folder) "
                          "or `files: {train: ..., test: ...}`.")
    elif source.startswith("builtin:"):
        splits = load_builtin(source.removeprefix("builtin:"), **dict(builtin_options or {}))
    elif source.startswith("hf:"):
        splits = load_hf(source.removeprefix("hf:"), **columns)  # type: ignore[arg-type]
    elif Path(source).is_dir():
        splits = read_folder(source, encoding=encoding)
    else:
        splits = {"all": read_file(source, split="all", **file_opts)}  # type: ignore[arg-type]
    out = complete_splits(splits, validation=validation, test=test, seed=seed, stratify=stratify,
                          group_duplicates=group_duplicates)
    if max_examples is not None:
        out = {name: subsample_examples(exs, max_examples, seed=seed, stratify=stratify)
               for name, exs in out.items()}
    return out

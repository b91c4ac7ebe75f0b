"""Fuzz: malformed CSV/TSV/JSONL/Parquet/compressed files, folder trees, configs and ``--set``
overrides end in a valid result or one FtlabError, never another exception (a traceback).

In-process and derandomized (the same cases on every CI run). Per run: about 1,100 input cases
and 300 config/override cases. ``FTLAB_FUZZ_SCALE=10`` multiplies every budget (about 14,000
cases) for a long local run.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ftlab.errors import FtlabError

SCALE = float(os.environ.get("FTLAB_FUZZ_SCALE", "1"))


def _settings(n: int) -> settings:
    return settings(max_examples=max(1, int(n * SCALE)), deadline=None, derandomize=True,
                    database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


_DIR = Path(tempfile.mkdtemp(prefix="ftlab-fuzz-"))


def teardown_module() -> None:
    shutil.rmtree(_DIR, ignore_errors=True)


def _fresh(name: str) -> Path:
    path = _DIR / name
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    return path


def _consume(examples: list[Any], *, encode: bool = True) -> None:
    """What the run does next with read examples: checks, encoder fit, encode and save."""
    from ftlab.config import PreprocessConfig
    from ftlab.data import check_splits, clean_splits
    from ftlab.runs._builders import build_encoder

    try:
        report = check_splits({"train": examples}, max_length=16)
        if not encode or any(e.label is None for e in examples):
            return
        report.raise_for_errors()  # as a run does: errors stop it before the encoder
        train = clean_splits({"train": examples}, report)[0]["train"]
        enc = build_encoder(PreprocessConfig(max_length=16))
        enc.fit(train)
        enc.encode(train)
        enc.save(_fresh("encoder"))
    except FtlabError:
        return


def _read(path: Path, **kwargs: Any) -> None:
    from ftlab.data import read_file

    try:
        examples = read_file(path, max_bytes=200_000, max_field_chars=5_000, **kwargs)
    except FtlabError:
        return
    _consume(examples)


# ----------------------------------------------------------------------------- strategies
_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=30)
_SPICY = st.sampled_from(["", " ", "\x00", "\x00\x00", '"', '""', ",", "\t", "\n", "\r\n",
                          "\ud800", "\udcff", "Infinity", "NaN", "-Infinity", "null", "true",
                          "9" * 4400, "[" * 300, "{", "}", "\ufeff", "\u2028", "Ã©", "<b>x</b>"])
_FIELD = st.one_of(_TEXT, _SPICY, st.integers().map(str), st.floats().map(repr))


@st.composite
def delimited(draw: st.DrawFn) -> tuple[bytes, str]:
    sep = draw(st.sampled_from([",", "\t", ";"]))
    header = draw(st.one_of(st.just(["text", "label"]), st.lists(_FIELD, max_size=4)))
    rows = draw(st.lists(st.lists(_FIELD, max_size=5), max_size=8))
    quote = draw(st.booleans())

    def cell(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if quote else v

    text = "\n".join(sep.join(cell(c) for c in r) for r in [header, *rows])
    data = text.encode("utf-8", "surrogatepass")
    return draw(_mutate(data)), draw(st.sampled_from(["csv", "tsv"]))


_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), _TEXT, _SPICY),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.one_of(st.sampled_from(["text", "label", "id"]),
                                                      _TEXT), inner, max_size=4)),
    max_leaves=8)


@st.composite
def jsonl(draw: st.DrawFn) -> bytes:
    rows = draw(st.lists(st.one_of(
        st.fixed_dictionaries({"text": _JSON, "label": _JSON}), _JSON), max_size=6))
    lines = [json.dumps(r, ensure_ascii=draw(st.booleans())) for r in rows]
    if draw(st.booleans()):
        lines.append(draw(_SPICY))
    text = ("[" + ",".join(lines) + "]") if draw(st.integers(0, 5)) == 0 else "\n".join(lines)
    return draw(_mutate(text.encode("utf-8", "surrogatepass")))


@st.composite
def _mutate_impl(draw: st.DrawFn, data: bytes) -> bytes:
    kind = draw(st.sampled_from(["none", "none", "truncate", "flip", "insert", "bytes"]))
    if kind == "truncate" and data:
        return data[: draw(st.integers(0, len(data)))]
    if kind == "flip" and data:
        pos = draw(st.integers(0, len(data) - 1))
        return data[:pos] + bytes([draw(st.integers(0, 255))]) + data[pos + 1:]
    if kind == "insert":
        pos = draw(st.integers(0, len(data)))
        return data[:pos] + draw(st.binary(max_size=8)) + data[pos:]
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    return data


def _mutate(data: bytes) -> st.SearchStrategy[bytes]:
    return _mutate_impl(data)


# ----------------------------------------------------------------------------- input tests
@_settings(330)
@given(case=delimited())
@example(case=(b"text,label\n" + b'"' + b"x" * 6000 + b'",a\n', "csv"))
@example(case=(b"text,label\n\x00\x00,a\n\x00,b\n", "csv"))
@example(case=(b'text,label\n"unterminated,a\nb,c\n', "csv"))
@example(case=(b"text\tlabel\na\tb\tc\n", "tsv"))
@example(case=(b"text,label\nok,\xff\xfe\n", "csv"))
def test_fuzz_delimited_files(case: tuple[bytes, str]) -> None:
    data, fmt = case
    path = _fresh(f"d.{fmt}")
    path.write_bytes(data)
    _read(path)


@_settings(330)
@given(data=jsonl())
@example(data=b'{"text": ' + b"[" * 5000 + b"]" * 5000 + b', "label": "a"}\n')
@example(data=b'{"text": "t", "label": ' + b"9" * 4301 + b"}\n")
@example(data=b'{"text": "a \\ud800 b", "label": "x"}\n')
@example(data=b'{"text": "a b", "label": "x\\udcff"}\n')
@example(data=b'{"text": "a b", "label": Infinity}\n')
@example(data=b'{"text": "\\u0000\\u0000", "label": "a"}\n{"text": "\\u0000", "label": "b"}\n')
@example(data=b"[" * 3000 + b"]" * 3000)
@example(data=b'{"text": "x", "label": "a"}\n{"text": "y", "label": "b", "text": 1}\n')
def test_fuzz_jsonl_files(data: bytes) -> None:
    path = _fresh("d.jsonl")
    path.write_bytes(data)
    _read(path)
    _read(path, label_column=None)


@_settings(150)
@given(inner=st.one_of(jsonl(), delimited().map(lambda c: c[0])),
       comp=st.sampled_from([".gz", ".bz2", ".xz"]), cut=st.integers(0, 3))
@example(inner=b"text,label\n" + b"a,b\n" * 60_000, comp=".gz", cut=0)  # bomb over the cap
def test_fuzz_compressed_files(inner: bytes, comp: str, cut: int) -> None:
    packer = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}[comp]
    data = packer(inner)
    if cut:  # truncated archive
        data = data[: len(data) * cut // 4]
    path = _fresh(f"d.{'jsonl' if inner[:1] in (b'{', b'[') else 'csv'}{comp}")
    path.write_bytes(data)
    _read(path)


_COLUMN = st.one_of(
    st.lists(st.one_of(st.none(), _TEXT), min_size=1, max_size=5),
    st.lists(st.one_of(st.none(), st.integers(-2**63, 2**63 - 1)), min_size=1, max_size=5),
    st.lists(st.one_of(st.none(), st.floats()), min_size=1, max_size=5),
    st.lists(st.one_of(st.none(), st.booleans()), min_size=1, max_size=5),
)


@st.composite
def parquet(draw: st.DrawFn) -> bytes:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    cols = draw(st.dictionaries(st.sampled_from(["text", "label", "id", "other"]), _COLUMN,
                                min_size=1, max_size=3))
    n = min(len(v) for v in cols.values())
    safe = {k: [x.encode("utf-8", "replace").decode("utf-8") if isinstance(x, str) else x
                for x in v[:n]] for k, v in cols.items()}
    buf = io.BytesIO()
    try:
        pq.write_table(pa.table(safe), buf)
    except (pa.ArrowException, ValueError, TypeError, OverflowError):
        buf = io.BytesIO(b"PAR1")
    return draw(_mutate(buf.getvalue()))


@_settings(150)
@given(data=parquet())
def test_fuzz_parquet_files(data: bytes) -> None:
    path = _fresh("d.parquet")
    path.write_bytes(data)
    _read(path)


_NAME = st.sampled_from(["pos", "neg", "train", "test", "dev", "unsup", ".hidden", "a b", "x"])


@st.composite
def folder_tree(draw: st.DrawFn) -> list[tuple[str, bytes | None]]:
    """(relative path, content or None for a directory) entries, depth <= 3."""
    entries = []
    for _ in range(draw(st.integers(0, 8))):
        parts = draw(st.lists(_NAME, min_size=0, max_size=2))
        leaf = draw(st.sampled_from(["1.txt", "2.txt", "notes.md", "x.txt", "sub"]))
        content = None if leaf == "sub" else draw(st.one_of(
            _TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=20)))
        entries.append(("/".join([*parts, leaf]), content))
    return entries


@_settings(180)
@given(tree=folder_tree(), encoding=st.sampled_from(["utf-8", "latin-1", "no-such-codec"]))
@example(tree=[("pos/1.txt", b"good"), ("neg/1.txt", b"bad"), ("train/pos/1.txt", b"good"),
               ("train/neg/1.txt", b"bad")], encoding="utf-8")
def test_fuzz_folder_trees(tree: list[tuple[str, bytes | None]], encoding: str) -> None:
    from ftlab.data import load_dataset, read_folder

    root = _fresh("tree")
    root.mkdir()
    for rel, content in tree:
        path = root / rel
        try:
            if content is None:
                path.mkdir(parents=True, exist_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
        except OSError:  # a file where a folder was drawn, or the reverse: skip that entry
            continue
    try:
        splits = read_folder(root, encoding=encoding)
    except FtlabError:
        pass
    else:
        for exs in splits.values():
            _consume(exs, encode=False)
    try:
        out = load_dataset(str(root), encoding=encoding, seed=0)
    except FtlabError:
        return
    _consume(out.get("train", []))


# ----------------------------------------------------------------------------- configs
def _dotted_keys() -> list[str]:
    from pydantic import BaseModel

    from ftlab import config as c

    keys: list[str] = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            keys.append(prefix + name)
            sub = c._section_type(field.annotation)
            if sub is not None and sub is not model:
                walk(sub, f"{prefix}{name}.")

    walk(c.RunConfig, "")
    walk(c.RnnConfig, "model.")
    walk(c.TransformerConfig, "model.")
    return sorted(set(keys))


KEYS = _dotted_keys()
_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(),
              st.sampled_from(["auto", "cpu", "cuda", "mps", "sgd", "adamw", "bow", "rnn",
                               "transformer", "word", "char", "/dev/null", "/proc/x", "", "3e-5",
                               "yes", "no", ".inf", "builtin:bbc_news", "x.csv"]), _TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.one_of(st.sampled_from(KEYS), _TEXT), inner,
                                            max_size=3)),
    max_leaves=6)


def _load(path: Path | None, overrides: list[str] | None = None) -> None:
    from ftlab.config import load_config
    from ftlab.runs._builders import resolve_device

    try:
        cfg = load_config(path, overrides)
        resolve_device(cfg.train.device)
    except FtlabError:
        return


@st.composite
def yaml_config(draw: st.DrawFn) -> str:
    import yaml

    from ftlab.config import set_dotted

    raw: dict[str, Any] = {}
    for key, value in draw(st.lists(st.tuples(st.sampled_from(KEYS), _VALUE), max_size=5)):
        try:
            set_dotted(raw, key, value)
        except (TypeError, AttributeError):
            continue
    text = yaml.safe_dump(raw, allow_unicode=True)
    extra = draw(st.sampled_from(["", "train:\n  lr: 1\n", "seed: " + "7" * 5000 + "\n",
                                  "x: " + "[" * 2000 + "]" * 2000 + "\n", "lr: yes\n",
                                  "\t- broken: [\n", "seed: 1\nseed: 2\n"]))
    return draw(_mutate((text + extra).encode("utf-8", "surrogatepass"))).decode(
        "utf-8", "replace")


@_settings(150)
@given(text=yaml_config())
@example(text="train:\n  lr: 0.1\n  lr: 0.2\n")
@example(text="train: {lr: yes, epochs: true}\n")
@example(text="train: {lr: .inf}\n")
@example(text="train: {betas: [1.5, 0.999]}\n")
@example(text="seed: -1\n")
@example(text="seed: 1099511627776\n")
@example(text="seed: " + "1" * 5000 + "\n")
@example(text="a: " + "[" * 5000 + "]" * 5000 + "\n")
@example(text="train: {device: cuda}\n")
@example(text="train: {device: mps}\n")
@example(text="batching: {max_tokens: 1}\n")
@example(text="data: {source: x.csv, files: {train: a.csv}}\n")
def test_fuzz_config_files(text: str) -> None:
    path = _fresh("c.yaml")
    path.write_text(text, encoding="utf-8")
    _load(path)


_OVERRIDE_VALUE = st.one_of(
    _VALUE.map(lambda v: json.dumps(v, default=str)), _TEXT, _SPICY,
    st.sampled_from(["[", "{a: [", "inf", "-inf", "nan", "yes", "1e309", "0x10", "!!python/none",
                     "&a [*a]", "{", "- x", "''", "1" * 5000]))


@_settings(150)
@given(items=st.lists(st.one_of(
    st.tuples(st.sampled_from(KEYS), _OVERRIDE_VALUE).map(lambda kv: f"{kv[0]}={kv[1]}"),
    _TEXT, st.sampled_from(["=", "a.=1", ".=2", "train..lr=1", "seed"])), min_size=1, max_size=4))
@example(items=["train.lr=inf"])
@example(items=["train.lr=["])
@example(items=["train.epochs=true"])
@example(items=["seed=-1"])
@example(items=["output_dir=/dev/null"])
@example(items=["train.device=cuda"])
def test_fuzz_set_overrides(items: list[str]) -> None:
    _load(None, items)

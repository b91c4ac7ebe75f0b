"""Regression cases of the fault audit (issue 19): every malformed input and config ends in one
FtlabError (exit 2 through the CLI) naming the file/field and the fix, never a traceback."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from ftlab.config import load_config
from ftlab.data import read_file, read_folder
from ftlab.errors import ConfigError, DataError, FtlabError

# ----------------------------------------------------------------------------- data files
BAD_JSONL = {
    "deep_nesting": '{"text": ' + "[" * 5000 + "]" * 5000 + ', "label": "a"}\n',
    "4301_digit_label": '{"text": "t", "label": ' + "9" * 4301 + "}\n",
    "lone_surrogate_text": '{"text": "a \\ud800 b", "label": "x"}\n',
    "lone_surrogate_label": '{"text": "a b", "label": "x\\udcff"}\n',
    "infinity_label": '{"text": "a b", "label": Infinity}\n',
    "nan_text": '{"text": NaN, "label": "x"}\n',
    "array_of_deep": "[" * 3000 + "]" * 3000,
}


@pytest.mark.parametrize("name", sorted(BAD_JSONL))
def test_malformed_jsonl_is_one_data_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(BAD_JSONL[name], encoding="utf-8")
    with pytest.raises(DataError, match=str(path).replace("\\", "\\\\")):
        read_file(path)


def test_corrupt_parquet_body_is_a_data_error(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "d.parquet"
    table = pa.table({"text": [f"text number {i} " * 20 for i in range(2000)],
                      "label": ["a", "b"] * 1000})
    pq.write_table(table, path, compression="none")
    raw = bytearray(path.read_bytes())
    for i in range(200, len(raw) // 2):  # the footer (schema) stays readable, the body not
        raw[i] = 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="Parquet"):
        read_file(path)


def test_unreadable_folder_and_file_are_data_errors(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    for label in ("pos", "neg"):
        (tmp_path / label).mkdir()
        (tmp_path / label / "1.txt").write_text(f"{label} text", encoding="utf-8")
    real_iterdir, real_read = Path.iterdir, Path.read_bytes

    def iterdir(self: Path):  # type: ignore[no-untyped-def]
        if self.name == "neg":
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    with pytest.raises(DataError, match="cannot list the folder .*neg"):
        read_folder(tmp_path)
    monkeypatch.setattr(Path, "iterdir", real_iterdir)

    def read_bytes(self: Path) -> bytes:
        if self.name == "1.txt" and self.parent.name == "pos":
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(DataError, match="cannot read .*1.txt"):
        read_folder(tmp_path)


def test_mixed_folder_layouts_are_refused(tmp_path: Path) -> None:
    for sub in ("pos", "neg", "train/pos", "train/neg"):
        (tmp_path / sub).mkdir(parents=True)
        (tmp_path / sub / "a.txt").write_text("text", encoding="utf-8")
    with pytest.raises(DataError, match="mixes two layouts"):
        read_folder(tmp_path)


def test_nul_only_texts_are_empty(tmp_path: Path) -> None:
    from ftlab.data import Example, check_splits

    train = [Example(id=str(i), text="\x00\x00" if i % 2 else "fine text", label="ab"[i % 2])
             for i in range(10)]
    report = check_splits({"train": train})
    assert any(f.code == "empty_text" and f.count == 5 for f in report.warnings)
    all_nul = [Example(id=str(i), text="\x00", label="ab"[i % 2]) for i in range(4)]
    report = check_splits({"train": all_nul})
    assert any(f.code == "empty_text" for f in report.errors)


def test_all_empty_texts_fail_inspect(tmp_path: Path) -> None:
    from ftlab.runs import inspect_data

    path = tmp_path / "d.csv"
    path.write_text("text,label\n" + "".join(f" ,{'ab'[i % 2]}\n" for i in range(30)))
    report = inspect_data(str(path))
    assert any(f.code == "empty_text" and f.level == "error" for f in report.errors)


def test_decompression_bomb_is_capped(tmp_path: Path) -> None:
    path = tmp_path / "d.csv.gz"
    body = "text,label\n" + "a,b\n" * 50_000  # 200 KB of text from ~1 KB of gzip
    path.write_bytes(gzip.compress(body.encode()))
    assert path.stat().st_size < 5_000
    with pytest.raises(DataError, match="data.max_input_mb"):
        read_file(path, max_bytes=100_000)
    assert len(read_file(path)) == 50_000  # the default cap (1 GiB) lets it through


def test_long_csv_field_is_fine_and_the_cap_names_its_option(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(f'text,label\n"{"word " * 40_000}",a\nshort,b\n', encoding="utf-8")
    assert len(read_file(path)[0].text) == 200_000  # over csv's 128 KiB default limit
    with pytest.raises(DataError, match="data.max_field_chars"):
        read_file(path, max_field_chars=1000)
    jpath = tmp_path / "d.jsonl"
    jpath.write_text(json.dumps({"text": "x" * 5000, "label": "a"}) + "\n")
    with pytest.raises(DataError, match="data.max_field_chars"):
        read_file(jpath, max_field_chars=1000)


# ----------------------------------------------------------------------------- configs
BAD_YAML = {
    "5000_digit_int": "seed: " + "1" * 5000 + "\n",
    "5000_deep_list": "train:\n  betas: " + "[" * 5000 + "]" * 5000 + "\n",
    "duplicate_key": "train:\n  lr: 0.1\n  lr: 0.2\n",
    "duplicate_section": "train: {lr: 0.1}\nseed: 1\ntrain: {epochs: 2}\n",
    "lr_yes": "train: {lr: yes}\n",
    "epochs_true": "train: {epochs: true}\n",
    "lr_inf": "train: {lr: .inf}\n",
    "lr_nan": "train: {lr: .nan}\n",
    "betas_out_of_range": "train: {betas: [1.5, 0.999]}\n",
    "betas_bool": "train: {betas: [true, 0.9]}\n",
    "seed_negative": "seed: -1\n",
    "seed_huge": "seed: 1099511627776\n",
    "max_tokens_1": "batching: {max_tokens: 1}\n",
    "source_and_files": "data: {source: 'x.csv', files: {train: 'a.csv'}}\n",
    "divergence_factor_1": "train: {divergence_factor: 1}\n",
    "max_input_mb_bool": "data: {max_input_mb: on}\n",
}


@pytest.mark.parametrize("name", sorted(BAD_YAML))
def test_bad_config_is_one_config_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(BAD_YAML[name], encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value) and len(str(err.value)) < 2000


def test_duplicate_key_message_names_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  lr: 0.1\n  epochs: 2\n  lr: 0.2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line 4.*duplicate key 'lr' \(first at line 2\)"):
        load_config(path)


@pytest.mark.parametrize("kind", ["search space", "suite"])
def test_every_yaml_reader_is_strict(tmp_path: Path, kind: str) -> None:
    # one reader (ftlab.core.parse_yaml) behind configs, search spaces and check suites
    from ftlab.robustness.suites import load_suite
    from ftlab.tuning import load_space

    load = load_space if kind == "search space" else load_suite
    dup = tmp_path / "dup.yaml"
    dup.write_text("a: 1\nb: 2\na: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line 3.*duplicate key 'a' \(first at line 1\)"):
        load(dup)
    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 150 + "]" * 150 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"150 levels deep"):
        load(deep)


@pytest.mark.parametrize("override", ["train.lr=inf", "train.lr=[", "train.lr=yes",
                                      "train.epochs=true", "seed=-1", "train.lr=nan",
                                      "train.betas=[1.5,0.999]", "train.lr={a: {b: [}"])
def test_bad_overrides_are_config_errors(override: str) -> None:
    with pytest.raises(ConfigError):
        load_config(None, [override])


def test_default_source_with_files_becomes_empty(tmp_path: Path) -> None:
    cfg = load_config(None, ["data.files={train: a.csv}"])
    assert cfg.data.source == ""


@pytest.mark.parametrize("device", ["cuda", "mps"])
def test_unavailable_device_is_a_config_error(device: str) -> None:
    import torch

    from ftlab.runs._builders import resolve_device

    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    if device == "mps" and torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    with pytest.raises(ConfigError, match=f"train.device is '{device}'"):
        resolve_device(device)


@pytest.mark.parametrize("where", ["/dev/null", "file", "/proc/ftlab-x"])
def test_unusable_output_dir_exits_2(tmp_path: Path, where: str) -> None:
    from runs._faults import cli, tiny_config

    target = where
    if where == "file":
        target = str(tmp_path / "a-file")
        Path(target).write_text("x")
    cfg = tiny_config(tmp_path)
    code, out = cli("train", str(cfg), "--set", f"output_dir={target}")
    assert code == 2 and "Traceback" not in out and "output_dir" in out, out


def test_empty_vocabulary_is_refused(tmp_path: Path) -> None:
    from runs._faults import cli, tiny_config

    code, out = cli("train", str(tiny_config(tmp_path)), "--set",
                    "preprocess.tokenizer.min_freq=100000")
    assert code == 2 and "min_freq" in out and "Traceback" not in out, out


def test_every_error_is_an_ftlab_error() -> None:
    assert issubclass(ConfigError, FtlabError) and issubclass(DataError, FtlabError)


# ----------------------------------------------------------------------------- unsafe files
class _Payload:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        import os

        return (os.system, ("echo never-run",))


@pytest.mark.parametrize("kind", ["protocol2", "protocol4", "protocol5", "torch_zip"])
def test_code_pickles_are_refused_as_code(tmp_path: Path, kind: str) -> None:
    import pickle

    import torch

    from ftlab.errors import CheckpointError
    from ftlab.training._restore import _load_pt

    path = tmp_path / "optimizer.pt"
    if kind == "torch_zip":
        torch.save({"state": _Payload()}, path)
    else:
        path.write_bytes(pickle.dumps(_Payload(), protocol=int(kind[-1])))
    with pytest.raises(CheckpointError, match="refused: this file would execute code when loaded"):
        _load_pt(path)


def test_garbage_pt_is_corruption_not_code(tmp_path: Path) -> None:
    from ftlab.errors import CheckpointError
    from ftlab.training._restore import _load_pt

    path = tmp_path / "rng.pt"
    path.write_bytes(b"hello world garbage")
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        _load_pt(path)


def test_malicious_pytorch_model_bin_under_model_name(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    import torch

    from ftlab.models._hf_load import load_sequence_classifier

    (tmp_path / "config.json").write_text(json.dumps({
        "model_type": "bert", "vocab_size": 50, "hidden_size": 8, "num_hidden_layers": 1,
        "num_attention_heads": 2, "intermediate_size": 16, "max_position_embeddings": 16}))
    torch.save({"bert.embeddings.word_embeddings.weight": _Payload()},
               tmp_path / "pytorch_model.bin")
    with pytest.raises(ConfigError, match="refused: this file would execute code when loaded"):
        load_sequence_classifier(str(tmp_path), num_labels=2)

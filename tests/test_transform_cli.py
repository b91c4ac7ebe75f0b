"""``ftlab transform``: changed examples side by side, offsets mapped into the output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ftlab.cli import app
from ftlab.errors import ConfigError
from ftlab.robustness import Change
from ftlab.runs import output_spans, preview_transform


def _config(tmp_path: Path) -> Path:
    rows = [{"text": f"the movie number {i} was quite good and not boring", "label": "pos"}
            for i in range(20)]
    rows += [{"text": f"a dull film, episode {i}, that I would never watch again", "label": "neg"}
             for i in range(20)]
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"data:\n  source: {data}\n  split: {{validation: 0.2, test: 0.25}}\n",
                   encoding="utf-8")
    return cfg


def test_output_spans_follow_earlier_length_changes():
    text = "good movie , great cast"
    changes = [Change(0, 4, "good", "gud"), Change(13, 18, "great", "graet!!")]
    out = "gud movie , graet!! cast"
    spans = output_spans(changes)
    assert [out[a:b] for a, b in spans] == ["gud", "graet!!"]
    assert text[13:18] == "great"


def test_preview_returns_changed_examples_deterministically(tmp_path):
    cfg = _config(tmp_path)
    a = preview_transform(cfg, "char_swap:0.5", n=3)
    b = preview_transform(cfg, "char_swap:0.5", n=3)
    assert 0 < len(a) <= 3
    assert [r["transformed"].text for r in a] == [r["transformed"].text for r in b]
    for row in a:
        assert row["changes"].changed and row["transformed"].text != row["original"].text
        assert row["transformed"].label == row["original"].label
    assert a[0]["stats"]["changed"] >= len(a)
    with pytest.raises(ConfigError, match="unknown transformation"):
        preview_transform(cfg, "tpyos")


def test_cli_transform_shows_a_table(tmp_path):
    cfg = _config(tmp_path)
    result = CliRunner().invoke(app, ["transform", "--config", str(cfg), "--transform",
                                      "char_swap:0.5,contractions", "--show", "2"])
    assert result.exit_code == 0, result.output
    assert "original" in result.output and "transformed" in result.output
    assert "scanned examples changed" in result.output
    bad = CliRunner().invoke(app, ["transform", "-c", str(cfg), "-t", "typos", "--split", "nope"])
    # (the console script's main() turns this FtlabError into one line and exit status 2)
    assert isinstance(bad.exception, ConfigError) and "split 'nope'" in str(bad.exception)


def test_synonyms_without_wordnet_is_one_clean_error(tmp_path, monkeypatch, capsys):
    """The README command with WordNet hidden: one message naming the fix, exit 2, no traceback."""
    import sys

    nltk = pytest.importorskip("nltk")
    from ftlab.cli import main
    from ftlab.robustness import _lexicons

    monkeypatch.setattr(nltk.data, "path", [str(tmp_path / "empty")])
    monkeypatch.setattr(_lexicons, "DEBIAN_WORDNET", tmp_path / "no-wordnet")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    config = Path(__file__).resolve().parents[1] / "configs" / "quickstart.yaml"
    monkeypatch.setattr(sys, "argv", ["ftlab", "transform", "-c", str(config), "-t", "synonyms",
                                      "--show", "2"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("error:") == 1
    flat = " ".join(err.split())
    assert "apt-get install wordnet-base" in flat and "embedding_synonyms" in flat

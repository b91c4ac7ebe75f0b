"""Helpers of the fault tests: a tiny bag-of-embeddings config and an in-process CLI call."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from _tiny_data import write_sentiment_jsonl


def tiny_config(tmp: Path, *, train: str = "lr: 0.01, epochs: 2", n: int = 80) -> Path:
    """A config YAML training a tiny bow model on ``n`` separable examples in about a second."""
    data = tmp / "data.jsonl"
    if not data.exists():
        write_sentiment_jsonl(data, n=n)
    cfg = tmp / "tiny.yaml"
    cfg.write_text(f"""
seed: 3
output_dir: {tmp / 'runs'}
data: {{source: {data}, split: {{validation: 0.25, test: 0.25}}}}
preprocess: {{max_length: 12}}
batching: {{batch_size: 8}}
model: {{family: bow, embed_dim: 8}}
train: {{{train}, log_every: 1, trackers: []}}
""", encoding="utf-8")
    return cfg


def cli(*args: str) -> tuple[int, str]:
    """Run ``ftlab ARGS`` in this process through the real entry point (errors -> exit 2);
    returns (exit code, stderr+stdout text)."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from ftlab.cli import main

    out = io.StringIO()
    old_argv = sys.argv
    sys.argv = ["ftlab", *args]
    code: int = 0  # the consoles write to sys.stdout / sys.stderr of the moment: redirected
    try:
        with redirect_stdout(out), redirect_stderr(out):
            main()  # in one process (no torchrun): the same as the app's _main
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = old_argv
    return code, out.getvalue()


def strict_json_lines(path: Path) -> list[dict]:
    """Parse a JSONL file refusing NaN/Infinity literals (not JSON)."""

    def refuse(token: str) -> None:
        raise ValueError(f"{path}: {token} is not valid JSON")

    return [json.loads(line, parse_constant=refuse) for line in
            path.read_text(encoding="utf-8").splitlines() if line.strip()]

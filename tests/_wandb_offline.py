"""Read back an offline W&B run (``wandb/offline-run-*/run-<id>.wandb``) for the tests.

wandb ships no public reader for offline runs (``wandb sync`` only uploads them). The file is
the record log wandb documents for its transaction files: a 7-byte header (``:W&B``, magic,
version), then 32 KiB blocks of chunks (4-byte CRC, 2-byte length, 1-byte type: full, first,
middle, last), each record a ``wandb_internal_pb2.Record`` protobuf from wandb's own schema.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_BLOCK, _HEADER = 32768, 7
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


def records(path: Path) -> list[Any]:
    """Every record of a ``.wandb`` file, decoded with wandb's protobuf schema."""
    from wandb.proto import wandb_internal_pb2 as pb

    data = path.read_bytes()
    assert data[:4] == b":W&B", f"{path} is not a W&B run file"
    out, pos, pending = [], _HEADER, b""
    while pos + _HEADER <= len(data):
        left = _BLOCK - pos % _BLOCK
        if left < _HEADER:  # the block's tail is padding
            pos += left
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos:pos + _HEADER])
        chunk = data[pos + _HEADER:pos + _HEADER + length]
        pos += _HEADER + length
        if kind == 0 and length == 0:
            continue
        if kind == _FULL:
            pending = chunk
        elif kind == _FIRST:
            pending = chunk
            continue
        elif kind == _MIDDLE:
            pending += chunk
            continue
        else:  # _LAST
            pending += chunk
        record = pb.Record()
        record.ParseFromString(pending)
        out.append(record)
        pending = b""
    return out


@dataclass
class OfflineRun:
    """What an offline run holds: config, history rows, summary, group, tags, saved files."""

    dir: Path
    name: str = ""
    group: str = ""
    tags: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


def _items(items: Any) -> dict[str, Any]:
    out = {}
    for item in items:
        key = item.key or "/".join(item.nested_key)
        out[key] = json.loads(item.value_json)
    return out


def read_offline_run(run_dir: Path) -> OfflineRun:
    """Decode the ``.wandb`` file of one ``offline-run-*`` directory."""
    (path,) = run_dir.glob("run-*.wandb")
    run = OfflineRun(dir=run_dir)
    for record in records(path):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            run.name, run.group = record.run.display_name, record.run.run_group
            run.tags = list(record.run.tags)
            run.config.update({k: v.get("value", v) if isinstance(v, dict) else v
                               for k, v in _items(record.run.config.update).items()})
        elif kind == "config":
            run.config.update({k: v.get("value", v) if isinstance(v, dict) else v
                               for k, v in _items(record.config.update).items()})
        elif kind == "history":
            run.history.append(_items(record.history.item))
        elif kind == "summary":
            run.summary.update(_items(record.summary.update))
        elif kind == "files":
            run.files += [f.path for f in record.files.files]
    run.files += [str(p.relative_to(run_dir / "files")) for p in (run_dir / "files").rglob("*")
                  if p.is_file()]
    return run

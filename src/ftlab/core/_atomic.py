"""Atomic file writes (temp file in the same directory, fsync, rename), used by every stage
that persists state: encoders, checkpoints, run summaries."""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["atomic_write_json", "atomic_write_text", "staged_dir", "fsync_dir", "fsync_tree", "guard_write",
           "json_safe", "dumps_json", "describe_write_error"]

_T = TypeVar("_T")

_UMASK = os.umask(0)
os.umask(_UMASK)


def fsync_dir(path: Path) -> None:
    """Flush a directory entry (a rename) to disk; a no-op where directories cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """fsync every file and directory under ``root`` (the contents of a checkpoint)."""
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            with open(os.path.join(dirpath, name), "rb+") as fh:
                os.fsync(fh.fileno())
        fsync_dir(Path(dirpath))


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` so readers see the old or the new file, never half.

    Args:
        path: destination; its directory is created if needed.
        text: the whole content.

    Returns:
        The destination path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def atomic_write_json(path: str | Path, obj: Any, *, sort_keys: bool = False) -> Path:
    """Write ``obj`` as JSON to ``path`` so readers see the old or the new file, never half.

    Args:
        path: destination; its directory is created if needed.
        obj: JSON-serialisable value (other objects are written with ``str``).
        sort_keys: sort mapping keys.

    Returns:
        The destination path.
    """
    text = dumps_json(obj, indent=2, sort_keys=sort_keys)
    return atomic_write_text(path, text + "\n")


def json_safe(obj: Any) -> Any:
    """``obj`` with every non-finite float (NaN, inf) replaced by ``None``: JSON has no NaN, and
    a file holding ``NaN`` is not valid JSON for other tools."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def dumps_json(obj: Any, **kwargs: Any) -> str:
    """``json.dumps`` that always gives valid JSON: non-finite floats become ``null``,
    non-JSON objects their ``str``, non-ASCII text stays as is."""
    kwargs.setdefault("ensure_ascii", False)
    kwargs.setdefault("default", str)
    try:
        return json.dumps(obj, allow_nan=False, **kwargs)
    except ValueError:  # a NaN/inf somewhere: replace them (rare, so only then walk the object)
        return json.dumps(json_safe(obj), allow_nan=False, **kwargs)


def _free_bytes(path: Path) -> int | None:
    node = Path(path)
    while not node.exists() and node != node.parent:
        node = node.parent
    try:
        return shutil.disk_usage(node).free
    except OSError:
        return None


def describe_write_error(exc: BaseException, path: str | Path) -> str:
    """What went wrong writing ``path``, in words: ``no space left on device (12 MB free)``,
    ``permission denied``, ... (torch's "unexpected pos" on a nearly full disk included)."""
    free = _free_bytes(Path(path))
    free_s = "" if free is None else f" ({free / 2**20:.1f} MiB free)"
    seen: BaseException | None = exc
    while seen is not None:  # the errno may sit on a chained cause
        code = getattr(seen, "errno", None)
        if code in (errno.ENOSPC, errno.EDQUOT):
            return f"no space left on device{free_s}"
        if code in (errno.EACCES, errno.EPERM, errno.EROFS):
            return f"{os.strerror(code).lower()}"
        if isinstance(seen, OSError) and code is not None:
            return f"{os.strerror(code).lower()} (errno {code}){free_s}"
        seen = seen.__cause__ or seen.__context__
    if free is not None and free < 64 * 2**20:  # torch reports a short write as "unexpected pos"
        return f"probably no space left on device{free_s}: {type(exc).__name__}: {str(exc)[:200]}"
    return f"{type(exc).__name__}: {str(exc)[:300]}"


def guard_write(write: Callable[[], _T], path: str | Path, *, what: str,
                intact: str | None = None) -> _T:
    """Run ``write()``; an OSError becomes one ``StorageError`` saying what failed, where and why,
    and what is intact (default: the previous version of the file)."""
    from ftlab.core._errors import StorageError

    try:
        return write()
    except OSError as exc:
        kept = intact or f"the previous version of {Path(path).name}, if any, is intact"
        raise StorageError(
            f"could not write {what} to {path}: {describe_write_error(exc, path)}; {kept}. Free "
            f"space or fix permissions, then run the command again (a run continues with "
            f"ftlab train --resume RUN_DIR)") from exc


@contextmanager
def staged_dir(out_dir: Path) -> Iterator[Path]:
    """Build a directory in a temp sibling and rename it onto ``out_dir`` when the block ends
    without an error; on any error (or a kill signal turned into one) the temp directory is
    removed and ``out_dir`` is left as it was. ``out_dir`` must be absent or empty."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{out_dir.name}-", dir=out_dir.parent))
    try:
        yield tmp
        if out_dir.exists():
            out_dir.rmdir()  # empty (the caller checked); a non-empty one raises OSError
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

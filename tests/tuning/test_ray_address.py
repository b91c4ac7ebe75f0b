"""--address / --storage-path reach ray.init and Ray Tune's RunConfig (no real cluster)."""

from __future__ import annotations


import pytest

pytest.importorskip("ray.tune", reason="Ray Tune is optional (pip install 'ftlab[ray]')")

import ray  # noqa: E402
from ray import tune  # noqa: E402

from ftlab.config import parse_config  # noqa: E402
from ftlab.tuning import parse_space  # noqa: E402
from ftlab.tuning import _ray  # noqa: E402

from .conftest import tiny_raw  # noqa: E402


def _fake_ray(monkeypatch):
    calls: dict = {}
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kw: calls.setdefault("init", kw))
    monkeypatch.setattr(ray, "shutdown", lambda: calls.setdefault("shutdown", True))
    return calls


def test_ray_session_connects_to_an_existing_cluster(monkeypatch):
    calls = _fake_ray(monkeypatch)
    with _ray.ray_session(address="ray://head:10001"):
        assert calls["init"]["address"] == "ray://head:10001"
        assert "num_cpus" not in calls["init"]  # the cluster's resources, not ours
    assert calls["shutdown"]  # this driver disconnects; the cluster keeps running


def test_ray_session_starts_a_local_instance_without_address(monkeypatch):
    calls = _fake_ray(monkeypatch)
    with _ray.ray_session(cpus=2):
        assert "address" not in calls["init"] and calls["init"]["num_cpus"] == 2


def test_cli_passes_address_and_storage_path(monkeypatch, tmp_path):
    calls = _fake_ray(monkeypatch)
    seen: dict = {}

    class FakeTuner:
        def __init__(self, *a, run_config=None, **kw):
            seen["storage_path"] = run_config.storage_path

        def fit(self):
            seen["init_during_fit"] = dict(calls["init"])
            raise RuntimeError("stop here")

    monkeypatch.setattr(tune, "Tuner", FakeTuner)
    cfg = parse_config(tiny_raw(tmp_path, epochs=1))
    space = parse_space({"params": {"train.lr": {"low": 0.01, "high": 0.3, "log": True}}})
    with pytest.raises(RuntimeError, match="stop here"):
        _ray.run_ray_study(cfg, space, scheduler="asha", trials=2, address="auto",
                           storage_path=str(tmp_path / "shared"))
    assert seen["storage_path"] == str(tmp_path / "shared")
    assert seen["init_during_fit"]["address"] == "auto"

    from typer.testing import CliRunner

    from ftlab.cli import app

    got: dict = {}
    monkeypatch.setattr(_ray, "run_ray_study",
                        lambda *a, **kw: got.update(kw) or (_ for _ in ()).throw(SystemExit(0)))
    import yaml

    (tmp_path / "c.yaml").write_text(yaml.safe_dump(tiny_raw(tmp_path, epochs=1)))
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(
        {"params": {"train.lr": {"low": 0.01, "high": 0.3, "log": True}}}))
    CliRunner().invoke(app, ["tune", str(tmp_path / "c.yaml"), "--space", str(tmp_path / "s.yaml"),
                             "--backend", "ray", "--scheduler", "asha", "--address",
                             "10.0.0.1:6379", "--storage-path", "/mnt/shared/ray"])
    assert got["address"] == "10.0.0.1:6379" and got["storage_path"] == "/mnt/shared/ray"

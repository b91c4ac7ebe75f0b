"""--address / --storage-path reach ray.init and the Ray study (no real cluster, one stub).

What ``ray.init`` receives is a pure function (:func:`ray_init_kwargs`), tested directly; the
CLI test replaces only ``run_ray_study`` to see the options arrive. Connecting to a real
cluster is covered by tests/tuning/test_ray_cluster.py.
"""

from __future__ import annotations

import pytest

pytest.importorskip("ray.tune", reason="Ray Tune is optional (pip install 'ftlab[ray]')")

import yaml  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from ftlab.cli import app  # noqa: E402
from ftlab.tuning import _ray  # noqa: E402

from .conftest import tiny_raw  # noqa: E402


def test_an_address_connects_to_the_cluster_with_its_resources():
    kw = _ray.ray_init_kwargs(cpus=2, address="ray://head:10001", temp_dir="/tmp/x")
    assert kw["address"] == "ray://head:10001"
    assert "num_cpus" not in kw and "_temp_dir" not in kw  # the cluster's, not ours


def test_without_an_address_a_local_instance_is_sized_and_placed():
    kw = _ray.ray_init_kwargs(cpus=2, temp_dir="/tmp/ftray-1")
    assert "address" not in kw
    assert (kw["num_cpus"], kw["_temp_dir"], kw["include_dashboard"]) == (2, "/tmp/ftray-1", False)
    assert _ray.ray_init_kwargs()["num_cpus"] >= 1  # default: every CPU


def test_cli_passes_address_and_storage_path(monkeypatch, tmp_path):
    got: dict = {}

    def stop(*args, **kwargs):
        got.update(kwargs)
        raise SystemExit(0)

    monkeypatch.setattr(_ray, "run_ray_study", stop)
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(tiny_raw(tmp_path, epochs=1)))
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(
        {"params": {"train.lr": {"low": 0.01, "high": 0.3, "log": True}}}))
    CliRunner().invoke(app, ["tune", str(tmp_path / "c.yaml"), "--space", str(tmp_path / "s.yaml"),
                             "--backend", "ray", "--scheduler", "asha", "--address",
                             "10.0.0.1:6379", "--storage-path", "/mnt/shared/ray"])
    assert got["address"] == "10.0.0.1:6379" and got["storage_path"] == "/mnt/shared/ray"

"""InterFaceGAN's published files: every boundary has a registry entry whose hash is the
published file's, and one call fetches the generator and all boundaries."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

import socket
import urllib.error

from common.weights.interfacegan import (BOUNDARY_SHA256, fetch_interfacegan, interfacegan_downloads,
                                              interfacegan_paths)
from common.weights.interfacegan import load_interfacegan_boundaries, load_interfacegan_pggan
from common.weights import DownloadError, WeightsError, fetch_all, sha256_of


def test_each_published_boundary_has_an_entry_with_its_hash(fixtures):
    published = sorted(fixtures.glob("interfacegan_boundaries/*.npy"))
    entries = {item.name: item for item in interfacegan_downloads()[1:]}
    assert sorted(entries) == [path.name for path in published]
    for path in published:
        assert sha256_of(path) == entries[path.name].sha256
        assert entries[path.name].urls[0].endswith(f"/boundaries/{path.name}")


def test_the_boundaries_download_over_http_are_checked_and_load(fixtures, http_server, tmp_path):
    served, base = http_server
    for path in fixtures.glob("interfacegan_boundaries/*.npy"):
        shutil.copy(path, served / path.name)
    items = [replace(item, urls=(f"{base}/{item.name}",)) for item in interfacegan_downloads(tmp_path)[1:]]
    paths = fetch_all(items)
    assert sorted(path.name for path in paths) == sorted(item.name for item in items)
    boundaries = load_interfacegan_boundaries(paths[0].parent)
    assert sorted(boundaries) == sorted(BOUNDARY_SHA256)
    assert all(abs(float(vector.norm()) - 1) < 1e-6 for vector in boundaries.values())


def test_one_call_tries_every_file_and_names_each_one_that_failed(fixtures, tmp_path):
    tried = []

    def only_boundaries(url: str, target) -> None:
        tried.append(url)
        name = url.rsplit("/", 1)[-1]
        if not name.endswith(".npy"):
            raise OSError("no network here")
        content = (fixtures / "interfacegan_boundaries" / name).read_bytes()
        target.write_bytes(content if "smile" not in name else content[:-8] + b"\0" * 8)   # smile: damaged

    with pytest.raises(DownloadError) as error:
        fetch_interfacegan(tmp_path, getter=only_boundaries)
    assert len(tried) == 1 + len(BOUNDARY_SHA256)
    message = str(error.value)
    assert message.startswith("2 of 16 files could not be fetched")
    assert "pggan_celebahq.pth" in message and "no network here" in message
    assert "pggan_celebahq_smile_boundary.npy" in message and "is not the expected" in message
    folder = tmp_path / "interfacegan_boundaries"
    assert len(list(folder.iterdir())) == len(BOUNDARY_SHA256) - 1     # nothing half-written, smile left out
    assert not (tmp_path / "pggan_celebahq.pth").exists()


def test_offline_one_unreachable_server_ends_the_tries_and_every_file_is_named(tmp_path):
    tried = []

    def no_network(url: str, target) -> None:
        tried.append(url)
        raise urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))

    with pytest.raises(DownloadError) as error:
        fetch_interfacegan(tmp_path, getter=no_network)
    message = str(error.value)
    assert len(tried) == 1                                 # the generator's one URL; the boundaries not tried
    assert message.startswith("16 of 16 files could not be fetched")
    for item in interfacegan_downloads(tmp_path):
        assert item.name in message and str(item.destination) in message
    assert message.count("was not tried (no server could be reached)") == 15


def test_a_closed_port_fails_at_once_as_unreachable(tmp_path):
    with socket.socket() as probe:                          # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    item = replace(interfacegan_downloads(tmp_path)[1], urls=(f"http://127.0.0.1:{port}/x.npy",))
    with pytest.raises(DownloadError) as error:
        fetch_all([item, *interfacegan_downloads(tmp_path)[2:4]])
    assert error.value.unreachable and "3 of 3 files" in str(error.value)
    assert str(error.value).count("was not tried") == 2


def test_the_notebook_the_fetcher_and_the_loader_agree_on_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("FES_WEIGHTS_DIR", str(tmp_path))
    generator, boundaries = interfacegan_paths()
    assert generator == tmp_path.resolve() / "pggan_celebahq.pth" and boundaries.parent == tmp_path.resolve()
    downloads = interfacegan_downloads()
    assert downloads[0].destination == generator and all(d.destination.parent == boundaries for d in downloads[1:])
    with pytest.raises(WeightsError, match=f"{generator} not found"):
        load_interfacegan_pggan()

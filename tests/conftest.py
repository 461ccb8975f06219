"""Shared fixtures: a private cache folder per test session, so tests never touch ~/.cache."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    import os

    os.environ["FES_CACHE"] = str(tmp_path_factory.mktemp("fes-cache"))


@pytest.fixture(autouse=True)
def _full_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests run in full mode (``FES_QUICK`` unset) unless a test sets it: ``make test``
    sets it for the notebooks that run in the same session."""
    monkeypatch.delenv("FES_QUICK", raising=False)


@pytest.fixture(scope="session")
def fixtures():
    """``tests/fixtures``: files of public projects the tests compare against (see its README)."""
    from pathlib import Path

    return Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def http_server(tmp_path_factory):
    """``python -m http.server`` on 127.0.0.1 serving a folder; yields (folder, base url)."""
    import re
    import subprocess
    import sys

    folder = tmp_path_factory.mktemp("served")
    process = subprocess.Popen([sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1"],
                               cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        port = re.search(r"port (\d+)", process.stdout.readline()).group(1)
        yield folder, f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The notebook runs on CelebA's layout first: the longest file, which one worker runs
    in order while the other workers share the rest (``make tests``)."""
    items.sort(key=lambda item: item.get_closest_marker("celeba_notebooks") is None)

"""Shared fixtures: a private cache folder per test session, so tests never touch ~/.cache."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    import os

    os.environ["FES_CACHE"] = str(tmp_path_factory.mktemp("fes-cache"))


@pytest.fixture(scope="session")
def shared_fixtures():
    """``../shared/fixtures`` beside the clone (as in CI); skipped only outside CI."""
    import os
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
    if not path.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: CI must run with ../shared beside the clone")
        pytest.skip(f"{path} not present (clone beside the shared folder to run this test)")
    return path

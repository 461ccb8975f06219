"""Shared fixtures: a private cache folder per test session, so tests never touch ~/.cache."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    import os

    os.environ["FES_CACHE"] = str(tmp_path_factory.mktemp("fes-cache"))

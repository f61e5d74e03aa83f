from __future__ import annotations

import pytest

from .helpers import World


@pytest.fixture
def world() -> World:
    return World()

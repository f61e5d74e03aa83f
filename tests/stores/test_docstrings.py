"""The runnable examples in the store package's docstrings stay true."""

from __future__ import annotations

import doctest

import pytest

import glance_store_plugins.base
import glance_store_plugins.registry


@pytest.mark.parametrize("module", [glance_store_plugins.base, glance_store_plugins.registry])
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0

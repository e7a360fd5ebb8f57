"""torch is optional for the test suite: a test that needs it is skipped, with the reason, where it is missing.

Test modules take ``torch`` from tests/torch_reference.py (imported on first use), so they are collected
without it. The engine imports torch lazily too (gdviz.regression), so a test reaches it only while it
runs; the hooks below turn that ``ModuleNotFoundError`` into a skip instead of a failure.
"""

from __future__ import annotations

import pytest

from tests.torch_reference import SKIP_REASON


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    try:
        return (yield)
    except ModuleNotFoundError as error:
        if error.name != "torch":
            raise
        pytest.skip(SKIP_REASON)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    try:
        return (yield)
    except ModuleNotFoundError as error:
        if error.name != "torch":
            raise
        pytest.skip(SKIP_REASON)

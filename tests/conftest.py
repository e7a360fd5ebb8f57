"""torch is optional for the test suite: a test that needs it is skipped, with the reason, where it is missing.

Test modules take ``torch`` from tests/torch_reference.py (imported on first use), so they are collected
without it. The engine imports torch lazily too (gdviz.regression), so a test reaches it only while it
runs: the hooks below turn that ``ModuleNotFoundError`` into a skip instead of a failure, whether the test
raised it or a page it drove in AppTest did (Streamlit logs a page's exception, and shows the visitor a
redacted message, so the page's own error is read from the log).
"""

from __future__ import annotations

import logging
import os

import pytest

from tests.torch_reference import SKIP_REASON


def _torch_missing(error: BaseException | None) -> bool:
    return isinstance(error, ModuleNotFoundError) and error.name == "torch"


class _PageErrors(logging.Handler):
    """Remembers whether a page run in AppTest failed for want of torch."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.torch_missing = False

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and _torch_missing(record.exc_info[1]):
            self.torch_missing = True


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    try:
        return (yield)
    except ModuleNotFoundError as error:
        if not _torch_missing(error):
            raise
        pytest.skip(SKIP_REASON)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    page_errors = _PageErrors()
    streamlit_errors = logging.getLogger("streamlit.error_util")  # where a page's uncaught exception goes
    streamlit_errors.addHandler(page_errors)
    try:
        return (yield)
    except Exception as error:
        if not (_torch_missing(error) or page_errors.torch_missing):
            raise
        pytest.skip(SKIP_REASON)
    finally:
        streamlit_errors.removeHandler(page_errors)


@pytest.fixture(scope="session")
def nginx_binary() -> str:
    """Debian's nginx for the proxy and replica tests: .ci/run installs it, so under CI a missing one fails."""
    from tests.app_server import nginx_path

    path = nginx_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is missing: .ci/run installs it (apt-get install nginx-light)")
        pytest.skip("nginx is not installed")
    return path

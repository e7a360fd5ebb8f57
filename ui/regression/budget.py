"""What one run of the Linear Regression page may cost the server (issue 17): one CPU allowance per page run,
shared by the closed form, the training and the GD / SGD / minibatch comparison, on one core.

:class:`PageBudget` is made when a run of the page starts computing. Each computation plans its work from
its own estimate (:mod:`gdviz.regression.cost`, the same for the same link on any machine) and is stopped
by a :class:`ui.work.Budget` of at most what is left of the page's allowance, so the runs' deadlines add
up to the page's, not to one per run. The page remembers what it cut (``cut``) and says so.

The Budget counts this thread's CPU (and, for work it moved to a worker process, the worker's: ui/workers.py),
so the work must run on one thread: torch does
(:func:`ui.regression.compute.one_visitor_one_core`), and :func:`numpy_on_one_thread` keeps NumPy's
OpenBLAS there too while the page trains: the engine's Newton step solves its (d+1)² system with NumPy, and
OpenBLAS's threads, spinning while they wait for work, cost the server's other core as much again, unseen
by the Budget (Newton, d = 200, on the project's busy 2-core machine: 1.9-3.4 s of CPU instead of 0.65 s).
"""

from __future__ import annotations

import ctypes
import functools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ui import limits

if TYPE_CHECKING:  # ui.work imports Streamlit, which the BLAS helpers below need not: benchmarks/network.py uses
    from ui.work import Budget  # them on a GPU machine that has torch and NumPy but no Streamlit


class PageBudget:
    """The CPU seconds (this thread) one run of the page may still spend: ``seconds`` from when it was made.

    ``budget(most)`` is the deadline of one computation: ``most`` seconds, or what is left of the page's,
    whichever is less. ``cut`` maps the computations a deadline stopped ("training", "comparison") to True
    where that deadline was what was left of the page's allowance, False where it was the computation's own.
    """

    def __init__(self, seconds: float | None = None):
        self.seconds = float(limits.REGRESSION_MAX_PAGE_SECONDS if seconds is None else seconds)
        self.started = time.thread_time()
        self.cut: dict[str, bool] = {}
        self._issued: list[Budget] = []

    def left(self) -> float:
        # this thread's CPU, and what worker processes computed on the budgets it gave (ui/workers.py)
        elsewhere = sum(budget.elsewhere for budget in self._issued)
        return self.seconds - (time.thread_time() - self.started) - elsewhere

    def budget(self, most: float) -> Budget:
        from ui.work import Budget

        return self.track(Budget(max(min(most, self.left()), 0.0)))

    def track(self, budget: Budget) -> Budget:
        """Count what worker processes compute on ``budget`` against this page's allowance (ui/workers.py)."""
        self._issued.append(budget)
        return budget

    def stopped(self, name: str, deadline: Budget, most: float) -> None:
        """Note that ``deadline`` (``budget(most)``) stopped the computation ``name``."""
        self.cut[name] = deadline.seconds < most


# -- NumPy on one thread ------------------------------------------------------------------------------------
_lock = threading.Lock()
_users = 0
_saved_blas: int | None = None
# OpenBLAS's setter and getter as NumPy's wheels name them (scipy-openblas, 64-bit ints) or plain builds do
_BLAS_NAMES = (
    ("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
    ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
    ("openblas_set_num_threads", "openblas_get_num_threads"),
)


# ... and the name of the kernel set it chose for this processor
_CORENAME_NAMES = ("scipy_openblas_get_corename64_", "openblas_get_corename64_", "openblas_get_corename")


def _openblas_libraries() -> list[ctypes.CDLL]:
    """The OpenBLAS libraries NumPy loaded (none where it cannot tell: not Linux, another BLAS)."""
    try:
        import numpy.linalg  # noqa: F401 -- loads NumPy's BLAS

        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
    except OSError:
        return []
    libraries = []
    for path in sorted(paths):
        try:
            libraries.append(ctypes.CDLL(path))
        except OSError:
            continue
    return libraries


def _openblas() -> tuple[Callable[[int], None], Callable[[], int]] | None:
    """The set / get thread-count functions of the OpenBLAS NumPy loaded, or None (not Linux, another BLAS)."""
    for lib in _openblas_libraries():
        for set_name, get_name in _BLAS_NAMES:
            if hasattr(lib, set_name) and hasattr(lib, get_name):
                setter, getter = getattr(lib, set_name), getattr(lib, get_name)
                setter.argtypes, setter.restype = [ctypes.c_int], None
                getter.argtypes, getter.restype = [], ctypes.c_int
                return setter, getter
    return None


def blas_core() -> str | None:
    """The kernel set NumPy's OpenBLAS runs on this processor ("Haswell": AVX2, "SkylakeX": AVX-512, ...), or None
    where it cannot be read. OpenBLAS picks it when it loads, from the processor's identity, and the
    ``OPENBLAS_CORETYPE`` environment variable set before that overrides it."""
    for lib in _openblas_libraries():
        for corename_name in _CORENAME_NAMES:
            if hasattr(lib, corename_name):
                function = getattr(lib, corename_name)
                function.argtypes, function.restype = [], ctypes.c_char_p
                found = function()
                return found.decode("ascii", errors="replace").strip() if found else None
    return None


@functools.lru_cache(maxsize=1)
def _blas() -> tuple[Callable[[int], None], Callable[[], int]] | None:
    return _openblas()  # looked up once, on first use


def blas_threads() -> int | None:
    """OpenBLAS's thread count now (None where it cannot be read)."""
    found = _blas()
    return None if found is None else int(found[1]())


@contextmanager
def numpy_on_one_thread() -> Iterator[None]:
    """NumPy's OpenBLAS on one thread while the block runs, then as it was.

    The count is the process's, so the first of concurrent page runs lowers it and the last one out restores it
    (another page computing meanwhile runs its NumPy on one thread too: slower at worst, never wrong).
    """
    global _users, _saved_blas
    with _lock:
        found = _blas()
        if _users == 0:
            _saved_blas = None if found is None else int(found[1]())
            if found is not None and _saved_blas != 1:
                found[0](1)
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and found is not None and _saved_blas not in (None, 1):
                found[0](_saved_blas)

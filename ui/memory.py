"""The server's memory, bounded by bytes: past a resident-size limit the shared caches are dropped (issue 17).

Each cache is bounded by entries and, by measurement, by the bytes its largest results take
(tests/test_budgets.py), but a server has a dozen of them, plus what sessions hold while they compute: 14
scenarios at the caps kept 1.5 GB resident, and ten attackers' links 2.1 GB. What bounds the process is
its resident size itself: after every script run, if it is over :data:`ui.limits.MEMORY_LIMIT_BYTES`, every
``st.cache_data`` and ``st.cache_resource`` entry is dropped (they only hold results that can be computed
again: races, Lab maps, trainings, built figures, downloads, parsed formulas). NumPy buffers and large
bytes are returned to the system when freed, so the resident size falls back.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import sys
import threading
from collections.abc import Iterator

import streamlit as st

from ui import limits

_LOG = logging.getLogger(__name__)
_CLEARING = threading.Lock()
# what is resident besides the caches (work in progress, the interpreter's own heap) can stay over the limit
# after a clear: the next clear waits until the process has grown by this share of the limit again, so that
# the caches are not dropped at every run (every visitor recomputing) while they hold little
REGROWTH_SHARE = 0.25
_after_last_clear = 0


def resident_bytes() -> int | None:
    """This process's resident memory, or None where the system does not say (Linux's /proc only)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def relieve(limit: int | None = None) -> bool:
    """Drop every shared cache when the process is over ``limit`` bytes (default: the configured limit) and
    has grown by REGROWTH_SHARE of it since the last time. Returns whether it did. One thread clears at a
    time; the others go on."""
    global _after_last_clear
    limit = limits.MEMORY_LIMIT_BYTES if limit is None else limit
    size = resident_bytes()
    if size is None or size <= max(limit, _after_last_clear + REGROWTH_SHARE * limit):
        return False
    if not _CLEARING.acquire(blocking=False):
        return False
    try:
        st.cache_data.clear()
        st.cache_resource.clear()
        # the young generations only: what the caches held is freed by reference counting as they drop it, and a
        # full collection holds the interpreter (every visitor's run waits) 0.27-0.39 s on a loaded server
        # (benchmarks/load.py --attackers 10); older cycles go at the collector's own pace
        gc.collect(1)
        after = _after_last_clear = resident_bytes() or 0
        _LOG.info(
            "resident memory %.0f MB over the %.0f MB limit: caches dropped, now %.0f MB",
            size / 2**20,
            limit / 2**20,
            after / 2**20,
        )
        return True
    finally:
        _CLEARING.release()


# how many modules were loaded when the objects alive were last frozen (gc.freeze): see freeze_the_modules
_modules_when_frozen = 0
_FREEZING = threading.Lock()


def freeze_the_modules() -> bool:
    """Once new modules were imported (the app's, Streamlit's, Plotly's, torch's: a third of a million objects),
    move every object alive into the collector's permanent generation (gc.freeze), after one full collection so
    that no garbage is frozen with them. Returns whether it did.

    Why: Python's collector looks at every object of its oldest generation now and then, holding the interpreter
    while it does, and modules are most of them: on a loaded server those collections took 65-255 ms each, a
    dozen a minute (10 attackers, benchmarks/load.py), and every visitor's page waited for them. Frozen objects
    are not looked at again (nor collected if they become cyclic garbage; reference counting still frees them):
    what is alive when a page first imports its modules, which happens a few times in a server's life."""
    global _modules_when_frozen
    if len(sys.modules) == _modules_when_frozen or not _FREEZING.acquire(blocking=False):
        return False
    try:
        _modules_when_frozen = len(sys.modules)
        gc.collect()
        gc.freeze()
        return True
    finally:
        _FREEZING.release()


@contextlib.contextmanager
def bounded_memory() -> Iterator[None]:
    """Around a script run (app.py): afterwards, however it ended, :func:`relieve`, and
    :func:`freeze_the_modules` if the run imported any."""
    try:
        yield
    finally:
        relieve()
        freeze_the_modules()

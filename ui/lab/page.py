"""What the Landscape Lab's views share: the page's widget keys, the work budget, what a visitor sees while a
view computes, links to the Playground and clicks on a chart."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import streamlit as st

import gdviz
from gdviz.optimizers import optimizer_class
from ui import limits
from ui.playground.scenario import Scenario, auto_labels, to_query
from ui.regression.budget import numpy_on_one_thread
from ui.state import fields as ps
from ui.state.entries import entry
from ui.state.values import Params
from ui.work import affordable_steps

PAGE = "lab"
# Streamlit shows a spinner once its block has run this long (streamlit.elements.spinner.DELAY_SECS): a
# view's computation that ends sooner, a cached one for instance, shows nothing, so a click does not flash
SPINNER_AFTER_SECONDS = 0.5


def key(name: str) -> str:
    """The widget key of the Lab's field ``name``."""
    return ps.widget_key(PAGE, name)


def lab_steps(runs: int, steps: int) -> tuple[int, str | None]:
    """Steps limited so that runs × steps stays within the work budget."""
    cap = max(1, limits.MAX_LAB_RUN_STEPS // max(runs, 1))
    if steps <= cap:
        return steps, None
    return cap, f"{runs} runs × {steps} steps is more work than the server allows; using {cap} steps."


def affordable(steps: int, per_step: float, hint: str) -> tuple[int, str | None]:
    """The steps a view's measured cost affords: ``steps``, or fewer when ``steps`` × ``per_step`` (CPU seconds
    one step of all the view's runs costs, from a probe) is over :data:`ui.limits.LAB_CPU_SECONDS`; and the
    notice that says so, ending in ``hint`` (what this view's visitor can change to afford more)."""
    return affordable_steps(steps, per_step, limits.LAB_CPU_SECONDS, hint)


@contextlib.contextmanager
def computing(text: str) -> Iterator[None]:
    """Around a view's computation: a spinner with ``text`` and the seconds so far, from
    SPINNER_AFTER_SECONDS on (nothing for a computation that ends sooner, e.g. a cached one).

    NumPy's OpenBLAS runs on one thread meanwhile: the Lab's work is elementwise, and after any BLAS call
    (the attractor search's solves, a norm) OpenBLAS's idle threads spin, waiting for more, on the server's
    other core: on the busy 2-core machine the basins view's default link took 2.5-3.5 s instead of 0.8 s,
    its CPU time doubled and unseen by the work budget, which counts this thread's.
    """
    with numpy_on_one_thread(), st.spinner(text, show_time=True):
        yield


def build_optimizer(entry_value: tuple[str, Params], **override) -> Any:
    name, params = entry_value
    return gdviz.optimizer(name, **{**dict(params), **override})


def link(surface_name: str, start, steps: int, optimizers, **more) -> dict[str, str]:
    """The Playground link (query parameters) of a scenario built from (name, params) optimizers."""
    items = []
    for name, params, label in optimizers:
        clean = {k: v for k, v in dict(params).items() if k in {s.name for s in optimizer_class(name).spec}}
        items.append(entry(name, label=label, **clean))
    scenario = Scenario(
        surface=surface_name,
        start=None if start is None else tuple(float(v) for v in start),
        steps=int(min(max(steps, limits.MIN_STEPS), limits.MAX_STEPS)),
        optimizers=tuple(items[: limits.MAX_OPTIMIZERS]),
        **more,
    )
    return to_query(scenario)


def link_label(name: str, params: Params) -> str:
    """The Playground's legend label for one optimizer entry (e.g. "SGD η=0.01, μ=0.9")."""
    return auto_labels((entry(name, **dict(params)),))[0]


def fmt(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def new_click(event: Any, fig: Any, trace_name: str, chart_key: str) -> list | None:
    """The customdata of a point of the trace ``trace_name`` clicked since the last run, or None.

    A chart keeps its selection across reruns; only a change of it is a new click, so that two charts
    on one page do not hand an old click back and forth.
    """
    names = [trace.name for trace in fig.data]
    points = []
    try:
        points = list(event["selection"]["points"])
    except (KeyError, TypeError):
        points = []
    data = None
    for point in points:
        curve = point.get("curve_number")
        if (
            curve is not None
            and curve < len(names)
            and names[curve] == trace_name
            and point.get("customdata") is not None
        ):
            data = list(point["customdata"])
            break
    seen_key = f"{chart_key}__seen"
    if data is None or st.session_state.get(seen_key) == data:
        return None
    st.session_state[seen_key] = data
    return data

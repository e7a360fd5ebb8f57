"""Downloads: trajectories as CSV (long format) and JSON, a figure as a standalone HTML page, and the
race as a PyTorch script (``race.py``, :func:`gdviz.torch_script`) that reproduces its paths.

Every number is written exactly (``repr`` of the float64), so a file read back gives the same
arrays; non-finite values, which the engine never produces but a custom surface might, become
empty CSV cells and JSON ``null``, so that both files stay valid for any reader. Text cells that a
spreadsheet would run as a formula (starting with = + - @, tab or CR) get a leading ``'``.

A download button asks for its bytes at every click; :func:`csv_bytes` and :func:`json_bytes` keep them
per scenario (its cache key), a few at a time (:data:`ui.limits.EXPORT_CACHE_MAX_ENTRIES`), because at
the caps one file takes seconds to write and tens of MB to hold.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

import gdviz
from ui import limits
from ui.figures.style import Runs, runs_of
from ui.state.text import escape_markdown

# a text cell starting with one of these is a formula to a spreadsheet (CSV injection): it gets a leading '
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: float) -> str:
    return repr(float(value)) if math.isfinite(value) else ""


def _text(value: str) -> str:
    """A text cell (a label, a column name) a spreadsheet shows as text: ``'=1+1`` instead of ``=1+1``.

    Numbers are written by :func:`_cell` and keep their sign: only text goes through here.
    """
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _state_columns(runs: list[Runs]) -> list[tuple[str, int]]:
    """(state name, width) of every optimizer state, in first-seen order: one CSV column per entry."""
    seen: dict[str, int] = {}
    for r in runs:
        for name, value in r.states.items():
            seen[name] = max(seen.get(name, 0), value.shape[2])
    return list(seen.items())


def trajectories_csv(trajectories, labels) -> str:
    """Long format, one row per (optimizer, run, step).

    Row ``t`` is the state after torch step ``t`` (``t = 0``: the start): the iterate ``x1..xd``,
    its loss and exact gradient norm, the ``lr`` and gradient ``g1..gd`` that step ``t`` used (empty
    at ``t = 0``), whether the run had diverged by then, and the optimizer's state arrays flattened
    (``exp_avg_1``, ``exp_avg_2``, …; empty for optimizers without that state).
    """
    runs = runs_of(trajectories, labels)
    dim = max((r.xs.shape[2] for r in runs), default=0)
    states = _state_columns(runs)
    header = ["optimizer", "run", "step", *(f"x{k + 1}" for k in range(dim)), "loss", "grad_norm", "lr"]
    header += [f"g{k + 1}" for k in range(dim)] + ["diverged"]
    header += [f"{name}_{k + 1}" for name, width in states for k in range(width)]
    out = io.StringIO()
    # CRLF (RFC 4180): the writer then also quotes a CR inside a label, which with LF it leaves bare (a row break)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_text(name) for name in header])
    for r in runs:
        label = _text(r.label)
        for run in range(r.n_runs):
            for t in range(r.steps + 1):
                row: list[Any] = [label, run, t, *(_cell(v) for v in r.xs[t, run])]
                row += [_cell(r.losses[t, run]), _cell(r.grad_norms[t, run])]
                if t == 0:
                    row += [""] * (1 + dim)
                else:
                    row += [_cell(r.lrs[t - 1, run]), *(_cell(v) for v in r.grads[t - 1, run])]
                row.append(int(0 <= r.diverged[run] <= t))
                for name, width in states:
                    value = r.states.get(name)
                    row += [_cell(v) for v in value[t, run]] if value is not None else [""] * width
                writer.writerow(row)
    return out.getvalue()


def _plain(value: Any) -> Any:
    """JSON-safe: arrays to nested lists, non-finite floats to None, numpy scalars to Python ones."""
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    return str(value)


def trajectories_json(trajectories, labels, scenario: dict | None = None) -> str:
    """The scenario settings and, per optimizer, every array of its trajectory, as strict JSON.

    Arrays keep the engine's shapes: ``xs`` (steps+1, dim) for one run, (steps+1, R, dim) for a batch.
    """
    trajectories = list(trajectories)
    runs = runs_of(trajectories, labels)
    surface = trajectories[0].surface if trajectories else None
    doc: dict[str, Any] = {"format": "gdviz-trajectories", "version": 1, "scenario": _plain(scenario or {})}
    if surface is not None:
        doc["surface"] = {
            "name": surface.name,
            "title": surface.title,
            "dim": surface.dim,
            "f_min": surface.f_min,
            "minima": surface.minima,
            "bounds": surface.bounds,
        }
    doc["optimizers"] = [
        {
            "label": r.label,
            "name": t.optimizer.name,
            "hyper": t.optimizer.hyper,
            "max_grad_norm": t.optimizer.max_grad_norm,
            "schedule": None if t.schedule is None else {"name": t.schedule.name, "params": t.schedule.params},
            "color": r.color,
            "batched": t.batched,
            "steps": r.steps,
            "noise": t.noise,
            "batch_size": t.batch_size,
            "seed": t.seed,
            "diverged_at": t.diverged_at,
            "seconds": t.seconds,
            "xs": t.xs,
            "losses": t.losses,
            "grads": t.grads,
            "lrs": t.lrs,
            "grad_norms": t.grad_norms(),
            "states": t.states,
        }
        for r, t in zip(runs, trajectories)
    ]
    return json.dumps(_plain(doc), allow_nan=False, ensure_ascii=False)


def figure_html(fig: go.Figure) -> str:
    """A standalone HTML page with plotly.js inline, so it opens offline; animations wait for Play."""
    if not isinstance(fig, go.Figure):
        raise ValueError(f"figure_html needs a plotly Figure, got {type(fig).__name__}")
    return fig.to_html(include_plotlyjs=True, full_html=True, auto_play=False, config={"displaylogo": False})


# bytes are immutable, so one cached object may serve every session that asks for the same scenario
@st.cache_resource(max_entries=limits.EXPORT_CACHE_MAX_ENTRIES, show_spinner=False)
def csv_bytes(key: str, _trajectories, _labels) -> bytes:
    """:func:`trajectories_csv` as UTF-8, once per scenario ``key`` (the race's cache key)."""
    return trajectories_csv(_trajectories, _labels).encode()


@st.cache_resource(max_entries=limits.EXPORT_CACHE_MAX_ENTRIES, show_spinner=False)
def json_bytes(key: str, _trajectories, _labels, _scenario: dict | None = None) -> bytes:
    """:func:`trajectories_json` as UTF-8, once per scenario ``key`` (the race's cache key)."""
    return trajectories_json(_trajectories, _labels, scenario=_scenario).encode()


# -- the race as a PyTorch script ------------------------------------------------------------------
def race_script(race) -> str:
    """The Playground's race (``simulate``'s Race) as a standalone PyTorch script; ValueError if it has none.

    The starts are the race's own first iterates and the steps those the race ran (after any budget
    cut), so the script reproduces exactly the paths on screen.
    """
    first = race.trajectories[0]
    scenario = race.scenario
    return gdviz.torch_script(
        race.surface,
        [t.optimizer for t in race.trajectories],
        start=first.xs[0],
        steps=first.steps,
        schedule=[t.schedule for t in race.trajectories],
        noise=scenario.noise,
        seed=scenario.seed,
        batch_size=scenario.batch_size,
        labels=race.labels,
    )


@st.cache_resource(max_entries=limits.EXPORT_CACHE_MAX_ENTRIES, show_spinner=False)
def _script_or_reason(key: str, _race) -> tuple[str | None, str | None]:
    try:
        return race_script(_race), None
    except ValueError as error:
        return None, str(error)


def pytorch_download(race, column=None) -> None:
    """The "Copy as PyTorch" download of ``race.py``, and the same text in an expander (its copy icon copies it).

    A race the script cannot reproduce gets one line saying why (the engine's message, shown literally).
    """
    script, reason = _script_or_reason(race.key, race)
    place = column if column is not None else st
    if script is None:
        place.caption(escape_markdown(f"No PyTorch script for this scenario: {reason}"))
        return
    place.download_button(
        "Copy as PyTorch (race.py)",
        # deferred, as the other downloads are: bytes given here are stored as a media file every rerun and
        # dropped by the next one, and a browser that asked for the dropped one logged a 404
        data=lambda: script.encode(),
        file_name="race.py",
        mime="text/x-python",
        key="pg_dl_torch",
        on_click="ignore",
        help="A standalone script (torch and numpy only): the textbook zero_grad / backward / step loop with "
        "torch.optim, the same gradient noise, and the paths drawn here, printed as JSON.",
    )
    with st.expander("The race as a PyTorch script"):
        st.code(script, language="python")

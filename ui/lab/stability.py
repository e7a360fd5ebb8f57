"""Landscape Lab, stability map: the final loss for every pair of values of two hyper-parameters."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import streamlit as st

import gdviz
from gdviz import landscape
from ui import limits
from ui.figures.maps import stability_figure
from ui.lab.common import CACHE, PLANAR, pick, surface_picker
from ui.lab.page import PAGE, affordable, fmt, key, lab_steps, link, new_click
from ui.screen import show_chart
from ui.state import fields as ps
from ui.state.fields import Choice, Entry, Number, Point
from ui.state.text import escape_markdown
from ui.state.values import Params, bounds
from ui.state.widgets import KEEP
from ui.work import Budget, complete, partial, step_seconds
from ui.workers import offloaded

TITLE = "Stability map"
# what a visitor can change when the measured cost cuts the steps
HINT = "Fewer cells per axis or a cheaper optimizer fit more steps in the budget."
ALL_AXES = tuple(sorted({axis for name in gdviz.OPTIMIZERS for axis in landscape.sweep_axes(name)}))
FIELDS = (
    Choice("st.s", "Surface", pick(PLANAR, "quadratic"), PLANAR),
    Point("st.x0", "Start point", "st.s"),
    Entry("st.o", "Optimizer", "optimizer", "SGD", (("lr", 0.1),)),
    Choice("st.ax", "x axis", "lr", ALL_AXES),
    Number("st.xlo", "x from", 1e-3, -limits.MAX_ABS_FLOAT_PARAM, limits.MAX_ABS_FLOAT_PARAM),
    Number("st.xhi", "x to", 2.0, -limits.MAX_ABS_FLOAT_PARAM, limits.MAX_ABS_FLOAT_PARAM),
    Choice("st.ay", "y axis", "momentum", ALL_AXES),
    Number("st.ylo", "y from", 0.0, -limits.MAX_ABS_FLOAT_PARAM, limits.MAX_ABS_FLOAT_PARAM),
    Number("st.yhi", "y to", 0.99, -limits.MAX_ABS_FLOAT_PARAM, limits.MAX_ABS_FLOAT_PARAM),
    Number("st.n", "Cells per axis", 64, 4, limits.MAX_MAP_GRID, integer=True),
    Number("st.steps", "Steps", 300, 1, limits.MAX_LAB_STEPS, integer=True),
)
FIELD = {f.key: f for f in FIELDS}


def axis_range(optimizer_name: str, axis: str) -> tuple[float, float, bool]:
    """(low, high, log) a sweep axis offers: the widget range of its spec (bounds())."""
    spec = landscape.axis_spec(optimizer_name, axis)
    low, high = bounds(spec)
    if spec.log and low <= 0:
        low = high * 1e-5
    return float(low), float(high), bool(spec.log)


def axis_values(optimizer_name: str, axis: str, low: float, high: float, n: int) -> tuple[np.ndarray, bool, str | None]:
    """``n`` values of an axis from low to high (log-spaced where the spec says so), clamped to what
    the optimizer accepts; and a message when the range had to change."""
    valid_low, valid_high, log = axis_range(optimizer_name, axis)
    message = None
    lo, hi = min(low, high), max(low, high)
    c_lo, c_hi = limits.clamp(lo, valid_low, valid_high), limits.clamp(hi, valid_low, valid_high)
    if (c_lo, c_hi) != (lo, hi) or low > high:
        message = f"{axis}: range [{low:g}, {high:g}] changed to [{c_lo:g}, {c_hi:g}] (what {optimizer_name} accepts)."
    if c_lo == c_hi:
        return np.array([c_lo]), log, message
    values = np.geomspace(c_lo, c_hi, n) if log and c_lo > 0 else np.linspace(c_lo, c_hi, n)
    return values, log and c_lo > 0, message


@st.cache_data(**CACHE)
def stability_rows(
    surface_name: str,
    start: tuple[float, ...] | None,
    optimizer: tuple[str, Params],
    x_axis: tuple[str, tuple[float, ...]],
    y_axis: tuple[str, tuple[float, ...]],
    steps: int,
    _should_stop=None,
) -> landscape.StabilityMap:
    """One block of rows of a stability map (the page stacks the blocks)."""
    return offloaded(_stability, surface_name, start, optimizer, x_axis, y_axis, steps, should_stop=_should_stop)


@st.cache_data(**CACHE)
def stability_step_seconds(
    surface_name: str,
    start: tuple[float, ...] | None,
    optimizer: tuple[str, Params],
    x_axis: tuple[str, tuple[float, ...]],
    y_axis: tuple[str, tuple[float, ...]],
) -> float:
    """CPU seconds one step of the whole map costs here: PROBE_STEPS of it timed once (not cached as a map).

    A map of more than LAB_PROBE_RUNS cells is probed on every k-th row (spread over the whole y range) and
    the cost scaled up by the rows it left out.
    """
    name, values = y_axis
    every = max(1, -(-len(x_axis[1]) * len(values) // limits.LAB_PROBE_RUNS))
    rows = (name, values[::every])
    per_step = step_seconds(lambda n: _stability(surface_name, start, optimizer, x_axis, rows, n), limits.PROBE_STEPS)
    return per_step * len(values) / len(rows[1])


def _stability(surface_name, start, optimizer, x_axis, y_axis, steps, should_stop=None) -> landscape.StabilityMap:
    name, params = optimizer
    fixed = {k: v for k, v in params if k not in (x_axis[0], y_axis[0])}
    m = landscape.stability_map(
        gdviz.surface(surface_name), name, fixed, x_axis, y_axis, start=start, steps=steps, should_stop=should_stop
    )
    return complete(m, m.steps, steps)


def stack_rows(blocks: list[landscape.StabilityMap]) -> landscape.StabilityMap:
    """Blocks of rows (consecutive y values) as one map."""
    first = blocks[0]
    return replace(
        first,
        y_values=np.concatenate([b.y_values for b in blocks]),
        final_loss=np.concatenate([b.final_loss for b in blocks]),
        final_x=np.concatenate([b.final_x for b in blocks]),
        diverged_at=np.concatenate([b.diverged_at for b in blocks]),
        f_ref=min(b.f_ref for b in blocks),
        seconds=sum(b.seconds for b in blocks),
    )


def theory_of_map(
    surface_name: str, optimizer: tuple[str, Params], m: landscape.StabilityMap
) -> tuple[landscape.QuadraticTheory | None, str | None]:
    """The quadratic theory that holds on every cell of the map, or None and the one line that says why not.

    It holds when the surface is a positive definite quadratic, the optimizer is plain heavy ball (torch's
    SGD without dampening, Nesterov, weight decay or maximize) and the map sweeps lr against momentum (or
    against dampening at momentum 0, where dampening changes nothing).
    """
    name, params = optimizer
    axes = (m.x_name, m.y_name)
    if name != "SGD":  # the optimizer first: no choice of axes would help
        return None, landscape.why_not_heavy_ball(name, dict(params))
    if "lr" not in axes or not {"momentum", "dampening"} & set(axes):
        return None, f"the closed forms are drawn over lr against momentum; this map sweeps {axes[0]} and {axes[1]}"
    other = axes[1] if axes[0] == "lr" else axes[0]
    values = m.y_values if m.y_name == other else m.x_values
    hyper = {k: v for k, v in params if k not in axes} | {other: float(np.max(np.abs(values)))}
    reason = landscape.why_not_heavy_ball(name, hyper)
    if reason is not None:
        return None, reason
    try:
        return landscape.quadratic_theory(gdviz.surface(surface_name)), None
    except landscape.NoTheory as error:
        return None, str(error)


def stability_bound(surface_name: str, optimizer: tuple[str, Params], m: landscape.StabilityMap):
    """Heavy ball on a quadratic is stable iff lr < 2(1 + μ)/λmax: that line as (x, y), when it applies."""
    theory, _ = theory_of_map(surface_name, optimizer, m)
    if theory is None:
        return None
    other_values = m.y_values if m.x_name == "lr" else m.x_values
    if "momentum" in (m.x_name, m.y_name):
        other, lr = other_values, theory.lr_bound(other_values)
    else:  # dampening against lr at momentum 0: GD's 2/λmax, a straight line across the map
        other = np.array([other_values[0], other_values[-1]])
        lr = np.full(2, float(theory.lr_bound(0.0)))
    return (lr, other) if m.x_name == "lr" else (other, lr)


def theory_settings(theory: landscape.QuadraticTheory, m: landscape.StabilityMap, picked, clicked: bool):
    """(label, lr, momentum) of the settings whose rates the page compares: the theory's optima (momentum's
    only on a momentum axis) and the picked cell."""
    settings = [("GD optimum", theory.gd_optimal_lr, 0.0)]
    if "momentum" in (m.x_name, m.y_name):
        settings.append(("momentum optimum", theory.momentum_optimal_lr, theory.momentum_optimal_beta))
    if picked is not None:
        hyper = m.setting(*picked)
        settings.append(("clicked cell" if clicked else "best cell", hyper["lr"], float(hyper.get("momentum", 0.0))))
    return settings


@st.cache_data(**CACHE)
def measured_rates(
    surface_name: str, start: tuple[float, ...] | None, settings: tuple[tuple[float, float], ...], steps: int
) -> tuple[float, ...]:
    """The rate each (lr, momentum) measures over ``steps`` steps from ``start``: one batched run."""
    surface = gdviz.surface(surface_name)
    theory = landscape.quadratic_theory(surface)
    lrs, betas = (np.array(column) for column in zip(*settings))
    x0 = surface.default_start if start is None else start
    runs = gdviz.run(
        surface, gdviz.optimizer("SGD", lr=lrs, momentum=betas), np.tile(x0, (len(settings), 1)), steps, record="path"
    )
    return tuple(
        landscape.trajectory_rate(theory, runs.xs[:, i], int(runs.diverged_step[i])) for i in range(len(settings))
    )


def rates_table(theory, m: landscape.StabilityMap, settings, measured) -> list[dict[str, str]]:
    """Predicted against measured rate ‖x_t − x*‖ per step, one row per setting."""
    rows = []
    for (label, lr, beta), rate in zip(settings, measured):
        inside = all(
            values.min() <= value <= values.max()
            for name, values in ((m.x_name, m.x_values), (m.y_name, m.y_values))
            for axis, value in (("lr", lr), ("momentum", beta))
            if name == axis
        )
        rows.append(
            {
                "setting": label + ("" if inside or "cell" in label else " (outside the map)"),
                "lr η": f"{lr:.4g}",
                "momentum μ": f"{beta:.4g}",
                "predicted rate": f"{float(theory.predicted_rate(lr, beta)):.4f}",
                "measured rate": "–" if not np.isfinite(rate) else f"{rate:.4f}",
            }
        )
    return rows


def on_axis_change(field: str, low: str, high: str) -> None:
    """A new axis starts from the range its spec offers."""
    state = st.session_state
    try:
        lo, hi, _ = axis_range(state[key("st.o")], state[key(field)])
    except ValueError:
        return
    state[key(low)], state[key(high)] = lo, hi


def sidebar() -> None:
    state = st.session_state
    surface_picker(PAGE, "st.s", FIELD["st.x0"])
    ps.entry_widgets(PAGE, FIELD["st.o"], hide=(state[key("st.ax")], state[key("st.ay")]))
    axes = landscape.sweep_axes(state[key("st.o")])
    for axis, low, high in (("st.ax", "st.xlo", "st.xhi"), ("st.ay", "st.ylo", "st.yhi")):
        if state[key(axis)] not in axes:
            state[key(axis)] = axes[0] if axis == "st.ax" or len(axes) == 1 else axes[1]
            on_axis_change(axis, low, high)
        st.selectbox(
            FIELD[axis].label, axes, key=key(axis), on_change=on_axis_change, args=(axis, low, high), persist_state=KEEP
        )
        left, right = st.columns(2)
        left.number_input("from", key=key(low), format="%g", persist_state=KEEP)
        right.number_input("to", key=key(high), format="%g", persist_state=KEEP)
    st.slider("cells per axis", 4, limits.MAX_MAP_GRID, key=key("st.n"), persist_state=KEEP)
    st.number_input("steps", 1, limits.MAX_LAB_STEPS, step=50, key=key("st.steps"), persist_state=KEEP)


def view(values: dict[str, Any]) -> None:
    state = st.session_state
    st.markdown(
        "The final loss after a fixed number of steps for every pair of values of two hyper-parameters, "
        "all runs from the same start in one vectorized call (as Distill's *Why Momentum Really Works*). "
        "Dark violet: reached f* (to 1e-16), the colour of low loss on every map; pale yellow: far from it; "
        "red: diverged. **Click a cell** to open that setting in the Playground."
    )
    optimizer, n = values["st.o"], int(values["st.n"])
    messages = []
    x_values, log_x, msg_x = axis_values(optimizer[0], values["st.ax"], values["st.xlo"], values["st.xhi"], n)
    y_values, log_y, msg_y = axis_values(optimizer[0], values["st.ay"], values["st.ylo"], values["st.yhi"], n)
    steps, msg_s = lab_steps(len(x_values) * len(y_values), int(values["st.steps"]))
    messages += [m for m in (msg_x, msg_y, msg_s) if m]
    if values["st.ax"] == values["st.ay"]:
        st.error("Pick two different hyper-parameters for the axes.")
        return
    per_step = 0.0
    if steps > limits.PROBE_STEPS:
        x_axis, y_axis = (values["st.ax"], tuple(x_values.tolist())), (values["st.ay"], tuple(y_values.tolist()))
        try:
            per_step = stability_step_seconds(values["st.s"], values["st.x0"], optimizer, x_axis, y_axis)
        except ValueError:
            per_step = 0.0  # the map itself says what is wrong, below
        steps, msg_cost = affordable(steps, per_step, HINT)
        messages += [msg_cost] if msg_cost else []
    for text in messages:
        st.info(text)
    blocks = np.array_split(np.arange(len(y_values)), min(8, len(y_values)))
    bar = st.progress(0.0, text="Computing the stability map …")
    parts, stopped = [], []
    budget = Budget(limits.LAB_SECONDS, expected=per_step * steps)
    try:
        for i, rows in enumerate(blocks):
            block = partial(
                lambda rows=rows: stability_rows(
                    values["st.s"],
                    values["st.x0"],
                    optimizer,
                    (values["st.ax"], tuple(x_values.tolist())),
                    (values["st.ay"], tuple(y_values[rows].tolist())),
                    steps,
                    budget,
                ),
                stopped,
                budget.seconds,
            )
            if stopped and parts:
                # rows after fewer steps would not compare with the finished ones: show the finished rows only
                stopped[:] = [
                    f"Stopped after {rows[0]} of {len(y_values)} rows (time budget: {budget.seconds:g} s of server CPU "
                    "time per chart); the map shows those rows. Fewer cells or steps fit in the budget."
                ]
                break
            parts.append(block)
            if stopped:
                break
            bar.progress(
                (i + 1) / len(blocks), text=f"Computing the stability map … {rows[-1] + 1}/{len(y_values)} rows"
            )
    except ValueError as error:
        bar.empty()
        st.error(escape_markdown(str(error)))
        return
    bar.empty()
    for text in stopped:
        st.warning(text)
    m = stack_rows(parts)
    y_values, steps = m.y_values, m.steps
    bound = stability_bound(values["st.s"], optimizer, m)
    theory, no_theory = theory_of_map(values["st.s"], optimizer, m)
    # a click belongs to the map it was made on: another grid forgets it
    signature = (values["st.s"], optimizer, m.x_name, m.y_name, tuple(x_values), tuple(y_values), steps)
    remembered = state.get("lab_cell")
    clicked_cell = remembered[1] if remembered and remembered[0] == signature else None
    picked = clicked_cell or m.best()
    settings = theory_settings(theory, m, picked, clicked_cell is not None) if theory is not None else []
    optima = [
        (lr, beta, label) if m.x_name == "lr" else (beta, lr, label)
        for label, lr, beta in settings
        if "optimum" in label and {m.x_name, m.y_name} == {"lr", "momentum"}
    ]
    fig = stability_figure(m, log_x, log_y, selected=picked, bound=bound, optima=optima)
    event = show_chart(fig, key="lab_stability_chart", on_select="rerun", selection_mode="points")
    clicked = new_click(event, fig, "cells", "lab_stability_chart")
    if clicked is not None:
        state["lab_cell"] = (signature, (int(clicked[0]), int(clicked[1])))
        st.rerun()
    st.caption(
        f"{m.final_loss.size} runs × {steps} steps in {m.seconds:.2f} s of engine time. "
        f"{int(m.diverged.sum())} diverged; {int(m.stable.sum())} ended below their start loss "
        f"({fmt(m.start_loss)})."
        + (" The dashed line is the analytic bound lr = 2(1 + μ)/λmax for this quadratic." if bound else "")
    )
    if picked is not None:
        row, col = picked
        setting = m.setting(row, col)
        outcome = (
            f"diverged at step {m.diverged_at[row, col]}"
            if m.diverged[row, col]
            else f"final f = {fmt(float(m.final_loss[row, col]))}"
        )
        st.markdown(
            f"**{'Clicked cell' if clicked_cell else 'Best cell (click another)'}**: "
            f"{m.x_name} = {m.x_values[col]:.4g}, {m.y_name} = {m.y_values[row]:.4g} → {outcome}"
        )
        query = link(values["st.s"], m.start, steps, [(optimizer[0], setting.items(), "")])
        ps.playground_link(query, "Open this cell in the Playground")
    if theory is not None:
        theory_section(values, theory, m, settings)
    else:
        st.caption(escape_markdown(f"No analytic overlay: {no_theory}."))


def theory_section(values: dict[str, Any], theory, m: landscape.StabilityMap, settings) -> None:
    """What Goh's closed forms say about this map, and the rates they predict against the measured ones."""
    lam = f"λ = {theory.lambda_min:.4g} … {theory.lambda_max:.4g}, κ = {theory.condition_number:.4g}"
    st.markdown(
        f"**Theory** (Goh, *Why Momentum Really Works*, Distill 2017): on this quadratic ({lam}) heavy ball "
        "converges iff 0 < η λ < 2(1 + μ) for every eigenvalue λ; GD is best at η = 2/(λmin + λmax) with rate "
        "(κ − 1)/(κ + 1), momentum at η* = (2/(√λmin + √λmax))², μ* = ((√κ − 1)/(√κ + 1))² with rate √μ*. "
        "The rate is the factor by which ‖x − x*‖ shrinks per step: predicted as the largest spectral radius of "
        "the 2×2 iteration per eigenvalue, measured over the second half of a run of the map's steps (where it "
        "is still above rounding)."
    )
    pairs = tuple((float(lr), float(beta)) for _, lr, beta in settings)
    measured = measured_rates(values["st.s"], values["st.x0"], pairs, m.steps)
    st.dataframe(rates_table(theory, m, settings, measured), hide_index=True)
    st.caption(
        "At momentum's optimum both ends of the spectrum sit on a double root, where the error falls like t·ρᵗ: "
        "a rate measured over a finite run reads a little above ρ."
    )

"""The Linear Regression page's sections, top to bottom: the header, the data, the training, the
summary and the four tabs (fit, loss landscape, GD vs SGD vs minibatch, closed form).

A section draws with Streamlit; the numbers come from :mod:`ui.regression.compute` (cached), the
figures from :mod:`ui.figures.regression` and the tables from :mod:`ui.regression.text`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from gdviz import regression as reg
from gdviz.regression.cost import lstsq_seconds
from ui import limits
from ui.figures import regression as figures
from ui.regression import compute
from ui.regression.budget import PageBudget
from ui.regression.fields import D2L_PRESET, FIELDS, NOTES_PRESET, PAGE, UPLOAD, apply_preset, choice, key, number
from ui.regression.text import claim_lines, closed_table, comparison_table, fmt, fmt_seconds
from ui.screen import show_chart, wrapped_columns_css
from ui.state import fields as ps
from ui.state.notices import show as show_notices
from ui.state.text import clean_label, escape_markdown, visible
from ui.state.widgets import KEEP, settle

ERRORS = (reg.UnavailableDevice, reg.DeviceMemoryError, ValueError)
# a final loss within this relative gap of the closed form's is shown as agreement: converged float32 training
# ends about 1e-7 above the float64 least-squares minimum (rounding), so a smaller gap is no sign of anything
AGREEMENT = 1e-6
# The run's five numbers: five in a row where the row has room (a laptop's ~1000 px: 200 each), three to a row in
# a narrower one (a projector's zoom leaves ~520 px beside the sidebar: five were cut to "3.3…", two to a row took
# three rows, ~270 of its 480 px), two to a row on a phone (~340 px). Decided by the row's own width (a container
# query): the window's says nothing of the sidebar beside it.
METRICS_ROW = '.st-key-rg_metrics [data-testid="stHorizontalBlock"]'
METRICS_PER_ROW = ((800, 3), (480, 2))  # (the row at most this many CSS px wide, metrics in a row)
METRICS_CSS = (
    "<style>\n.st-key-rg_metrics { container-type: inline-size; }\n"
    + "".join(
        f"@container (max-width: {width}px) {{\n"
        f"{wrapped_columns_css(METRICS_ROW, f'calc({100 / per_row:.4g}% - 1rem)', grow=0)}}}\n"
        for width, per_row in METRICS_PER_ROW
    )
    + "</style>"
)


@dataclass(frozen=True)
class Data:
    """The page's data: its arrays, or only the synthetic data's recipe (see :meth:`kept`)."""

    source: compute.Arrays | tuple  # X, y (and the recipe of synthetic data), or compute.synthetic's arguments
    names: tuple[str, str]  # the first feature's and the target's
    key: str  # describes the data for the caches

    @property
    def recipe(self) -> tuple | None:
        return self.source if isinstance(self.source, tuple) else self.source.recipe

    @property
    def arrays(self) -> compute.Arrays:
        if isinstance(self.source, compute.Arrays):
            return self.source
        return compute.synthetic_arrays(self.source)  # the shared cache's, or made again

    @property
    def X(self) -> np.ndarray:
        return self.arrays.X

    @property
    def y(self) -> np.ndarray:
        return self.arrays.y

    def kept(self) -> Data:
        """This data as a session may keep it: synthetic data as its recipe, its arrays fetched from the shared
        cache (or made again) when they are used. What a session keeps (a fragment's arguments, for a rerun of
        the fragment alone; a button's callback arguments) stays two minutes after its tab closed: with the
        synthetic arrays there (48 MB at the caps), ten visitors sending the regression page's heaviest links
        kept 3.8 GB in the server (benchmarks/load.py --attackers). An upload's arrays are kept (a few MB)."""
        return self if self.recipe is None else replace(self, source=self.recipe)


@dataclass(frozen=True)
class Run:
    """The page's values, its data, the closed form and the trained model; the page run's CPU allowance and
    the comparisons measured in it (see :func:`measure`)."""

    values: dict[str, Any]
    data: Data
    batch: int | None
    settings: dict[str, Any]
    closed: reg.ClosedForm
    result: reg.TrainResult
    page: PageBudget = field(default_factory=PageBudget)
    measured: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def n(self) -> int:
        return self.data.X.shape[0]

    @property
    def d(self) -> int:
        return self.data.X.shape[1]

    @property
    def name(self) -> str:
        return self.values["opt"][0]

    @property
    def label(self) -> str:
        """What legends and tables call this run: torch.optim.SGD over the whole data is the notes' GD, one
        sample at a time their SGD; other optimizers say how much data each of their updates sees."""
        mode, name = self.values["mode"], self.name
        if name == "SGD":
            return {"GD": "GD (full batch)", "SGD": "SGD (b = 1)"}.get(mode, f"minibatch SGD (b = {self.batch})")
        return f"{name} ({ {'GD': 'full batch', 'SGD': 'b = 1'}.get(mode, f'b = {self.batch}') })"

    @property
    def lr(self) -> float:
        return dict(self.values["opt"][1]).get("lr", 1.0)

    @property
    def standardize(self) -> bool:
        return self.values["std"] == "standardized"


def suggest_lr(data: Data, batch: int | None) -> None:
    """The button's callback; ``data`` as its session keeps it (:meth:`Data.kept`)."""
    state = st.session_state
    lr = reg.suggested_lr(data.X, batch, standardize=state[key("std")] == "standardized")
    state[f"{key('opt')}_{state[key('opt')]}_lr"] = lr


# ----- header ------------------------------------------------------------------------------------------------
def header(notices: list[str]) -> None:
    st.title("Linear regression: GD, SGD, minibatches")
    st.markdown(
        "The example of the notes on gradient descent, run for real: `nn.Linear(d, 1)`, MSE loss, any optimizer and schedule of the "
        "Playground as `torch.optim` / `lr_scheduler`, on the CPU or a GPU, against the exact closed-form "
        "least-squares fit."
    )
    left, right = st.columns(2)
    left.button(
        "Reproduce the notes' experiment",
        key=f"{PAGE}_notes_preset",
        on_click=apply_preset,
        args=(NOTES_PRESET,),
        type="primary",
        help="N = 100, x ~ 10·N(0, 1), y = 2x + 1 + N(0, 2²), nn.Linear(1, 1), SGD lr 0.001, full batch, 10 epochs",
    )
    right.button(
        "d2l 12.5: GD vs SGD vs minibatch",
        key=f"{PAGE}_d2l_preset",
        on_click=apply_preset,
        args=(D2L_PRESET,),
        help="1500 samples, 5 standardized features (the size of d2l's airfoil data), lr 0.5, then the comparison",
    )
    show_notices(notices)


# ----- data ----------------------------------------------------------------------------------------------------
def data(values: dict[str, Any]) -> Data:
    """The synthetic data or the uploaded table's chosen columns; stops the page when there is none."""
    if values["src"] == "synthetic":
        if values["n"] * values["d"] > limits.REGRESSION_MAX_VALUES:
            st.error(
                f"N·d = {values['n'] * values['d']:,} values is more than this server's "
                f"{limits.REGRESSION_MAX_VALUES:,}: lower N or d."
            )
            st.stop()
        recipe = tuple(values[k] for k in ("n", "d", "w", "b", "noise", "xs", "seed"))
        return Data(compute.synthetic_arrays(recipe), ("x", "y"), repr(("synthetic", *recipe)))
    return _uploaded()


def _uploaded() -> Data:
    state = st.session_state
    upload = state.get(UPLOAD)
    if upload is None:
        st.info("Upload a CSV in the sidebar: a header line, numeric columns; then pick the target and the features.")
        st.stop()
    file_name, raw = upload
    try:
        table = compute.parsed(raw)
    except reg.CSVError as error:
        st.error(f"**{escape_markdown(file_name)}** cannot be used: {escape_markdown(error)}")
        st.stop()
    numeric = table.numeric_columns()
    skipped = [c for c in table.columns if c not in numeric]
    st.caption(
        f"**{escape_markdown(file_name)}**: {table.rows:,} rows, {len(table.columns)} columns"
        + (f"; not numeric (cannot be chosen): {escape_markdown(', '.join(skipped))}" if skipped else "")
    )
    if len(numeric) < 2:
        st.error("The file needs at least two numeric columns: a target and a feature.")
        st.stop()
    cols = st.columns([1, 2, 1])
    if state.get(f"{PAGE}_target") not in numeric:
        state[f"{PAGE}_target"] = numeric[-1]
    target = cols[0].selectbox("target y", numeric, key=f"{PAGE}_target", format_func=visible)
    candidates = [c for c in numeric if c != target]
    chosen = [c for c in state.get(f"{PAGE}_features", candidates[:1]) if c in candidates] or candidates[:1]
    settle(state, f"{PAGE}_features", chosen)
    features = cols[1].multiselect(
        "features x", candidates, key=f"{PAGE}_features", max_selections=limits.MAX_FEATURES, format_func=visible
    )
    missing = cols[2].radio(
        "rows with missing values", ("drop", "refuse"), key=f"{PAGE}_missing", format_func=lambda v: f"{v} them"
    )
    try:
        X, y, data_notes = reg.select_columns(table, target, features, missing)
    except reg.CSVError as error:
        st.error(escape_markdown(error))
        st.stop()
    show_notices(data_notes)
    digest = hashlib.sha256(raw).hexdigest()[:16]
    # the axis titles of the charts: Plotly renders <a href>, <b> … in them, so the names are cleaned
    names = (clean_label(features[0]), clean_label(target))
    return Data(compute.Arrays(X, y), names, repr(("upload", digest, target, tuple(features), missing)))


# ----- training --------------------------------------------------------------------------------------------
def train(values: dict[str, Any], data: Data, suggest_slot: DeltaGenerator) -> Run:
    """The closed form and the trained model (the suggest-a-learning-rate button first, in ``suggest_slot``: the
    sidebar's, under the optimizer's settings); stops on an error.

    The page run's CPU allowance starts here (after torch's one-off warm-up): the closed form, the training and
    the comparison share it."""
    compute.warm_up()
    page = PageBudget()
    n = data.X.shape[0]
    name, hyper = values["opt"]
    sched_name, sched_params = values["sched"]
    batch = {"GD": None, "SGD": 1, "minibatch": values["bs"]}[values["mode"]]
    if batch is not None and batch >= n and values["sampling"] == "shuffle":
        batch = None
    settings = dict(
        optimizer=name,
        batch_size=batch,
        epochs=values["epochs"],
        device=values["device"],
        seed=values["seed"],
        schedule=None if sched_name == ps.CONSTANT else (sched_name, dict(sched_params)),
        schedule_step=values["every"],
        replacement=values["sampling"] == "replacement" and batch is not None,
        standardize=values["std"] == "standardized",
        dtype=values["dtype"],
        init=values["init"],
        max_updates=limits.REGRESSION_MAX_UPDATES,
        **dict(hyper),
    )
    suggest_slot.button(
        "Suggest a learning rate",
        key=f"{PAGE}_suggest",
        on_click=suggest_lr,
        args=(data.kept(), batch),
        disabled=not any(p == "lr" for p, _ in hyper),
        help="One over the loss's largest curvature: η = min(1, b/200) / L, L the largest eigenvalue of the MSE's "
        "Hessian: full-batch GD converges for η < 2/L; smaller batches get proportionally smaller steps (d2l 12.5's "
        "choices). For SGD-like optimizers.",
    )
    closed = compute.closed_form(data.key, data.arrays, page)
    try:
        result = compute.trained(data.key, compute.frozen(settings), data.arrays, page)
    except ERRORS as error:
        st.error(escape_markdown(error))
        st.stop()
    return Run(values, data, batch, settings, closed, result, page)


def measure(run: Run, here: dict[str, Any]) -> tuple[list[reg.ComparisonRow] | None, str | None, str | None]:
    """The GD / SGD / minibatch comparison for ``here``'s values (cached): (rows, None, the notice of what the
    time budget left out, or None), or (None, the error, None).

    Measured once per run of the page, within what is left of its CPU allowance: the fragment that draws it
    asks again for the same values and gets the same rows, a cut comparison too (which is not cached, so it
    was computed twice). A rerun of the fragment alone (its own widgets) measures within an allowance of its own.
    """
    modes = reg.default_modes(run.n, run.batch, run.lr, scaled=here["cmp_lr"] == "scaled", gd_epochs=here["gd_epochs"])
    dropped = ("batch_size", "epochs", "max_updates", "schedule", "schedule_step", "lr")
    kept = {k: v for k, v in run.settings.items() if k not in dropped}
    kept |= dict(epochs=here["cmp_epochs"], max_updates=limits.REGRESSION_COMPARE_MAX_UPDATES)
    memo = (compute.frozen(kept), tuple(modes))
    if memo in run.measured:
        return run.measured[memo]
    page = run.page if not run.measured else PageBudget()
    for older in list(run.measured)[1:]:  # the page's own and the fragment's latest are kept
        del run.measured[older]
    try:
        rows = compute.compared(run.data.key, memo[0], memo[1], run.data.arrays, page)
        run.measured[memo] = (rows, None, comparison_notice(rows, modes, page))
    except ERRORS as error:
        run.measured[memo] = (None, str(error), None)
    return run.measured[memo]


def comparison_notice(rows: list[reg.ComparisonRow], modes: list[reg.Mode], page: PageBudget) -> str | None:
    """What the page's time budget left out of the comparison (modes not run, the mode cut short), or None."""
    parts = [f"{mode.label} (not run)" for mode in modes[len(rows) :]]
    last = rows[-1] if rows else None
    if "comparison" in page.cut and last is not None and not last.result.complete and not last.diverged:
        updates = last.result.updates
        parts.insert(0, f"{last.mode.label} (stopped after {updates:,} update{'s' if updates != 1 else ''})")
    if not parts:
        return None
    shared = (
        f" The page's {page.seconds:g} s of server CPU are shared by the closed form, the training and the "
        "comparison, and the training left too little."
        if page.cut.get("comparison")
        else ""
    )
    return (
        f"Not measured within this server's time budget for the comparison: {', '.join(parts)}.{shared} "
        "Fewer samples or epochs fit them all in it."
    )


# ----- summary -----------------------------------------------------------------------------------------------
def summary(run: Run) -> None:
    result, closed, d = run.result, run.closed, run.d
    if result.diverged_at is not None:
        st.error(
            f"Training diverged in epoch {result.diverged_at}: the loss overflowed. Lower the learning rate "
            "(or standardize the features) — the numbers below are from the last finite epoch."
        )
    elif run.page.cut.get("training"):  # what the closed form left of the page's allowance was too little
        st.warning(
            f"Stopped after {result.updates:,} updates ({result.samples / run.n:.3g} of {run.values['epochs']} "
            f"epochs): this page's time budget of {run.page.seconds:g} s of server CPU, for the closed form, the "
            "training and the comparison together, ran out. Fewer samples, features or epochs, bigger batches or "
            "a cheaper optimizer than Newton fit in it.",
            icon=":material/timer:",
        )
    elif not result.complete:
        st.warning(
            f"Stopped after {result.updates:,} updates, this server's time budget per run "
            f"({result.samples / run.n:.3g} of {run.values['epochs']} epochs): fewer samples, features or epochs, "
            "bigger batches or a cheaper optimizer than Newton fit in it.",
            icon=":material/timer:",
        )
    # as many in a row as the row has room for (METRICS_CSS)
    st.html(METRICS_CSS)
    metrics = st.container(key="rg_metrics").columns(5)
    if d == 1:
        metrics[0].metric("trained w", fmt(result.weight[0], 4), help=f"closed form: {fmt(closed.weight[0], 4)}")
    else:
        # a metric shows one number: "2.003, 2.011, 1.979" was cut to "2.003, 2.0…" even on a laptop
        shown_w, closed_w = (
            ", ".join(fmt(v, 4) for v in w[:3]) + (", …" if d > 3 else "") for w in (result.weight, closed.weight)
        )
        metrics[0].metric(
            f"trained w₁ (of {d})",
            fmt(result.weight[0], 4),
            help=f"w = ({shown_w}); closed form: ({closed_w}). The Closed form tab lists the first five weights.",
        )
    metrics[1].metric("trained b", fmt(result.bias, 4), help=f"closed form: {fmt(closed.bias, 6)}")
    gap = result.final_loss - closed.loss
    agrees = abs(gap) <= AGREEMENT * max(closed.loss, 1e-12)
    metrics[2].metric(
        "final loss",
        fmt(result.final_loss, 5),
        # a fit within float rounding of the minimum is agreement, not an alarm; only a real gap is coloured
        delta=f"= closed form ({gap:+.1g})" if agrees else f"{gap:+.3g} vs closed form",
        delta_color="off" if agrees else "inverse",
        delta_arrow="off" if agrees else "auto",
        help=f"closed form's loss: {fmt(closed.loss, 8)}; within {AGREEMENT:g} of it (relative) reads as agreement",
    )
    metrics[3].metric("distance to closed form", fmt(closed.distance(result.weight, result.bias), 3))
    metrics[4].metric(
        "training time",
        fmt_seconds(result.seconds),
        help=f"{result.updates:,} updates on {result.device} ({result.dtype}), "
        f"{fmt_seconds(result.seconds_per_update)} each; data to device: {fmt_seconds(result.transfer_seconds)}",
    )


# ----- the tabs ------------------------------------------------------------------------------------------------
def fit_section(run: Run) -> None:
    X, y, names = run.data.X, run.data.y, run.data.names
    result, closed, d = run.result, run.closed, run.d
    if d == 1:
        lines = compute.to_original(result.params, result.mean, result.std)
        show_chart(
            figures.fit_figure(
                X[:, 0], y, lines, (float(closed.weight[0]), closed.bias), x_name=names[0], y_name=names[1]
            ),
            key=f"{PAGE}_fit",
        )
        st.caption("Press ▶ to watch the line move, one frame per epoch; the dashed line is the least-squares fit.")
    else:
        # predicted for the points drawn only: at 2M x 5 predicting every sample took 0.13 s of the server's
        # interpreter, for a chart that shows REGRESSION_MAX_PLOT_POINTS of them
        shown = figures.subsample(y.size, limits.REGRESSION_MAX_PLOT_POINTS)
        show_chart(figures.parity_figure(y[shown], result.predict(X[shown])), key=f"{PAGE}_parity")
        st.caption(f"With d = {d} features there is no line to draw: each point is a sample, predicted against actual.")
    series = [figures.curve_series(run.label, result)]
    show_chart(figures.loss_figure(series, "epochs", closed.loss), key=f"{PAGE}_loss")


def landscape_section(run: Run) -> None:
    if run.d != 1:
        st.info(f"The (w, b) landscape is a picture for one feature; this data has d = {run.d}.")
        return
    standardize, result, closed = run.standardize, run.result, run.closed
    moments = compute.landscape_moments(run.data.key, standardize, run.data.arrays)
    axes = ("w′ (standardized x)", "b′") if standardize else ("w", "b")
    figure = figures.landscape_figure(
        moments, result.trace[:, :2], result.to_training(closed.weight, closed.bias), label=run.label, axis_names=axes
    )
    show_chart(figure, key=f"{PAGE}_landscape")
    st.caption(
        "The MSE of nn.Linear(1, 1) over its two parameters — the Playground's picture for a real model. "
        + (
            "Raw features stretch it into a ravine (curvature ∝ mean x² along w, 1 along b): GD zig-zags or "
            "crawls; standardizing makes it round."
            if not standardize
            else "Standardized features make it nearly round: one learning rate suits both directions."
        )
    )


def comparison_section(run: Run) -> None:
    st.markdown(
        "The GD / SGD / minibatch table of the notes on gradient descent, measured on this device instead of "
        f"described: every mode trains {run.name} from the same initial parameters on the same data and device. "
        f"Learning rates: GD uses η = {run.lr:g}; smaller batches need smaller steps. "
        f"At most {limits.REGRESSION_COMPARE_MAX_UPDATES:,} updates per mode (SGD on a large N is cut short "
        "and its time per epoch estimated)."
    )
    _comparison(replace(run, data=run.data.kept()))  # (the fragment's arguments stay with the session)


@st.fragment
def _comparison(run: Run) -> None:
    cols = st.columns(3)
    with cols[0]:
        choice("cmp_lr", {"scaled": "scaled η·b/200 (d2l)", "same": "the same η"})
    with cols[1]:
        number("cmp_epochs")
    with cols[2]:
        number("gd_epochs")
    here, _ = ps.publish(PAGE, FIELDS)
    rows, error, notice = measure(run, here)
    if rows is None:
        st.error(escape_markdown(error))
        return
    if notice:
        st.warning(notice, icon=":material/timer:")
    st.table(comparison_table(rows))
    axis = st.radio(
        "loss against",
        list(figures.AXES),
        format_func=figures.AXES.get,
        horizontal=True,
        index=2,
        key=f"{PAGE}_axis",
        persist_state=KEEP,
    )
    series = [figures.curve_series(row.mode.label, row.result) for row in rows]
    show_chart(figures.loss_figure(series, axis, run.closed.loss), key=f"{PAGE}_compare_loss")
    st.caption(
        "Wall time is measured, not modelled: training time only (loss evaluations excluded), on this server, "
        "shared with other work. A flat step in a curve is the clock running while the process waited for a CPU."
    )
    target, claims = reg.d2l_claims(rows)
    st.markdown(f"**d2l 12.5, checked on {rows[0].result.device}** (time and samples to reach loss {target:.5g}):")
    for line in claim_lines(claims):
        st.markdown(f"- {line}")
    if any(c.holds is False for c in claims):
        st.info(
            "Where a claim fails here, the device decides: d2l's timings come from a machine where one update has a "
            "large fixed cost, so fewer, bigger updates win. On a CPU with tiny models the fixed cost per update "
            "(Python, kernel launches) dominates differently, and a GPU shifts it again."
        )
    diverged = [row.mode.label for row in rows if row.diverged]
    if diverged:
        st.warning(f"Diverged: {', '.join(diverged)}. Lower the learning rate or standardize the features.")


def closed_form_section(run: Run) -> None:
    closed, result = run.closed, run.result
    st.latex(r"\min_{w,b}\ \tfrac1n\lVert Xw + b - y\rVert^2:\quad [X\,1]^\top[X\,1]\,\theta = [X\,1]^\top y")
    st.table(closed_table(closed, result, f"{run.label}, {result.epochs_done} epochs"))
    if closed.lstsq_skipped:
        st.info(
            f"lstsq was not run: on {run.n:,} × {run.d} values it costs about "
            f"{lstsq_seconds(run.n, run.d):.1g} s of server CPU (QR / SVD: O(n d²) with a large constant), more "
            f"than this server's {limits.REGRESSION_MAX_LSTSQ_SECONDS:g} s for it. The reference is the "
            f"{closed.method}'s solution (fewer samples or features bring lstsq back).",
            icon=":material/timer:",
        )
    if closed.normal_error:
        fallback = "the pseudo-inverse of XᵀX" if closed.lstsq_skipped else "lstsq (SVD)"
        st.warning(f"Normal equation: {closed.normal_error}. {fallback} still gives the minimum-norm solution.")
    st.caption(
        f"Computed in float64 on {closed.device}. Both are exact, and for small d instant; but forming and "
        "solving XᵀX costs O(n d² + d³) — with d in the millions (a neural network) that is impossible, which is "
        "why gradient methods, which cost O(n d) per epoch, are what deep learning uses (notes on gradient descent)."
    )

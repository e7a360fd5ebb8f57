"""Linear Regression: the seeds' nn.Linear example trained with torch on CPU or GPU, and GD vs SGD vs minibatch measured."""

import hashlib

import numpy as np
import streamlit as st

import gdviz
from gdviz import regression as reg
from ui import limits
from ui.playground.controls import playable_schedules
from ui.regression import view
from ui.state import fields as ps

PAGE = "rg"
A = limits.REGRESSION_MAX_ABS_PARAM
OPT = ps.Entry("opt", "Optimizer", "optimizer", "SGD", (("lr", 0.001),))
SCHED = ps.Entry(
    "sched", "Schedule", "schedule", ps.CONSTANT, constant=True, horizon=10, choices=tuple(playable_schedules())
)
FIELDS = (
    ps.Choice("src", "Data", "synthetic", ("synthetic", "upload")),
    ps.Number("n", "samples N", 100, 2, limits.REGRESSION_MAX_SAMPLES, integer=True),
    ps.Number("d", "features d", 1, 1, limits.MAX_FEATURES, integer=True),
    ps.Number("w", "true weight w (every feature)", 2.0, -A, A),
    ps.Number("b", "true bias b", 1.0, -A, A),
    ps.Number("noise", "noise σ", 2.0, 0.0, limits.REGRESSION_MAX_NOISE),
    ps.Number("xs", "x scale (x ~ scale · N(0, 1))", 10.0, 1e-3, limits.REGRESSION_MAX_X_SCALE),
    ps.Number("seed", "seed", 0, limits.MIN_SEED, limits.MAX_SEED, integer=True),
    OPT,
    SCHED,
    ps.Choice("every", "the schedule steps once per", "epoch", ("epoch", "update")),
    ps.Choice("mode", "Mode", "GD", ("GD", "SGD", "minibatch")),
    ps.Number("bs", "batch size b", 10, 1, limits.REGRESSION_MAX_SAMPLES, integer=True),
    ps.Choice("sampling", "sampling", "shuffle", ("shuffle", "replacement")),
    ps.Number("epochs", "epochs", 10, 1, limits.MAX_EPOCHS, integer=True),
    ps.Choice("std", "features", "raw", ("raw", "standardized")),
    ps.Choice("init", "initial parameters", "torch", ("torch", "zeros")),
    ps.Choice("device", "device", "auto", ("auto", "cpu", "cuda", "mps")),
    ps.Choice("dtype", "precision", "float32", ("float32", "float64")),
    ps.Choice("cmp_lr", "comparison learning rates", "same", ("same", "scaled")),
    ps.Number("cmp_epochs", "comparison epochs", 2, 1, limits.REGRESSION_MAX_COMPARE_EPOCHS, integer=True),
    ps.Number("gd_epochs", "GD's epochs in the comparison", 10, 1, limits.REGRESSION_MAX_COMPARE_EPOCHS, integer=True),
)
BY_KEY = {f.key: f for f in FIELDS}
SEED_PRESET: dict = {}  # the defaults are the seed's experiment
# d2l's airfoil data is 1500 × 5, standardized; its lrs 1, 0.4, 0.05, 0.005 for a loss ½·MSE are 0.5·b/200 here
D2L_PRESET = {"n": 1500, "d": 5, "std": "standardized", "opt": ("SGD", {"lr": 0.5}), "cmp_lr": "scaled"}
UPLOAD = f"{PAGE}_upload"  # (file name, bytes) of the last upload: kept when the visitor switches pages
state = st.session_state
notices = ps.load(PAGE, FIELDS)


def key(name: str) -> str:
    return ps.widget_key(PAGE, name)


def number(name: str, **extra) -> None:
    f = BY_KEY[name]
    step = 1 if f.integer else None
    st.number_input(f.label, f.low, f.high, step=step, format=None if f.integer else "%g", key=key(name), **extra)


def choice(name: str, labels: dict | None = None, **extra) -> None:
    f = BY_KEY[name]
    st.radio(
        f.label, f.options, key=key(name), horizontal=True, format_func=lambda v: (labels or {}).get(v, v), **extra
    )


def apply_preset(overrides: dict) -> None:
    values = ps.defaults(FIELDS)
    for name, value in overrides.items():
        f = BY_KEY[name]
        values[name] = f.canonical(value[0], value[1]) if isinstance(f, ps.Entry) else value
    ps.write_widgets(PAGE, FIELDS, values, state)


def on_upload() -> None:
    file = state.get(f"{PAGE}_file")
    if file is None:
        state.pop(UPLOAD, None)
    else:
        state[UPLOAD] = (file.name, file.getvalue())


def suggest_lr(X: np.ndarray, batch: int | None) -> None:
    lr = reg.suggested_lr(X, batch, standardize=state[key("std")] == "standardized")
    state[f"{key('opt')}_{state[key('opt')]}_lr"] = lr


# ----- sidebar ---------------------------------------------------------------------------------------------
with st.sidebar:
    st.header("Data")
    choice("src", {"synthetic": "synthetic y = w·x + b + noise", "upload": "upload a CSV"})
    if state[key("src")] == "synthetic":
        number("n", help=f"up to {limits.REGRESSION_MAX_SAMPLES:,}; N·d up to {limits.REGRESSION_MAX_VALUES:,}")
        number("d")
        number("w")
        number("b")
        number("noise")
        number("xs")
        number("seed", help="draws the data, nn.Linear's initial parameters and the minibatch order")
    else:
        st.file_uploader(
            "CSV file with a header line",
            type=["csv", "txt", "tsv"],
            key=f"{PAGE}_file",
            on_change=on_upload,
            help=f"at most {limits.MAX_UPLOAD_BYTES // 2**20} MB and {limits.MAX_UPLOAD_ROWS:,} rows",
        )
        number("seed", help="draws nn.Linear's initial parameters and the minibatch order")
    st.header("Training")
    ps.entry_widgets(PAGE, OPT, label="optimizer (torch.optim)")
    if not reg.uses_torch_optim(state[key("opt")]):
        st.caption(
            f"{state[key('opt')]} has no torch.optim class: the engine's own NumPy update runs on the model's "
            "parameters (float64, on the host, one small copy per step)."
        )
    ps.entry_widgets(PAGE, SCHED, label="learning-rate schedule (torch.optim.lr_scheduler)")
    if state[key("sched")] != ps.CONSTANT:
        choice("every")
    choice("mode", {"GD": "GD (full batch)", "SGD": "SGD (b = 1)", "minibatch": "minibatch"})
    if state[key("mode")] == "minibatch":
        number("bs")
    if state[key("mode")] != "GD":
        choice("sampling", {"shuffle": "without replacement", "replacement": "with replacement"})
    number("epochs")
    choice("std", help="train on (x − mean) / std: the loss landscape becomes round and a large lr works")
    choice("init", {"torch": "nn.Linear's (seeded)", "zeros": "zeros"})
    st.header("Device")
    infos = {info.name: info for info in reg.devices()}
    choice("device", {name: view.device_label(info) for name, info in infos.items()})
    for info in infos.values():
        if not info.available:
            st.caption(f"**{info.name}** unavailable: {info.detail}.")
    choice("dtype")

values, problems = ps.publish(PAGE, FIELDS)

# ----- the page --------------------------------------------------------------------------------------------
st.title("Linear regression: GD, SGD and minibatches on a real model")
st.markdown(
    "The seeds' example, run for real: `nn.Linear(d, 1)`, MSE loss, any optimizer and schedule of the "
    "Playground as `torch.optim` / `lr_scheduler`, on the CPU or a GPU. The closed-form least-squares "
    "solution is the exact reference; the comparison below measures seed 003's GD / SGD / minibatch table "
    "on this device instead of describing it."
)
left, right = st.columns(2)
left.button(
    "Reproduce the seed's experiment",
    key=f"{PAGE}_seed_preset",
    on_click=apply_preset,
    args=(SEED_PRESET,),
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
for text in notices + problems:
    st.warning(text, icon=":material/info:")

# data
names = ("x", "y")
if values["src"] == "synthetic":
    if values["n"] * values["d"] > limits.REGRESSION_MAX_VALUES:
        st.error(
            f"N·d = {values['n'] * values['d']:,} values is more than this server's {limits.REGRESSION_MAX_VALUES:,}: "
            "lower N or d."
        )
        st.stop()
    X, y = view.synthetic(
        values["n"], values["d"], values["w"], values["b"], values["noise"], values["xs"], values["seed"]
    )
    data_key = repr(("synthetic", *(values[k] for k in ("n", "d", "w", "b", "noise", "xs", "seed"))))
else:
    upload = state.get(UPLOAD)
    if upload is None:
        st.info("Upload a CSV in the sidebar: a header line, numeric columns; then pick the target and the features.")
        st.stop()
    file_name, raw = upload
    try:
        table = view.parsed(raw)
    except reg.CSVError as error:
        st.error(f"**{file_name}** cannot be used: {error}")
        st.stop()
    numeric = table.numeric_columns()
    skipped = [c for c in table.columns if c not in numeric]
    st.caption(
        f"**{file_name}**: {table.rows:,} rows, {len(table.columns)} columns"
        + (f"; not numeric (cannot be chosen): {', '.join(skipped)}" if skipped else "")
    )
    if len(numeric) < 2:
        st.error("The file needs at least two numeric columns: a target and a feature.")
        st.stop()
    cols = st.columns([1, 2, 1])
    if state.get(f"{PAGE}_target") not in numeric:
        state[f"{PAGE}_target"] = numeric[-1]
    target = cols[0].selectbox("target y", numeric, key=f"{PAGE}_target")
    candidates = [c for c in numeric if c != target]
    chosen = [c for c in state.get(f"{PAGE}_features", candidates[:1]) if c in candidates] or candidates[:1]
    state[f"{PAGE}_features"] = chosen
    features = cols[1].multiselect("features x", candidates, key=f"{PAGE}_features", max_selections=limits.MAX_FEATURES)
    missing = cols[2].radio(
        "rows with missing values", ("drop", "refuse"), key=f"{PAGE}_missing", format_func=lambda v: f"{v} them"
    )
    try:
        X, y, data_notes = reg.select_columns(table, target, features, missing)
    except reg.CSVError as error:
        st.error(str(error))
        st.stop()
    for note in data_notes:
        st.warning(note, icon=":material/info:")
    names = (features[0], target)
    digest = hashlib.sha256(raw).hexdigest()[:16]
    data_key = repr(("upload", digest, target, tuple(features), missing))

n, d = X.shape
standardize = values["std"] == "standardized"
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
    standardize=standardize,
    dtype=values["dtype"],
    init=values["init"],
    max_updates=limits.REGRESSION_MAX_UPDATES,
    **dict(hyper),
)
st.button(
    "Suggest a learning rate (1 / largest curvature)",
    key=f"{PAGE}_suggest",
    on_click=suggest_lr,
    args=(X, batch),
    disabled=not any(p == "lr" for p, _ in hyper),
    help="η = min(1, b/200) / L, L the largest eigenvalue of the MSE's Hessian: full-batch GD converges for "
    "η < 2/L; smaller batches get proportionally smaller steps (d2l 12.5's choices). For SGD-like optimizers.",
)

closed = view.closed_form(data_key, X, y)
try:
    result = view.trained(data_key, view.frozen(settings), X, y)
except (reg.UnavailableDevice, reg.DeviceMemoryError, ValueError) as error:
    st.error(str(error))
    st.stop()


def measure(here: dict):
    """The GD / SGD / minibatch comparison for the page's values (cached), or None and an error message."""
    modes = reg.default_modes(
        n, batch, dict(hyper).get("lr", 1.0), scaled=here["cmp_lr"] == "scaled", gd_epochs=here["gd_epochs"]
    )
    dropped = ("batch_size", "epochs", "max_updates", "schedule", "schedule_step", "lr")
    kept = {k: v for k, v in settings.items() if k not in dropped}
    kept |= dict(epochs=here["cmp_epochs"], max_updates=limits.REGRESSION_COMPARE_MAX_UPDATES)
    try:
        return view.compared(data_key, view.frozen(kept), tuple(modes), X, y), None
    except (reg.UnavailableDevice, reg.DeviceMemoryError, ValueError) as error:
        return None, str(error)


# measured before any chart is drawn: a browser busy rendering on this machine would skew the timings
measure(values)

# ----- summary -----------------------------------------------------------------------------------------------
if result.diverged_at is not None:
    st.error(
        f"Training diverged in epoch {result.diverged_at}: the loss overflowed. Lower the learning rate "
        "(or standardize the features) — the numbers below are from the last finite epoch."
    )
elif not result.complete:
    st.warning(
        f"Stopped after {result.updates:,} updates, this server's cap per run "
        f"({result.samples / n:.3g} of {values['epochs']} epochs): use bigger batches or fewer samples.",
        icon=":material/timer:",
    )
metrics = st.columns(5)
shown_w = ", ".join(view.fmt(v, 4) for v in result.weight[:3]) + (" …" if d > 3 else "")
closed_w = ", ".join(view.fmt(v, 4) for v in closed.weight[:3]) + (" …" if d > 3 else "")
metrics[0].metric("trained w", shown_w, help=f"closed form: {closed_w}")
metrics[1].metric("trained b", view.fmt(result.bias, 4), help=f"closed form: {view.fmt(closed.bias, 6)}")
metrics[2].metric(
    "final loss",
    view.fmt(result.final_loss, 5),
    delta=f"{result.final_loss - closed.loss:+.3g} vs closed form",
    delta_color="inverse",
)
metrics[3].metric("distance to closed form", view.fmt(closed.distance(result.weight, result.bias), 3))
metrics[4].metric(
    "training time",
    view.fmt_seconds(result.seconds),
    help=f"{result.updates:,} updates on {result.device} ({result.dtype}), "
    f"{view.fmt_seconds(result.seconds_per_update)} each; data to device: {view.fmt_seconds(result.transfer_seconds)}",
)

fit_tab, landscape_tab, compare_tab, closed_tab = st.tabs(
    ["Fit", "Loss landscape", "GD vs SGD vs minibatch", "Closed form"]
)
with fit_tab:
    if d == 1:
        lines = view.to_original(result.params, result.mean, result.std)
        st.plotly_chart(
            view.fit_figure(
                X[:, 0], y, lines, (float(closed.weight[0]), closed.bias), x_name=names[0], y_name=names[1]
            ),
            key=f"{PAGE}_fit",
        )
        st.caption("Press ▶ to watch the line move, one frame per epoch; the dashed line is the least-squares fit.")
    else:
        st.plotly_chart(view.parity_figure(y, result.predict(X)), key=f"{PAGE}_parity")
        st.caption(f"With d = {d} features there is no line to draw: each point is a sample, predicted against actual.")
    series = [view.curve_series(f"{name}, {values['mode']}" + (f" b = {batch}" if batch else ""), result)]
    st.plotly_chart(view.loss_figure(series, "epochs", closed.loss), key=f"{PAGE}_loss")

with landscape_tab:
    if d == 1:
        moments = view.landscape_moments(data_key, standardize, X, y)
        axes = ("w′ (standardized x)", "b′") if standardize else ("w", "b")
        figure = view.landscape_figure(
            moments, result.trace[:, :2], result.to_training(closed.weight, closed.bias), label=name, axis_names=axes
        )
        st.plotly_chart(figure, key=f"{PAGE}_landscape")
        st.caption(
            "The MSE of nn.Linear(1, 1) over its two parameters — the Playground's picture for a real model. "
            + (
                "Raw features stretch it into a ravine (curvature ∝ mean x² along w, 1 along b): GD zig-zags or "
                "crawls; standardizing makes it round."
                if not standardize
                else "Standardized features make it nearly round: one learning rate suits both directions."
            )
        )
    else:
        st.info(f"The (w, b) landscape is a picture for one feature; this data has d = {d}.")


@st.fragment
def comparison() -> None:
    cols = st.columns(3)
    with cols[0]:
        choice("cmp_lr", {"scaled": "scaled η·b/200 (d2l)", "same": "the same η"})
    with cols[1]:
        number("cmp_epochs")
    with cols[2]:
        number("gd_epochs")
    here, _ = ps.publish(PAGE, FIELDS)
    rows, error = measure(here)
    if rows is None:
        st.error(error)
        return
    st.table(view.comparison_table(rows))
    axis = st.radio(
        "loss against",
        list(view.AXES),
        format_func=view.AXES.get,
        horizontal=True,
        index=2,
        key=f"{PAGE}_axis",
    )
    series = [view.curve_series(row.mode.label, row.result) for row in rows]
    st.plotly_chart(view.loss_figure(series, axis, closed.loss), key=f"{PAGE}_compare_loss")
    st.caption(
        "Wall time is measured, not modelled: training time only (loss evaluations excluded), on this server, "
        "shared with other work. A flat step in a curve is the clock running while the process waited for a CPU."
    )
    target, claims = reg.d2l_claims(rows)
    st.markdown(f"**d2l 12.5, checked on {rows[0].result.device}** (time and samples to reach loss {target:.5g}):")
    for line in view.claim_lines(claims):
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


with compare_tab:
    st.markdown(
        f"Every mode trains {name} from the same initial parameters on the same data and device. "
        f"Learning rates: GD uses η = {dict(hyper).get('lr', 1.0):g}; smaller batches need smaller steps. "
        f"At most {limits.REGRESSION_COMPARE_MAX_UPDATES:,} updates per mode (SGD on a large N is cut short "
        "and its time per epoch estimated)."
    )
    comparison()

with closed_tab:
    st.latex(r"\min_{w,b}\ \tfrac1n\lVert Xw + b - y\rVert^2:\quad [X\,1]^\top[X\,1]\,\theta = [X\,1]^\top y")
    table = view.closed_table(closed, result, f"{name}, {result.epochs_done} epochs")
    st.table(table)
    if closed.normal_error:
        st.warning(f"Normal equation: {closed.normal_error}. lstsq (SVD) still gives the minimum-norm solution.")
    st.caption(
        f"Computed in float64 on {closed.device}. Both are exact, and for d = {d} instant; but forming and "
        "solving XᵀX costs O(n d² + d³) — with d in the millions (a neural network) that is impossible, which is "
        "why gradient methods, which cost O(n d) per epoch, are what deep learning uses (seed 003)."
    )
st.caption(f"gdviz {gdviz.__version__} · torch does the training; nothing on this page is simulated.")

"""Schedules: several learning-rate schedules side by side, and what they do to noisy SGD (d2l 12.4)."""

import numpy as np
import streamlit as st

import gdviz
from ui import limits
from ui.figures.schedules import band_figure, lr_figure, paths_figure
from ui.lab import fields as lab
from ui.playground.scenario import to_query
from ui.state import fields as ps

PAGE = "sc"
FIELDS = lab.SCHEDULE_FIELDS
state = st.session_state
ps.load(PAGE, FIELDS)


def key(name: str) -> str:
    return ps.widget_key(PAGE, name)


def on_surface_change() -> None:
    for i, v in enumerate(ps.start_of(state[key("s")])):
        state[f"{key('x0')}_{i}"] = v


with st.sidebar:
    st.header("Schedules")
    st.number_input("How many", 1, limits.MAX_SCHEDULES_COMPARED, step=1, key=key("n"))
    for slot in lab.SCHEDULE_SLOTS[: int(state[key("n")])]:
        with st.expander(slot.label, expanded=True):
            ps.entry_widgets(PAGE, slot, label="schedule")
    st.header("Noisy SGD")
    st.selectbox(
        "Surface", lab.PLANAR, key=key("s"), format_func=lambda n: gdviz.SURFACES[n].title, on_change=on_surface_change
    )
    dim = gdviz.surface(state[key("s")]).dim
    for i, column in enumerate(st.columns(dim)):
        with column:
            cap = limits.MAX_ABS_START
            st.number_input(f"start x{i + 1}", -cap, cap, step=0.1, format="%g", key=f"{key('x0')}_{i}")
    st.select_slider(
        "base lr η0",
        options=sorted({0.001, 0.003, 0.01, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, float(state[key("lr")])}),
        key=key("lr"),
        format_func=lambda v: f"{v:g}",
    )
    st.slider(
        "noise σ",
        limits.MIN_NOISE,
        10.0 if state[key("noise")] <= 10 else limits.MAX_NOISE,
        step=0.1,
        key=key("noise"),
        help="g = ∇f + ε, ε ~ N(0, σ²) per coordinate (d2l 12.4)",
    )
    st.number_input("steps", 1, limits.MAX_SCHEDULE_STEPS, step=50, key=key("steps"))
    st.slider("seeds (runs averaged)", 1, limits.MAX_SEEDS, key=key("seeds"))
    st.number_input("first seed", limits.MIN_SEED, limits.MAX_SEED, step=1, key=key("seed"))

values, problems = ps.publish(PAGE, FIELDS)

st.title("Learning-rate schedules")
st.markdown(
    "What a schedule does to η, and what that does to **noisy SGD**: the gradient carries N(0, σ²) noise "
    "(d2l 12.4's stand-in for a random sample), so with a constant η the iterate keeps jittering around "
    "the minimum. The default is d2l's experiment on f = x₁² + 2x₂² from (−5, −2) with η = 0.1: the "
    "constant rate never settles, exponential decay stops too early, polynomial decay keeps converging."
)
for text in ps.notices(PAGE) + problems:
    st.warning(text, icon=":material/info:")

surface = gdviz.surface(values["s"])
chosen = [values[slot.key] for slot in lab.SCHEDULE_SLOTS[: int(values["n"])]]
labels = [lab.schedule_label(*item) for item in chosen]
results = []
progress = st.progress(0.0, text="Running noisy SGD …")
for i, item in enumerate(chosen):
    try:
        results.append(
            lab.schedule_runs(
                surface.name,
                values["x0"],
                values["lr"],
                values["noise"],
                values["steps"],
                values["seeds"],
                values["seed"],
                item,
            )
        )
    except ValueError as error:
        st.error(f"{labels[i]}: {error}")
        st.stop()
    progress.progress((i + 1) / len(chosen), text=f"Running noisy SGD … {labels[i]}")
progress.empty()

left, right = st.columns([3, 2])
with left:
    st.subheader("η(t)")
    st.plotly_chart(lr_figure(list(zip(labels, [r["lrs"] for r in results]))), key="sc_lr_chart")
with right:
    st.subheader("Formulas")
    for label, (name, _) in zip(labels, chosen):
        st.markdown(f"**{label}**")
        st.latex(r"\eta_t = \eta_0" if name == "constant" else gdviz.SCHEDULES[name].formula)

has_minimum = bool(np.size(surface.minima))
what = "distance to the minimum ‖x − x*‖" if has_minimum else "f(x) (this surface has no known minimum)"
st.subheader(f"Noisy SGD: {what}")
st.caption(f"Mean over {values['seeds']} runs (each with its own noise), band: 10% to 90% of the runs.")
bands = [(label, r["mean"], r["low"], r["high"]) for label, r in zip(labels, results)]
st.plotly_chart(band_figure(bands, "‖x − x*‖" if has_minimum else "f(x)", log=has_minimum), key="sc_band_chart")

st.subheader("One run of each (the first seed)")
st.plotly_chart(paths_figure(surface, list(zip(labels, [r["path"] for r in results]))), key="sc_paths_chart")
rows = [
    {
        "schedule": label,
        "final η": f"{r['lrs'][-1]:.4g}",
        ("mean final ‖x − x*‖" if has_minimum else "mean final f"): f"{r['mean'][-1]:.4g}",
        "runs diverged": int(r["diverged"]),
    }
    for label, r in zip(labels, results)
]
st.dataframe(rows, hide_index=True)

st.subheader("Open in the Playground")
for label, item in zip(labels, chosen):
    ps.playground_link(to_query(lab.schedule_scenario(values, item)), f"SGD with {label}")

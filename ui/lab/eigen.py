"""Landscape Lab, error along eigenvectors: on a quadratic, GD and heavy-ball momentum one eigen-direction at a
time (Goh, "Why Momentum Really Works", Distill 2017)."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

import gdviz
from gdviz import landscape
from ui import limits
from ui.figures.eigen import Panel, eigen_figure
from ui.lab.common import CACHE, PLANAR, pick, surface_title
from ui.lab.page import fmt, key, link
from ui.screen import show_chart
from ui.state import fields as ps
from ui.state.fields import Choice, Number, Point
from ui.state.text import escape_markdown
from ui.state.widgets import KEEP


def _has_theory(name: str) -> bool:
    try:
        landscape.quadratic_theory(gdviz.surface(name))
    except landscape.NoTheory:
        return False
    return True


TITLE = "Error along eigenvectors"
# the surfaces the closed forms hold on: the positive definite quadratics
QUADRATIC = tuple(name for name in PLANAR if _has_theory(name))
SETTINGS = {"optimal": "each at its optimum", "chosen": "one η for both, and μ"}
FIELDS = (
    Choice("eg.s", "Surface", pick(QUADRATIC, "ill_conditioned"), QUADRATIC),
    Point("eg.x0", "Start point", "eg.s"),
    Choice("eg.at", "Settings", "optimal", tuple(SETTINGS)),
    Number("eg.lr", "Learning rate η (both)", 0.1, 1e-6, 100.0),
    Number("eg.mu", "Momentum μ", 0.5, 0.0, 0.99),
    Number("eg.steps", "Steps", 100, 1, limits.MAX_LAB_STEPS, integer=True),
)
FIELD = {f.key: f for f in FIELDS}


def theory_of(surface_name: str) -> landscape.QuadraticTheory:
    return landscape.quadratic_theory(gdviz.surface(surface_name))


def settings_of(values: dict[str, Any]) -> tuple[float, float, float]:
    """(GD's η, momentum's η, μ): each method's optimum, or the visitor's η for both with their μ."""
    if values["eg.at"] == "optimal":
        theory = theory_of(values["eg.s"])
        return theory.gd_optimal_lr, theory.momentum_optimal_lr, theory.momentum_optimal_beta
    return float(values["eg.lr"]), float(values["eg.lr"]), float(values["eg.mu"])


@st.cache_data(**CACHE)
def eigen_runs(
    surface_name: str, start: tuple[float, ...] | None, gd_lr: float, lr: float, momentum: float, steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """GD and heavy ball from one start as one batched run: iterates (steps + 1, 2, dim), divergence steps (2,)."""
    surface = gdviz.surface(surface_name)
    x0 = surface.default_start if start is None else start
    sgd = gdviz.optimizer("SGD", lr=np.array([gd_lr, lr]), momentum=np.array([0.0, momentum]))
    runs = gdviz.run(surface, sgd, np.tile(x0, (2, 1)), steps, record="path")
    return runs.xs, runs.diverged_step


def on_settings_change() -> None:
    """Choosing η and μ starts from momentum's optimum on this surface."""
    state = st.session_state
    if state[key("eg.at")] == "chosen":
        theory = theory_of(state[key("eg.s")])
        state[key("eg.lr")] = float(f"{theory.momentum_optimal_lr:.4g}")
        state[key("eg.mu")] = float(f"{theory.momentum_optimal_beta:.4g}")


def sidebar() -> None:
    state = st.session_state
    start = FIELD["eg.x0"]

    def reset_start() -> None:
        for i, v in enumerate(ps.default_start(state[key("eg.s")])):
            state[f"{key(start.key)}_{i}"] = v

    st.selectbox(
        "Surface", QUADRATIC, key=key("eg.s"), format_func=surface_title, on_change=reset_start, persist_state=KEEP
    )
    cap = limits.MAX_ABS_START
    for i, column in enumerate(st.columns(gdviz.surface(state[key("eg.s")]).dim)):
        column.number_input(
            f"start x{i + 1}", -cap, cap, step=0.1, format="%g", key=f"{key(start.key)}_{i}", persist_state=KEEP
        )
    st.radio(
        "Settings",
        tuple(SETTINGS),
        key=key("eg.at"),
        format_func=SETTINGS.get,
        on_change=on_settings_change,
        persist_state=KEEP,
    )
    if state[key("eg.at")] == "chosen":
        st.number_input("learning rate η (both)", 1e-6, 100.0, key=key("eg.lr"), format="%g", persist_state=KEEP)
        st.slider("momentum μ", 0.0, 0.99, key=key("eg.mu"), step=0.01, persist_state=KEEP)
    st.number_input("steps", 1, limits.MAX_LAB_STEPS, step=50, key=key("eg.steps"), persist_state=KEEP)


def view(values: dict[str, Any]) -> None:
    surface, theory = gdviz.surface(values["eg.s"]), theory_of(values["eg.s"])
    st.markdown(
        "On a quadratic the error x − x* splits along the Hessian's eigenvectors, and each component moves on "
        "its own, with its eigenvalue λ alone: the per-component picture of Goh's *Why Momentum Really Works* "
        "(Distill 2017). GD multiplies a component by 1 − ηλ each step; heavy-ball momentum (torch's SGD with "
        "momentum μ) runs each one through a 2×2 iteration whose spectral radius ρ is its rate. Solid: the "
        "engine's runs; dotted: |z(0)|·ρᵗ."
    )
    gd_lr, lr, momentum = settings_of(values)
    steps = int(values["eg.steps"])
    xs, diverged = eigen_runs(surface.name, values["eg.x0"], gd_lr, lr, momentum, steps)
    methods = (("GD", gd_lr, 0.0), ("heavy ball", lr, momentum))
    panels, rows = [], []
    for k, (name, eta, mu) in enumerate(methods):
        last = steps if diverged[k] < 0 else int(diverged[k]) - 1
        rates = theory.component_rates(eta, mu)
        # two lines: side by side on a phone, "heavy ball: η = 0.6679, μ = 0.4026" ran into the other panel's
        # title and off the figure
        title = f"{name}<br>η = {eta:.4g}" + (f", μ = {mu:.4g}" if name != "GD" else "")
        panels.append(Panel(title, theory.components(xs[: last + 1, k]), rates))
        measured = landscape.trajectory_rate(theory, xs[:, k], int(diverged[k]))
        rows.append(
            {
                "method": name,
                "lr η": f"{eta:.4g}",
                "momentum μ": f"{mu:.4g}",
                "predicted rate": f"{float(np.max(rates)):.4f}",
                "measured rate": "–" if not np.isfinite(measured) else f"{measured:.4f}",
                "ρ per direction": ", ".join(f"λ {lam:.3g}: {r:.4f}" for lam, r in zip(theory.eigenvalues, rates)),
                "outcome": f"diverged at step {diverged[k]}" if diverged[k] >= 0 else "",
            }
        )
    show_chart(eigen_figure(theory.eigenvalues, panels), key="lab_eigen_chart")
    st.dataframe(rows, hide_index=True)
    st.caption(
        f"{escape_markdown(surface_title(surface.name))}: λ = {', '.join(fmt(v) for v in theory.eigenvalues)}, κ = "
        f"{fmt(theory.condition_number)}. GD converges iff η < 2/λmax = {fmt(float(theory.lr_bound(0.0)))}, heavy "
        f"ball iff η < 2(1 + μ)/λmax. Optima: GD η = 2/(λmin + λmax) = {fmt(theory.gd_optimal_lr)} (rate "
        f"{theory.gd_optimal_rate:.4f}); momentum η = {fmt(theory.momentum_optimal_lr)}, μ = "
        f"{fmt(theory.momentum_optimal_beta)} (rate {theory.momentum_optimal_rate:.4f}). Where two roots meet (as at "
        "momentum's optimum) a component falls like t·ρᵗ, a little slower than its dotted line."
    )
    racers = [("SGD", (("lr", gd_lr),), ""), ("SGD", (("lr", lr), ("momentum", momentum)), "")]
    ps.playground_link(link(surface.name, values["eg.x0"], steps, racers), "Race these two in the Playground")

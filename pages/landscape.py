"""Landscape Lab: thousands of runs per picture, where an optimizer is stable and which minimum it finds."""

import numpy as np
import streamlit as st

import gdviz
from gdviz import landscape
from ui import limits
from ui.figures.escape import annealing_curves, annealing_figure, restarts_figure, restarts_summary_figure
from ui.figures.fair import fair_curves_figure, fair_lr_figure, fair_paths_figure, fair_rows
from ui.figures.maps import basins_figure, critical_figure, stability_figure
from ui.lab import fields as lab
from ui.state import fields as ps

PAGE = "lab"
FIELDS = lab.LAB_FIELDS
BY_KEY = {f.key: f for f in FIELDS}
state = st.session_state
ps.load(PAGE, FIELDS)


def key(name: str) -> str:
    return ps.widget_key(PAGE, name)


def title(name: str) -> str:
    return gdviz.SURFACES[name].title


def surface_box(field: str, start_field: str | None = None) -> None:
    def reset_start() -> None:
        if start_field:
            for i, v in enumerate(ps.start_of(state[key(field)])):
                state[f"{key(start_field)}_{i}"] = v

    st.selectbox("Surface", lab.PLANAR, key=key(field), format_func=title, on_change=reset_start)
    if start_field:
        cap = limits.MAX_ABS_START
        columns = st.columns(gdviz.surface(state[key(field)]).dim)
        for i, column in enumerate(columns):
            with column:
                label = BY_KEY[start_field].label.replace("Start point", "start") + f" x{i + 1}"
                st.number_input(label, -cap, cap, step=0.1, format="%g", key=f"{key(start_field)}_{i}")


def on_axis_change(field: str, low: str, high: str) -> None:
    """A new axis starts from the range its spec offers."""
    name = state[key("st.o")]
    try:
        lo, hi, _ = lab.axis_range(name, state[key(field)])
    except ValueError:
        return
    state[key(low)], state[key(high)] = lo, hi


def stability_sidebar() -> None:
    surface_box("st.s", "st.x0")
    ps.entry_widgets(PAGE, BY_KEY["st.o"], hide=(state[key("st.ax")], state[key("st.ay")]))
    axes = landscape.sweep_axes(state[key("st.o")])
    for axis, low, high in (("st.ax", "st.xlo", "st.xhi"), ("st.ay", "st.ylo", "st.yhi")):
        if state[key(axis)] not in axes:
            state[key(axis)] = axes[0] if axis == "st.ax" or len(axes) == 1 else axes[1]
            on_axis_change(axis, low, high)
        st.selectbox(BY_KEY[axis].label, axes, key=key(axis), on_change=on_axis_change, args=(axis, low, high))
        left, right = st.columns(2)
        left.number_input("from", key=key(low), format="%g")
        right.number_input("to", key=key(high), format="%g")
    st.slider("cells per axis", 4, limits.MAX_MAP_GRID, key=key("st.n"))
    st.number_input("steps", 1, limits.MAX_LAB_STEPS, step=50, key=key("st.steps"))


def basins_sidebar() -> None:
    surface_box("ba.s")
    for field in ("ba.o1", "ba.o2"):
        with st.expander(BY_KEY[field].label, expanded=True):
            ps.entry_widgets(PAGE, BY_KEY[field], label="optimizer")
    st.slider("starts per axis", 8, limits.MAX_BASIN_GRID, key=key("ba.n"))
    st.number_input("steps", 1, limits.MAX_LAB_STEPS, step=50, key=key("ba.steps"))
    st.select_slider(
        "tolerance (share of the window's diagonal)",
        options=sorted({0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, float(state[key("ba.tol")])}),
        key=key("ba.tol"),
        help="a run 'reaches' a minimum when it ends this close to it",
    )


def escape_sidebar() -> None:
    surface_box("es.s", "es.x0")
    ps.entry_widgets(PAGE, BY_KEY["es.o"])
    st.number_input("steps", 1, limits.MAX_LAB_STEPS, step=50, key=key("es.steps"))
    st.slider("random restarts", 1, limits.MAX_RESTARTS, key=key("es.n"))
    st.slider(
        "initial noise σ0",
        0.0,
        20.0 if state[key("es.sigma")] <= 20 else limits.MAX_NOISE,
        step=0.1,
        key=key("es.sigma"),
    )
    st.slider("cooling γ (σ_t = σ0 γ^t)", 0.9, 1.0, step=0.001, format="%.3f", key=key("es.decay"))
    st.slider("noisy runs", 1, limits.MAX_ANNEAL_RUNS, key=key("es.runs"))
    st.number_input("seed", limits.MIN_SEED, limits.MAX_SEED, step=1, key=key("es.seed"))


def fair_sidebar() -> None:
    surface_box("fc.s", "fc.x0")
    st.multiselect(
        "optimizers (torch defaults, only lr tuned)",
        list(BY_KEY["fc.o"].options),
        key=key("fc.o"),
        max_selections=limits.MAX_OPTIMIZERS,
    )
    left, right = st.columns(2)
    left.number_input("smallest lr", 1e-6, 10.0, format="%g", key=key("fc.lo"))
    right.number_input("largest lr", 1e-6, 10.0, format="%g", key=key("fc.hi"))
    st.slider("learning rates tried (log grid)", 3, limits.MAX_TUNE_POINTS, key=key("fc.n"))
    st.number_input("steps", 1, limits.MAX_LAB_STEPS, step=50, key=key("fc.steps"))
    st.select_slider(
        "tolerance on f − f*",
        options=sorted({1e-12, 1e-9, 1e-6, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, float(state[key("fc.tol")])}),
        key=key("fc.tol"),
        format_func=lambda v: f"{v:g}",
    )


SIDEBARS = {
    "stability": stability_sidebar,
    "basins": basins_sidebar,
    "escape": escape_sidebar,
    "critical": lambda: surface_box("cp.s"),
    "fair": fair_sidebar,
}

st.title("Landscape Lab")
st.radio(
    "View", lab.VIEWS, key=key("view"), format_func=lab.VIEW_TITLES.get, horizontal=True, label_visibility="collapsed"
)
with st.sidebar:
    st.header(lab.VIEW_TITLES[state[key("view")]])
    SIDEBARS[state[key("view")]]()
values, problems = ps.publish(PAGE, FIELDS)
for text in ps.notices(PAGE) + problems:
    st.warning(text, icon=":material/info:")


# -- the views ---------------------------------------------------------------------------------------------
def stability_view() -> None:
    st.markdown(
        "The final loss after a fixed number of steps for every pair of values of two hyper-parameters, "
        "all runs from the same start in one vectorized call (as Distill's *Why Momentum Really Works*). "
        "Yellow: reached f* (to 1e-16); dark: far from it; red: diverged. **Click a cell** to open that setting "
        "in the Playground."
    )
    optimizer, n = values["st.o"], int(values["st.n"])
    messages = []
    x_values, log_x, msg_x = lab.axis_values(optimizer[0], values["st.ax"], values["st.xlo"], values["st.xhi"], n)
    y_values, log_y, msg_y = lab.axis_values(optimizer[0], values["st.ay"], values["st.ylo"], values["st.yhi"], n)
    steps, msg_s = lab.lab_steps(len(x_values) * len(y_values), int(values["st.steps"]))
    messages += [m for m in (msg_x, msg_y, msg_s) if m]
    if values["st.ax"] == values["st.ay"]:
        st.error("Pick two different hyper-parameters for the axes.")
        return
    for text in messages:
        st.info(text)
    blocks = np.array_split(np.arange(len(y_values)), min(8, len(y_values)))
    bar = st.progress(0.0, text="Computing the stability map …")
    parts = []
    try:
        for i, rows in enumerate(blocks):
            parts.append(
                lab.stability_rows(
                    values["st.s"],
                    values["st.x0"],
                    optimizer,
                    (values["st.ax"], tuple(x_values.tolist())),
                    (values["st.ay"], tuple(y_values[rows].tolist())),
                    steps,
                )
            )
            bar.progress(
                (i + 1) / len(blocks), text=f"Computing the stability map … {rows[-1] + 1}/{len(y_values)} rows"
            )
    except ValueError as error:
        bar.empty()
        st.error(str(error))
        return
    bar.empty()
    m = lab.stack_rows(parts)
    bound = lab.stability_bound(values["st.s"], optimizer, m)
    # a click belongs to the map it was made on: another grid forgets it
    signature = (values["st.s"], optimizer, m.x_name, m.y_name, tuple(x_values), tuple(y_values), steps)
    remembered = state.get("lab_cell")
    clicked_cell = remembered[1] if remembered and remembered[0] == signature else None
    picked = clicked_cell or m.best()
    fig = stability_figure(m, log_x, log_y, selected=picked, bound=bound)
    event = st.plotly_chart(fig, key="lab_stability_chart", on_select="rerun", selection_mode="points")
    clicked = lab.new_click(event, fig, "cells", "lab_stability_chart")
    if clicked is not None:
        state["lab_cell"] = (signature, (int(clicked[0]), int(clicked[1])))
        st.rerun()
    st.caption(
        f"{m.final_loss.size} runs × {steps} steps in {m.seconds:.2f} s of engine time. "
        f"{int(m.diverged.sum())} diverged; {int(m.stable.sum())} ended below their start loss "
        f"({lab.fmt(m.start_loss)})."
        + (" The dashed line is the analytic bound lr = 2(1 + μ)/λmax for this quadratic." if bound else "")
    )
    if picked is not None:
        row, col = picked
        setting = m.setting(row, col)
        outcome = (
            f"diverged at step {m.diverged_at[row, col]}"
            if m.diverged[row, col]
            else f"final f = {lab.fmt(float(m.final_loss[row, col]))}"
        )
        st.markdown(
            f"**{'Clicked cell' if clicked_cell else 'Best cell (click another)'}**: "
            f"{m.x_name} = {m.x_values[col]:.4g}, {m.y_name} = {m.y_values[row]:.4g} → {outcome}"
        )
        query = lab.link(values["st.s"], m.start, steps, [(optimizer[0], setting.items(), "")])
        ps.playground_link(query, "Open this cell in the Playground")


def basins_view() -> None:
    surface = gdviz.surface(values["ba.s"])
    st.markdown(
        "Every start point of a grid is coloured by the minimum the optimizer ends in (grey: not within the "
        "tolerance of any minimum after the steps; red: diverged). Two optimizers side by side, the same "
        "starts. **Click a start** to draw both paths from it."
    )
    grid = int(values["ba.n"])
    steps, message = lab.lab_steps(grid**surface.dim, int(values["ba.steps"]))
    if message:
        st.info(message)
    bar = st.progress(0.0, text="Computing basins …")
    results = []
    try:
        for i, field in enumerate(("ba.o1", "ba.o2")):
            results.append(lab.basins_of(surface.name, values[field], grid, steps, float(values["ba.tol"])))
            bar.progress((i + 1) / 2, text=f"Computing basins … {values[field][0]}")
    except ValueError as error:
        bar.empty()
        st.error(str(error))
        return
    bar.empty()
    remembered = state.get("lab_basin_start")
    start = remembered[1] if remembered and remembered[0] == surface.name else None
    columns = st.columns(2)
    labels = []
    for i, (column, field, b) in enumerate(zip(columns, ("ba.o1", "ba.o2"), results)):
        name, params = values[field]
        label = lab.link_label(name, params)
        labels.append(label)
        paths = [lab.single_path(surface.name, values[field], tuple(start), steps)] if start is not None else []
        with column:
            fig = basins_figure(surface, b, f"{'AB'[i]}: {label}", paths=paths)
            chart = f"lab_basins_chart_{i}"
            event = st.plotly_chart(fig, key=chart, on_select="rerun", selection_mode="points")
            clicked = lab.new_click(event, fig, "starts", chart)
            if clicked is not None:
                state["lab_basin_start"] = (surface.name, tuple(float(v) for v in clicked[: surface.dim]))
                st.rerun()
            counts = b.counts()
            st.caption(
                f"{b.labels.size} starts × {steps} steps in {b.seconds:.2f} s; "
                f"{counts.get(landscape.DIVERGED, 0)} diverged, {counts.get(landscape.NOT_CONVERGED, 0)} not converged, "
                f"{len(b.minima)} minima known in and around the window."
            )
    if start is not None:
        st.markdown(f"Paths from the clicked start ({', '.join(f'{v:.3g}' for v in start)}).")
    optimizers = [(values[f][0], values[f][1], label) for f, label in zip(("ba.o1", "ba.o2"), labels)]
    ps.playground_link(
        lab.link(surface.name, start, steps, optimizers),
        "Open both in the Playground" + (" from this start" if start else ""),
    )


def escape_view() -> None:
    surface = gdviz.surface(values["es.s"])
    optimizer, steps = values["es.o"], int(values["es.steps"])
    st.markdown(
        "Two ways out of a local minimum from seed 001's list. **Random restarts**: many runs from random "
        "starts, keep the best. **Annealing**: gradient noise that cools down, σ_t = σ0·γ^t; early kicks "
        "carry the iterate over ridges, and as the noise fades it settles in the basin it last fell into."
    )
    restarts_steps, message = lab.lab_steps(int(values["es.n"]), steps)
    if message:
        st.info(message)
    bar = st.progress(0.0, text="Random restarts …")
    try:
        r = lab.restarts_of(surface.name, optimizer, int(values["es.n"]), restarts_steps, int(values["es.seed"]))
        bar.progress(0.4, text="Annealing …")
        common = (surface.name, values["es.x0"], optimizer, steps)
        sigma, decay, runs, seed = (
            float(values["es.sigma"]),
            float(values["es.decay"]),
            int(values["es.runs"]),
            int(values["es.seed"]),
        )
        calm = lab.annealing_of(*common, 0.0, 1.0, runs, seed)
        bar.progress(0.6, text="Annealing …")
        constant = lab.annealing_of(*common, sigma, 1.0, runs, seed)
        bar.progress(0.8, text="Annealing …")
        cooled = lab.annealing_of(*common, sigma, decay, runs, seed)
    except ValueError as error:
        bar.empty()
        st.error(str(error))
        return
    bar.empty()
    st.subheader("Random restarts")
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(restarts_figure(surface, r), key="lab_restarts_chart")
    with right:
        st.plotly_chart(restarts_summary_figure(r), key="lab_restarts_summary")
        best = r.best
        st.markdown(
            f"Best of {len(r.final_loss)}: f = {lab.fmt(float(r.final_loss[best]))} at "
            f"({', '.join(f'{v:.4g}' for v in r.xs[-1, best])}), from the start "
            f"({', '.join(f'{v:.3g}' for v in r.starts[best])})."
        )
        ps.playground_link(
            lab.link(surface.name, r.starts[best], restarts_steps, [(optimizer[0], optimizer[1], "best restart")]),
            "Open the best restart in the Playground",
        )
    st.subheader("Annealed noise")
    settings = [
        ("no noise", calm),
        (f"constant σ = {sigma:g}", constant),
        (f"annealed σ0 = {sigma:g}, γ = {decay:g}", cooled),
    ]
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(annealing_figure(surface, settings), key="lab_anneal_chart")
    with right:
        st.plotly_chart(annealing_curves(settings, surface.f_min), key="lab_anneal_curves")
    f_ref = surface.f_min
    rows = []
    for label, a in settings:
        finals = a.final_loss
        row = {
            "noise": label,
            "mean final f": lab.fmt(float(finals.mean())),
            "best final f": lab.fmt(float(finals.min())),
        }
        if np.isfinite(f_ref):
            row["runs within 1e-2 of f*"] = f"{int(np.sum(finals - f_ref <= 1e-2))}/{len(finals)}"
        rows.append(row)
    st.dataframe(rows, hide_index=True)
    ps.playground_link(
        lab.link(surface.name, values["es.x0"], steps, [(optimizer[0], optimizer[1], "")], noise=sigma, seed=seed),
        f"Open the constant-noise run (σ = {sigma:g}) in the Playground",
    )


def critical_view() -> None:
    surface = gdviz.surface(values["cp.s"])
    st.markdown(
        "Stationary points found by Newton's method from a grid of starts (deduplicated), classified by "
        "the eigenvalues of the Hessian: all positive → minimum, all negative → maximum, both signs → saddle. "
        "Lines are the eigenvectors (solid: curving up, dashed: curving down). **Click anywhere** to see the "
        "Hessian there."
    )
    points = lab.critical_of(surface.name)
    remembered = state.get("lab_critical_point")
    spot = remembered[1] if remembered and remembered[0] == surface.name else None
    inspected = gdviz.critical_point(surface, spot) if spot is not None else (points[0] if points else None)
    left, right = st.columns([3, 2])
    with left:
        fig = critical_figure(surface, points, clicked=inspected if spot is not None else None)
        event = st.plotly_chart(fig, key="lab_critical_chart", on_select="rerun", selection_mode="points")
        clicked = lab.new_click(event, fig, "points", "lab_critical_chart")
        if clicked is not None and len(clicked) == surface.dim:
            state["lab_critical_point"] = (surface.name, tuple(float(v) for v in clicked))
            st.rerun()
    with right:
        table = [
            {
                "kind": cp.kind,
                "x": "(" + ", ".join(f"{v:.5g}" for v in cp.point) + ")",
                "f": lab.fmt(cp.value),
                "eigenvalues": ", ".join(f"{v:.4g}" for v in cp.eigenvalues),
            }
            for cp in points
        ]
        st.dataframe(table, hide_index=True, height=min(400, 38 + 35 * len(table)))
        if inspected is not None:
            where = "clicked point" if spot is not None else "lowest critical point"
            st.markdown(f"**Hessian at the {where}** ({', '.join(f'{v:.4g}' for v in inspected.point)})")
            hessian = np.asarray(surface.hessian(inspected.point), dtype=float).reshape(surface.dim, surface.dim)
            st.latex(lab.latex_matrix(hessian))
            cond = inspected.condition_number
            st.markdown(
                f"eigenvalues: {', '.join(f'{v:.5g}' for v in inspected.eigenvalues)} · condition number "
                f"{'∞' if not np.isfinite(cond) else f'{cond:.4g}'} · ‖∇f‖ = {inspected.grad_norm:.3g} · "
                f"curvature: **{inspected.kind}**" + ("" if inspected.is_stationary else " (not a stationary point)")
            )
            ps.playground_link(
                lab.link(surface.name, inspected.point, 100, [("SGD", (("lr", 0.01),), ""), ("Newton", (), "")]),
                "Start GD and Newton here in the Playground",
            )


def fair_view() -> None:
    surface = gdviz.surface(values["fc.s"])
    names = values["fc.o"]
    st.markdown(
        "Every optimizer gets the same log grid of learning rates (the same budget) and keeps torch's "
        "defaults otherwise. The best lr is the one that ends within the tolerance of f* in the fewest "
        "steps; if none does, the one with the lowest final loss. The whole search is shown, not just its winner."
    )
    low, high = sorted((float(values["fc.lo"]), float(values["fc.hi"])))
    lrs = landscape.log_grid(low, high, int(values["fc.n"]))
    steps, message = lab.lab_steps(len(lrs) * len(names), int(values["fc.steps"]))
    if message:
        st.info(message)
    with st.spinner("Tuning …"):
        try:
            tuned = lab.tuned_of(
                surface.name, values["fc.x0"], tuple(names), tuple(lrs.tolist()), steps, float(values["fc.tol"])
            )
        except ValueError as error:
            st.error(str(error))
            return
    tol = float(values["fc.tol"])
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(fair_paths_figure(surface, tuned), key="lab_fair_paths")
    with right:
        st.plotly_chart(fair_lr_figure(tuned, tol), key="lab_fair_lrs")
        st.plotly_chart(fair_curves_figure(tuned), key="lab_fair_curves")
    st.dataframe(fair_rows(tuned, tol), hide_index=True)
    if not np.isfinite(surface.f_min):
        st.caption("This surface has no known minimum value: f* is the lowest loss any run reached.")
    if any(t.at_edge for t in tuned):
        st.caption("A best lr at the edge of the grid means a wider grid might do better.")
    optimizers = [(t.name, (("lr", t.best_lr),), f"{t.name} tuned") for t in tuned]
    ps.playground_link(
        lab.link(surface.name, values["fc.x0"], steps, optimizers), "Open the tuned race in the Playground"
    )


{
    "stability": stability_view,
    "basins": basins_view,
    "escape": escape_view,
    "critical": critical_view,
    "fair": fair_view,
}[values["view"]]()

"""Landscape Lab, critical points: stationary points found by Newton's method, classified by the Hessian."""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

import gdviz
from ui.figures.maps import critical_figure
from ui.lab.common import CACHE, PLANAR, pick, surface_picker
from ui.lab.page import PAGE, fmt, link, new_click
from ui.screen import show_chart
from ui.state import fields as ps
from ui.state.fields import Choice

TITLE = "Critical points"
FIELDS = (Choice("cp.s", "Surface", pick(PLANAR, "himmelblau"), PLANAR),)


@st.cache_data(**CACHE)
def critical_of(surface_name: str) -> list:
    return gdviz.find_critical_points(gdviz.surface(surface_name))


def latex_matrix(matrix: np.ndarray) -> str:
    rows = r" \\ ".join(" & ".join(f"{v:.5g}" for v in row) for row in np.atleast_2d(matrix))
    return r"\nabla^2 f = \begin{pmatrix}" + rows + r"\end{pmatrix}"


def sidebar() -> None:
    surface_picker(PAGE, "cp.s")


def view(values: dict[str, Any]) -> None:
    state = st.session_state
    surface = gdviz.surface(values["cp.s"])
    st.markdown(
        "Stationary points found by Newton's method from a grid of starts (deduplicated), classified by "
        "the eigenvalues of the Hessian: all positive → minimum, all negative → maximum, both signs → saddle. "
        "Lines are the eigenvectors (solid: curving up, dashed: curving down). **Click anywhere** to see the "
        "Hessian there."
    )
    points = critical_of(surface.name)
    remembered = state.get("lab_critical_point")
    spot = remembered[1] if remembered and remembered[0] == surface.name else None
    inspected = gdviz.critical_point(surface, spot) if spot is not None else (points[0] if points else None)
    left, right = st.columns([3, 2])
    with left:
        fig = critical_figure(surface, points, clicked=inspected if spot is not None else None)
        event = show_chart(fig, key="lab_critical_chart", on_select="rerun", selection_mode="points")
        clicked = new_click(event, fig, "points", "lab_critical_chart")
        if clicked is not None and len(clicked) == surface.dim:
            state["lab_critical_point"] = (surface.name, tuple(float(v) for v in clicked))
            st.rerun()
    with right:
        table = [
            {
                "kind": cp.kind,
                "x": "(" + ", ".join(f"{v:.5g}" for v in cp.point) + ")",
                "f": fmt(cp.value),
                "eigenvalues": ", ".join(f"{v:.4g}" for v in cp.eigenvalues),
            }
            for cp in points
        ]
        st.dataframe(table, hide_index=True, height=min(400, 38 + 35 * len(table)))
        if inspected is not None:
            where = "clicked point" if spot is not None else "lowest critical point"
            st.markdown(f"**Hessian at the {where}** ({', '.join(f'{v:.4g}' for v in inspected.point)})")
            hessian = np.asarray(surface.hessian(inspected.point), dtype=float).reshape(surface.dim, surface.dim)
            st.latex(latex_matrix(hessian))
            cond = inspected.condition_number
            st.markdown(
                f"eigenvalues: {', '.join(f'{v:.5g}' for v in inspected.eigenvalues)} · condition number "
                f"{'∞' if not np.isfinite(cond) else f'{cond:.4g}'} · ‖∇f‖ = {inspected.grad_norm:.3g} · "
                f"curvature: **{inspected.kind}**" + ("" if inspected.is_stationary else " (not a stationary point)")
            )
            ps.playground_link(
                link(surface.name, inspected.point, 100, [("SGD", (("lr", 0.01),), ""), ("Newton", (), "")]),
                "Start GD and Newton here in the Playground",
            )

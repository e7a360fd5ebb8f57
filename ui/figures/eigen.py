"""The Landscape Lab's error along the Hessian's eigenvectors: GD and heavy-ball momentum side by side on a
quadratic, one line per eigen-direction (Goh, "Why Momentum Really Works", Distill 2017). Arrays in, a plotly
Figure out; no Streamlit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.figures.lab_canvas import LOG_FLOOR, layout
from ui.figures.style import axis_style, color_of, log_axis, sig

_LOG_CAP = 300.0  # an envelope that grows past 1e300 is drawn up to there


@dataclass(frozen=True)
class Panel:
    """One method's run: ``components`` (steps + 1, dim) of x_t − x* along the eigenvectors, up to its last
    good step; ``rates`` (dim,) each direction's predicted spectral radius."""

    title: str
    components: np.ndarray
    rates: np.ndarray


def eigen_figure(eigenvalues: np.ndarray, panels: Sequence[Panel], height: int = 460) -> go.Figure:
    """|component| over steps on a log axis, a line per eigenvalue, a panel per method; dotted, the envelope
    |z_i(0)|·ρ_iᵗ the theory predicts for each direction."""
    eigenvalues = np.asarray(eigenvalues, dtype=np.float64)
    fig = make_subplots(rows=1, cols=len(panels), shared_yaxes=True, subplot_titles=[p.title for p in panels])
    shown = []
    for col, panel in enumerate(panels, start=1):
        z = np.abs(np.asarray(panel.components, dtype=np.float64))
        if z.ndim != 2 or z.shape[1] != eigenvalues.size or np.asarray(panel.rates).shape != eigenvalues.shape:
            raise ValueError(f"{panel.title}: components must be (steps + 1, {eigenvalues.size}), one rate each")
        steps = np.arange(z.shape[0])
        # an exact zero (a start on an eigenvector, or x* reached) has no place on a log axis: a gap
        drawn = np.where(z > 0, z, np.nan)
        shown.append(drawn)
        for i, (lam, rate) in enumerate(zip(eigenvalues, panel.rates)):
            color, name = color_of(i), f"λ = {lam:.4g}"
            fig.add_trace(
                go.Scatter(
                    x=steps,
                    y=sig(drawn[:, i]),
                    mode="lines",
                    name=name,
                    legendgroup=name,
                    showlegend=col == 1,
                    line=dict(color=color, width=2.5),
                    hovertemplate=f"{panel.title}<br>{name}<br>step %{{x}}<br>|z| = %{{y:.4g}}<extra></extra>",
                ),
                row=1,
                col=col,
            )
            start = max(float(z[0, i]), LOG_FLOOR)
            with np.errstate(divide="ignore"):
                log_envelope = np.log10(start) + steps * np.log10(max(float(rate), 1e-300))
            fig.add_trace(
                go.Scatter(
                    x=steps,
                    y=sig(10.0 ** np.clip(log_envelope, -_LOG_CAP, _LOG_CAP)),
                    mode="lines",
                    name=f"{name}: |z(0)|·ρᵗ, ρ = {rate:.4g}",
                    legendgroup=name,
                    showlegend=False,
                    line=dict(color=color, width=1.5, dash="dot"),
                    hovertemplate=f"{panel.title}<br>{name}: predicted ρ = {rate:.4g}<br>step %{{x}}"
                    "<br>|z(0)|·ρᵗ = %{y:.4g}<extra></extra>",
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(axis_style(title="step t"), row=1, col=col)
    fig.add_trace(
        go.Scatter(
            x=[None],
            y=[None],
            mode="lines",
            name="dotted: predicted |z(0)|·ρᵗ",
            line=dict(color="#777", width=1.5, dash="dot"),
        ),
        row=1,
        col=1,
    )
    everything = np.concatenate([d.ravel() for d in shown])
    everything = everything[np.isfinite(everything)]
    low, high = (np.log10(everything.min()), np.log10(everything.max())) if everything.size else (-1.0, 1.0)
    fig.update_yaxes(axis_style(**log_axis(range=[low - 0.3, high + 0.3])))
    fig.update_yaxes(title="|component of x − x*|", row=1, col=1)
    fig.update_layout(
        layout(
            height,
            margin=dict(l=72, r=16, t=96, b=56),
            # at the figure's top, above the panels' two-line titles (however many rows the legend takes)
            legend=dict(orientation="h", x=0.0, xanchor="left", yref="container", y=1.0, yanchor="top"),
        ),
        meta=dict(kind="eigen"),
    )
    return fig

"""Figures and table of the Landscape Lab's fair comparison: every optimizer's lr tuned over the same
grid (gdviz.landscape.tune_lr), its path at the best lr, the whole search, and its loss curve; and, when
every hyper-parameter is tuned (gdviz.landscape.fair_tuning), each tuning's ranking with its spread and
every trial's score (arrays in, plotly Figures and table rows out; no Streamlit)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from gdviz.landscape import Tuned
from gdviz.landscape.fair_tuning import TunedAll, ranking
from gdviz.surfaces.base import Surface
from ui.figures.lab_canvas import LOG_FLOOR, canvas, layout, minima_trace, path_trace
from ui.figures.style import DIVERGED_COLOR, axis_style, color_of, level_line, log_axis, sig


def fair_paths_figure(surface: Surface, tuned: Sequence[Tuned], height: int = 480) -> go.Figure:
    fig = go.Figure()
    canvas(fig, surface)
    for i, t in enumerate(tuned):
        path_trace(fig, surface, t.xs, f"{t.name} (η = {t.best_lr:.3g})", color_of(i))
    minima_trace(fig, surface, surface.minima)
    fig.update_layout(layout(height))
    return fig


def fair_lr_figure(tuned: Sequence[Tuned], tol: float, height: int = 380) -> go.Figure:
    """The whole search, not just its winner: final f − f* against lr for each optimizer."""
    fig = go.Figure()
    for i, t in enumerate(tuned):
        gap = np.maximum(t.final_loss - t.f_ref, LOG_FLOOR)
        color = color_of(i)
        fig.add_trace(
            go.Scatter(
                x=sig(t.lrs),
                y=sig(np.where(t.diverged, np.nan, gap)),
                mode="lines+markers",
                name=t.name,
                line=dict(color=color, width=2),
                hovertemplate=f"{t.name}<br>η = %{{x:.3g}}<br>final f − f* = %{{y:.3g}}<extra></extra>",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[t.best_lr],
                y=sig([gap[t.best]]),
                mode="markers",
                name=f"{t.name} best",
                showlegend=False,
                marker=dict(symbol="star", size=16, color=color, line=dict(color="#111", width=1)),
                hovertemplate=f"{t.name}: best η = %{{x:.3g}}<extra></extra>",
            )
        )
        dead = t.lrs[t.diverged]
        if dead.size:
            fig.add_trace(
                go.Scatter(
                    x=sig(dead),
                    y=[1.0] * dead.size,
                    mode="markers",
                    showlegend=False,
                    name=f"{t.name} diverged",
                    marker=dict(symbol="x", size=9, color=DIVERGED_COLOR),
                    yaxis="y2",
                    hovertemplate=f"{t.name}: diverged at η = %{{x:.3g}}<extra></extra>",
                )
            )
    level_line(fig, tol, f"tolerance {tol:g}", log=True)
    fig.update_layout(
        layout(
            height,
            xaxis=axis_style(title="learning rate η", **log_axis()),
            yaxis=axis_style(title="final f − f*", **log_axis()),
            yaxis2=dict(overlaying="y", range=[0, 1.05], visible=False),
        )
    )
    return fig


def fair_curves_figure(tuned: Sequence[Tuned], height: int = 360) -> go.Figure:
    fig = go.Figure()
    for i, t in enumerate(tuned):
        gap = np.maximum(t.losses - t.f_ref, LOG_FLOOR)
        fig.add_trace(
            go.Scatter(
                x=list(range(len(gap))), y=sig(gap), mode="lines", name=t.name, line=dict(color=color_of(i), width=2.5)
            )
        )
    fig.update_layout(
        layout(height, xaxis=axis_style(title="step"), yaxis=axis_style(title="f − f* (tuned η)", **log_axis()))
    )
    return fig


def fair_rows(tuned: Sequence[Tuned], tol: float) -> list[dict]:
    rows = []
    for t in tuned:
        rows.append(
            {
                "optimizer": t.name,
                "best lr": f"{t.best_lr:.4g}",
                "final f − f*": f"{t.best_final_loss - t.f_ref:.4g}",
                f"steps to f* + {tol:g}": str(t.best_steps_to) if t.best_steps_to >= 0 else "never",
                "lrs that diverged": int(t.diverged.sum()),
                "best lr at grid edge": "yes" if t.at_edge else "",
                "wall time (ms)": round(1e3 * t.seconds, 1),
            }
        )
    return rows


# -- every hyper-parameter tuned: rankings side by side --------------------------------------------------
def _mean_sd(t: TunedAll) -> str:
    if not np.isfinite(t.best_mean):
        return "every setting diverged"
    return f"{t.best_mean:.3g} ± {t.best_sd:.2g}"


def ranking_figure(
    tuned: Sequence[TunedAll], title: str, colors: dict[str, str], before: Sequence[str] = (), height: int = 360
) -> go.Figure:
    """One tuning's verdict: each optimizer's best mean final f − f* (log scale, best on top), error bar ± sd.

    ``before``: another ranking (best first); an optimizer whose place differs from it says where it was.
    An optimizer whose every setting diverged has no bar, only its label.
    """
    order = {name: i for i, name in enumerate(ranking(tuned))}
    rows = sorted(tuned, key=lambda t: order[t.name])
    means = np.array([t.best_mean for t in rows])
    sds = np.array([0.0 if np.isnan(t.best_sd) else t.best_sd for t in rows])
    shown = np.where(np.isfinite(means), np.maximum(means, LOG_FLOOR), np.nan)
    labels = []
    for place, t in enumerate(rows, start=1):
        moved = f" (was #{list(before).index(t.name) + 1})" if t.name in before and before[place - 1] != t.name else ""
        labels.append(f"#{place} {t.name}{moved}")
    fig = go.Figure(
        go.Bar(
            y=labels,
            x=sig(shown),
            orientation="h",
            marker=dict(
                color=[colors.get(t.name, color_of(i)) for i, t in enumerate(rows)],
                line=dict(color="#111", width=[2.5] + [0.0] * (len(rows) - 1)),
            ),
            error_x=dict(type="data", array=sig(np.where(np.isfinite(means), sds, 0.0)), color="#333", thickness=1.5),
            text=[_mean_sd(t) for t in rows],
            textposition="outside",
            customdata=[[t.name, f"{t.best_sd:.3g}", t.diverged_trials, t.budget.trials] for t in rows],
            hovertemplate=(
                "%{customdata[0]}<br>best mean final f − f* = %{x:.3g} ± %{customdata[1]}"
                "<br>settings that diverged: %{customdata[2]} of %{customdata[3]}<extra></extra>"
            ),
            name=title,
        )
    )
    fig.update_layout(
        layout(
            height,
            title=dict(text=title, x=0.0, font=dict(size=15)),
            showlegend=False,
            xaxis=axis_style(title="final f − f*, best setting (mean ± sd)", **log_axis()),
            yaxis=axis_style(autorange="reversed"),
        )
    )
    return fig


def trial_scores_figure(tuned: Sequence[TunedAll], colors: dict[str, str], height: int = 360) -> go.Figure:
    """The whole search, not just its winner: every setting's mean final f − f*, one column per optimizer;
    a star marks the best and a cross (on top) each setting with a diverged run."""
    fig = go.Figure()
    for i, t in enumerate(tuned):
        color = colors.get(t.name, color_of(i))
        finite = np.isfinite(t.mean)
        jitter = np.linspace(-0.25, 0.25, t.mean.size) if t.mean.size > 1 else np.zeros(1)
        fig.add_trace(
            go.Scatter(
                x=sig(i + jitter[finite]),
                y=sig(np.maximum(t.mean[finite], LOG_FLOOR)),
                mode="markers",
                name=t.name,
                marker=dict(color=color, size=8, opacity=0.75),
                customdata=[[k + 1, f"{t.sd[k]:.3g}"] for k in np.flatnonzero(finite)],
                hovertemplate=f"{t.name} setting %{{customdata[0]}}<br>mean final f − f* = %{{y:.3g}} ± "
                "%{customdata[1]}<extra></extra>",
            )
        )
        if finite.any():
            fig.add_trace(
                go.Scatter(
                    x=[i + float(jitter[t.best])],
                    y=sig([max(t.best_mean, LOG_FLOOR)]),
                    mode="markers",
                    name=f"{t.name} best",
                    showlegend=False,
                    marker=dict(symbol="star", size=16, color=color, line=dict(color="#111", width=1)),
                    hovertemplate=f"{t.name}: best setting<extra></extra>",
                )
            )
        if (~finite).any():
            fig.add_trace(
                go.Scatter(
                    x=sig(i + jitter[~finite]),
                    y=[1.0] * int((~finite).sum()),
                    mode="markers",
                    name=f"{t.name} diverged",
                    showlegend=False,
                    yaxis="y2",
                    marker=dict(symbol="x", size=8, color=DIVERGED_COLOR),
                    hovertemplate=f"{t.name}: a run of this setting diverged<extra></extra>",
                )
            )
    fig.update_layout(
        layout(
            height,
            showlegend=False,
            xaxis=axis_style(
                tickmode="array", tickvals=list(range(len(tuned))), ticktext=[t.name for t in tuned], title=""
            ),
            yaxis=axis_style(title="mean final f − f* of each setting", **log_axis()),
            yaxis2=dict(overlaying="y", range=[0, 1.05], visible=False),
        )
    )
    return fig


def _knob_text(setting: dict, knobs: Sequence[str]) -> str:
    parts = []
    for knob in knobs:
        name, _, half = knob.partition("[")
        value = setting[name][int(half[0])] if half else setting[name]
        parts.append(f"{knob}={value:.3g}")
    return ", ".join(parts)


def tuned_all_rows(short: Sequence[TunedAll], full: Sequence[TunedAll]) -> list[dict]:
    """One row per optimizer: its place in both rankings and what each tuning chose."""
    short_rank, full_rank = ranking(short), ranking(full)
    short_of = {t.name: t for t in short}
    rows = []
    for t in full:
        s = short_of[t.name]
        before, after = short_rank.index(t.name) + 1, full_rank.index(t.name) + 1
        rows.append(
            {
                "optimizer": t.name,
                f"rank, lr only ({s.budget.steps} steps)": before,
                f"rank, all knobs ({t.budget.steps} steps)": after,
                "change": ""
                if before == after
                else (f"up {before - after}" if after < before else f"down {after - before}"),
                "lr only: best lr": f"{s.best_setting['lr']:.3g}",
                "lr only: final f − f*": _mean_sd(s),
                "all knobs: final f − f*": _mean_sd(t),
                "all knobs: best setting": _knob_text(t.best_setting, t.knobs),
                "settings that diverged (lr only / all)": f"{s.diverged_trials} / {t.diverged_trials}",
            }
        )
    return rows

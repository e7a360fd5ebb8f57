"""The Networks page's sections: the header, the race (training and the landscape), the figure, how faithful the
plane is, and sharing. Numbers come from :mod:`ui.network.compute` (cached), the figure from
:mod:`ui.figures.network`."""

from __future__ import annotations

import importlib.util
import io
import json
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import numpy as np
import streamlit as st

from gdviz import network
from gdviz import regression as reg
from ui.figures.network import network_spec
from ui.figures.plain import PlainFigure
from ui.network import compute
from ui.network.fields import BY_KEY, FIELDS, PAGE, RACERS
from ui.playground.scenario import auto_labels
from ui.screen import chart_config, on_phone
from ui.state import fields as ps
from ui.state.entries import entry
from ui.state.notices import show as show_notices
from ui.state.text import escape_markdown

ERRORS = (reg.UnavailableDevice, reg.DeviceMemoryError, ValueError)


def racer_labels(racers) -> list[str]:
    """Legend labels as the Playground writes them (the name, lr and every changed hyper-parameter, clipping),
    numbered: two SGDs that differ only in momentum must not read alike."""
    entries = tuple(entry(r.name, **dict(r.hyper), max_grad_norm=r.max_grad_norm, label=r.label) for r in racers)
    return [f"{k + 1}. {text}" for k, text in enumerate(auto_labels(entries))]


def require_torch() -> None:
    """Without torch the page says so and stops (the other pages work without it)."""
    if importlib.util.find_spec("torch") is None:
        st.title("A real network's loss landscape")
        st.error(
            "This page trains a real network with torch, which is not installed on this server. "
            "Install it with `pip install .[train]` (or `pip install torch`) and reload; the other pages work without it."
        )
        st.stop()


def header(notices: list[str]) -> None:
    """The title, one sentence, and how the picture is made folded under it: on a projector or a phone the
    paragraph put the chart below the first screen."""
    st.title("A real network's loss landscape")
    st.markdown(
        "The Playground's optimizers train a real (small) network, by `torch.optim`, from one set of initial "
        "weights; every path is projected onto **one** plane through weight space, over the true loss on it."
    )
    with st.expander("How the picture is made, and how far to trust it"):
        st.markdown(
            "The toy surfaces show the mechanics; here the same optimizers, with the Playground's names and "
            "hyper-parameters, train one MLP, every iterate recorded. The plane is the PCA plane of the pooled "
            "paths, or filter-normalized random directions (Li et al. 2018, *Visualizing the Loss Landscape of "
            "Neural Nets*), and the true loss is computed over a grid on it. A plane is a shadow of a space of "
            "thousands of dimensions: beside the map, each path's true loss, the loss on the plane under its "
            "shadow and its distance from the plane tell how faithful the picture is."
        )
    show_notices(notices)


def setting_of(values: dict[str, Any]) -> tuple[compute.Setting, list[str]]:
    notes = []
    racers = []
    for item in values[RACERS.key]:
        if getattr(item, "compress_topk", None) is not None:
            notes.append(f"{item.name}: gradient compression is a Playground option; this page trains without it.")
        racers.append(network.Racer(item.name, item.hyper, item.max_grad_norm, item.label))
    name, params = values["sched"]
    schedule = None if name == ps.CONSTANT else (name, dict(params))
    batch = values["bs"] if values["mode"] == "minibatch" else None
    setting = compute.Setting(
        data=values["data"], n=int(values["n"]), noise=float(values["noise"]), seed=int(values["seed"]),
        width=int(values["width"]), depth=int(values["depth"]), activation=values["act"], racers=tuple(racers),
        schedule=schedule, steps=int(values["steps"]), batch_size=batch, plane=values["plane"],
        centre=values["centre"], grid=int(values["grid"]), device=values["device"],
    )  # fmt: skip
    return setting, notes


@dataclass(frozen=True)
class Run:
    setting: compute.Setting
    data: network.Dataset
    paths: network.Paths
    picture: compute.Picture
    labels: list[str]


def offer_what_fits(error: compute.TooHeavy) -> None:
    """Buttons that apply what the refusal says fits: the most steps, the finest grid (one click, not a search
    through the sidebar for the right field)."""
    offers = []  # (label, field, value)
    if error.grid is not None:
        offers.append((f"Use a {error.grid}² grid", "grid", error.grid))
    if error.steps is not None:
        offers.append((f"Train {error.steps:,} steps", "steps", error.steps))
    if offers:
        for column, (label, name, value) in zip(st.columns(len(offers)), offers):
            column.button(label, key=f"{PAGE}_fit_{name}", on_click=apply_changes, args=({name: value},))


def apply_changes(changes: dict[str, Any]) -> None:
    """Set the widgets of the fields in ``changes`` (the rest as they are): the page reruns with them."""
    fields = [BY_KEY[name] for name in changes]
    ps.write_widgets(PAGE, fields, changes, st.session_state)


def run(values: dict[str, Any]) -> Run:
    """Train and project, or say why not and stop the page."""
    setting, notes = setting_of(values)
    show_notices(notes)
    try:
        spec = setting.spec
        st.caption(f"Network: {spec.describe()}; data: {setting.n} samples of {setting.data}.")
        data = compute.dataset(setting.data, setting.n, setting.noise, setting.seed)
        paths, stopped = compute.race(setting)
        picture = compute.picture(setting, paths)
    except ERRORS as error:
        st.error(escape_markdown(str(error)))
        if isinstance(error, compute.TooHeavy):
            offer_what_fits(error)
        st.stop()
    show_notices(stopped)
    labels = racer_labels(setting.racers)
    for label, step in zip(labels, paths.diverged_at):
        if step is not None:
            st.warning(
                f"**{escape_markdown(label)} diverged at step {step}**: its loss went past "
                f"{network.DIVERGENCE_FACTOR:g}× the start's (or became NaN/inf). Its path is drawn up to step "
                f"{step - 1}; a smaller learning rate, a schedule with warm-up or gradient clipping tames it."
            )
    return Run(setting, data, paths, picture, labels)


def figure_section(run: Run) -> None:
    phone = on_phone()
    spec = network_spec(run.picture, run.paths, run.data, run.labels, phone=phone)
    st.plotly_chart(PlainFigure(spec), width="stretch", key=f"{PAGE}_chart", config=chart_config(phone))
    view = run.picture.view
    if view.plane.kind == "pca":
        share = f"The plane holds **{view.captured:.1%}** of the paths' variance (PC1 {view.plane.explained[0]:.1%}, PC2 {view.plane.explained[1]:.1%})."
    else:
        share = f"Two random directions hold **{view.captured:.1%}** of the paths' variance: most of each path moves off the plane."
    st.markdown(
        share + " Where a solid loss curve and its dotted twin part, the contours under the path are not the loss "
        "the network has: the path is moving through the dimensions the plane leaves out."
    )
    device = run.paths.device
    st.caption(
        f"Trained on {device}: {run.paths.seconds:.2f} s for {len(run.labels)} racer(s) × {run.paths.done} steps; "
        f"the {len(view.alphas)}² grid in {view.seconds:.2f} s (one batched pass). Solid: the recorded loss; dotted: "
        "the loss at the iterate's projection on the plane."
    )


def faithfulness_rows(run: Run) -> list[dict[str, str]]:
    """Per racer at its last step: true loss, loss on the plane under it, distance from the plane."""
    view, rows = run.picture.view, []
    for r, label in enumerate(run.labels):
        losses = run.paths.losses[r]
        if not len(losses):
            continue
        true, plane, distance = float(losses[-1]), float(view.plane_losses[r][-1]), float(view.distances[r][-1])
        worst = int(np.argmax(view.distances[r]))
        rows.append(
            {
                "optimizer": label,
                "gap": f"{abs(plane - true) / max(abs(true), 1e-12):.1%}",
                "off the plane": f"{distance:.3g}",
                "relative to the paths' spread": f"{compute.relative(distance, view.spread):.2f}",
                "true loss": f"{true:.4g}",
                "loss on the plane": f"{plane:.4g}",
                "largest distance (step)": f"{float(view.distances[r][worst]):.3g} ({worst})",
                "last step": str(len(losses) - 1),
                "status": "diverged" if run.paths.diverged_at[r] is not None else "ok",
            }
        )
    return rows


# what each column of the faithfulness table says (on hover over its name)
FAITHFULNESS_HELP = {
    "gap": "How far the loss read off the plane under the last iterate is from the network's true loss there, "
    "relative to the true loss: the contours' error at that point.",
    "off the plane": "‖θ − projection‖: how far the last iterate lies from the plane, in weight space.",
    "relative to the paths' spread": "off the plane ÷ the root-mean-square distance of all iterates from their "
    "mean: near 0, the plane holds the path; near 1 or more, the picture leaves most of it out.",
    "true loss": "The network's loss at the last iterate, as training recorded it.",
    "loss on the plane": "The loss at the last iterate's projection onto the plane (the contours under its dot).",
    "largest distance (step)": "The farthest any iterate of this path lies from the plane, and at which step.",
}


def faithfulness_section(run: Run) -> None:
    st.subheader("How faithful is the picture?")
    # the answers first, the optimizer's name kept in view: on a phone or a projector the table scrolls sideways
    st.dataframe(
        faithfulness_rows(run),
        hide_index=True,
        column_config={
            "optimizer": st.column_config.TextColumn(pinned=True),
            **{name: st.column_config.TextColumn(help=text) for name, text in FAITHFULNESS_HELP.items()},
        },
    )
    st.caption(
        "gap: how far the loss read off the plane is from the network's true loss at the same step. off the "
        "plane: ‖θ − projection‖, compared with the root-mean-square distance of all iterates from their mean."
    )


# -- share and export -------------------------------------------------------------------------------------------
def paths_csv(run: Run) -> str:
    out = io.StringIO()
    out.write("optimizer,step,loss,loss_on_plane,alpha,beta,distance,lr\n")
    view = run.picture.view
    for r, label in enumerate(run.labels):
        lrs = run.paths.lrs[r]
        text = label.replace('"', '""')
        for t in range(len(run.paths.losses[r])):
            lr = repr(float(lrs[t])) if t < len(lrs) else ""
            cells = [run.paths.losses[r][t], view.plane_losses[r][t], *view.coords[r][t], view.distances[r][t]]
            numbers = ",".join(repr(float(v)) if math.isfinite(v) else "" for v in cells)
            out.write(f'"{text}",{t},{numbers},{lr}\n')
    return out.getvalue()


def paths_json(run: Run, query: dict[str, str]) -> str:
    view = run.picture.view
    return json.dumps(
        {
            "link": query,
            "network": run.setting.spec.describe(),
            "device": run.paths.device,
            "plane": {"kind": view.plane.kind, "explained": [float(v) for v in view.plane.explained],
                      "captured": view.captured, "spread": view.spread},
            "grid": {"alpha": view.alphas.tolist(), "beta": view.betas.tolist(), "loss": view.losses.tolist()},
            "racers": [
                {"label": label, "optimizer": racer.name, "hyper": {k: v for k, v in dict(racer.hyper).items()},
                 "diverged_at": run.paths.diverged_at[r], "loss": run.paths.losses[r].tolist(),
                 "loss_on_plane": view.plane_losses[r].tolist(), "coords": view.coords[r].tolist(),
                 "distance": view.distances[r].tolist(), "lr": run.paths.lrs[r].tolist()}
                for r, (label, racer) in enumerate(zip(run.labels, run.setting.racers))
            ],
        },
        default=lambda v: list(v) if isinstance(v, tuple) else str(v),
    )  # fmt: skip


def share_section(run: Run, values: dict[str, Any]) -> None:
    st.subheader("Share and export")
    query = ps.to_query(FIELDS, values)
    st.text_input(
        "Link to this race",
        f"{st.context.url or ''}?{urlencode(query)}",
        disabled=True,
        help="The address bar always holds this link too: opening it trains the same race.",
    )
    left, middle, right = st.columns(3)
    left.download_button(
        "Paths (CSV)", data=lambda: paths_csv(run), file_name=f"gdviz-network-{run.setting.data}.csv",
        mime="text/csv", key=f"{PAGE}_dl_csv", on_click="ignore",
    )  # fmt: skip
    middle.download_button(
        "Paths and grid (JSON)", data=lambda: paths_json(run, query),
        file_name=f"gdviz-network-{run.setting.data}.json", mime="application/json", key=f"{PAGE}_dl_json",
        on_click="ignore",
    )  # fmt: skip
    try:
        script = pytorch_script(run)
    except ValueError as error:
        right.caption(f"No PyTorch script for this race: {escape_markdown(str(error))}")
    else:
        right.download_button(
            "Copy as PyTorch (script)", data=lambda: script, file_name=f"gdviz_network_{run.setting.data}.py",
            mime="text/x-python", key=f"{PAGE}_dl_script", on_click="ignore",
            help="A standalone script (torch and numpy only): the same data, network, initial weights and "
            "minibatches, each racer trained with torch.optim; it prints every racer's loss after each step, "
            "this page's numbers on the CPU.",
        )  # fmt: skip


def pytorch_script(run: Run) -> str:
    """The race as a standalone PyTorch script (gdviz.network.network_script); ValueError where it cannot be."""
    s = run.setting
    return network.network_script(
        s.data, s.spec, list(s.racers), s.steps, n=s.n, noise=s.noise, seed=s.seed, schedule=s.schedule,
        batch_size=s.batch_size, labels=run.labels,
    )  # fmt: skip

"""The Playground's sections: the sidebar, the race, the linked panels, the inspector, sharing and downloads.

Each function draws one section from a :class:`~ui.playground.simulate.Race`. The panels and the inspector are
``st.fragment``s: their own widgets (log scale, tolerance, cursor; optimizer and step) rerun only
the fragment, never the simulation or the race figure. Untrusted text (labels, notices that quote a
link) is escaped before it reaches Markdown.

First paint: the browser loads the code of each kind of element lazily, on its first appearance, and
Plotly's is the largest by far (~4.7 MB). So the page sends the race chart first (the sidebar is drawn
after it, from the same session state), and nothing on the page needs a further heavy bundle: the
tables are Markdown (``st.dataframe`` would pull ~1.5 MB of grid and Arrow code) and the share link
is a disabled text input (``st.code`` would pull a ~1.5 MB syntax highlighter).
"""

from __future__ import annotations

from collections.abc import Collection, MutableMapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ui import limits
from ui.figures.panels import panels_figure, results_rows
from ui.figures.plain import PlainFigure
from ui.figures.race import MAX_FRAMES, race_spec
from ui.live_chart import figure_json, live_chart
from ui.playground import controls, scrub, sidebar_state, stage
from ui.playground.export import csv_bytes, figure_html, json_bytes, pytorch_download
from ui.playground.headline import first_visit_line
from ui.playground.inspector import LABELS, display, effective_lrs, inspect
from ui.playground.presets import PRESETS, loaded_story
from ui.playground.scenario import CUSTOM, Scenario, auto_labels, to_query
from ui.playground.scrub import scrub_inputs
from ui.playground.simulate import Race, divergence_messages, formula_dim
from ui.playground.view_3d import surface_3d_chart
from ui.screen import chart_config, narrow_window_css, on_phone, row_holding
from ui.state.fields import adopt_browser_values
from ui.state.notices import show as show_notices
from ui.state.text import escape_markdown
from ui.state.widgets import KEEP, log_grid, settle

K_RACE = "pg_race"
# nothing on these charts is selected: no box or lasso selection in their mode bars
CHART_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}
K_RERUN = "pg_sidebar_rerun"  # set while the one rerun that realigns the chart with the sidebar is pending
FORMULA_HELP = (
    "Formulas use x and y (or x1 and x2), numbers, + - * / ^ and sin cos tan exp log sqrt abs tanh sinh cosh, "
    "e.g. `x^2 + 2*y^2`, `x*cos(0.15*pi*x)` or `(1 - x)^2 + 100*(y - x^2)^2`."
)
escape = escape_markdown


# -- sidebar pieces that belong to the page, not to one control ------------------------------------
def _on_preset() -> None:
    key = st.session_state.get(sidebar_state.K_PRESET)
    if key in PRESETS:
        controls.load(PRESETS[key].scenario)


def preset_picker() -> None:
    """The story picker; it shows the story the scenario was loaded from (also after a tweak: the story box
    above the chart says "modified" then)."""
    state = st.session_state
    if state.get(sidebar_state.K_PRESET) not in PRESETS:
        settle(state, sidebar_state.K_PRESET, None)
    st.selectbox(
        "Story",
        list(PRESETS),
        key=sidebar_state.K_PRESET,
        format_func=lambda key: PRESETS[key].title,
        placeholder="Choose a story…",
        on_change=_on_preset,
        help="Loads a whole scenario: surface, start, optimizers and their settings.",
        persist_state=KEEP,
    )


def _back_to_story(key: str) -> None:
    controls.load(PRESETS[key].scenario)


def _leave_story() -> None:
    scenario, _ = sidebar_state.read_scenario(st.session_state)
    controls.load(replace(scenario, story=""))


def check_formula(state: MutableMapping[str, Any]) -> str | None:
    """Before any widget: a custom formula's dimension where the scenario reader and the start inputs
    look for it, and the parser's message if it is not accepted (None otherwise)."""
    if state.get(sidebar_state.K_SURFACE) != CUSTOM:
        return None
    dim, error = formula_dim(state.get(sidebar_state.K_FORMULA, ""))
    state["pg_dim"] = dim
    return error


def sidebar(scenario: Scenario) -> None:
    """Every control of the scenario, drawn after the race chart so that the chart reaches the browser first.

    The widgets hold their values in session state, so ``scenario`` (read from it) is what they show. A
    widget may still normalize its state as it is drawn (a schedule the sidebar does not offer falls back
    to a constant lr); then the page reruns once, so that the chart shows what the sidebar says.
    """
    state = st.session_state
    before = sidebar_state.sidebar_snapshot(state)
    with st.sidebar:
        st.header("Scenario")
        preset_picker()
        controls.surface_widgets(formula_dim)
        controls.run_widgets()
        controls.schedule_widgets()
        st.header("Optimizers")
        controls.optimizer_widgets(auto_labels(scenario.optimizers))
    adopt_browser_values(state)  # a reconnecting browser's last change (ui/state/fields.py)
    # reading the scenario again only when a widget did change its state while drawn
    if sidebar_state.sidebar_snapshot(state) == before or sidebar_state.read_scenario(state)[0] == scenario:
        state.pop(K_RERUN, None)
    elif not state.get(K_RERUN):  # at most once in a row, whatever a widget does
        state[K_RERUN] = True
        st.rerun()


def markdown_table(header: list[str], rows: list[list[Any]], numeric: Collection[str] = ()) -> str:
    """A Markdown table, every cell escaped; ``numeric`` columns right-aligned."""

    def cell(value: Any) -> str:
        return escape(value).replace("\n", " ") or " "

    lines = [
        "| " + " | ".join(cell(name) for name in header) + " |",
        "|" + "|".join("---:" if name in numeric else ":---" for name in header) + "|",
    ]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def _number(value: Any) -> str:
    return "—" if value is None or (isinstance(value, float) and not np.isfinite(value)) else f"{value:.4g}"


# -- messages ----------------------------------------------------------------------------------
def story(scenario: Scenario) -> None:
    """The story the scenario was loaded from; once the visitor has changed something it stays, marked
    modified, with a button back to the story as told (and one to put it away)."""
    preset, modified = loaded_story(scenario)
    if preset is None:
        return
    place = st.container()
    if on_phone():  # the story's paragraph would push the chart off a phone's first screen: one tap opens it
        title = f"{preset.title} · modified" if modified else preset.title
        place = st.expander(escape(title), icon=":material/edit:" if modified else ":material/menu_book:")
    if not modified:
        place.info(f"**{escape(preset.title)}** — {escape(preset.story)}")
        return
    place.info(
        f"**{escape(preset.title)}** · *modified*: you changed its scenario, so the story below may no longer "
        f"hold. — {escape(preset.story)}",
        icon=":material/edit:",
    )
    left, right = place.columns(2)
    left.button("Back to the story", key="pg_story_back", on_click=_back_to_story, args=(preset.key,))
    right.button("Leave the story", key="pg_story_leave", on_click=_leave_story)


def headline(race: Race) -> None:
    """The first visit's one line about the default race (ui/playground/headline.py); nothing otherwise.

    Plain text, not a notice: the page's boxes are kept for what went wrong with a visitor's input (and a
    hostile link's text in them is checked to render plain). Left out of the projector view, whose chart and
    Play must fit a projector's first screen, and where the teacher says it."""
    line = first_visit_line(race)
    if line and chart_view() != "projector":
        st.markdown(f":material/play_circle: {line}")


def notices(messages: list[str]) -> None:
    show_notices(messages, icon=":material/warning:")


def divergence(race: Race) -> None:
    for who, what in divergence_messages(race):
        st.error(f"**{escape(who)}** {escape(what)}", icon=":material/error:")


# -- the race --------------------------------------------------------------------------------------
def _on_click() -> None:
    """A click on the map (or the 1-D curve) moves the start point there."""
    result = st.session_state.get(K_RACE)
    point = result.get("click") if hasattr(result, "get") else None
    if not isinstance(point, dict):
        return
    cap = limits.MAX_ABS_START
    dim = st.session_state.get("pg_dim", 2)
    coordinates = [point.get("x")] if dim == 1 else [point.get("x"), point.get("y")]
    if any(not isinstance(v, (int, float)) or not np.isfinite(v) for v in coordinates):
        return
    for key, value in zip(sidebar_state.K_START, coordinates, strict=False):
        st.session_state[key] = float(f"{limits.clamp(float(value), -cap, cap):.4g}")


K_PRESENT = "pg_present"
# a projector's window at 150 % zoom is ~850x480 CSS pixels: the page title and Streamlit's top padding
# would push the chart's Play button off the first screen
PRESENTATION_CSS = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 1.5rem; }
[data-testid="stMainBlockContainer"] h1 { display: none; }
</style>"""
# the inspector's equations in a column beside the map: smaller, and scrolled rather than cut off. Beside
# the map only where the page is wide: in a narrow window (a projector) the map's 3/5 of what the sidebar
# leaves is ~300 px, so there the stage and the inspector go under the map
READOUT_CSS = f"""<style>
.st-key-pg_readout .katex-display {{ overflow-x: auto; overflow-y: hidden; font-size: 0.92em; margin: 0.4em 0; }}
{narrow_window_css(row_holding(K_RACE))}
</style>"""


def chart_view() -> str:
    """How the race chart is laid out: "projector" when the visitor asks for it, "phone" on a phone."""
    if st.session_state.get(K_PRESENT):
        return "projector"
    return "phone" if on_phone() else "standard"


@dataclass(frozen=True)
class RaceFigure:
    figure: go.Figure
    scrub_note: str | None  # why some racers cannot be scrubbed (None: all can)

    @cached_property
    def json(self) -> bytes:
        """What the browser gets (ui/live_chart.py), serialized once per cached figure."""
        return figure_json(self.figure)


@st.cache_resource(max_entries=limits.FIGURE_CACHE_MAX_ENTRIES, show_spinner=False)
def _race_figure(key: str, _race: Race, view: str = "standard", step: int | None = None) -> RaceFigure:
    # building the animated figure is most of a rerun's time; it is never mutated after this, so one
    # instance per scenario and step can serve every rerun, as a plain dict that Streamlit serializes without
    # copying it first (ui/figures/plain.py). The page's figure opens at the cursor's step, leaves Play to the
    # stage beside it (standard view) and carries every racer's scrub paths
    if step is None:  # the downloadable figure: the whole race, its own Play buttons, no scrub paths
        spec = race_spec(_race.surface, _race.trajectories, _race.labels, effective_lr=effective_lrs)
        return RaceFigure(PlainFigure(spec), None)
    inputs, note = scrub_inputs(_race, min(_race.scenario.steps, MAX_FRAMES) + 1)
    spec = race_spec(
        _race.surface,
        _race.trajectories,
        _race.labels,
        effective_lr=effective_lrs,
        view=view,
        current_step=step,
        max_frames=MAX_FRAMES,
        buttons=view != "standard",
        scrub=inputs,
    )
    return RaceFigure(PlainFigure(spec), note)


@st.cache_resource(max_entries=limits.FIGURE_CACHE_MAX_ENTRIES, show_spinner=False)
def _panels_figure(
    key: str, log_loss: bool, cursor: int, tolerance: float, _race: Race, compact: bool = False
) -> bytes:
    fig = panels_figure(
        _race.trajectories, _race.labels, log_loss=log_loss, current_step=cursor, tolerance=tolerance, compact=compact
    )
    return figure_json(PlainFigure(fig.to_dict()))  # serialized once here, not again on every rerun that shows it


def legend_caption(meta: dict) -> str:
    """Plain words for the map's legend terms that are drawn on this chart (arrows, effective-lr boxes)."""
    glyphs = meta.get("glyphs", {})
    parts = []
    if "update" in glyphs:
        parts.append("**Δx update** (solid arrow): the step the optimizer really took, from xₜ₋₁ to xₜ")
    if "gradient" in glyphs:
        parts.append("**−η·g** (dotted): where plain gradient descent would have gone from the same point")
    if "momentum" in glyphs:
        parts.append("**−η·m** (dashed): the push of the optimizer's momentum (its running average of gradients)")
    if meta.get("boxes"):
        parts.append(
            "**□ boxes**: an adaptive optimizer's own learning rate per coordinate, η_eff = η/(√v̂ + ε); a wide, "
            "flat box means big steps along x₁ and small ones along x₂ (hover a corner for the numbers)"
        )
    if not parts:
        return ""
    tail = " Arrows are drawn at the current step; very short ones are magnified (the hover says by how much), "
    tail += "and they are left out once a point sits on the minimum's star."
    return "; ".join(parts) + "." + (tail if glyphs else "")


def race_section(race: Race) -> None:
    """The race chart and, beside it on a wide screen (under it otherwise), the stage and the inspector."""
    view = chart_view()
    if view != "phone":  # (a phone's title: every small window's, ui/screen.py)
        st.html(READOUT_CSS if view == "standard" else PRESENTATION_CSS)
    step = stage.cursor(st.session_state, race.scenario.steps)
    built = _race_figure(race.key, race, view, step)
    chart, side = st.columns([3, 2], gap="medium") if view == "standard" else (st.container(), st.container())
    with chart:
        live_chart(
            built.json,
            key=K_RACE,
            on_click=_on_click,
            # on a phone the mode bar would sit on the legend, and a finger drag on the map zooms by mistake
            config=chart_config(view == "phone", **CHART_CONFIG, scrollZoom=False),
        )
        caption = legend_caption(built.figure.to_dict()["layout"].get("meta", {}))
        if caption:
            st.caption(caption)
        chart_toggles(race, view)
    with side.container(key="pg_readout"):
        readout(race, built.scrub_note)


@st.fragment
def chart_toggles(race: Race, view: str) -> None:
    """Projector view and the 3-D view. A fragment: showing or hiding the 3-D chart reruns only this, not the
    race, the sidebar and the panels (a whole-page rerun was most of the wait for the 3-D view); the projector
    view lays out the whole page, so a change of it reruns the page."""
    left, right = st.columns(2)
    projector = left.toggle(
        "Projector view",
        key=K_PRESENT,
        help="a shorter chart with larger text, and no page title, so that the chart and Play fit a projector's "
        "screen (1280x720 at 150 % zoom)",
        persist_state=KEEP,
    )
    if projector != (view == "projector"):
        st.rerun(scope="app")
    if race.surface.dim == 2:
        shown = right.toggle(
            "3-D view", key="pg_3d", help="the surface as a mesh with every path on it", persist_state=KEEP
        )
        # at the cursor's step as the session has it now (this may rerun alone); the stage moves it from there
        surface_3d_chart(race, stage.cursor(st.session_state, race.scenario.steps), shown=shown)


@st.fragment
def panels(race: Race) -> None:
    """Loss, distance, lr(t), gradient norm with a cursor; the results table. Reruns on its own."""
    st.subheader("Linked panels")
    left, middle, right = st.columns([1, 1, 2])
    log_loss = left.toggle("log scale", value=True, key="pg_log", persist_state=KEEP)
    tolerance = middle.select_slider(
        "tolerance",
        options=log_grid(1e-10, 1.0),
        value=1e-4,
        key="pg_tol",
        format_func=lambda v: f"{v:g}",
        help="'steps to f* + tol': the first step whose loss is within this of the minimum value",
        persist_state=KEEP,
    )
    # the stage's cursor (in the browser the stage moves this line with the race, ui/playground/stage_js.py)
    cursor = stage.cursor(st.session_state, race.scenario.steps)
    right.caption(f"The dashed line is the race's step ({cursor}): move it with the controls beside the map.")
    phone = on_phone()
    fig = _panels_figure(race.key, log_loss, cursor, tolerance, race, phone)
    live_chart(fig, key="pg_panels", config=chart_config(phone, **CHART_CONFIG))
    rows = results_rows(race.trajectories, race.labels, tolerance)
    if rows:
        header = list(rows[0])
        numeric = {name for name in header if all(row[name] is None or isinstance(row[name], float) for row in rows)}
        cells = [[_number(row[name]) if name in numeric else row[name] for name in header] for row in rows]
        st.markdown(markdown_table(header, cells, numeric | {"steps to f* + tol", "diverged at", "run"}))


def _commit(race: Race, value: dict) -> bool:
    return scrub.commit(st.session_state, race, value.get("racer"), value.get("lr"), value.get("beta"))


@st.fragment
def readout(race: Race, scrub_note: str | None) -> None:
    """The stage (the race's controls and scrubbers) and the inspector at the stage's step. Reruns on its
    own whenever the stage reports a step, so the numbers follow the picture without redrawing it."""
    state = st.session_state
    names = list(range(len(race.labels)))
    index = state.get("pg_insp_opt")
    index = index if isinstance(index, int) and 0 <= index < len(race.trajectories) else 0
    stage.stage(index, scrub_note, lambda value: _commit(race, value))
    st.subheader("Step inspector")
    left, right = st.columns([3, 2])
    index = left.selectbox(
        "optimizer", names, key="pg_insp_opt", format_func=lambda i: race.labels[i], persist_state=KEEP
    )
    index = index if index is not None and index < len(race.trajectories) else 0
    trajectory = race.trajectories[index]
    run = 0
    if trajectory.batched:
        starts = [race.scenario.start, *race.scenario.more_starts]
        run = right.selectbox(
            "from start",
            range(len(starts)),
            key="pg_insp_run",
            format_func=lambda r: ", ".join(f"{v:g}" for v in starts[r]),
            persist_state=KEEP,
        )
    step = stage.cursor(state, race.scenario.steps)
    if step == 0:
        st.caption(
            "Step 0 is the start x₀. Press **▶ Play** (or the space bar), or **→** for one step, to see the updates."
        )
        return
    _inspection(trajectory, step, run or 0)


def _inspection(trajectory, step: int, run: int) -> None:
    """The update rule at ``step``, with its numbers."""
    report = inspect(trajectory, step, run=run)
    if report.note:
        st.info(report.note)
        return
    st.markdown(f"**step t = {step}**")
    with st.expander("update rule", expanded=False):
        st.latex(display(trajectory.optimizer.rule))
    for line in report.lines:
        st.latex(line)
    rows = {}
    for name, value in report.values.items():
        if np.ndim(value) <= 1:
            rows[LABELS.get(name, name)] = [f"{v:.6g}" for v in np.atleast_1d(np.asarray(value, dtype=np.float64))]
    if rows:
        width = max(len(v) for v in rows.values())
        columns = [f"x{i + 1}" for i in range(width)] if width > 1 else ["value"]
        cells = [[name, *values, *[""] * (width - len(values))] for name, values in rows.items()]
        st.markdown(markdown_table(["", *columns], cells, set(columns)))


# -- sharing ---------------------------------------------------------------------------------------
def share_link(scenario: Scenario) -> str:
    base = st.context.url or ""
    return f"{base}?{urlencode(to_query(scenario))}"


def share(race: Race) -> None:
    st.subheader("Share and export")
    st.text_input(
        "Link to this scenario",
        share_link(race.scenario),
        disabled=True,
        help="The address bar always holds this link too: opening it shows the same picture.",
    )
    name = race.scenario.surface if not race.scenario.is_custom else "custom"
    trajectories, labels, query = race.trajectories, race.labels, to_query(race.scenario)
    columns = st.columns(3)
    columns[0].download_button(
        "Trajectories (CSV)",
        data=lambda: csv_bytes(race.key, trajectories, labels),
        file_name=f"gdviz-{name}.csv",
        mime="text/csv",
        key="pg_dl_csv",
        on_click="ignore",
    )
    columns[1].download_button(
        "Trajectories (JSON)",
        data=lambda: json_bytes(race.key, trajectories, labels, query),
        file_name=f"gdviz-{name}.json",
        mime="application/json",
        key="pg_dl_json",
        on_click="ignore",
    )
    columns[2].download_button(
        "Animated figure (HTML)",
        # the figure on screen (cached), not a second build of it
        data=lambda: figure_html(_race_figure(race.key, race).figure),
        file_name=f"gdviz-{name}.html",
        mime="text/html",
        key="pg_dl_html",
        on_click="ignore",
    )
    pytorch_download(race)

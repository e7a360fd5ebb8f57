"""What the visitor's screen is: a phone or not, the CSS a phone's page gets, and a chart shown for it.
Shared by every page that lays itself out for a phone: the Playground and Networks build their own phone
figures; the Lab, Schedules and Linear Regression show theirs through :func:`show_chart`."""

from __future__ import annotations

import streamlit as st

from ui.figures.style import fit_to_phone

# a phone: the page title on one line or two, so that the chart starts on the first screen
PHONE_CSS = """<style>
[data-testid="stMainBlockContainer"] h1 { font-size: 2rem; }
</style>"""
# a table wider than its column (the Playground's results: 600 px, on a phone or at a projector's zoom) scrolls
# sideways by itself; it made the whole page scroll sideways
TABLES_CSS = """<style>
[data-testid="stMarkdownContainer"] table { display: block; max-width: 100%; overflow-x: auto; }
</style>"""


def keep_tables_on_screen() -> None:
    """Every page's markdown tables within the screen's width (:data:`TABLES_CSS`)."""
    st.html(TABLES_CSS)


def chart_config(phone: bool, **config) -> dict:
    """plotly.js's ``config`` for a chart (``config`` added): no logo, and on a phone no mode bar (it lay over
    the legend, and a finger cannot hover to find it) and no double click: plotly.js took a finger's single tap
    for one and autoranged the axes (white bands around the Networks map), with no mode bar to undo it."""
    return {"displaylogo": False, **config} | ({"displayModeBar": False, "doubleClick": False} if phone else {})


def on_phone() -> bool:
    """Whether the browser says it is a phone (its User-Agent's "Mobi", as browsers' own guidance reads it)."""
    return "Mobi" in (st.context.headers.get("User-Agent") or "")


# plotly.js selects the point under a click from the hover its pointer left there; a mouse hovers on its way, a
# finger does not: on a phone a tap on a selectable map only hovered, and a second tap selected. A touch on a
# plot now first moves plotly's (synthetic) mouse there, so the tap selects. Installed once per page (window flag).
TAP_SELECTS_JS = r"""
export default function () {
  if (window.__gdvizTapSelects) return;
  window.__gdvizTapSelects = true;
  document.addEventListener('touchstart', event => {
    const cover = event.target.closest ? event.target.closest('.js-plotly-plot .nsewdrag') : null;
    if (!cover || event.touches.length !== 1) return;
    const touch = event.touches[0];
    cover.dispatchEvent(new MouseEvent('mousemove', {clientX: touch.clientX, clientY: touch.clientY, bubbles: true}));
  }, {capture: true, passive: true});
}
"""
_TAP_SELECTS = st.components.v2.component(
    "gdviz_tap_selects",
    html='<div class="gd-tap-selects"></div>',
    # (two lines: Streamlit reads a one-line string with "[" in it as a file's name)
    css='.gd-tap-selects { display: none; }\n[data-testid="stElementContainer"]:has(.gd-tap-selects) { display: none; }',
    js=TAP_SELECTS_JS,
    isolate_styles=False,
)


def show_chart(fig, **kwargs):
    """``st.plotly_chart`` of ``fig`` (its ``kwargs`` too), laid out for the screen: on a phone
    (:func:`on_phone`) as :func:`ui.figures.style.fit_to_phone` lays it out, without plotly's mode bar
    (:func:`chart_config`); a chart whose points a visitor selects gets the tap that selects at once
    (:data:`TAP_SELECTS_JS`). Returns what ``st.plotly_chart`` returns (a chart's selection)."""
    phone = on_phone()
    if phone and kwargs.get("on_select", "ignore") != "ignore":
        _TAP_SELECTS(key=f"{kwargs['key']}_taps")
    return st.plotly_chart(fit_to_phone(fig) if phone else fig, config=chart_config(phone), **kwargs)

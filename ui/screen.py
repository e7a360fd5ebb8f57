"""What the visitor's screen is: a phone or not, the CSS a small window's page gets, and a chart shown for it.
Shared by every page that lays itself out for a phone: the Playground and Networks build their own phone
figures; the Lab, Schedules and Linear Regression show theirs through :func:`show_chart`."""

from __future__ import annotations

import streamlit as st

from ui.figures.style import fit_to_phone

# A window at most this many CSS pixels tall or wide: a phone, or a 1280x720 projector at 150 % zoom (853x480)
SMALL_WINDOW_PX = 640
# In a small window every page's title at 2rem (Streamlit's 2.75rem took four lines on Networks and Linear
# Regression at a projector's zoom, five on a phone) and less room above it (Streamlit's 6rem: 96 of a projector's
# 480 px): the first chart then starts on the first screen. The top room keeps clear of Streamlit's header (3.75rem:
# the sidebar's button, the menu). A media query, not the User-Agent: a zoomed desktop window is as small.
SMALL_WINDOW_CSS = f"""<style>
@media (max-height: {SMALL_WINDOW_PX}px), (max-width: {SMALL_WINDOW_PX}px) {{
  [data-testid="stMainBlockContainer"] {{ padding-top: 4rem; }}
  [data-testid="stMainBlockContainer"] h1 {{ font-size: 2rem; }}
  [data-testid="stMainBlockContainer"] [data-testid="stMetricValue"] {{ font-size: 1.75rem; }}
}}
</style>"""
# A row of columns holding a chart, in a main area narrower than this many CSS px, puts them one under another:
# at a projector's zoom (~520 px beside the sidebar) the Lab's maps beside their side charts were 305 and 200 px
# wide, the basins' two maps 253 each, and the Fair comparison's tolerance label lay on its stars. Streamlit itself
# stacks columns only in a window under 640 px. Decided by the main area's width (a container query), not the
# window's: a 1280 px window with the sidebar open leaves 820 px, where they stay side by side.
# A table wider than its column (the Playground's results: 600 px, on a phone or at a projector's zoom) scrolls
# sideways by itself; it made the whole page scroll sideways. On a touch screen (no hover) Streamlit shows a
# dataframe's toolbar (show, download, search, full screen: 44 px) all the time, in the 44 px above the table: it lay
# over the heading there ("How faithful is the pic[toolbar]"); that room is now the table's own.
TABLES_CSS = """<style>
[data-testid="stMarkdownContainer"] table { display: block; max-width: 100%; overflow-x: auto; }
@media (hover: none) {
  [data-testid="stElementContainer"]:has(> [data-testid="stFullScreenFrame"] > [data-testid="stDataFrame"]) {
    margin-top: 2.75rem;
  }
}
</style>"""


def keep_tables_on_screen() -> None:
    """Every page's markdown tables within the screen's width, and room for a dataframe's toolbar on a touch
    screen (:data:`TABLES_CSS`)."""
    st.html(TABLES_CSS)


# A formula (st.latex: KaTeX's display mode) wider than its box scrolled sideways with no cue on a phone, a
# projector, the sidebar or a narrow column: the rule read "(AMSGrad: v_t^max = max(v_{t-1}^max, v". Each one is
# now drawn smaller until it fits its box, down to MIN_SCALE of its size (smaller is unreadable; it scrolls from
# there); it is measured again whenever its box's width or its text changes (a phone turned, an expander opened,
# another schedule chosen). Installed once per page (window flag).
FORMULA_MIN_SCALE = 0.55
FIT_FORMULAS_JS = r"""
(() => {
  if (window.__gdvizFitFormulas) return;
  window.__gdvizFitFormulas = true;
  const MIN_SCALE = __MIN_SCALE__;
  let fittedFor = new WeakMap();  // a formula's box -> the room and text it was last fitted for
  // the room is the width of the formula's element: its own box is as wide as its content (a flex item), so it
  // shrinks with the formula and would be no measure of the space there is
  const elementOf = box => box.closest('[data-testid="stElementContainer"]') || box.parentElement;
  const fit = box => {
    const formula = box.querySelector('.katex');
    const room = elementOf(box).clientWidth;
    if (!formula || !room) return;  // not shown (a closed expander): fitted when it shows, by its resize
    const key = room + '|' + box.textContent;
    if (fittedFor.get(box) === key) return;
    fittedFor.set(box, key);
    formula.style.fontSize = '';
    delete formula.dataset.gdvizScale;
    if (box.scrollWidth <= room + 1) return;
    const natural = parseFloat(getComputedStyle(formula).fontSize);
    let scale = room / box.scrollWidth;
    for (let pass = 0; pass < 3; pass++) {  // a few pixels that do not scale: shrink again by what is left over
      scale = Math.max(MIN_SCALE, scale);
      formula.style.fontSize = (natural * scale).toFixed(2) + 'px';
      formula.dataset.gdvizScale = scale.toFixed(3);
      if (scale === MIN_SCALE || box.scrollWidth <= room + 1) break;
      scale *= 0.995 * room / box.scrollWidth;
    }
  };
  const resized = new ResizeObserver(entries => {
    for (const entry of entries) entry.target.querySelectorAll('.katex-display').forEach(fit);
  });
  const watched = new WeakSet();
  let queued = false;
  const scan = () => {
    queued = false;
    for (const box of document.querySelectorAll('.katex-display')) {
      const element = elementOf(box);
      if (watched.has(element)) fit(box);  // its text may have changed in place
      else { watched.add(element); resized.observe(element); }  // observing it fits its formulas at once
    }
  };
  // only changes that bring or alter a formula: a playing chart changes its SVG at every frame
  const bringsFormula = record => {
    const target = record.target.nodeType === 1 ? record.target : record.target.parentElement;
    if (target && target.closest('.katex-display')) return true;
    for (const node of record.addedNodes) {
      if (node.nodeType === 1 && (node.matches('.katex-display') || node.querySelector('.katex-display'))) return true;
    }
    return false;
  };
  window.__gdvizFormulaScans = 0;  // (counted for the tests)
  new MutationObserver(records => {
    if (queued || !records.some(bringsFormula)) return;
    queued = true;
    window.__gdvizFormulaScans += 1;
    requestAnimationFrame(scan);
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
  // KaTeX's fonts arrive after its first formulas are laid out in a fallback font of other widths: fit again
  const refitAll = () => { fittedFor = new WeakMap(); document.querySelectorAll('.katex-display').forEach(fit); };
  document.fonts.addEventListener('loadingdone', refitAll);
  document.fonts.ready.then(refitAll);
  scan();
})();
""".replace("__MIN_SCALE__", repr(FORMULA_MIN_SCALE))
# the element that runs it takes no room: its container (and the gap after it) hidden
FIT_FORMULAS_HTML = (
    '<span class="gd-hidden"></span>'
    '<style>[data-testid="stElementContainer"]:has(.gd-hidden) { display: none; }</style>'
    f"<script>{FIT_FORMULAS_JS}</script>"
)


def fit_formulas() -> None:
    """Every page's formulas drawn small enough to fit their boxes (:data:`FIT_FORMULAS_JS`). A script in the
    page rather than a component: it has nothing to tell the server, so it is no widget in the session's state
    (the first chart, benchmarks/first_chart.py, was 1.23-1.28x its peer in three runs with a component, 0.99-1.04x
    in five of six with the script)."""
    st.html(FIT_FORMULAS_HTML, unsafe_allow_javascript=True)


# Streamlit stacks columns only in a window under 640 CSS pixels; a 1280x720 projector at 150 % zoom is 853, where
# a row of columns beside the sidebar leaves each one ~200-300 px: too narrow for a chart or a formula
NARROW_WINDOW_PX = 1000


def row_holding(key: str) -> str:
    """The CSS selector of the row of columns that holds the container ``key``."""
    return f'[data-testid="stHorizontalBlock"]:has(.st-key-{key})'


def wrapped_columns_css(row: str, share: str = "100%", grow: int = 1) -> str:
    """CSS rules (for inside a media or container query) that wrap ``row`` (a selector of a row of ``st.columns``)
    and give each of its columns ``share`` of the row's width: one under another at 100 %. ``grow`` 0 keeps a
    short last line's columns at that share, under the columns above them."""
    return (
        f"  {row} {{ flex-wrap: wrap; }}\n"
        f'  {row} > [data-testid="stColumn"] {{ flex: {grow} 1 {share} !important; width: {share} !important; '
        f"min-width: {share} !important; }}\n"
    )


def narrow_window_css(row: str, share: str = "100%") -> str:
    """CSS that gives each column of ``row`` ``share`` of the row's width, wrapping, in a window narrower than
    :data:`NARROW_WINDOW_PX` (:func:`wrapped_columns_css`)."""
    return f"@media (max-width: {NARROW_WINDOW_PX}px) {{\n{wrapped_columns_css(row, share)}}}"


# A row of columns holding a chart, in a main area narrower than this many CSS px, puts them one under another:
# at a projector's zoom (~520 px beside the sidebar) the Lab's maps beside their side charts were 305 and 200 px
# wide, the basins' two maps 253 each, and the Fair comparison's tolerance label lay on its stars. Streamlit itself
# stacks columns only in a window under 640 px. Decided by the main area's width (a container query), not the
# window's: a 1280 px window with the sidebar open leaves 820 px, where they stay side by side.
CHART_ROW_MIN_PX = 700
CHART_ROW = '[data-testid="stHorizontalBlock"]:has(> [data-testid="stColumn"] [data-testid="stPlotlyChart"])'
CHART_ROWS_CSS = (
    '<style>\n[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"] { container-type: inline-size; }\n'
    f"@container (max-width: {CHART_ROW_MIN_PX}px) {{\n{wrapped_columns_css(CHART_ROW)}}}\n</style>"
)
# what every page gets for a small window or a narrow main area, in one element
SMALL_SCREENS_CSS = SMALL_WINDOW_CSS + CHART_ROWS_CSS


def fit_small_windows() -> None:
    """Every page's title and the room above it smaller in a small window (:data:`SMALL_WINDOW_CSS`), and a row of
    charts one under another in a narrow main area (:data:`CHART_ROWS_CSS`)."""
    st.html(SMALL_SCREENS_CSS)


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

"""A Plotly chart that stays mounted while its figure changes: one ``Plotly.react`` per new figure.

Why not ``st.plotly_chart``: Streamlit derives that element's identity from the figure itself, so every changed
figure is a new element. Its frontend then copies the whole figure twice and Plotly draws it twice, from
scratch (measured on the race chart: ~110-180 ms per draw on this 2-core machine, the panels alike), which put
a released slider change at ~0.75 s against the 0.3 s of issue 12. This component keeps one element per key
(a keyed components-v2 element keeps its identity whatever its data), so a new figure is one diff-and-draw in
place, and the handlers the stage (ui/playground/stage_js.py) bound to the chart stay bound.

The browser code draws with the page's own Plotly: Streamlit's Plotly bundle, which sets ``window.Plotly``,
imported from Streamlit's static folder when no ``st.plotly_chart`` has loaded it yet (the same file, so the
browser loads and runs it once either way). The figure travels as bytes of JSON (the same JSON
``st.plotly_chart`` would send, built once per cached figure), not as JSON inside the component's own JSON.

A click on the chart is reported as ``click``: ``{"x": ..., "y": ...}`` of the point under the pointer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import plotly.io
import streamlit as st

LIVE_HTML = '<div class="gd-live"></div>'
LIVE_JS = r"""
function plotly(chunk) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window.__gdvizPlotly) {
    // Streamlit's own bundle, next to the page's main script: the file its st.plotly_chart would load
    const main = document.querySelector('script[type=module][src*="/static/js/"]');
    const url = new URL(chunk, main ? main.src : new URL('static/js/', document.baseURI));
    window.__gdvizPlotly = import(url.href).then(() => window.Plotly);
  }
  return window.__gdvizPlotly;
}

function decode(data) {
  if (typeof data === 'string') return data;
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
  return new TextDecoder().decode(bytes);
}

function chart(box, config, Plotly) {
  const gd = document.createElement('div');
  gd.className = 'gd-live-chart';
  gd.__gdvizConfig = config;
  // a column that changes width (the sidebar opened or closed, a narrower window) redraws the chart at its
  // width; the observer's first call, for the size the chart was just drawn at, does not (one draw, not two)
  // (and not while put away, or coming back: the next figure is drawn at the width the chart has then)
  new ResizeObserver(() => {
    if (box.hidden || box.style.visibility === 'hidden' || !box.clientWidth) return;
    if (gd.isConnected && gd._fullLayout && Math.abs(gd._fullLayout.width - box.clientWidth) > 1) {
      Plotly.Plots.resize(gd);
    }
  }).observe(box);
  return gd;
}

// resolved when the page's first live chart is drawn: a prewarm never delays a page's first chart
if (!window.__gdvizFirstDrawn) {
  let resolve;
  window.__gdvizFirstDrawn = new Promise(r => { resolve = r; });
  window.__gdvizFirstDrawn.resolve = resolve;
}
const idle = () => new Promise(r => (window.requestIdleCallback || (f => setTimeout(f, 200)))(r, { timeout: 3000 }));

// A put-away chart with a "prewarm" figure (the 3-D view's: a tiny figure of the same kinds) builds its chart
// with it once the page has drawn its first chart and is idle, off screen, and keeps it hidden: the first real
// figure is then drawn into a chart whose scene exists (in software WebGL, building a scene is most of a first
// 3-D toggle). Not on a narrow screen: a phone pays at its first toggle, not on every visit.
function prewarm(box, payload) {
  if (box.__gdvizPrewarm || box.querySelector('.gd-live-chart') || window.matchMedia('(max-width: 640px)').matches) {
    return;
  }
  box.__gdvizPrewarmState = 'waiting';
  box.__gdvizPrewarm = window.__gdvizFirstDrawn.then(idle).then(async () => {
    if (box.__gdvizPrewarmState !== 'waiting' || box.querySelector('.gd-live-chart')) return;
    box.__gdvizPrewarmState = 'drawing';
    const Plotly = await plotly(payload.plotly);
    const holder = document.createElement('div');
    const width = (box.closest('[data-testid="stVerticalBlock"]') || document.body).clientWidth || 700;
    holder.style.cssText = `position:fixed;left:-${width + 100}px;top:0;width:${width}px;visibility:hidden;`;
    document.body.appendChild(holder);
    const gd = chart(box, JSON.stringify(payload.config), Plotly);
    holder.appendChild(gd);
    const started = performance.now();
    const figure = payload.prewarm;
    await Plotly.newPlot(gd, { data: figure.data || [], layout: figure.layout || {}, config: payload.config });
    gd.__gdvizPrewarmMs = performance.now() - started;
    box.appendChild(gd);  // the chart, scene and all, into its place: hidden until a figure comes
    holder.remove();
  }).catch(() => {}).finally(() => { box.__gdvizPrewarmState = 'done'; });
}

async function draw(box, text) {
  const payload = JSON.parse(text);
  if (!payload.figure) {  // put away: the chart stays, hidden, to come back without building its scene again
    box.hidden = true;
    if (payload.prewarm) prewarm(box, payload);
    return;
  }
  // a prewarm that has not begun gives way; one that is drawing is waited for (its scene is what we want)
  if (box.__gdvizPrewarmState === 'waiting') box.__gdvizPrewarmState = 'cancelled';
  if (box.__gdvizPrewarmState === 'drawing') await box.__gdvizPrewarm;
  // back from hidden: laid out (so that Plotly reads its size) but not seen until the new figure is drawn
  if (box.hidden) { box.style.visibility = 'hidden'; box.hidden = false; }
  const Plotly = await plotly(payload.plotly);
  if (box.__gdvizText !== text) return;  // a newer figure arrived while Plotly loaded
  const config = JSON.stringify(payload.config);
  let gd = box.querySelector('.gd-live-chart');
  if (gd && gd.__gdvizConfig !== config) {  // a new config means a fresh chart: Plotly would start over anyway
    Plotly.purge(gd);
    gd.remove();
    gd = null;
  }
  if (!gd) {
    gd = chart(box, config, Plotly);
    box.appendChild(gd);
  }
  const figure = payload.figure;
  const started = performance.now();
  await Plotly.react(gd, { data: figure.data || [], layout: figure.layout || {}, frames: figure.frames || [],
                           config: payload.config });
  gd.__gdvizDrawMs = performance.now() - started;
  box.style.visibility = '';
  window.__gdvizFirstDrawn.resolve();
  // for benchmarks/immediacy.py: the frame that first shows this figure (the page may stay busy after the draw)
  const meta = gd.layout && gd.layout.meta;
  requestAnimationFrame(() => { gd.__gdvizShown = { meta, at: performance.now() }; });
  if (payload.clicks && !gd.__gdvizClicks) {
    gd.__gdvizClicks = true;
    gd.on('plotly_click', e => {
      const point = e && e.points && e.points[0];
      if (point && Number.isFinite(point.x)) box.__gdvizTell('click', { x: point.x, y: point.y ?? null });
    });
  }
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const box = parentElement.querySelector('.gd-live');
  box.__gdvizTell = setTriggerValue;
  if (data == null) return;
  const text = decode(data);
  if (text === box.__gdvizText) return;  // a rerun with the figure it shows
  box.__gdvizText = text;
  draw(box, text).catch(e => {
    box.textContent = 'The chart could not be drawn: ' + (e && e.message ? e.message : e);
  });
}
"""
# a hidden chart takes no room: its element's container goes too (Streamlit spaces the containers it shows)
LIVE_CSS = """
.gd-live { width: 100%; } .gd-live-chart { width: 100%; }
[data-testid="stElementContainer"]:has(.gd-live[hidden]) { display: none; }
"""

LIVE_CHART = "gdviz_live_chart"
_LIVE = st.components.v2.component(LIVE_CHART, html=LIVE_HTML, css=LIVE_CSS, js=LIVE_JS, isolate_styles=False)


@lru_cache(maxsize=1)
def plotly_bundle() -> str:
    """The file name of Streamlit's Plotly bundle (it carries a content hash that changes with the release)."""
    folder = Path(st.__file__).parent / "static" / "static" / "js"
    found = sorted(folder.glob("PlotlyChart.*.js"))
    if not found:
        raise RuntimeError(f"Streamlit's Plotly bundle is not in {folder}")
    return found[0].name


def figure_json(figure: Any) -> bytes:
    """The figure as the JSON ``st.plotly_chart`` would send (plotly.py's own encoder: NaN as null, arrays as
    plotly.js's typed arrays), as bytes. Build it once per cached figure: it is the bulk of a rerun's output."""
    return plotly.io.to_json(figure, validate=False).encode()


_FIGURE = b',"figure":'
_PREWARM = b',"prewarm":'


def payload(figure_bytes: bytes | None, config: dict[str, Any], clicks: bool, prewarm: bytes | None = None) -> bytes:
    """What the browser gets: the figure's JSON spliced in as it is (not parsed and dumped again); no figure
    hides the chart, and then ``prewarm`` (a figure's JSON) is what the browser builds the hidden chart with."""
    head = json.dumps({"plotly": plotly_bundle(), "config": config, "clicks": clicks}).encode()
    if figure_bytes is not None:
        return head[:-1] + _FIGURE + figure_bytes + b"}"
    return head if prewarm is None else head[:-1] + _PREWARM + prewarm + b"}"


def figure_of(sent: bytes) -> str | None:
    """The figure's JSON in what :func:`payload` made, as it was given (for tests: strict JSON readers); None
    for a hidden chart."""
    at = sent.find(_FIGURE)
    return None if at < 0 else sent[at + len(_FIGURE) : -1].decode()


def live_chart(
    figure_bytes: bytes | None,
    *,
    key: str,
    config: dict[str, Any],
    on_click: Callable[[], None] | None = None,
    prewarm: bytes | None = None,
) -> Any:
    """Draw a figure (from :func:`figure_json`) in the chart of ``key``; ``on_click`` runs on a click, with the
    point in ``st.session_state[key]["click"]``. ``None`` hides the chart and keeps what the browser built for
    it (a 3-D scene: its WebGL context and shaders), so that the next figure is drawn into it at once; with
    ``prewarm`` (a small figure of the same kinds), a chart not yet built is built with it while the page is
    idle, so that even the first figure is drawn into a built one."""
    callbacks = {"on_click_change": on_click} if on_click else {}
    return _LIVE(key=key, data=payload(figure_bytes, config, on_click is not None, prewarm), **callbacks)

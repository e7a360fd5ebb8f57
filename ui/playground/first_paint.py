"""The race chart first, then the rest of the Playground: a session's first run sends the chart alone.

Why: on a first visit the browser loads and runs Plotly's ~4.7 MB bundle before it can draw the chart, and
at the same time it fetches and runs the code of every other kind of element the page sends (a select
box alone pulls in about 17 script files) and draws those elements. Measured with
``benchmarks/first_chart.py --breakdown`` on this 2-core machine, the sidebar's and the lower sections'
elements delayed the chart by seconds; the chart alone showed about as soon as a bare one-chart page's.

How: a session's first run draws the title, the story and the race chart, mounts a small watcher in the
browser and stops. The watcher tells the server once the chart's picture is on screen (or after
``GIVE_UP_MS``, so that nothing waits for a chart that never draws); that rerun, and every later one, draws
the whole page. Every widget keeps its state in the session (``persist_state``) and the link was written
before the chart, so a run that stops early loses nothing.

Sessions that draw everything at once: one without a browser (the in-process tests, a probe, a script on the
websocket: no browser's User-Agent), a reconnecting browser (it shows the page already and sends its widgets' values), and a run that
has no chart to wait for. See :func:`later`.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

import streamlit as st

from ui.state.fields import RECONNECT_IDS

K_WATCH = "pg_first_paint"  # the watcher component's key
K_SHOWN = "pg_chart_shown"  # set once the browser said the chart was drawn: the whole page from then on
RACE_SVG = ".st-key-pg_race .main-svg"  # what "the chart is on screen" means (the race chart's key is pg_race)
GIVE_UP_MS = 8000  # a chart that never draws (a script error, a blocked bundle) must not hold back the sidebar

# Reports {"shown": true} once the race chart's SVG exists and has been painted (two animation frames), or
# after GIVE_UP_MS. A mounted watcher reports once per page load; the server keeps the answer (K_SHOWN).
WATCH_JS = f"""
export default function (component) {{
  const {{ parentElement, setStateValue }} = component;
  if (parentElement.__gdvizWatching) return;
  parentElement.__gdvizWatching = true;
  let told = false;
  const tell = () => {{
    if (told) return;
    told = true;
    observer.disconnect();
    clearTimeout(timer);
    requestAnimationFrame(() => requestAnimationFrame(() => setStateValue('shown', true)));
  }};
  const observer = new MutationObserver(() => {{ if (document.querySelector({RACE_SVG!r})) tell(); }});
  const timer = setTimeout(tell, {GIVE_UP_MS});
  if (document.querySelector({RACE_SVG!r})) tell();
  else observer.observe(document.body, {{ childList: true, subtree: true }});
}}
"""
_WATCHER = st.components.v2.component("gdviz_first_paint", js=WATCH_JS)


def _on_report() -> None:
    report = st.session_state.get(K_WATCH)
    if hasattr(report, "get") and report.get("shown") is True:
        st.session_state[K_SHOWN] = True


def waits_for_chart(state: Mapping[str, Any], headers: Mapping[str, Any], has_chart: bool) -> bool:
    """Whether this run should stop after the race chart (pure: the rule, apart from Streamlit)."""
    if not has_chart or state.get(K_SHOWN):
        return False
    # no browser behind this session (the in-process tests; a script on the websocket, as benchmarks/load.py's
    # clients are): nobody would run the watcher. Every browser's User-Agent starts with "Mozilla/"
    if not str((headers or {}).get("User-Agent") or "").startswith("Mozilla/"):
        return False
    return not state.get(RECONNECT_IDS)  # a reconnecting browser shows the page already


def later(has_chart: bool) -> bool:
    """Call right after the race chart. True: the browser has not shown the chart yet, so this run should end
    here (``st.stop()``); the watcher it mounts reruns the page once the chart is on screen. False: draw the
    rest of the page now."""
    state: MutableMapping[str, Any] = st.session_state
    if not waits_for_chart(state, st.context.headers, has_chart):
        # once the whole page was drawn, it always is: a later run that stopped early would take the sidebar
        # off a page that shows it (a reconnecting browser's second run, say, when it is no longer marked)
        state[K_SHOWN] = True
        return False
    _WATCHER(key=K_WATCH, on_shown_change=_on_report)
    return True

"""Many visitors at once: N concurrent sessions against a real server, and its memory over many reruns.

Starts ``streamlit run app.py`` on a free port of 127.0.0.1 (loopback only) and drives N visitors through
what a visitor does: open the Playground, pick a preset, change a learning rate, open the shared link in a
new tab (a new session), visit Schedules and the Landscape Lab, and come back to the Playground. Visitors
arrive over a ramp-up and pause between actions (a think time), as people do; every wait is bounded, and
the whole run has a deadline.

Two kinds of visitor (``--client``):
- ``ws`` (default): websocket clients speaking Streamlit's own protocol (protobuf messages over
  /_stcore/stream), each with its own session. The time measured is the server's (script run, engine,
  figure, serialization) and the transfer, until the chart's message has arrived. Drawing it is the
  visitor's machine's work, so this is the server's capacity.
- ``browser``: one headless Chromium with N browser contexts, timed until the chart is drawn in the page.
  The browsers run on this machine too and compete with the server for its cores (parsing and drawing
  ~1 MB animated figures), so on a small machine these times are mostly the browsers'. The moment the
  chart's message arrived over the websocket is recorded as well, to split the two. Console errors are
  only seen here.

Reported:
- time to an updated chart per action: p50, p95 and max, per action and over all actions;
- errors: stException elements (an exception shown in a page), console and page errors (browser),
  visitors who could not finish their sequence, and server log lines with a traceback, an exception, an
  error or a warning (a RuntimeWarning included);
- the server's resident memory (RSS: the server process and its worker processes, ui/workers.py) at start,
  after the warm-up, after the load and after the memory check; its CPU, likewise, counts the workers';
- the memory check: ``--reruns`` reruns with a new input each time (a new start point, so every rerun is a
  new simulation and a new figure: nothing comes from a cache), spread over ``--memory-sessions`` sessions,
  and the RSS growth over them, from after each session's ``--memory-warm-up`` first reruns (other new
  inputs: what the server and its workers load or build at their first such computation is not growth).

Attacker mode (``--attackers N``, websocket clients only): first the time to a fresh visitor's first chart
on the idle server (median of ``--victims`` visitors); then N clients that each send, again and again, the
heaviest link a page allows (every count of its fields at its cap, Newton where an optimizer is picked, a
deep formula on the Playground; a new seed or start each time so nothing comes from a cache), some of them
closing their tab right after sending; while they run, ``--victims`` fresh visitors open the Playground one
after another, and their time to the first chart is compared with the idle one (target: within
``--attacker-ratio-target`` of it). The heaviest links are :func:`heaviest_links`. The attackers run in a
process of their own, so that their clients' work on big replies is not timed as the victims' wait.

Usage::

    python benchmarks/load.py                                # 20 ws visitors, then 500 reruns
    python benchmarks/load.py --attackers 10 --sessions 0 --reruns 0   # 10 attackers, an 11th visitor
    python benchmarks/load.py --client browser --reruns 0    # 20 browser visitors
    python benchmarks/load.py --sessions 5 --reruns 100 --json /tmp/load.json
    python benchmarks/load.py --replicas 2 --sessions 40 --reruns 0       # two app processes behind nginx

Replicas (``--replicas N``, websocket clients): N app processes behind nginx running deploy/nginx.conf, as
a classroom deployment runs them; the visitors go through the proxy (each fetches the page first, so it
gets the sticky-session cookie a browser gets), and the report adds the sessions each replica served and
the visitors whose requests reached more than one replica (from the proxy's access log). Each replica is
warmed up directly.

Exit status 1 when a correctness check fails (an error anywhere, a rerun not done, a visitor moved between
replicas); the targets (p95 <= --p95-target-s, RSS growth < --rss-growth-mb, the attacker ratio) are
reported and make it exit 1 only with --check; 2 when the server or the browser could not be started.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.targets import Targets, add_check_option  # noqa: E402
from benchmarks.targets import verdict as verdict_text  # noqa: E402
from tests.app_server import CHART_SIGNATURE_JS as SIGNATURE_JS  # noqa: E402
from tests.app_server import CHROMIUM_ARGS, AppServer, Replicas, chromium_path  # noqa: E402
from ui.live_chart import LIVE_CHART  # noqa: E402

CHROMIUM = chromium_path() or "/usr/bin/chromium"
VIEWPORT = {"width": 1400, "height": 1000}
ACTION_TIMEOUT_MS = 120_000
# presets the visitors pick, round-robin (titles as the preset box shows them; see ui/playground/presets.py)
PRESET_KEYS = ("saddle", "ravine", "cliff", "local-trap", "d2l-momentum", "d2l-schedules")
# server log lines that count as errors: tracebacks, exceptions, errors and warnings of any kind
LOG_PROBLEM = re.compile(r"Traceback|Exception|Error|Warning|WARNING|ERROR|CRITICAL")

RACE = ".st-key-pg_race"
SCHEDULES_CHARTS = (".st-key-sc_lr_chart", ".st-key-sc_band_chart", ".st-key-sc_paths_chart")
LAB_CHART = ".st-key-lab_stability_chart"
SCHEDULES_KEYS = ("sc_lr_chart", "sc_band_chart", "sc_paths_chart")
# what a stuck visitor's tab shows, for the report: address, a run still going, stale elements, charts, text
PAGE_STATE_JS = """() => ({
  url: location.pathname + location.search.slice(0, 120),
  running: !!document.querySelector('[data-testid="stStatusWidgetRunningIcon"]'),
  stale: document.querySelectorAll('[data-stale="true"]').length,
  charts: [...document.querySelectorAll('[class*="st-key-"] .js-plotly-plot')].map(
    c => [...c.closest('[class*="st-key-"]').classList].find(n => n.startsWith('st-key-'))),
  exception: (document.querySelector('[data-testid="stException"]') || {}).innerText || null,
  text: ((document.querySelector('[data-testid="stMain"]') || document.body).innerText || '').slice(0, 300),
})"""


# -- the server ------------------------------------------------------------------------------------------
def log_problems(log: str) -> list[str]:
    """The server log lines that count as errors."""
    return [line for line in log.splitlines() if LOG_PROBLEM.search(line)]


class Server(AppServer):
    """The shared launcher, logging to a fresh temporary folder; plus the log lines that count as errors."""

    def __init__(self):
        super().__init__(Path(tempfile.mkdtemp(prefix="gdviz-load-")) / "server.log")

    @property
    def app_urls(self) -> list[str]:
        return [self.url]

    def log_problems(self) -> list[str]:
        return log_problems(self.log())


class Cluster(Replicas):
    """``--replicas N``: N app processes behind nginx (deploy/nginx.conf); visitors go through the proxy."""

    def __init__(self, count: int):
        super().__init__(Path(tempfile.mkdtemp(prefix="gdviz-load-")), count)

    @property
    def app_urls(self) -> list[str]:
        return [app.url for app in self.apps]

    def log_problems(self) -> list[str]:
        return log_problems(self.log())

    def stickiness(self) -> dict:
        """How the proxy spread the visitors: sessions (websockets) per replica, and visitors whose requests
        reached more than one replica (each should stay on one: Streamlit's session lives in one process)."""
        sessions = [0] * len(self.apps)
        for entry in self.access_log():
            replica = self.replica_of(entry["upstream"])
            if entry["request"].startswith("GET /_stcore/stream") and replica is not None:
                sessions[replica] += 1
        several = [visitor for visitor, upstreams in self.visitors_on_replicas().items() if len(upstreams) > 1]
        return {"replicas": len(self.apps), "sessions_per_replica": sessions, "visitors_on_several": several}


def page_cookies(url: str) -> str:
    """The cookies the app's page sets (the proxy's sticky-session cookie), as a Cookie header; "" if none."""
    with urllib.request.urlopen(url + "/", timeout=30) as reply:
        reply.read()
        return "; ".join(value.split(";", 1)[0] for value in reply.headers.get_all("Set-Cookie") or [])


# -- one visitor ------------------------------------------------------------------------------------------
@dataclass
class Report:
    timings: dict[str, list[float]] = field(default_factory=dict)
    arrivals: dict[str, list[float]] = field(default_factory=dict)  # action -> seconds until the chart's message
    errors: list[str] = field(default_factory=list)
    reruns: int = 0

    def add(self, action: str, seconds: float) -> None:
        self.timings.setdefault(action, []).append(seconds)


class Visitor:
    """One browser context and its page: records console errors, page errors and websocket arrivals."""

    def __init__(self, name: str, report: Report):
        self.name, self.report = name, report
        self.context = self.page = None
        self.last_big_frame = 0.0  # perf_counter of the last large websocket message (a figure)
        self.doing = ""  # the action under way, for the report of a visitor who could not go on

    async def open(self, browser) -> None:
        self.context = await browser.new_context(viewport=VIEWPORT)
        self.context.set_default_timeout(ACTION_TIMEOUT_MS)
        self.page = await self.new_page()

    async def new_page(self):
        page = await self.context.new_page()
        page.on("console", lambda m: self._error(f"console.{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda error: self._error(f"page error: {error}"))
        page.on("websocket", self._watch)
        return page

    def _watch(self, ws) -> None:
        def received(data) -> None:
            if len(data) > 20_000:
                self.last_big_frame = time.perf_counter()

        ws.on("framereceived", received)

    def _error(self, text: str) -> None:
        self.report.errors.append(f"{self.name}: {text}")

    async def close(self) -> None:
        if self.context is not None:
            await self.context.close()

    async def check_page(self, page, where: str) -> None:
        """Streamlit shows an exception in the page as an stException element."""
        count = await page.locator('[data-testid="stException"]').count()
        if count:
            text = await page.locator('[data-testid="stException"]').first.inner_text()
            self._error(f"stException on {where}: {text[:300]}")

    async def what_the_page_shows(self) -> str:
        """For the report of a visitor who could not go on: the address, whether a script run is still going,
        the charts drawn and the start of the page's text (what a person looking at the tab would see)."""
        try:
            seen = await self.page.evaluate(PAGE_STATE_JS)
        except Exception as error:  # noqa: BLE001 -- the page itself may be gone
            return f"(page not readable: {type(error).__name__})"
        return " ".join(str(seen).split())[:600]

    async def signature(self, page, selector: str) -> str | None:
        return await page.evaluate(SIGNATURE_JS, selector)

    async def wait_chart(self, page, selector: str, before: str | None) -> None:
        """Until the chart under ``selector`` is drawn and shows something other than ``before``."""
        await page.wait_for_function(
            f"([sel, before]) => {{ const s = ({SIGNATURE_JS})(sel); return s !== null && s !== before; }}",
            arg=[selector, before],
            timeout=ACTION_TIMEOUT_MS,
            polling=50,
        )

    async def timed(self, action: str, page, selector: str, before: str | None, act) -> None:
        """Run ``act()`` and time it until the chart under ``selector`` changed; also when its message arrived."""
        start = time.perf_counter()
        self.last_big_frame = 0.0
        await act()
        await self.wait_chart(page, selector, before)
        end = time.perf_counter()
        self.report.add(action, end - start)
        if self.last_big_frame > start:
            self.report.arrivals.setdefault(action, []).append(self.last_big_frame - start)
        await self.settle(page)
        await self.check_page(page, action)

    async def settle(self, page) -> None:
        """Until the script run is over (no element is stale any more)."""
        await page.wait_for_function(
            "() => !document.querySelector('[data-stale=\"true\"]') && "
            '!document.querySelector(\'[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]\')',
            timeout=ACTION_TIMEOUT_MS,
            polling=100,
        )


def notches(index: int) -> int:
    """How far a visitor moves the learning rate: 1 to 4 notches, so that visitors who picked the same preset
    mostly ask for different runs (not all from the shared cache)."""
    return 1 + index % 4


async def pause(rng: random.Random, think: tuple[float, float]) -> None:
    await asyncio.sleep(rng.uniform(*think))


async def open_playground(visitor: Visitor, url: str) -> None:
    page = visitor.page
    await visitor.timed("open Playground", page, RACE, None, lambda: page.goto(url))


async def pick_preset(visitor: Visitor, title: str) -> None:
    page = visitor.page
    before = await visitor.signature(page, RACE)

    async def act():
        await page.locator(".st-key-pg_preset input[role='combobox']").click()
        await page.get_by_role("option", name=title, exact=True).click()

    await visitor.timed("pick a preset", page, RACE, before, act)


LR_SLIDER = ".st-key-pg_o0_SGD_lr input[type='range'], div[class*='st-key-pg_o0_'][class*='_lr'] input[type='range']"


async def in_racer_settings(page, act):
    """``act()`` with the first optimizer's settings popover open (the sidebar draws its widgets only then)."""
    await page.locator(".st-key-pg_box_o0 button").first.click()
    try:
        return await act()
    finally:
        await page.keyboard.press("Escape")
        await page.locator("[data-testid='stPopoverBody']").first.wait_for(state="hidden")


async def racer_lr(page) -> str | None:
    """The first optimizer's learning rate as its slider shows it."""
    return await in_racer_settings(page, lambda: page.locator(LR_SLIDER).first.get_attribute("aria-valuetext"))


async def change_lr(visitor: Visitor, notches: int) -> None:
    """The first optimizer's learning rate ``notches`` steps up its slider (a log grid), from the keyboard;
    timed until the chart shows the run with the final value (the address bar then holds it too)."""
    page = visitor.page
    before = await visitor.signature(page, RACE)

    async def press() -> tuple[float, str | None]:
        slider = page.locator(LR_SLIDER).first
        await slider.wait_for(state="visible", timeout=ACTION_TIMEOUT_MS)
        start = time.perf_counter()
        await slider.focus()
        for _ in range(notches):
            await slider.press("ArrowRight")
        return start, await slider.get_attribute("aria-valuetext")

    visitor.last_big_frame = 0.0
    start, final = await in_racer_settings(page, press)
    await page.wait_for_function(
        f"([sel, before, lr]) => {{ const s = ({SIGNATURE_JS})(sel); return s !== null && s !== before && "
        "new URLSearchParams(location.search).get('o1.lr') === lr; }",
        arg=[RACE, before, final],
        timeout=ACTION_TIMEOUT_MS,
        polling=50,
    )
    visitor.report.add("change a hyper-parameter", time.perf_counter() - start)
    if visitor.last_big_frame > start:
        visitor.report.arrivals.setdefault("change a hyper-parameter", []).append(visitor.last_big_frame - start)
    await visitor.settle(page)
    await visitor.check_page(page, "change a hyper-parameter")


async def shared_link(page) -> str:
    """The link the page offers to share (its "Link to this scenario" box), else the address bar, which holds
    the same link."""
    box = page.locator("input[aria-label='Link to this scenario']")
    if await box.count():
        text = (await box.first.input_value()).strip()
        if text.startswith("http"):
            return text
    return page.url


async def open_shared_link(visitor: Visitor) -> None:
    """The page's share link, opened in a new tab (a new session): the same scenario must come back."""
    page = visitor.page
    link = await shared_link(page)
    lr = await racer_lr(page)
    tab = await visitor.new_page()
    try:
        await visitor.timed("open a shared link", tab, RACE, None, lambda: tab.goto(link))
        await visitor.settle(tab)
        shown = await racer_lr(tab)
        if shown != lr:
            visitor._error(f"the shared link shows lr {shown}, the page it came from {lr}")
    finally:
        await tab.close()


async def visit(visitor: Visitor, title: str, selectors: tuple[str, ...], action: str) -> None:
    """Follow the sidebar's link to a page and time it until every chart of the page is drawn."""
    page = visitor.page
    start = time.perf_counter()
    visitor.last_big_frame = 0.0
    await page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title).click()
    for selector in selectors:
        await visitor.wait_chart(page, selector, None)
    visitor.report.add(action, time.perf_counter() - start)
    if visitor.last_big_frame > start:
        visitor.report.arrivals.setdefault(action, []).append(visitor.last_big_frame - start)
    await visitor.settle(page)
    await visitor.check_page(page, action)


async def journey(browser, url: str, index: int, report: Report, args) -> None:
    """One visitor's session, from arrival (after a share of the ramp-up) to leaving."""
    rng = random.Random(args.seed * 1000 + index)
    await asyncio.sleep(args.ramp_s * index / max(args.sessions, 1))
    visitor = Visitor(f"visitor {index + 1}", report)
    think = (args.think_min_s, args.think_max_s)
    visitor.doing = "open a browser"
    try:
        await visitor.open(browser)
        for round_ in range(args.rounds):
            preset = PRESET_TITLES[(index + round_) % len(PRESET_TITLES)]
            steps = (
                ("open Playground", lambda: open_playground(visitor, url)),
                ("pick a preset", lambda preset=preset: pick_preset(visitor, preset)),
                ("change a hyper-parameter", lambda: change_lr(visitor, notches(index))),
                ("open a shared link", lambda: open_shared_link(visitor)),
                ("visit Schedules", lambda: visit(visitor, "Schedules", SCHEDULES_CHARTS, "visit Schedules")),
                ("visit Landscape Lab", lambda: visit(visitor, "Landscape Lab", (LAB_CHART,), "visit Landscape Lab")),
                ("back to the Playground", lambda: visit(visitor, "Playground", (RACE,), "back to the Playground")),
            )
            for number, (visitor.doing, act) in enumerate(steps):
                if number:
                    await pause(rng, think)
                await act()
    except Exception as error:  # noqa: BLE001 -- a visitor who could not go on is an error of the run
        seen = await visitor.what_the_page_shows()
        report.errors.append(
            f"visitor {index + 1} at {visitor.doing!r}: {type(error).__name__}: {str(error)[:300]} | {seen}"
        )
    finally:
        await visitor.close()


def memory_start(k: int, session: int, warm_up: bool = False) -> float:
    """The start x1 of a memory session's k-th rerun: new every time, so nothing comes from a cache (the
    warm-up's reruns are half a thousandth off every measured one)."""
    return -4.9 + 0.0173 * k + 0.0011 * session + (0.0005 if warm_up else 0.0)


def count_rerun(report: Report, server: Server, samples: list) -> None:
    """One more memory rerun done; the server's RSS sampled every 50."""
    report.reruns += 1
    if report.reruns % 50 == 0:
        samples.append((report.reruns, round(server.rss_mb(), 1)))


async def rerun_many(
    browser, url: str, index: int, count: int, report: Report, server: Server, samples, warm_up: bool = False
) -> None:
    """``count`` reruns, each with a new start point (never seen before, so never cached)."""
    visitor = Visitor(f"memory session {index + 1}", report)
    try:
        await visitor.open(browser)
        page = visitor.page
        await visitor.timed("memory: open", page, RACE, None, lambda: page.goto(url))
        box = page.locator(".st-key-pg_x0_0 input")
        for k in range(count):
            value = f"{memory_start(k, index, warm_up):.4f}"
            before = await visitor.signature(page, RACE)

            async def act(value=value):
                await box.fill(value)
                await box.press("Enter")

            await visitor.timed("memory: rerun", page, RACE, before, act)
            count_rerun(report, server, samples)
    except Exception as error:  # noqa: BLE001
        report.errors.append(f"memory session {index + 1}: {type(error).__name__}: {str(error)[:300]}")
    finally:
        await visitor.close()


# -- one visitor as a websocket client ---------------------------------------------------------------------
class WsVisitor:
    """A visitor speaking Streamlit's own protocol (protobuf BackMsg / ForwardMsg over /_stcore/stream).

    No browser: the time measured is the server's (script run, figure, serialization) plus the transfer,
    up to the moment the chart's message has arrived; drawing it is the visitor's machine's business.
    A rerun sends only the widget that changed; Streamlit keeps the others' previous values.
    """

    def __init__(self, url: str, name: str, report: Report):
        self.url, self.name, self.report = url, name, report
        self.ws = None
        self.receiver: asyncio.Task | None = None
        self.query = ""  # the address bar's query string, as the server last set it
        self.pages: dict[str, str] = {}  # page name -> page_script_hash
        self.widgets: dict[str, tuple[str, Any]] = {}  # user key -> (element kind, element proto)
        self.charts: dict[str, float] = {}  # chart key -> perf_counter of its arrival in this run
        self.sent_before: dict[str, str] = {}  # message hash -> chart key, for the server's references
        self.finished = asyncio.Event()
        self.status, self.kinds = None, []

    async def open(self, query: str = "") -> None:
        from websockets.asyncio.client import connect

        # as a browser does: the page first, then the websocket with the page's cookies (behind the replicas'
        # proxy, its sticky-session cookie decides which app process serves this visitor)
        cookie = await asyncio.to_thread(page_cookies, self.url)
        ws_url = self.url.replace("http://", "ws://") + "/_stcore/stream"
        self.ws = await connect(
            ws_url,
            subprotocols=["streamlit"],
            origin=self.url,
            max_size=None,
            additional_headers={"Cookie": cookie} if cookie else None,
        )
        self.receiver = asyncio.create_task(self._receive())
        self.query = query

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.receiver is not None:
            self.receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.receiver

    async def _receive(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        async for data in self.ws:
            msg = ForwardMsg()
            msg.ParseFromString(data)
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                key = self._element(msg.delta.new_element)
                if key is not None and msg.hash:
                    self.sent_before[msg.hash] = key
            elif kind == "ref_hash" and msg.ref_hash in self.sent_before:
                # a message this session already has (the same figure again): the server sends its hash only
                self.charts[self.sent_before[msg.ref_hash]] = time.perf_counter()
            elif kind == "navigation":
                self.pages = {page.page_name: page.page_script_hash for page in msg.navigation.app_pages}
            elif kind == "page_info_changed":
                self.query = msg.page_info_changed.query_string
            elif kind == "page_not_found":
                self.report.errors.append(f"{self.name}: page not found")
            elif kind == "session_event" and msg.session_event.WhichOneof("type") == "script_compilation_exception":
                self.report.errors.append(f"{self.name}: script compilation exception")
            elif kind == "script_finished":
                self.status = msg.script_finished
                # a run cut short by another one (Streamlit may start one more run of its own) is not the end:
                # the browser, too, waits for the run that finishes
                if msg.script_finished != msg.FINISHED_EARLY_FOR_RERUN:
                    self.finished.set()
            self.kinds.append(kind if kind != "delta" else msg.delta.WhichOneof("type"))

    def _element(self, element) -> str | None:
        """Record a widget or a chart of the run; returns a chart's key."""
        kind = element.WhichOneof("type")
        inner = getattr(element, kind)
        if kind == "exception":
            self.report.errors.append(f"{self.name}: stException {inner.type}: {inner.message[:300]}")
            return None
        widget_id = getattr(inner, "id", "")
        if isinstance(widget_id, str) and widget_id.startswith("$$ID-"):
            key = widget_id.split("-", 2)[-1]
            self.widgets[key] = (kind, inner)
            # st.plotly_chart, or the Playground's live chart (ui/live_chart.py)
            if kind == "plotly_chart" or (kind == "bidi_component" and inner.component_name.endswith(LIVE_CHART)):
                self.charts[key] = time.perf_counter()
                return key
        return None

    async def rerun(self, action: str, charts: tuple[str, ...], states=(), page: str | None = None, query=None):
        """Send a rerun (widget states, a page, a query string); time it until every chart in ``charts`` arrived."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        if query is not None:  # the address bar changed (a link opened, a page switched)
            self.query = query
        msg = BackMsg()
        msg.rerun_script.query_string = self.query
        msg.rerun_script.page_script_hash = self.pages.get(page, "") if page else ""
        for state in states:
            msg.rerun_script.widget_states.widgets.append(state)
        self.charts, self.finished, self.kinds = {}, asyncio.Event(), []
        start = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        await asyncio.wait_for(self.finished.wait(), timeout=ACTION_TIMEOUT_MS / 1000)
        missing = [key for key in charts if key not in self.charts]
        if missing:
            self.report.errors.append(
                f"{self.name}: {action}: no chart {missing} in the run (status {self.status}; {self.kinds[:40]})"
            )
            return
        # no chart asked: until the run finished
        self.report.add(action, max((self.charts[key] for key in charts), default=time.perf_counter()) - start)

    def state(self, key: str):
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        kind, proto = self.widgets[key]
        return WidgetState(id=proto.id), kind, proto


async def ws_journey(url: str, index: int, report: Report, args) -> None:
    """The browser journey's sequence, as a websocket client."""
    rng = random.Random(args.seed * 1000 + index)
    await asyncio.sleep(args.ramp_s * index / max(args.sessions, 1))
    think = (args.think_min_s, args.think_max_s)
    visitor = WsVisitor(url, f"visitor {index + 1}", report)
    try:
        await visitor.open()
        for round_ in range(args.rounds):
            await visitor.rerun("open Playground", ("pg_race",), query="")
            await pause(rng, think)
            state, _, _ = visitor.state("pg_preset")
            state.string_value = PRESET_TITLES[(index + round_) % len(PRESET_TITLES)]
            await visitor.rerun("pick a preset", ("pg_race",), [state])
            await pause(rng, think)
            lr_key = next(k for k in visitor.widgets if k.startswith("pg_o0_") and k.endswith("_lr"))
            state, _, proto = visitor.state(lr_key)
            options = list(proto.options)
            current = options.index(proto.raw_value[0]) if proto.raw_value else 0
            state.string_array_value.data.append(options[min(current + notches(index), len(options) - 1)])
            await visitor.rerun("change a hyper-parameter", ("pg_race",), [state])
            await pause(rng, think)
            shared = WsVisitor(url, f"visitor {index + 1} (shared link)", report)
            try:
                await shared.open()
                await shared.rerun("open a shared link", ("pg_race",), query=visitor.query)
                if shared.query != visitor.query:
                    report.errors.append(f"visitor {index + 1}: the shared link came back as another scenario")
            finally:
                await shared.close()
            await pause(rng, think)
            await visitor.rerun("visit Schedules", SCHEDULES_KEYS, page="Schedules", query="")
            await pause(rng, think)
            await visitor.rerun("visit Landscape Lab", ("lab_stability_chart",), page="Landscape Lab", query="")
            await pause(rng, think)
            await visitor.rerun("back to the Playground", ("pg_race",), page="Playground", query="")
    except Exception as error:  # noqa: BLE001 -- a visitor who could not go on is an error of the run
        report.errors.append(f"visitor {index + 1}: {type(error).__name__}: {str(error)[:300]}")
    finally:
        await visitor.close()


async def ws_rerun_many(
    url: str, index: int, count: int, report: Report, server: Server, samples, warm_up: bool = False
) -> None:
    visitor = WsVisitor(url, f"memory session {index + 1}", report)
    try:
        await visitor.open()
        await visitor.rerun("memory: open", ("pg_race",), query="")
        for k in range(count):
            state, _, _ = visitor.state("pg_x0_0")
            state.double_value = round(memory_start(k, index, warm_up), 4)
            await visitor.rerun("memory: rerun", ("pg_race",), [state])
            count_rerun(report, server, samples)
    except Exception as error:  # noqa: BLE001
        report.errors.append(f"memory session {index + 1}: {type(error).__name__}: {str(error)[:300]}")
    finally:
        await visitor.close()


# -- attacker mode ------------------------------------------------------------------------------------------
def nested_tan(depth: int) -> str:
    """tan(y/tan(x/…x)): few characters, a gradient and Hessian that grow fast with the depth."""
    formula = "x"
    for i in range(depth):
        formula = f"tan({'xy'[i % 2]}/{formula})"
    return formula


# the deepest tower gdviz.custom.MAX_DERIVED_NODES accepts (10 levels are refused; the 38 cheaply so)
COSTLIEST_FORMULA_DEPTH = 9


def _heaviest_values(fields, values: dict) -> dict:
    """Every count (integer field) at its cap, Newton where one optimizer is picked, as many optimizers
    as allowed where several are, the costliest planar surface where one is picked."""
    from ui.state.fields import Choice, Entry, Names, Number

    out = dict(values)
    for f in fields:
        if isinstance(f, Number) and f.integer and f.key.split(".")[-1] != "seed":
            out[f.key] = int(f.high)
        elif isinstance(f, Entry) and f.kind == "optimizer" and "Newton" in f.options():
            out[f.key] = f.canonical("Newton", {})
        elif isinstance(f, Names):
            newton_first = sorted(f.options, key=lambda name: name != "Newton")
            out[f.key] = tuple(newton_first[: f.max_items])
        elif isinstance(f, Choice) and "goldstein_price" in f.options:
            out[f.key] = "goldstein_price"
    return out


def heaviest_links() -> dict[str, tuple[str, str]]:
    """Name -> (page name in the navigation, query string) of the heaviest link each page allows."""
    from urllib.parse import urlencode

    from ui import limits
    from ui.lab import schedules as schedules_page
    from ui.lab import views
    from ui.playground.scenario import Scenario, to_query
    from ui.regression.fields import BY_KEY
    from ui.regression.fields import FIELDS as REGRESSION_FIELDS
    from ui.state.entries import entry
    from ui.state.fields import defaults
    from ui.state.fields import to_query as fields_query

    racers = tuple(entry("Newton" if i % 2 else "NAdam", lr=0.5) for i in range(limits.MAX_OPTIMIZERS))

    def around(x: float, y: float) -> tuple:
        return tuple((x + 0.02 * i, y - 0.02 * i) for i in range(1, limits.MAX_STARTS))

    # around the formula's default start (3, 3), where f and its gradient are finite
    tower = nested_tan(COSTLIEST_FORMULA_DEPTH)
    formula = Scenario(formula=tower, start=(3.0, 3.0), more_starts=around(3.0, 3.0), optimizers=racers)
    planar = Scenario(surface="goldstein_price", start=(0.5, -0.5), more_starts=around(0.5, -0.5), optimizers=racers)
    out = {}
    for name, scenario in (
        (f"playground: costliest accepted formula (tan x{COSTLIEST_FORMULA_DEPTH}), 8 optimizers x 8 starts", formula),
        ("playground: goldstein_price, 8 optimizers x 8 starts", planar),
    ):
        out[name] = ("Playground", urlencode(to_query(scenario) | {"steps": str(limits.MAX_STEPS)}))
    for view, module in views.VIEWS.items():
        values = _heaviest_values(module.FIELDS, defaults(module.FIELDS))
        out[f"landscape lab: {view}"] = (
            "Landscape Lab",
            urlencode({"view": view} | fields_query(module.FIELDS, values)),
        )
    # a small lr: at the default every run on goldstein_price diverges at once, which ends the loop early
    values = _heaviest_values(schedules_page.FIELDS, defaults(schedules_page.FIELDS)) | {"lr": 1e-5}
    out["schedules"] = ("Schedules", urlencode(fields_query(schedules_page.FIELDS, values)))
    # regression: the data is bounded by its values (n x d), so the heaviest links trade samples for features
    most = limits.REGRESSION_MAX_VALUES
    newton = BY_KEY["opt"].canonical("Newton", {"lr": 0.5})
    wide = dict(opt=newton, d=200, n=most // 200, mode="minibatch", bs=400, dtype="float64")
    for name, changes in (
        (
            "most samples, GD",
            dict(n=limits.REGRESSION_MAX_SAMPLES, d=most // limits.REGRESSION_MAX_SAMPLES, dtype="float64"),
        ),
        (
            "most samples, SGD",
            dict(n=limits.REGRESSION_MAX_SAMPLES, d=most // limits.REGRESSION_MAX_SAMPLES, mode="SGD"),
        ),
        ("Newton, d = 200, minibatches", wide),
        (
            "most features, standardized",
            dict(d=limits.MAX_FEATURES, n=most // limits.MAX_FEATURES, std="standardized", dtype="float64"),
        ),
    ):
        values = _heaviest_values(REGRESSION_FIELDS, defaults(REGRESSION_FIELDS)) | changes
        out[f"linear regression: {name}"] = ("Linear Regression", urlencode(fields_query(REGRESSION_FIELDS, values)))
    for name, values in network_heaviest_values().items():
        from ui.network.fields import FIELDS as NETWORK_FIELDS

        out[f"networks: {name}"] = ("Networks", urlencode(fields_query(NETWORK_FIELDS, values)))
    return out


def network_heaviest_values() -> dict[str, dict]:
    """The Networks page's heaviest links as field values: every cap at its maximum (refused by the page's
    work caps, cheaply), and the two heaviest it accepts: the widest, deepest net on the largest grid, and the
    most steps on the largest grid; each with the most racers, the engine's own optimizers first (a host round
    trip per step), and the most steps and samples the work caps then allow."""
    from ui import limits
    from ui.network import compute
    from ui.network.fields import FIELDS, RACERS
    from ui.state.entries import entry
    from ui.state.fields import defaults

    racers = tuple(entry(name, lr=1e-3) for name in ("Yogi", "Lion", "NAdam", "RAdam")[: limits.NETWORK_MAX_RACERS])
    caps = defaults(FIELDS) | {
        RACERS.key: racers,
        "n": limits.NETWORK_MAX_SAMPLES,
        "width": limits.NETWORK_MAX_WIDTH,
        "depth": limits.NETWORK_MAX_DEPTH,
        "steps": limits.NETWORK_MAX_STEPS,
        "grid": limits.NETWORK_MAX_GRID,
    }

    def fits(values: dict) -> bool:
        setting = compute.Setting(
            data=values["data"], n=values["n"], noise=0.1, seed=0, width=values["width"], depth=values["depth"],
            activation="tanh", racers=tuple(range(len(racers))), schedule=None, steps=values["steps"],
            batch_size=None, plane="pca", centre="start", grid=values["grid"], device="cpu",
        )  # fmt: skip
        try:
            compute.check_work(setting)
        except ValueError:
            return False
        return True

    def largest(values: dict, key: str, low: int) -> dict:
        """``values`` with ``key`` the largest (from ``low`` to its cap) the work caps accept."""
        lo, hi = low, caps[key]
        while lo < hi:  # the work grows with every count: bisect
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if fits(values | {key: mid}) else (lo, mid - 1)
        return values | {key: lo}

    deep = largest(largest(caps | {"n": 20}, "steps", 1), "n", 20)
    long = largest(caps | {"depth": 1}, "n", 20)
    return {"every cap at its maximum (refused)": caps, "widest, deepest net, largest grid": deep,
            "most steps, largest grid": long}  # fmt: skip


def _varied(query: str, round_: int) -> str:
    """The same link with another seed, so no round is answered from a cache."""
    return f"{query}&seed={round_ + 1}" if "seed=" not in query else query.replace("seed=", f"seed={round_ + 1}", 1)


async def attacker(url: str, index: int, links: list, stop: asyncio.Event, report: Report, args) -> None:
    """Sends the heaviest links one after another; every third attacker closes its tab right after sending."""
    rounds, pages = 0, {}
    while not stop.is_set():
        page, query = links[(index + rounds) % len(links)]
        client = WsVisitor(url, f"attacker {index + 1}", report)
        try:
            await client.open()
            if not pages:  # the pages' script hashes, learnt once: later tabs open at the crafted link itself
                await client.rerun("attacker: open", (), query="")
                pages = client.pages
            client.pages = pages
            leave_early = index % 3 == 2
            if leave_early:
                from streamlit.proto.BackMsg_pb2 import BackMsg

                msg = BackMsg()
                msg.rerun_script.query_string = _varied(query, rounds)
                msg.rerun_script.page_script_hash = client.pages.get(page, "")
                await client.ws.send(msg.SerializeToString())
                await asyncio.sleep(0.6)  # the tab closes 0.6 s after the link was sent
            else:
                with contextlib.suppress(TimeoutError):
                    await client.rerun("attacker: heavy link", (), page=page, query=_varied(query, rounds))
        except Exception as error:  # noqa: BLE001 -- an attacker refused or cut off is not the server's error
            report.add("attacker: refused", 0.0)
            report.arrivals.setdefault("attacker errors", []).append(0.0)
            if args.verbose:
                print(f"attacker {index + 1}: {type(error).__name__}: {error}", file=sys.stderr)
        finally:
            await client.close()
        rounds += 1


async def first_chart(url: str, name: str, report: Report, action: str) -> float:
    """A fresh visitor opens the Playground: seconds until its race chart has arrived."""
    visitor = WsVisitor(url, name, report)
    try:
        start = time.perf_counter()
        await visitor.open()
        await visitor.rerun(action, ("pg_race",), query="")
        return time.perf_counter() - start
    finally:
        await visitor.close()


async def attack_for(url: str, attackers: int, seconds: float, verbose: bool) -> None:
    """``attackers`` clients sending the heaviest links for ``seconds`` (run in a process of its own)."""
    report = Report()
    links = list(heaviest_links().values())
    stop = asyncio.Event()
    args = argparse.Namespace(verbose=verbose)
    tasks = [asyncio.create_task(attacker(url, i, links, stop, report, args)) for i in range(attackers)]
    # until the parent closes our stdin (its victims are timed), or at most ``seconds``
    await asyncio.wait([asyncio.create_task(asyncio.to_thread(sys.stdin.read))], timeout=seconds)
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    heavy = report.timings.get("attacker: heavy link", [])
    print(json.dumps({"heavy_link_time": summary(heavy), "refused": len(report.timings.get("attacker: refused", []))}))


async def attack(args, server: Server, result: dict) -> None:
    """The idle first chart, then the same under ``args.attackers`` attackers; the CPU the server spent.

    The attackers run in a process of their own: sharing this process's event loop, their clients' work on
    multi-megabyte replies (inflating, parsing) would be timed as the victim's wait."""
    report = Report()
    idle = [
        await first_chart(server.url, f"idle visitor {i + 1}", report, "first chart, idle") for i in range(args.victims)
    ]
    cpu = server.cpu_s()
    start = time.perf_counter()
    # the attackers go on until every victim has been timed: the lead, then a generous bound per victim
    attack_seconds = args.attack_lead_s + 30.0 * args.victims
    command = [sys.executable, __file__, "--attack-url", server.url, "--attackers", str(args.attackers)]
    command += ["--attack-seconds", f"{attack_seconds:g}"] + (["--verbose"] if args.verbose else [])
    attackers = await asyncio.create_subprocess_exec(
        *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    try:
        await asyncio.sleep(args.attack_lead_s)  # the attackers' heavy work is under way
        loaded = []
        for i in range(args.victims):
            loaded.append(
                await first_chart(server.url, f"visitor {args.attackers + 1} #{i + 1}", report, "first chart, attacked")
            )
    finally:
        attackers.stdin.close()  # the attackers stop and report
        try:
            output = await asyncio.wait_for(attackers.stdout.read(), timeout=60)
        except TimeoutError:
            attackers.terminate()
            output = b""
        await attackers.wait()
    wall = time.perf_counter() - start
    lines = output.decode(errors="replace").strip().splitlines()
    heavy = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {"heavy_link_time": {"n": 0}}
    idle_s, loaded_s = statistics.median(idle), statistics.median(loaded)
    result["attack"] = {
        "attackers": args.attackers,
        "links": {name: f"[{page}] ?{query[:120]}…" for name, (page, query) in heaviest_links().items()},
        "first_chart_idle_s": [round(v, 2) for v in idle],
        "first_chart_attacked_s": [round(v, 2) for v in loaded],
        "ratio": round(loaded_s / idle_s, 2),
        "heavy_link_time": heavy["heavy_link_time"],
        "server_cpu_share_of_one_core": round((server.cpu_s() - cpu) / wall, 2),
        "wall_s": round(wall, 1),
        "rss_mb_after": round(server.rss_mb(), 1),
    }
    result.setdefault("errors", []).extend(e for e in report.errors if not e.startswith("attacker"))


def preset_titles() -> tuple[str, ...]:
    from ui.playground.presets import PRESETS

    return tuple(PRESETS[key].title for key in PRESET_KEYS if key in PRESETS)


PRESET_TITLES: tuple[str, ...] = ()


# -- the run ----------------------------------------------------------------------------------------------
def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {"n": 0}
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 3),
        "p95": round(p95, 3),
        "max": round(ordered[-1], 3),
    }


async def warm_up(args, server: Server, browser, result: dict) -> list[str]:
    """The first run imports the app and fills the shared caches, as on a demo that is already running."""
    warm = Report()
    start = time.perf_counter()
    if args.client == "browser":
        visitor = Visitor("warm-up", warm)
        await visitor.open(browser)
        await open_playground(visitor, server.url)
        result["cold_start_s"] = round(time.perf_counter() - start, 2)
        await visit(visitor, "Schedules", SCHEDULES_CHARTS, "visit Schedules")
        await visit(visitor, "Landscape Lab", (LAB_CHART,), "visit Landscape Lab")
        await visitor.close()
    else:
        # every app process (each replica directly, not through the proxy): their caches are their own
        for url in server.app_urls:
            visitor = WsVisitor(url, "warm-up", warm)
            await visitor.open()
            await visitor.rerun("open Playground", ("pg_race",), query="")
            result.setdefault("cold_start_s", round(time.perf_counter() - start, 2))
            await visitor.rerun("visit Schedules", SCHEDULES_KEYS, page="Schedules", query="")
            await visitor.rerun("visit Landscape Lab", ("lab_stability_chart",), page="Landscape Lab", query="")
            # the pages that train with torch import it on their first visit (seconds of one thread's work that
            # holds the interpreter): a demo that is already running has done that
            for page in ("Linear Regression", "Networks"):
                await visitor.rerun(f"visit {page}", (), page=page, query="")
            await visitor.close()
    return warm.errors


async def main_async(args, server: Server) -> dict:
    from playwright.async_api import async_playwright

    result: dict = {
        "url": server.url,
        "client": args.client,
        "sessions": args.sessions,
        "rounds": args.rounds,
        "think_s": [args.think_min_s, args.think_max_s],
        "ramp_s": args.ramp_s,
        "cores": os.cpu_count(),
    }
    rss = {"start": round(server.rss_mb(), 1)}
    async with contextlib.AsyncExitStack() as stack:
        browser = None
        if args.client == "browser":
            pw = await stack.enter_async_context(async_playwright())
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            stack.push_async_callback(browser.close)
        report = Report(errors=await warm_up(args, server, browser, result))
        rss["after_warm_up"] = round(server.rss_mb(), 1)

        result["load_average_before"] = [round(v, 2) for v in os.getloadavg()]
        if args.sessions:
            start, cpu = time.perf_counter(), server.cpu_s()
            if args.client == "browser":
                visitors = [journey(browser, server.url, i, report, args) for i in range(args.sessions)]
            else:
                visitors = [ws_journey(server.url, i, report, args) for i in range(args.sessions)]
            await asyncio.gather(*visitors)
            wall = time.perf_counter() - start
            result["load_wall_s"] = round(wall, 1)
            # the server's share of one core over the load: near 1.0 means its one Python interpreter was busy
            # all the time (the GIL lets a Streamlit server use about one core for Python work)
            result["server_cpu_share_of_one_core"] = round((server.cpu_s() - cpu) / wall, 2)
            result["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
            rss["after_load"] = round(server.rss_mb(), 1)
        result["timings"] = {action: summary(values) for action, values in report.timings.items()}
        load_values = [v for a, values in report.timings.items() if not a.startswith("memory") for v in values]
        result["all_actions"] = summary(load_values)
        result["chart_message_arrived"] = {a: summary(v) for a, v in report.arrivals.items()}

        memory: dict = {"reruns_asked": args.reruns}
        if args.reruns:
            samples: list[tuple[int, float]] = []
            sessions = max(1, args.memory_sessions)
            rerun_many_ = rerun_many if args.client == "browser" else ws_rerun_many
            where = (browser, server.url) if args.client == "browser" else (server.url,)
            # the sessions' first reruns with new inputs, not measured: what the server (and its worker processes,
            # ui/workers.py) load or build at their first such computation is not growth over the reruns
            warm = Report()
            await asyncio.gather(
                *(rerun_many_(*where, i, args.memory_warm_up, warm, server, [], True) for i in range(sessions))
            )
            report.errors += warm.errors
            before = server.rss_mb()
            shares = [args.reruns // sessions + (1 if i < args.reruns % sessions else 0) for i in range(sessions)]
            start = time.perf_counter()
            await asyncio.gather(*(rerun_many_(*where, i, n, report, server, samples) for i, n in enumerate(shares)))
            after = server.rss_mb()
            memory |= {
                "reruns": report.reruns,
                "sessions": sessions,
                "wall_s": round(time.perf_counter() - start, 1),
                "rss_before_mb": round(before, 1),
                "rss_after_mb": round(after, 1),
                "growth_mb": round(after - before, 1),
                "samples": samples,
                "rerun_time": summary(report.timings.get("memory: rerun", [])),
            }
            rss["after_memory"] = round(after, 1)
        result["memory"] = memory
        result["errors"] = report.errors
        if args.attackers:
            await attack(args, server, result)
    result["rss_mb"] = rss
    return result


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--client",
        choices=("ws", "browser"),
        default="ws",
        help="ws: websocket clients (the server's time until the chart arrives); browser: Chromium contexts "
        "(until the chart is drawn, the browsers sharing this machine's cores with the server)",
    )
    parser.add_argument(
        "--replicas",
        type=int,
        default=0,
        help="N app processes behind nginx running deploy/nginx.conf (sticky sessions); 0: one server, directly",
    )
    parser.add_argument("--sessions", type=int, default=20, help="concurrent visitors (default 20)")
    parser.add_argument("--rounds", type=int, default=1, help="times each visitor goes through the sequence")
    parser.add_argument("--reruns", type=int, default=500, help="reruns of the memory check (0: skip it)")
    parser.add_argument("--memory-sessions", type=int, default=5, help="sessions sharing the reruns")
    parser.add_argument(
        "--memory-warm-up", type=int, default=3, help="reruns per memory session before its RSS is measured"
    )
    parser.add_argument("--ramp-s", type=float, default=20.0, help="visitors arrive evenly over this many seconds")
    # a visitor looks at the new chart (or watches it play) before the next click: a few seconds
    parser.add_argument("--think-min-s", type=float, default=3.0, help="shortest pause between two actions")
    parser.add_argument("--think-max-s", type=float, default=8.0, help="longest pause between two actions")
    parser.add_argument("--seed", type=int, default=0, help="seeds the visitors' pauses")
    parser.add_argument("--deadline-s", type=float, default=1500.0, help="the whole run stops after this")
    parser.add_argument("--p95-target-s", type=float, default=3.0)
    parser.add_argument("--rss-growth-mb", type=float, default=100.0)
    parser.add_argument("--json", type=Path, help="also write the report here")
    parser.add_argument("--attackers", type=int, default=0, help="attacker mode: clients sending the heaviest links")
    parser.add_argument("--victims", type=int, default=3, help="attacker mode: fresh visitors timed, idle and attacked")
    parser.add_argument("--attack-lead-s", type=float, default=5.0, help="attacker mode: head start of the attackers")
    parser.add_argument("--attacker-ratio-target", type=float, default=2.0)
    parser.add_argument("--verbose", action="store_true")
    add_check_option(parser)
    # the attackers' own process (see attack()): sends the heaviest links to this server for this long
    parser.add_argument("--attack-url", help=argparse.SUPPRESS)
    parser.add_argument("--attack-seconds", type=float, default=60.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.attackers and args.client != "ws":
        parser.error("--attackers needs --client ws")
    if not 0 <= args.replicas <= 16:
        parser.error("need 0 <= --replicas <= 16")
    if args.replicas and args.client != "ws":
        parser.error("--replicas needs --client ws")
    if not 0 <= args.attackers <= 100 or not 1 <= args.victims <= 20:
        parser.error("need 0 <= --attackers <= 100 and 1 <= --victims <= 20")
    for name in ("sessions", "rounds", "reruns"):
        if not 0 <= getattr(args, name) <= 10_000:
            parser.error(f"--{name} must be in [0, 10000]")
    if not 0 <= args.think_min_s <= args.think_max_s <= 60:
        parser.error("need 0 <= --think-min-s <= --think-max-s <= 60")
    return args


def verdict(result: dict, args) -> tuple[dict, Targets]:
    """Correctness checks (always enforced: an error is never noise) and the targets (``--check`` enforces)."""
    p95 = result.get("all_actions", {}).get("p95", float("inf")) if args.sessions else 0.0
    growth = result.get("memory", {}).get("growth_mb", 0.0)
    checks = {"no errors": not result["errors"] and not result["server_log_problems"]}
    if args.reruns:
        checks["every rerun done"] = result["memory"].get("reruns") == args.reruns
    if args.replicas:
        checks["every visitor stayed on one replica"] = not result["replicas"]["visitors_on_several"]
    targets = Targets(enforced=args.check)
    targets.verdict(f"p95 <= {args.p95_target_s:g} s", p95 <= args.p95_target_s)
    targets.verdict(f"RSS growth < {args.rss_growth_mb:g} MB", growth < args.rss_growth_mb)
    if args.attackers:
        ratio = result["attack"]["ratio"]
        name = f"first chart under attack within {args.attacker_ratio_target:g}x of idle"
        targets.verdict(name, ratio <= args.attacker_ratio_target)
    return checks, targets


def print_report(result: dict, checks: dict, targets: Targets) -> None:
    print(
        f"\ngdviz load test: {result['sessions']} {result['client']} sessions × {result['rounds']} round(s) on "
        f"{result['url']}, arriving over {result['ramp_s']:g} s, pausing {result['think_s']} s between actions"
    )
    print(f"machine: {result['cores']} cores; cold start (first chart of a fresh server): {result['cold_start_s']} s")
    print(f"{'action':32s} {'n':>4s} {'p50 s':>7s} {'p95 s':>7s} {'max s':>7s}   (chart message arrived: p50 / p95)")
    for action, s in result["timings"].items():
        if not s.get("n"):
            continue
        arrived = result["chart_message_arrived"].get(action, {})
        extra = f"{arrived['p50']:.2f} / {arrived['p95']:.2f}" if arrived.get("n") else "—"
        print(f"{action:32s} {s['n']:4d} {s['p50']:7.2f} {s['p95']:7.2f} {s['max']:7.2f}   {extra}")
    a = result["all_actions"]
    if a.get("n"):
        print(f"{'all load actions':32s} {a['n']:4d} {a['p50']:7.2f} {a['p95']:7.2f} {a['max']:7.2f}")
    if "load_wall_s" in result:
        print(
            f"load phase: {result['load_wall_s']} s; server busy {result['server_cpu_share_of_one_core']:.0%} of one core; "
            f"machine load average before {result['load_average_before']}, after {result['load_average_after']}"
        )
    print(f"server RSS (MB): {result['rss_mb']}")
    spread = result.get("replicas")
    if spread:
        print(
            f"replicas: {spread['replicas']} behind nginx; sessions per replica {spread['sessions_per_replica']}; "
            f"visitors who reached more than one replica: {len(spread['visitors_on_several'])}"
        )
    memory = result["memory"]
    if memory.get("reruns") is not None:
        print(
            f"memory: {memory['reruns']} reruns in {memory['sessions']} sessions, {memory['wall_s']} s: RSS "
            f"{memory['rss_before_mb']} -> {memory['rss_after_mb']} MB (growth {memory['growth_mb']} MB); "
            f"samples (reruns, MB) {memory['samples']}; time per rerun p50 {memory['rerun_time'].get('p50')} s, "
            f"p95 {memory['rerun_time'].get('p95')} s"
        )
    attack = result.get("attack")
    if attack:
        print(
            f"attacker mode: {attack['attackers']} attackers for {attack['wall_s']} s (server busy "
            f"{attack['server_cpu_share_of_one_core']:.0%} of one core, RSS after {attack['rss_mb_after']} MB)"
        )
        print(
            f"  a fresh visitor's first chart: idle {attack['first_chart_idle_s']} s, attacked "
            f"{attack['first_chart_attacked_s']} s: ratio of medians {attack['ratio']}"
        )
        h = attack["heavy_link_time"]
        if h.get("n"):
            print(f"  heavy links answered: {h['n']}, p50 {h['p50']} s, max {h['max']} s")
        for name, link in attack["links"].items():
            print(f"  {name}: {link}")
    print(f"errors: {len(result['errors'])}; server log problems: {len(result['server_log_problems'])}")
    for line in (result["errors"] + result["server_log_problems"])[:20]:
        print(f"  {line}")
    for name, ok in checks.items():
        print(f"  {name}: {'yes' if ok else 'NO'}")
    for name, met in targets.results.items():
        print(f"  {name}: {verdict_text(met, targets.enforced)}")


def main(argv=None) -> int:
    global PRESET_TITLES
    args = parse_args(argv)
    if args.attack_url:  # the attackers' process of an attacker-mode run
        asyncio.run(attack_for(args.attack_url, args.attackers, args.attack_seconds, args.verbose))
        return 0
    PRESET_TITLES = preset_titles()
    if args.client == "browser" and not Path(CHROMIUM).exists():
        print(f"no Chromium at {CHROMIUM} (set GDVIZ_CHROMIUM)", file=sys.stderr)
        return 2
    server = Cluster(args.replicas) if args.replicas else Server()
    try:
        server.start()
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 2
    try:
        result = asyncio.run(asyncio.wait_for(main_async(args, server), timeout=args.deadline_s))
    except TimeoutError:
        print(f"the run passed its deadline of {args.deadline_s:g} s", file=sys.stderr)
        server.stop()
        return 1
    finally:
        server.stop()
    result["server_log_problems"] = server.log_problems()
    if args.replicas:
        result["replicas"] = server.stickiness()
    checks, targets = verdict(result, args)
    result["checks"], result["targets"] = checks, targets.results
    result["ok"] = all(checks.values()) and not targets.exit_code()
    print_report(result, checks, targets)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    status = targets.finish()
    return 1 if not all(checks.values()) else status


if __name__ == "__main__":
    sys.exit(main())

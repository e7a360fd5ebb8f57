"""Landscape Lab views as a visitor gets them: each view at its default link, the whole page, cold caches.

Target (issue 13, "Slow Lab views"): on a quiet machine each Lab view answers within 2 s.

Each measurement is a fresh Python process (nothing cached, as after a server start) that opens the app
as a visitor does (the Playground first), then times the AppTest run of ``pages/landscape.py?view=<v>``:
the page's whole script (widgets, computation, figures, their serialisation). Inside that run it also
times the view's computation alone: the calls to the Lab's ``st.cache_data`` functions (its probes of the
work budget included), outermost calls only, so a computation that asks another cached one is counted once.

Shared machines are noisy, so every round measures every view, one process after the other, and each
view's time is also given as a ratio to a peer measured in the same round: the critical-points view,
a page of the same kinds of work (NumPy, plotly) that the issue did not find slow. "adjusted" is that
ratio times the peer's quietest time in this run: what the view would take at the least loaded moment
seen, which is what the target is held to; the raw best time is printed beside it, and the worst round's,
which shows what load does to a view (the basins view's OpenBLAS threads spinning on the other core made it
2.5-3.5 s on the busy machine where its best round was 0.7 s).

Run: python benchmarks/lab_views.py [--quick] [--check] [--rounds N] [--views basins,escape]
(--check: exit status 1 when a view misses its target)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.targets import Targets, add_check_option  # noqa: E402

PEER = "critical"
TARGET_SECONDS = 2.0
PAGE = "pages/landscape.py"


def _time_cached_computations(totals: dict[str, float]) -> None:
    """Wrap every ``st.cache_data`` function of the Lab's modules so that the wall time of its outermost
    calls adds up in ``totals["engine"]``."""
    from streamlit.runtime.caching.cache_utils import CachedFunc

    import ui.lab.views  # noqa: F401  (imports every view module)

    depth = [0]

    def timed(cached):
        def call(*args, **kwargs):
            depth[0] += 1
            tick = time.perf_counter()
            try:
                return cached(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    totals["engine"] += time.perf_counter() - tick

        return call

    for name, module in list(sys.modules.items()):
        if name.startswith("ui.lab.") and module is not None:
            for attr, value in list(vars(module).items()):
                if isinstance(value, CachedFunc):
                    setattr(module, attr, timed(value))


def child(view: str) -> dict[str, float | str]:
    """One cold measurement of ``view`` in this (fresh) process: page wall and CPU seconds, engine seconds."""
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    from streamlit.testing.v1 import AppTest

    totals = {"engine": 0.0}
    _time_cached_computations(totals)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.run()  # the visitor's first page, the Playground: the app's imports and its first run are not counted
    at.query_params.clear()
    at.switch_page(PAGE)
    at.query_params["view"] = view
    totals["engine"] = 0.0
    tick, cpu = time.perf_counter(), time.process_time()
    at.run()
    page, page_cpu = time.perf_counter() - tick, time.process_time() - cpu
    problems = [e.value for e in at.exception] + [str(e.value) for e in at.error]
    if problems:
        raise SystemExit(f"view {view}: the page failed: {problems}")
    return {"view": view, "page": page, "page_cpu": page_cpu, "engine": totals["engine"]}


def measure_once(view: str) -> dict[str, float]:
    """``child(view)`` in a fresh process."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", view],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        raise SystemExit(f"view {view}: the measuring process failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    from ui.lab import views

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one round (a smoke test)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every view (default 3; best of them kept)")
    parser.add_argument("--views", default=",".join(views.VIEWS), help="comma-separated views (default: all)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    add_check_option(parser)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    wanted = [v.strip() for v in args.views.split(",") if v.strip()]
    unknown = [v for v in wanted if v not in views.VIEWS]
    if unknown:
        parser.error(f"unknown views {unknown}; the Lab's views are {list(views.VIEWS)}")
    order = [PEER] + [v for v in wanted if v != PEER]
    rounds = 1 if args.quick else max(1, args.rounds)
    targets = Targets(enforced=args.check)
    seen: dict[str, list[dict[str, float]]] = {v: [] for v in order}
    ratios: dict[str, list[float]] = {v: [] for v in order}
    for _ in range(rounds):
        results = {view: measure_once(view) for view in order}
        for view, result in results.items():
            seen[view].append(result)
            ratios[view].append(result["page"] / results[PEER]["page"])
    quiet_peer = min(r["page"] for r in seen[PEER])
    print(f"Landscape Lab views at their default links, cold caches, {rounds} round(s): best (and worst) of them")
    print(f"peer: the {PEER} view (quietest {quiet_peer:.2f} s); adjusted = (view / peer, same round) x that")
    print(f"  {'view':<10} {'page s':>13} {'CPU s':>13} {'engine s':>8} {'x peer':>7} {'adjusted s':>10}  target")
    for view in order:
        if view not in wanted:
            continue
        page, cpu = [r["page"] for r in seen[view]], [r["page_cpu"] for r in seen[view]]
        engine, ratio = min(r["engine"] for r in seen[view]), min(ratios[view])
        adjusted = ratio * quiet_peer
        verdict = targets.verdict(f"{view} <= {TARGET_SECONDS:g} s", adjusted <= TARGET_SECONDS)
        print(
            f"  {view:<10} {min(page):5.2f} ({max(page):5.2f}) {min(cpu):5.2f} ({max(cpu):5.2f}) {engine:8.2f} "
            f"{ratio:7.2f} {adjusted:10.2f}  <= {TARGET_SECONDS:g} s: {verdict}"
        )
    return targets.finish()


if __name__ == "__main__":
    sys.exit(main())

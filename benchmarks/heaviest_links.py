"""The heaviest link each page allows, run in-process: the server CPU it costs, next to the page's default link.

Issue 17 asks that "the heaviest link of each page costs at most a few seconds of server CPU". Each link
is opened with Streamlit's AppTest in this process (a fresh session, so no result is served from a session's
state) and the CPU this process spends on it (time.process_time: all threads, user + system) is printed
against the same page's default link measured in the same run, so a busy machine moves both.

The links are benchmarks/load.py's :func:`heaviest_links` (every count at its cap, Newton where an
optimizer is picked, goldstein_price where a surface is, the costliest typed formula the parser and
gdviz.custom.MAX_DERIVED_NODES accept with 8 optimizers × 8 starts, regression data at its value cap). Each link gets a
seed no earlier link used, so caches shared by sessions do not answer it.

Run: python benchmarks/heaviest_links.py [--target 5] [--only landscape] [--check]

Every link over ``--target`` CPU seconds is reported; ``--check`` makes that exit status 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from load import heaviest_links  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from benchmarks.targets import Targets, add_check_option  # noqa: E402

APP = str(ROOT / "app.py")
PAGE_FILES = {
    "Playground": None,
    "Schedules": "pages/schedules.py",
    "Landscape Lab": "pages/landscape.py",
    "Linear Regression": "pages/regression.py",
    "Networks": "pages/network.py",
}


def open_link(page: str, query: str) -> tuple[float, float, list[str]]:
    """(CPU seconds, wall seconds, notices and errors shown) of one visit to ``page`` with ``query``."""
    at = AppTest.from_file(APP, default_timeout=600)
    cpu, wall = time.process_time(), time.perf_counter()
    if PAGE_FILES[page] is not None:
        at.run()
        at.query_params.clear()
        at.switch_page(PAGE_FILES[page])
    for key, value in parse_qsl(query, keep_blank_values=True):
        at.query_params[key] = value
    at.run()
    spent, took = time.process_time() - cpu, time.perf_counter() - wall
    shown = [f"warning: {w.value}" for w in at.warning] + [f"error: {e.value}" for e in at.error]
    shown += [f"exception: {e.value}" for e in at.exception]
    return spent, took, shown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", type=float, default=5.0, help="CPU seconds a heaviest link may cost")
    parser.add_argument("--only", default="", help="only links whose name contains this")
    add_check_option(parser)
    args = parser.parse_args(argv)
    targets = Targets(enforced=args.check)
    links = heaviest_links()
    peers: dict[str, float] = {}
    worst = 0.0
    print("CPU seconds in this process (time.process_time); a busy shared machine makes all of them noisy\n")
    for round_, (name, (page, query)) in enumerate(sorted(links.items())):
        if args.only not in name:
            continue
        if page not in peers:
            peers[page], _, _ = open_link(page, "")
            print(f"[{page}] default link: {peers[page]:.2f} s CPU")
        seeded = page == "Playground" and "seed=" not in query  # the other pages' links have no seed field
        varied = f"{query}&seed={1000 + round_}" if seeded else query
        spent, took, shown = open_link(page, varied)
        worst = max(worst, spent)
        met = targets.verdict(f"{name} <= {args.target:g} s CPU", spent <= args.target)
        print(
            f"  {name}: {spent:.2f} s CPU ({took:.2f} s wall), {spent / max(peers[page], 1e-3):.1f}x the default: {met}"
        )
        for line in shown[:4]:
            print(f"      {line[:160]}")
    print(f"\nheaviest link: {worst:.2f} s of CPU (target: at most {args.target:g} s)")
    return targets.finish()


if __name__ == "__main__":
    sys.exit(main())

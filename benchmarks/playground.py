"""Benchmark the Playground's race figure against the naive design, measured in the same run.

The scenario is the default one's shape: four optimizers × 100 steps on x1² + 2x2².

    ours   the surface as a PNG in layout.images, iso-lines as scatter traces, frames that update
           only the path traces with ``redraw: false``, subsampled, rounded coordinates
    naive  a go.Contour trace, one frame per step carrying each full path (with its hover data),
           ``redraw: true`` — the obvious way, and the one that either loses the contour during
           playback (``redraw: false``) or pays for a full redraw of every frame

Printed: payload bytes, bytes per frame, build time (median of ``--repeat`` builds, CPU and wall),
the server-side serialization Streamlit adds (``to_dict`` + ``to_json``) and naive / ours ratios; then
what an uncached rerun of the page pays for the race chart, build and Streamlit's serialization
together, with the page's plain-dict figure (ui/figures/plain.py) against the same figure as a go.Figure.
``--browser`` also plays both as standalone pages in headless Chromium and reports ms per frame and
whether the surface is still visible after playback (needs Playwright and Chromium).

    python benchmarks/playground.py [--repeat 5] [--browser] [--check]

``--check``: exit status 1 when the payload target (≤ 2 MB) is missed.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gdviz  # noqa: E402
from benchmarks.targets import Targets, add_check_option  # noqa: E402
from tests.app_server import CHROMIUM_ARGS, chromium_or_exit  # noqa: E402
from ui.figures.plain import PlainFigure  # noqa: E402
from ui.figures.race import PLAY_MS, race_figure, race_spec  # noqa: E402
from ui.figures.style import PALETTE  # noqa: E402
from ui.playground.export import figure_html  # noqa: E402

LABELS = ["GD", "momentum", "Adam", "RMSprop"]


def default_race():
    surface = gdviz.surface("quadratic")
    optimizers = [
        gdviz.optimizer("SGD", lr=0.1),
        gdviz.optimizer("SGD", lr=0.1, momentum=0.5),
        gdviz.optimizer("Adam", lr=0.3),
        gdviz.optimizer("RMSprop", lr=0.05),
    ]
    return surface, gdviz.race(surface, optimizers, start=(-5.0, -2.0), steps=100)


def naive_figure(surface, trajectories, labels) -> go.Figure:
    """What one writes first: a contour trace and one redraw frame per step with every full path."""
    (x0, x1), (y0, y1) = surface.bounds
    gx, gy = np.linspace(x0, x1, 160), np.linspace(y0, y1, 160)
    z = surface.f(np.stack(np.meshgrid(gx, gy), axis=-1))
    contour = go.Contour(x=gx, y=gy, z=z.tolist(), colorscale="Viridis", ncontours=20, showscale=False)

    def paths(step: int) -> list[go.Scatter]:
        out = []
        for k, (traj, label) in enumerate(zip(trajectories, labels)):
            xs = traj.xs[: step + 1]
            hover = np.column_stack([np.arange(step + 1), traj.losses[: step + 1]]).tolist()
            out.append(
                go.Scatter(
                    x=xs[:, 0].tolist(), y=xs[:, 1].tolist(), customdata=hover, name=label, mode="lines+markers",
                    line=dict(color=PALETTE[k]), hovertemplate="step %{customdata[0]}<br>f = %{customdata[1]}",
                )
            )  # fmt: skip
        return out

    steps = trajectories[0].steps
    frames = [go.Frame(name=str(t), data=paths(t), traces=list(range(1, 1 + len(labels)))) for t in range(steps + 1)]
    play = dict(
        label="▶ Play", method="animate", args=[None, dict(frame=dict(duration=PLAY_MS, redraw=True), fromcurrent=True)]
    )
    slider = dict(
        steps=[
            dict(label=str(t), method="animate", args=[[str(t)], dict(frame=dict(redraw=True))])
            for t in range(steps + 1)
        ]
    )
    layout = go.Layout(height=620, updatemenus=[dict(type="buttons", buttons=[play])], sliders=[slider])
    return go.Figure(data=[contour, *paths(steps)], layout=layout, frames=frames)


def measure(build, repeat: int) -> dict:
    cpu, wall = [], []
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        fig = build()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    c0 = time.process_time()
    fig.to_dict()
    text = pio.to_json(fig, validate=False)
    serialize = time.process_time() - c0
    frames = len(fig.frames)
    frame_bytes = len(pio.to_json(go.Figure(frames=fig.frames), validate=False)) if frames else 0
    return {
        "figure": fig,
        "bytes": len(text),
        "frames": frames,
        "bytes_per_frame": frame_bytes / max(frames, 1),
        "build_cpu_s": statistics.median(cpu),
        "build_wall_s": statistics.median(wall),
        "serialize_cpu_s": serialize,
    }


def page_path_ms(build, repeat: int) -> float:
    """Median wall ms of what st.plotly_chart does with a freshly built figure: its to_dict(), then to_json."""
    times = []
    for _ in range(repeat):
        tick = time.perf_counter()
        pio.to_json(build().to_dict(), validate=False)
        times.append(time.perf_counter() - tick)
    return statistics.median(times) * 1e3


def play_in_browser(fig: go.Figure, workdir: Path, name: str) -> dict:
    """Open the figure as a standalone page, press Play, time the frames, check the surface's pixels."""
    from PIL import Image
    from playwright.sync_api import sync_playwright

    chromium = chromium_or_exit("--browser needs Chromium")
    page_path = workdir / f"{name}.html"
    page_path.write_text(figure_html(fig))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        page.goto(page_path.as_uri())
        page.locator(".main-svg").first.wait_for(state="visible")
        page.evaluate(
            """() => { const gd = document.querySelector('.js-plotly-plot'); window.__log = {t: [], done: false};
            gd.on('plotly_animatingframe', () => window.__log.t.push(performance.now()));
            gd.on('plotly_animated', () => { window.__log.done = true; }); }"""
        )
        page.locator(".updatemenu-button", has_text="Play").first.click()
        page.wait_for_function("() => window.__log.done", timeout=300_000)
        stamps = page.evaluate("() => window.__log.t")
        box = page.locator(".nsewdrag").first.bounding_box()
        shot = page.screenshot(
            clip={"x": box["x"] + 3, "y": box["y"] + 3, "width": box["width"] - 6, "height": box["height"] - 6}
        )
        browser.close()
    pixels = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB")).reshape(-1, 3)
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    return {
        "ms_per_frame": (stamps[-1] - stamps[0]) / max(len(stamps) - 1, 1),
        # a lost surface leaves the plot background: one flat colour over most of the plot area
        "flat_share": float(counts.max() / counts.sum()),
        "colours": len(colours),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="builds per design (the median is reported)")
    parser.add_argument("--browser", action="store_true", help="also play both designs in headless Chromium")
    add_check_option(parser)
    args = parser.parse_args(argv)
    targets = Targets(enforced=args.check)

    surface, race = default_race()
    ours = measure(lambda: race_figure(surface, race, LABELS), args.repeat)
    naive = measure(lambda: naive_figure(surface, race, LABELS), args.repeat)
    print(f"scenario: {len(LABELS)} optimizers × {race[0].steps} steps on {surface.name}\n")
    print(f"{'':24s}{'ours':>14s}{'naive':>14s}{'naive/ours':>12s}")
    rows = [
        ("payload bytes", "bytes", "{:,.0f}"),
        ("frames", "frames", "{:,.0f}"),
        ("bytes per frame", "bytes_per_frame", "{:,.0f}"),
        ("build CPU (s)", "build_cpu_s", "{:.3f}"),
        ("build wall (s)", "build_wall_s", "{:.3f}"),
        ("to_dict+to_json CPU (s)", "serialize_cpu_s", "{:.3f}"),
    ]
    for title, key, fmt in rows:
        ratio = naive[key] / ours[key] if ours[key] else float("nan")
        print(f"{title:24s}{fmt.format(ours[key]):>14s}{fmt.format(naive[key]):>14s}{ratio:>12.2f}")
    met = targets.verdict("payload <= 2 MB", ours["bytes"] <= 2_000_000)
    print(f"\npayload target ≤ 2 MB: {met} ({ours['bytes'] / 1e6:.2f} MB)")

    as_go = page_path_ms(lambda: race_figure(surface, race, LABELS), args.repeat)
    plain = page_path_ms(lambda: PlainFigure(race_spec(surface, race, LABELS)), args.repeat)
    print(
        f"\nper uncached rerun, build + Streamlit's to_dict/to_json: plain dict {plain:.0f} ms, "
        f"go.Figure {as_go:.0f} ms ({as_go / plain:.1f}x)"
    )

    if args.browser:
        naive_fast = naive["figure"]
        # the naive figure's other half: the same frames with redraw off, which loses the contour
        lost = go.Figure(naive_fast)
        lost.layout.updatemenus[0].buttons[0].args[1]["frame"]["redraw"] = False
        with tempfile.TemporaryDirectory() as tmp:
            results = {
                "ours (redraw off)": play_in_browser(ours["figure"], Path(tmp), "ours"),
                "naive (redraw on)": play_in_browser(naive_fast, Path(tmp), "naive"),
                "naive (redraw off)": play_in_browser(lost, Path(tmp), "naive_lost"),
            }
        print("\nbrowser playback (after Play ran to the end; a surface that is still drawn has no flat colour)")
        print(f"{'':24s}{'ms/frame':>10s}{'flattest colour':>17s}{'colours':>9s}  surface")
        for name, result in results.items():
            visible = "visible" if result["flat_share"] < 0.5 and result["colours"] > 300 else "LOST"
            print(
                f"{name:24s}{result['ms_per_frame']:>10.1f}{result['flat_share']:>17.0%}{result['colours']:>9d}  {visible}"
            )
        base = results["ours (redraw off)"]["ms_per_frame"]
        print(f"naive (redraw on) / ours ms per frame: {results['naive (redraw on)']['ms_per_frame'] / base:.2f}")
    return targets.finish()


if __name__ == "__main__":
    sys.exit(main())

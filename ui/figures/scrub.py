"""The race figure's scrubbable paths: every η (and β) a racer's scrubbers offer, packed for the browser.

A racer's :class:`gdviz.landscape.scrub.Sweep` is drawn as the race draws its path (the same window, the same
clipping, a diverged run cut where it leaves the window) at the figure's frame steps, and shipped in
``layout.meta["scrub"]`` as one float32 block per racer: float32 is plenty for a screen, while the numbers the
page prints (inspector, tables) stay the float64 of the committed run. The page's stage
(ui/playground/stage.py) swaps a racer's path trace for one of these while the visitor drags, in the browser.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np

from gdviz.landscape.scrub import Sweep
from ui.figures.style import clip_drawing


@dataclass(frozen=True)
class ScrubInput:
    """One racer's sweep and where its own setting sits on the sliders."""

    racer: int
    sweep: Sweep
    lr_index: int
    beta_index: int  # 0 without a second knob
    beta_label: str  # what the second slider is called ("momentum", "β1"); "" without one


def drawn_paths(sweep: Sweep, frame_steps: list[int], lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(B, K, R, P, 2) float64 plot coordinates at the frame steps and (B, K, R) how many of them are drawn.

    As the race draws a path: x itself in 2-D, (x, f(x)) in 1-D, kept within a few windows of the view; a
    diverged run is drawn up to and including its first point outside the window."""
    points = np.asarray(frame_steps, dtype=int)
    xs = sweep.xs[:, :, points]  # (B, K, P, R, dim)
    if xs.shape[-1] == 1:
        xs = np.concatenate([xs, sweep.losses[:, :, points][..., None]], axis=-1)
    drawn = np.moveaxis(clip_drawing(xs, lo, hi), 2, 3)  # (B, K, R, P, 2)
    outside = np.any((drawn < lo) | (drawn > hi), axis=-1)  # (B, K, R, P)
    first_out = np.where(outside.any(axis=-1), outside.argmax(axis=-1) + 1, len(points))
    counts = np.where(sweep.diverged_at >= 0, first_out, len(points))
    return drawn, counts


def _base64(values: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype=np.float32)).decode("ascii")


def scrub_meta(
    inputs: list[ScrubInput],
    frame_steps: list[int],
    lo: np.ndarray,
    hi: np.ndarray,
    path_traces: list[int],
    head_offsets: list[int],
) -> dict:
    """What ``layout.meta["scrub"]`` holds: the view window and, per scrubbable racer, its grids and paths.

    ``path_traces[i]``: racer i's path trace; ``head_offsets[i]``: index of its first run's head in the heads
    trace. ``xy`` is base64 float32 of shape (B, K, R, P, 2) in C order; ``count`` (B·K·R) the points drawn of
    each run; ``diverged`` (B·K·R) the step each run diverged at (-1: never)."""
    racers = []
    for item in inputs:
        sweep = item.sweep
        drawn, counts = drawn_paths(sweep, frame_steps, lo, hi)
        racers.append(
            dict(
                racer=item.racer,
                trace=path_traces[item.racer],
                head=head_offsets[item.racer],
                runs=int(drawn.shape[2]),
                lrs=[float(v) for v in sweep.lrs],
                lr=int(item.lr_index),
                axis=item.beta_label,
                betas=[float(v) for v in sweep.betas],
                beta=int(item.beta_index),
                xy=_base64(drawn),
                count=counts.ravel().tolist(),
                diverged=sweep.diverged_at.ravel().astype(int).tolist(),
            )
        )
    return dict(lo=[float(v) for v in lo], hi=[float(v) for v in hi], racers=racers)

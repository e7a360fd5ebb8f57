"""The surface as a picture: a PNG of f over the window, and its iso-lines by marching squares.

The race and the Lab pages' maps paint this picture into ``layout.images`` and draw the iso-lines as
ordinary scatter traces, not as a contour or heatmap trace: ui/figures/race.py says why. Colours are
spread evenly over the picture's area (f is mapped through its own quantiles), and the iso-levels sit
at the same quantiles, so they are evenly spaced in colour too.
"""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np

from gdviz.surfaces.base import Surface
from ui.figures.style import LOSS_ANCHORS, sig

_UNDEFINED_RGB = (225, 225, 225)
IMAGE_PIXELS = 160
N_LEVELS = 14


def png_bytes(rgb: np.ndarray) -> bytes:
    """Encode an (h, w, 3) uint8 array as a PNG (filter "Up" on every row, zlib level 1).

    Level 1 because every new scenario encodes one: level 9 takes ~15-70 ms for a 160 × 160 picture and
    saves ~6 kB of a ~500 kB figure; level 1 takes ~1-2 ms.
    """
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w, _ = rgb.shape
    up = rgb.copy()
    up[1:] -= rgb[:-1]  # uint8 arithmetic wraps modulo 256, exactly as the PNG filter is defined
    raw = np.concatenate([np.full((h, 1), 2, dtype=np.uint8), up.reshape(h, w * 3)], axis=1)

    def chunk(tag: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + tag + payload + struct.pack(">I", zlib.crc32(tag + payload))

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw.tobytes(), 1))
        + chunk(b"IEND", b"")
    )


def surface_values(surface: Surface, points: np.ndarray) -> np.ndarray:
    """f at points (..., dim), with nan wherever f is not a finite number."""
    with np.errstate(all="ignore"):
        values = np.asarray(surface.f(points), dtype=np.float64)
    return np.where(np.isfinite(values), values, np.nan)


def equalizer(values: np.ndarray):
    """A monotone map of f to [0, 1] that spreads the colours evenly over the picture's area."""
    finite = values[np.isfinite(values)]
    if finite.size == 0 or finite.max() == finite.min():
        return lambda v: np.full(np.shape(v), 0.5)
    knots, first = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, 257)), return_index=True)
    ranks = np.linspace(0.0, 1.0, 257)[first]
    if knots.size < 2:
        return lambda v: np.full(np.shape(v), 0.5)
    ranks = (ranks - ranks[0]) / (ranks[-1] - ranks[0])
    return lambda v: np.interp(v, knots, ranks)


def washed_viridis() -> np.ndarray:
    """(10, 3) the colour scale's anchors as RGB in [0, 255]: ui/figures/style.py's one scale for loss."""
    return LOSS_ANCHORS.copy()


def _colorize(t: np.ndarray) -> np.ndarray:
    """[0, 1] (nan = undefined) -> (..., 3) uint8 on the washed viridis scale."""
    anchors = washed_viridis()
    pos = np.nan_to_num(t, nan=0.0) * (len(anchors) - 1)
    rgb = np.stack([np.interp(pos, np.arange(len(anchors)), anchors[:, c]) for c in range(3)], axis=-1)
    rgb[np.isnan(t)] = _UNDEFINED_RGB
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8)


def cell_grid(lo, hi, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Cell-centred samples of the window: (n,) x and y."""
    step = (np.asarray(hi) - np.asarray(lo)) / n
    return lo[0] + (np.arange(n) + 0.5) * step[0], lo[1] + (np.arange(n) + 0.5) * step[1]


def image_layout(source: str, lo, hi, **extra) -> dict:
    """A layout image (data URI) stretched over the window (lo, hi), under the traces."""
    return dict(
        source=source,
        xref="x",
        yref="y",
        x=float(lo[0]),
        y=float(hi[1]),
        sizex=float(hi[0] - lo[0]),
        sizey=float(hi[1] - lo[1]),
        sizing="stretch",
        layer="below",
        xanchor="left",
        yanchor="top",
        **extra,
    )


def surface_image(surface: Surface, lo, hi, pixels: int = IMAGE_PIXELS):
    """The surface over the window as a PNG data URI, and the f -> [0, 1] colour map it used."""
    gx, gy = cell_grid(lo, hi, pixels)
    z = surface_values(surface, np.stack(np.meshgrid(gx, gy), axis=-1))  # (ny, nx), row 0 at the bottom
    shade = equalizer(z)
    rgb = _colorize(np.where(np.isnan(z), np.nan, shade(z)))[::-1]  # PNG rows run top to bottom
    return "data:image/png;base64," + base64.b64encode(png_bytes(rgb)).decode("ascii"), shade


# -- iso-lines by marching squares ----------------------------------------------------------------
# corner bits: 1 = (i, j), 2 = (i, j+1), 4 = (i+1, j+1), 8 = (i+1, j); edges B(ottom) R(ight) T(op) L(eft)
_CASES = {
    1: ("LB",),
    2: ("BR",),
    3: ("LR",),
    4: ("RT",),
    6: ("BT",),
    7: ("LT",),
    8: ("LT",),
    9: ("BT",),
    11: ("RT",),
    12: ("LR",),
    13: ("BR",),
    14: ("LB",),
}
# the two saddle cases, resolved by the value at the cell centre: (centre above, centre below)
_SADDLES = {5: (("BR", "LT"), ("LB", "RT")), 10: (("LB", "RT"), ("BR", "LT"))}


def contour_lines(gx: np.ndarray, gy: np.ndarray, z: np.ndarray, level: float) -> list[np.ndarray]:
    """Polylines (each (n, 2)) where z = level; z is (ny, nx) sampled at gx (nx,), gy (ny,)."""
    return _lines(gx, gy, z, level, _segments(z, level))


def _segments(z: np.ndarray, level: float) -> np.ndarray:
    """(k, 2) the segments of the iso-line at ``level``, each as the two cell edges it joins (edge numbers:
    the ny × (nx - 1) horizontal ones first, then the vertical ones)."""
    ny, nx = z.shape
    c00, c01, c11, c10 = z[:-1, :-1], z[:-1, 1:], z[1:, 1:], z[1:, :-1]
    valid = np.isfinite(c00) & np.isfinite(c01) & np.isfinite(c11) & np.isfinite(c10)
    case = (c00 > level) * 1 + (c01 > level) * 2 + (c11 > level) * 4 + (c10 > level) * 8
    case = np.where(valid, case, 0)
    centre_above = (c00 + c01 + c11 + c10) / 4 > level
    n_h = ny * (nx - 1)
    ii, jj = np.indices(case.shape)
    edge_of = {
        "B": ii * (nx - 1) + jj,
        "T": (ii + 1) * (nx - 1) + jj,
        "L": n_h + ii * nx + jj,
        "R": n_h + ii * nx + jj + 1,
    }
    pairs = []
    for code, segments in _CASES.items():
        mask = case == code
        pairs += [np.stack([edge_of[a][mask], edge_of[b][mask]], axis=1) for a, b in segments]
    for code, (above, below) in _SADDLES.items():
        for segments, mask in ((above, (case == code) & centre_above), (below, (case == code) & ~centre_above)):
            pairs += [np.stack([edge_of[a][mask], edge_of[b][mask]], axis=1) for a, b in segments]
    return np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=np.int64)


def _lines(gx: np.ndarray, gy: np.ndarray, z: np.ndarray, level: float, segs: np.ndarray) -> list[np.ndarray]:
    """The segments joined into polylines, each vertex where the level crosses its cell edge."""
    if segs.size == 0:
        return []
    ny, nx = z.shape
    n_h = ny * (nx - 1)
    edges = np.unique(segs)
    horizontal = edges < n_h
    i = np.where(horizontal, edges // (nx - 1), (edges - n_h) // nx)
    j = np.where(horizontal, edges % (nx - 1), (edges - n_h) % nx)
    i2, j2 = np.where(horizontal, i, i + 1), np.where(horizontal, j + 1, j)
    z1, z2 = z[i, j], z[i2, j2]
    frac = (level - z1) / (z2 - z1)  # one end is above the level and the other not: no zero division
    xy = np.stack([gx[j] + frac * (gx[j2] - gx[j]), gy[i] + frac * (gy[i2] - gy[i])], axis=1)
    where = {int(e): k for k, e in enumerate(edges.tolist())}
    return [xy[[where[e] for e in chain]] for chain in _chains(segs.tolist())]


def _chains(segs: list[list[int]]) -> list[list[int]]:
    """Join segments that share an edge into polylines (each cell edge is shared by at most two)."""
    first: dict[int, int] = {}  # edge -> the first segment at it, and the second (if any)
    second: dict[int, int] = {}
    for s, (a, b) in enumerate(segs):
        for edge in (a, b):
            if edge in first:
                second[edge] = s
            else:
                first[edge] = s
    used = bytearray(len(segs))

    def walk(end: int) -> list[int]:
        out = []
        while True:
            nxt = first.get(end)
            if nxt is None or used[nxt]:
                nxt = second.get(end)
                if nxt is None or used[nxt]:
                    return out
            used[nxt] = 1
            a, b = segs[nxt]
            end = b if a == end else a
            out.append(end)

    chains = []
    for s, (a, b) in enumerate(segs):
        if not used[s]:
            used[s] = 1
            forward, backward = walk(b), walk(a)
            chains.append(backward[::-1] + [a, b] + forward)
    return chains


def iso_levels(z: np.ndarray, n: int = N_LEVELS) -> list[float]:
    """Iso-levels at evenly spaced quantiles of f over the window: evenly spaced in colour too."""
    finite = z[np.isfinite(z)]
    if finite.size == 0 or finite.max() == finite.min():
        return []
    levels = np.unique(sig(np.quantile(finite, (np.arange(n) + 0.5) / n), 6))
    return [float(v) for v in levels if finite.min() < v < finite.max()]


# vertices of all iso-lines together: a chaotic typed formula drew 1.4 MB of them (issue 17); past this,
# every other level is dropped until they fit (the picture underneath still shows every level's colour)
CONTOUR_MAX_POINTS = 25_000


def iso_line_arrays(gx: np.ndarray, gy: np.ndarray, z: np.ndarray, levels: list[float]) -> tuple:
    """Every iso-line at ``levels`` as one (x, y) pair of float32 arrays, the lines apart by NaN (a gap).

    Which levels fit CONTOUR_MAX_POINTS is decided from their segments (a line has a vertex more than it has
    segments) before any is joined into lines: joining is the costly part (Python, per segment), and a chaotic
    formula's 14 levels had 80,000 segments, of which a quarter are drawn (0.3 s of the server's interpreter).
    float32 holds what a screen can show and travels as compact binary (ui/figures/plain.py)."""
    segments = {level: _segments(z, level) for level in levels}
    kept = list(levels)
    while len(kept) > 1 and sum(len(segments[level]) for level in kept) > CONTOUR_MAX_POINTS:
        kept = kept[::2]
    lines = {level: _lines(gx, gy, z, level, segments[level]) for level in kept}
    while len(kept) > 1 and sum(len(line) + 1 for level in kept for line in lines[level]) > CONTOUR_MAX_POINTS:
        kept = kept[::2]  # the gaps and each line's last vertex, over the estimate
    gap = np.full((1, 2), np.nan)
    parts = [part for level in kept for line in lines[level] for part in (line, gap)][:-1]
    if not parts:
        return np.empty(0, dtype=np.float32), np.empty(0, dtype=np.float32)
    xy = np.concatenate(parts).astype(np.float32)
    return xy[:, 0], xy[:, 1]


def contour_trace(xs, ys) -> dict:
    """The iso-lines as one thin grey scatter trace (lines apart by a gap), not hoverable."""
    return dict(
        type="scatter",
        x=xs,
        y=ys,
        mode="lines",
        name="contours",
        hoverinfo="skip",
        showlegend=False,
        line=dict(color="rgba(30,30,30,0.3)", width=1),
    )

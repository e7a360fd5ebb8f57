"""Reading a Playground link: untrusted query parameters in, a valid Scenario and notices out.

Every value is bounded by :mod:`ui.limits` before it is parsed; unknown keys are ignored and named in
a notice, malformed values fall back to the default and out-of-range ones are clamped, each with a
notice. The engine itself has the last word on cross-parameter rules (``checked_entry``,
``checked_schedule``). :func:`read_query` never raises. The key scheme is documented in
:mod:`ui.scenario`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import gdviz
from gdviz.optimizers import optimizer_class
from gdviz.params import HyperParam
from gdviz.schedules import schedule_class
from ui import limits
from ui.playground.scenario import (
    CUSTOM,
    QUERY_VERSION,
    OptimizerEntry,
    Scenario,
    checked_entry,
    checked_schedule,
    clean_label,
    fit_budget,
)
from ui.state.query import parse_point, plain_query, shown, unknown_keys_notice
from ui.state.values import NO_SCHEDULE, Params, clamp_value, encode_value, full_params, parse_number, parse_value


def read_query(params: Mapping[str, Any]) -> tuple[Scenario, list[str]]:
    """See :func:`ui.playground.scenario.from_query`."""
    notices: list[str] = []
    try:
        return _from_query(plain_query(params, notices), notices), notices
    except Exception as error:  # noqa: BLE001 -- a last line of defence: a link must never break the page
        notices.append(f"The link could not be read ({type(error).__name__}); showing the default scenario.")
        return Scenario(), notices


def _scalar(raw, key, notices, used, default, low, high, integer, what):
    if key not in raw:
        return default
    used.add(key)
    try:
        value = parse_number(raw[key], integer)
    except ValueError:
        fallback = "none" if default is None else default
        notices.append(f"{what} '{shown(raw[key])}' is not a valid number; using {fallback}.")
        return default
    clamped = type(value)(limits.clamp(value, low, high))
    if clamped != value:
        notices.append(f"{what} {shown(raw[key])} is out of range [{low:g}, {high:g}]; clamped to {clamped:g}.")
    return clamped


def _read_params(
    prefix: str, owner: str, specs: tuple[HyperParam, ...], raw: dict[str, str], used: set[str], notices: list[str]
) -> dict[str, Any]:
    """Parameters ``<prefix>.<name>`` from the query: parsed, clamped, each problem noted."""
    known = {spec.name: spec for spec in specs}
    out: dict[str, Any] = {}
    for key in [k for k in raw if k.startswith(prefix + ".")]:
        name = key[len(prefix) + 1 :]
        if name in ("clip", "label") and prefix.startswith("o"):
            continue
        used.add(key)
        if name not in known:
            notices.append(f"{owner}: unknown parameter '{shown(name)}' ignored.")
            continue
        spec = known[name]
        try:
            value = parse_value(spec, raw[key])
        except ValueError as error:
            notices.append(f"{owner}: {name}='{shown(raw[key])}' is not valid ({shown(error, 80)}); using the default.")
            continue
        clamped = clamp_value(spec, value)
        if clamped != value:
            notices.append(
                f"{owner}: {name}={shown(raw[key])} is out of range; clamped to {encode_value(spec, clamped)}."
            )
        out[name] = clamped
    return out


def _from_query(raw: dict[str, str], notices: list[str]) -> Scenario:
    used: set[str] = {"v"}
    base = Scenario()
    if "v" in raw and raw["v"] != QUERY_VERSION:
        notices.append(f"This link was made by another version ({shown(raw['v'])}); read what could be read.")
    surface, formula, dim = base.surface, "", None
    if raw.get("f", "").strip():
        used.add("f")
        formula = raw["f"]
        if len(formula) > limits.MAX_FORMULA_CHARS:
            notices.append(f"The formula is longer than {limits.MAX_FORMULA_CHARS} characters; it was cut.")
            formula = formula[: limits.MAX_FORMULA_CHARS]
        surface = CUSTOM
    elif "s" in raw:
        used.add("s")
        try:
            found = gdviz.surface(raw["s"][: limits.MAX_QUERY_VALUE_CHARS])
            surface, dim = found.name, found.dim
        except ValueError:
            notices.append(f"Unknown surface '{shown(raw['s'])}'; using {surface}.")
    if dim is None and not formula and surface in gdviz.SURFACES:
        dim = gdviz.SURFACES[surface].dim
    start, more_starts = _read_starts(raw, dim, notices, used)
    steps = _scalar(raw, "steps", notices, used, base.steps, limits.MIN_STEPS, limits.MAX_STEPS, True, "Steps")
    noise = _scalar(raw, "noise", notices, used, 0.0, limits.MIN_NOISE, limits.MAX_NOISE, False, "Noise σ")
    low, high = limits.MIN_BATCH_SIZE, limits.MAX_BATCH_SIZE
    batch = _scalar(raw, "batch", notices, used, 1, low, high, True, "Batch size")
    seed = _scalar(raw, "seed", notices, used, 0, limits.MIN_SEED, limits.MAX_SEED, True, "Seed")
    sched, sched_params = _read_schedule(raw, notices, used)
    optimizers = _read_optimizers(raw, notices, used) or base.optimizers
    notices.extend(unknown_keys_notice(raw, used))
    scenario = Scenario(
        surface=surface,
        formula=formula,
        start=start,
        more_starts=more_starts,
        steps=steps,
        noise=float(noise),
        batch_size=batch,
        seed=seed,
        schedule=sched,
        schedule_params=sched_params,
        optimizers=optimizers,
    )
    scenario, notice = fit_budget(scenario)
    notices.extend([notice] if notice else [])
    return scenario


def parse_points(text: str, dim: int | None, notices: list[str]) -> list[tuple[float, ...]]:
    """Points written ``x,y;x,y`` (``x;x`` in 1-D): each checked, clamped to MAX_ABS_START, at most MAX_STARTS."""
    points: list[tuple[float, ...]] = []
    cap = limits.MAX_ABS_START
    parts = text.split(";")
    if len(parts) > limits.MAX_STARTS:
        notices.append(f"At most {limits.MAX_STARTS} start points; the rest were ignored.")
    for part in parts[: limits.MAX_STARTS]:
        try:
            clamped, was_clamped = parse_point(part, dim)
        except ValueError:
            notices.append(f"Start point '{shown(part)}' is not valid here; it was left out.")
            continue
        if was_clamped:
            notices.append(f"Start point coordinates are limited to ±{cap:g}; clamped.")
        if points and len(clamped) != len(points[0]):
            notices.append(f"Start point '{shown(part)}' has another dimension than the first; it was left out.")
            continue
        points.append(clamped)
    return points


def _read_starts(raw, dim, notices, used) -> tuple[tuple[float, ...] | None, tuple[tuple[float, ...], ...]]:
    if "x0" not in raw:
        return None, ()
    used.add("x0")
    problems: list[str] = []
    points = parse_points(raw["x0"][: limits.MAX_QUERY_VALUE_CHARS * limits.MAX_STARTS], dim, problems)
    notices.extend(problems)
    if not points:
        notices.append("No valid start point in the link; using the surface's default start.")
        return None, ()
    return points[0], tuple(points[1:])


def _read_schedule(raw, notices, used) -> tuple[str, Params]:
    if "sched" not in raw:
        return NO_SCHEDULE, ()
    used.add("sched")
    text = raw["sched"].strip()
    if text.lower() in ("", "none", NO_SCHEDULE):  # older links wrote "none" or nothing
        return NO_SCHEDULE, ()
    try:
        cls = schedule_class(text[: limits.MAX_QUERY_VALUE_CHARS])
    except ValueError:
        notices.append(f"Unknown schedule '{shown(text)}'; using a constant learning rate.")
        return NO_SCHEDULE, ()
    given = _read_params("sched", cls.name, cls.spec, raw, used, notices)
    name, params, problem = checked_schedule(cls.name, full_params(cls.spec, given))
    if problem:
        notices.append(
            f"{cls.name}: {shown(problem, 120)} — using {'its defaults' if name != NO_SCHEDULE else 'a constant lr'}."
        )
    return name, params


def _read_optimizers(raw, notices, used) -> tuple[OptimizerEntry, ...]:
    numbers = sorted(int(key[1:]) for key in raw if re.fullmatch(r"o[1-9][0-9]{0,2}", key))
    entries = []
    for number in numbers:
        key = f"o{number}"
        used.add(key)
        if len(entries) >= limits.MAX_OPTIMIZERS:
            notices.append(f"At most {limits.MAX_OPTIMIZERS} optimizers; '{key}' and later ones were ignored.")
            used.update(k for k in raw if re.fullmatch(r"o[0-9]+(\..*)?", k, flags=re.DOTALL))
            break
        try:
            cls = optimizer_class(raw[key][: limits.MAX_QUERY_VALUE_CHARS])
        except ValueError:
            notices.append(f"Unknown optimizer '{shown(raw[key])}' ({key}) ignored.")
            continue
        owner = f"{cls.name} ({key})"
        hyper = _read_params(key, owner, cls.spec, raw, used, notices)
        clip = None
        if f"{key}.clip" in raw:
            low, high = limits.MIN_CLIP, limits.MAX_CLIP
            clip = _scalar(raw, f"{key}.clip", notices, used, None, low, high, False, f"{owner} clip")
        label = ""
        if f"{key}.label" in raw:
            used.add(f"{key}.label")
            label = clean_label(raw[f"{key}.label"][: limits.MAX_QUERY_VALUE_CHARS])
        item, problem = checked_entry(OptimizerEntry(cls.name, full_params(cls.spec, hyper), clip, label))
        if problem:
            notices.append(f"{owner}: {shown(problem, 120)} — using its defaults.")
        entries.append(item)
    return tuple(entries)

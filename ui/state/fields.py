"""A page's own state in the URL: typed fields, read from hostile query parameters, bound to widgets.

Every page describes its state as a tuple of fields: the Playground's scenario
(ui/playground/scenario.py: a surface or formula, start points, numbers, a schedule, the optimizers),
the Schedules page, each Landscape Lab view and the Linear Regression page. One field is one query key
(composite fields own their sub-keys: ``Entry`` its ``key.<param>``, ``Racers`` ``o1 … o8`` with
theirs, ``Surface`` ``s`` or ``f``) and one widget key ``<page>_<widget or key>``. :func:`read_query`
never raises: an unknown key, a malformed value or an out-of-range one gives a notice and the default
(or the clamped value). :func:`to_query` writes what differs from the defaults (and the fields marked
``always``), so a link stays short.

Widget state lives in ``st.session_state`` and is written from the values before the widgets are
drawn, never through ``value=`` (see ui/state/widgets.py). Every widget passes
``persist_state=KEEP``, so Streamlit itself keeps its value while a view or a page is not shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import streamlit as st

import gdviz
from gdviz.optimizers import optimizer_class
from gdviz.schedules import schedule_class
from ui import limits
from ui.state.entries import (
    OptimizerEntry,
    OwnSchedule,
    checked_entry,
    checked_own_schedule,
    checked_schedule,
    compression,
    entry,
    own_schedule,
)
from ui.state.query import parse_point, plain_query, shown, unknown_keys_notice
from ui.state.text import clean_label
from ui.state.values import (
    NO_SCHEDULE,
    Params,
    canonical_value,
    clamp_value,
    encode_value,
    format_number,
    full_params,
    parse_number,
    parse_value,
    widget_number,
)
from ui.state.widgets import KEEP, horizon_params, params_widgets, read_params, switch_params, write_params

State = MutableMapping[str, Any]
CONSTANT = NO_SCHEDULE  # the option of a schedule Entry that means "no schedule"
# The Playground is app.py's default page, which Streamlit serves at the app's root: its url_path
# ("/playground") answers "Page not found". "./" is the root relative to any page, under any base path.
PLAYGROUND_PATH = "./"


@dataclass(frozen=True)
class Number:
    key: str
    label: str
    default: float
    low: float
    high: float
    integer: bool = False
    always: bool = False  # written to the link even at its default
    widget: str = ""

    def read(self, text: str, notices: list[str]) -> float | int:
        try:
            value = parse_number(text, self.integer)
        except ValueError:
            fallback = "none" if self.default is None else f"{self.default:g}"
            notices.append(f"{self.label} '{shown(text)}' is not a valid number; using {fallback}.")
            return self.default
        clamped = type(value)(limits.clamp(value, self.low, self.high))
        if clamped != value:
            notices.append(
                f"{self.label} {shown(text)} is out of range [{self.low:g}, {self.high:g}]; clamped to {clamped:g}."
            )
        return clamped

    def encode(self, value) -> str:
        return str(int(value)) if self.integer else format_number(value)

    def clean(self, value) -> float | int:
        number = int(value) if self.integer else widget_number(value)
        return type(number)(limits.clamp(number, self.low, self.high))


@dataclass(frozen=True)
class Choice:
    key: str
    label: str
    default: str
    options: tuple[str, ...]
    widget: str = ""

    def read(self, text: str, notices: list[str]) -> str:
        for option in self.options:
            if option.lower() == text.strip().lower():
                return option
        notices.append(f"Unknown {self.label.lower()} '{shown(text)}'; using {self.default}.")
        return self.default

    def encode(self, value) -> str:
        return str(value)

    def clean(self, value) -> str:
        return value if value in self.options else self.default


@dataclass(frozen=True)
class Names:
    """Several distinct choices, written comma-separated (e.g. the optimizers of a comparison)."""

    key: str
    label: str
    default: tuple[str, ...]
    options: tuple[str, ...]
    max_items: int
    widget: str = ""

    def read(self, text: str, notices: list[str]) -> tuple[str, ...]:
        by_lower = {option.lower(): option for option in self.options}
        picked: list[str] = []
        for part in text.split(",")[: limits.MAX_QUERY_KEYS]:
            name = by_lower.get(part.strip().lower())
            if name is None:
                notices.append(f"{self.label}: unknown '{shown(part)}' ignored.")
            elif name not in picked:
                picked.append(name)
        if len(picked) > self.max_items:
            notices.append(f"{self.label}: at most {self.max_items}; the rest were ignored.")
        return tuple(picked[: self.max_items]) or self.default

    def encode(self, value) -> str:
        return ",".join(value)

    def clean(self, value) -> tuple[str, ...]:
        kept = tuple(v for v in value if v in self.options)[: self.max_items]
        return kept or self.default


@dataclass(frozen=True)
class Point:
    """A start point ``x0=a,b``; its default is the default start of the surface named by ``surface_key``."""

    key: str
    label: str
    surface_key: str
    default: None = None
    widget: str = ""

    def read(self, text: str, notices: list[str]) -> tuple[float, ...] | None:
        try:
            clamped, was_clamped = parse_point(text, None)
        except ValueError:
            notices.append(f"{self.label} '{shown(text)}' is not valid; using the surface's default start.")
            return None
        cap = limits.MAX_ABS_START
        if was_clamped:
            notices.append(f"{self.label} coordinates are limited to ±{cap:g}; clamped.")
        return clamped

    def encode(self, value) -> str:
        return ",".join(format_number(v) for v in value)


@dataclass(frozen=True)
class Entry:
    """An optimizer or a schedule with all its parameters: ``key=Name`` and ``key.<param>=value``.

    The value is ``(name, params)`` with params canonical (see ui.specs); for a schedule the name may
    be ``"constant"`` (no schedule) when ``constant`` is set.
    """

    key: str
    label: str
    kind: str  # "optimizer" or "schedule"
    default_name: str
    default_params: tuple[tuple[str, Any], ...] = ()
    constant: bool = False
    horizon: int = limits.DEFAULT_STEPS  # 0: a new schedule keeps its own horizon defaults
    choices: tuple[str, ...] = ()  # the names offered (default: the whole registry)
    widget: str = ""
    default: Any = field(init=False, default=None)

    def __post_init__(self):
        object.__setattr__(self, "default", self.canonical(self.default_name, dict(self.default_params)))

    def specs(self, name: str):
        if name == CONSTANT:
            return ()
        return (optimizer_class(name) if self.kind == "optimizer" else schedule_class(name)).spec

    @staticmethod
    def describe(name: str) -> str:
        return "a constant learning rate" if name == CONSTANT else name

    def options(self) -> list[str]:
        names = list(self.choices) or sorted(gdviz.OPTIMIZERS if self.kind == "optimizer" else gdviz.SCHEDULES)
        return ([CONSTANT] if self.constant else []) + names

    def canonical(self, name: str, params: dict[str, Any]) -> tuple[str, Params]:
        if name == CONSTANT:
            return CONSTANT, ()
        return name, full_params(self.specs(name), params)

    def checked(self, name: str, params: Params, notices: list[str]) -> tuple[str, Params]:
        """The entry if the engine accepts it, else a fallback the engine accepts, with a notice."""
        if name == CONSTANT:
            return name, ()
        params_owner = name
        if self.kind == "optimizer":
            item, problem = checked_entry(entry(name, **dict(params)))
            name, params = item.name, item.hyper
        else:
            name, params, problem = checked_schedule(name, params)
            name = name or CONSTANT
        if problem:
            fallback = self.describe(name) if name == CONSTANT else "its defaults"
            notices.append(f"{self.label} {shown(params_owner, 40)}: {shown(problem, 120)} — using {fallback}.")
        return name, params

    def read_all(self, raw: dict[str, str], used: set[str], notices: list[str], values=None) -> tuple[str, Params]:
        name = self.default[0]
        if self.key in raw:
            used.add(self.key)
            text = raw[self.key].strip()[: limits.MAX_QUERY_VALUE_CHARS]
            match = [n for n in self.options() if n.lower() == text.lower()]
            if self.constant and text.lower() in ("", "none"):  # older links wrote "none" or nothing
                name = CONSTANT
            elif match:
                name = match[0]
            else:
                notices.append(f"Unknown {self.label.lower()} '{shown(text)}'; using {self.describe(name)}.")
        given: dict[str, Any] = dict(self.default[1]) if name == self.default[0] else {}
        owner = self.label if name == CONSTANT else f"{self.label} {name}"
        given |= read_params_query(self.key, owner, self.specs(name), raw, used, notices)
        if name != self.default[0] and self.horizon:
            given = {**self.horizon_params(name), **given}
        return self.checked(*self.canonical(name, given), notices)

    def horizon_params(self, name: str) -> dict[str, Any]:
        """A schedule's horizon (T_max, total_steps) defaults to the run's length."""
        return horizon_params(name, self.horizon) if self.kind == "schedule" else {}

    def encode_all(self, value: tuple[str, Params]) -> dict[str, str]:
        name, params = value
        out = {self.key: name} if value != self.default else {}
        base = dict(self.default[1]) if name == self.default[0] else dict(self.canonical(name, {})[1])
        for spec, (pname, pvalue) in zip(self.specs(name), params):
            if pvalue != base.get(pname):
                out[f"{self.key}.{pname}"] = encode_value(spec, pvalue)
        if out and self.key not in out:
            out[self.key] = name
        return out


@dataclass(frozen=True)
class Version:
    """``v``: the version of the link codec, always written; a link from another version gets a notice."""

    key: str
    current: str
    default: str = ""
    widget: str = ""

    def read_all(self, raw: dict[str, str], used: set[str], notices: list[str], values=None) -> str:
        used.add(self.key)
        if self.key in raw and raw[self.key] != self.current:
            notices.append(f"This link was made by another version ({shown(raw[self.key])}); read what could be read.")
        return self.current

    def encode_all(self, value) -> dict[str, str]:
        return {self.key: self.current}

    def write_widget(self, state: State, page: str, value, values) -> None:
        pass  # no widget

    def read_widget(self, state: State, page: str, old, problems: list[str], values) -> str:
        return self.current


@dataclass(frozen=True)
class Surface:
    """A registry surface ``s=name`` or a typed formula ``f=...`` (which wins); value ``(surface, formula)``,
    where a formula's surface is ``custom``. Widgets: a select box (``custom`` among the names) and a text box."""

    key: str
    label: str
    default: tuple[str, str]
    formula_key: str = "f"
    widget: str = ""
    formula_widget: str = "formula"
    custom: str = "custom"

    def read_all(self, raw: dict[str, str], used: set[str], notices: list[str], values=None) -> tuple[str, str]:
        surface = self.default[0]
        if raw.get(self.formula_key, "").strip():
            used.add(self.formula_key)
            formula = raw[self.formula_key]
            if len(formula) > limits.MAX_FORMULA_CHARS:
                notices.append(f"The formula is longer than {limits.MAX_FORMULA_CHARS} characters; it was cut.")
                formula = formula[: limits.MAX_FORMULA_CHARS]
            return self.custom, formula
        if self.key in raw:
            used.add(self.key)
            try:
                surface = gdviz.surface(raw[self.key][: limits.MAX_QUERY_VALUE_CHARS]).name
            except ValueError:
                notices.append(f"Unknown {self.label.lower()} '{shown(raw[self.key])}'; using {surface}.")
        return surface, ""

    def encode_all(self, value: tuple[str, str]) -> dict[str, str]:
        surface, formula = value
        return {self.formula_key: formula} if formula else {self.key: surface}

    def write_widget(self, state: State, page: str, value: tuple[str, str], values) -> None:
        surface, formula = value
        state[widget_key(page, self.widget or self.key)] = self.custom if formula else surface
        state[widget_key(page, self.formula_widget)] = formula

    def read_widget(self, state: State, page: str, old, problems: list[str], values) -> tuple[str, str]:
        surface = state.get(widget_key(page, self.widget or self.key), old[0])
        if surface != self.custom:
            return (surface, "") if surface in gdviz.SURFACES else self.default
        formula = str(state.get(widget_key(page, self.formula_widget), ""))[: limits.MAX_FORMULA_CHARS]
        if formula.strip():
            return self.custom, formula
        problems.append("Type a formula for the custom surface; showing the default surface meanwhile.")
        return self.default

    @staticmethod
    def dim_of(surface: str) -> int | None:
        """The dimension of a registry surface; None for a formula (its text decides)."""
        return gdviz.SURFACES[surface].dim if surface in gdviz.SURFACES else None


_STORY_KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")


@dataclass(frozen=True)
class Story:
    """``story=<key>``: the story (preset) the scenario was loaded from, kept through the visitor's tweaks so
    that the page can say "modified" and offer the story back. Read here as a well-formed key (lower case
    letters, digits and dashes); whether a story of that name exists is for the page that knows the stories
    (ui/playground/presets.py: known_story). Widget: the story picker, holding the key (None: no story)."""

    key: str
    label: str
    default: str = ""
    widget: str = ""

    def read_all(self, raw: dict[str, str], used: set[str], notices: list[str], values=None) -> str:
        if self.key not in raw:
            return self.default
        used.add(self.key)
        text = raw[self.key].strip().lower()
        if _STORY_KEY.fullmatch(text) is None:
            if text:
                notices.append(f"Unknown {self.label.lower()} '{shown(text)}'; the scenario is shown without it.")
            return self.default
        return text

    def encode_all(self, value: str) -> dict[str, str]:
        return {self.key: value} if value else {}

    def write_widget(self, state: State, page: str, value: str, values) -> None:
        state[widget_key(page, self.widget or self.key)] = value or None

    def read_widget(self, state: State, page: str, old, problems: list[str], values) -> str:
        value = state.get(widget_key(page, self.widget or self.key), old)
        return value if isinstance(value, str) and _STORY_KEY.fullmatch(value) else self.default


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


def points_text(points) -> str:
    return "; ".join(", ".join(format_number(v) for v in point) for point in points)


@dataclass(frozen=True)
class Starts:
    """Start points ``x0=a,b;c,d``: the first and the restarts; value ``(start or None, restarts)``, None
    meaning the surface's default start. Widgets: one number per coordinate (``<widget>_<i>``) and a text
    box for the restarts."""

    key: str
    label: str
    surface_key: str
    more_widget: str
    dim_widget: str  # where the sidebar keeps a typed formula's dimension
    default: tuple = (None, ())
    widget: str = ""

    def read_all(self, raw: dict[str, str], used: set[str], notices: list[str], values=None):
        if self.key not in raw:
            return self.default
        used.add(self.key)
        surface, formula = values[self.surface_key]
        dim = None if formula else Surface.dim_of(surface)
        points = parse_points(raw[self.key][: limits.MAX_QUERY_VALUE_CHARS * limits.MAX_STARTS], dim, notices)
        if not points:
            notices.append("No valid start point in the link; using the surface's default start.")
            return self.default
        return points[0], tuple(points[1:])

    def encode_all(self, value) -> dict[str, str]:
        start, more = value
        if start is None:
            return {}
        return {self.key: ";".join(",".join(format_number(v) for v in point) for point in (start, *more))}

    def coordinate_keys(self, page: str, dim: int = 2) -> tuple[str, ...]:
        return tuple(f"{widget_key(page, self.widget or self.key)}_{i}" for i in range(dim))

    def write_widget(self, state: State, page: str, value, values) -> None:
        start, more = value
        surface = values[self.surface_key][0]
        start = start if start is not None else default_start(surface)
        for key, v in zip(self.coordinate_keys(page, len(start)), start, strict=True):
            state[key] = float(v)
        state[widget_key(page, self.more_widget)] = points_text(more)

    def read_widget(self, state: State, page: str, old, problems: list[str], values):
        surface = values[self.surface_key][0]
        dim = Surface.dim_of(surface) or int(state.get(widget_key(page, self.dim_widget), 2))
        cap = limits.MAX_ABS_START
        keys = self.coordinate_keys(page, dim)
        start = tuple(limits.clamp(widget_number(state.get(key, 0.0)), -cap, cap) for key in keys)
        text = state.get(widget_key(page, self.more_widget), "")
        more = tuple(parse_points(text, dim, problems)) if text.strip() else ()
        return start, more[: limits.MAX_STARTS - 1]


def default_start(surface_name: str, dim: int = 2) -> tuple[float, ...]:
    """A registry surface's default start; ones for a formula."""
    found = gdviz.SURFACES.get(surface_name)
    return tuple(float(v) for v in found.default_start) if found is not None else (1.0,) * dim


_RACER_NUMBER = re.compile(r"[1-9][0-9]{0,2}")  # what follows "o" in o1 ... o999
_RACER_KEY = re.compile(r"[0-9]+(\..*)?", flags=re.DOTALL)  # o<n> and its o<n>.<param> keys
_SLOT_REST = re.compile(r"[0-9]+_")  # what follows "<page>_o" in a slot's widget key


@dataclass(frozen=True)
class Racers:
    """Up to ``max_items`` optimizers ``o1=SGD o1.lr=0.1 o1.clip=1 o1.label=...``; value a tuple of
    :class:`OptimizerEntry`. The learning rate is always written: it is what a reader of a link looks for
    first. Gradient compression: ``o1.topk=1`` (k), ``o1.ef=0`` (without error feedback) and ``o1.dgc=0.9``
    (DGC's momentum correction m), written only with ``topk``. Widgets: ``<widget>_n_opt`` and, per slot,
    ``<widget>_o<slot>_name``, its hyper-parameters, ``_clip_on``, ``_clip``, ``_topk_on``, ``_topk``,
    ``_ef``, ``_dgc_on``, ``_dgc`` and ``_label``."""

    key: str
    label: str
    default: tuple[OptimizerEntry, ...]
    max_items: int = limits.MAX_OPTIMIZERS
    widget: str = "o"

    def _numbered(self, raw: Mapping[str, str]) -> list[int]:
        """The numbers n of the ``o<n>`` keys (1 to 999), in order."""
        return sorted(int(k[len(self.key) :]) for k in raw if self._owns(k, _RACER_NUMBER))

    def _owns(self, key: str, rest: re.Pattern) -> bool:
        return key.startswith(self.key) and rest.fullmatch(key[len(self.key) :]) is not None

    def read_all(self, raw: dict[str, str], used: set[str], notices: list[str], values=None):
        entries = []
        for number in self._numbered(raw):
            key = f"{self.key}{number}"
            used.add(key)
            if len(entries) >= self.max_items:
                notices.append(f"At most {self.max_items} optimizers; '{key}' and later ones were ignored.")
                used.update(k for k in raw if self._owns(k, _RACER_KEY))
                break
            try:
                cls = optimizer_class(raw[key][: limits.MAX_QUERY_VALUE_CHARS])
            except ValueError:
                notices.append(f"Unknown optimizer '{shown(raw[key])}' ({key}) ignored.")
                continue
            owner = f"{cls.name} ({key})"
            extras = {f"{key}.{extra}" for extra in ("clip", "label", *_COMPRESSION_KEYS)}
            own = f"{key}.{_SCHEDULE_KEY}"
            hyper_keys = {k: v for k, v in raw.items() if k not in extras and k != own and not k.startswith(own + ".")}
            hyper = read_params_query(key, owner, cls.spec, hyper_keys, used, notices)
            clip = None
            if f"{key}.clip" in raw:
                used.add(f"{key}.clip")
                clip = Number(f"{key}.clip", f"{owner} clip", None, limits.MIN_CLIP, limits.MAX_CLIP).read(
                    raw[f"{key}.clip"], notices
                )
            label = ""
            if f"{key}.label" in raw:
                used.add(f"{key}.label")
                label = clean_label(raw[f"{key}.label"][: limits.MAX_QUERY_VALUE_CHARS])
            squeezed = _read_compression(key, owner, raw, used, notices)
            schedule = _read_own_schedule(key, owner, raw, used, notices)
            item = OptimizerEntry(cls.name, full_params(cls.spec, hyper), clip, label, *squeezed, schedule)
            item, problem = checked_entry(item)
            if problem:
                notices.append(f"{owner}: {shown(problem, 120)} — using its defaults.")
            entries.append(item)
        return tuple(entries) or self.default

    def encode_all(self, value: tuple[OptimizerEntry, ...]) -> dict[str, str]:
        out: dict[str, str] = {}
        for number, item in enumerate(value, start=1):
            key = f"{self.key}{number}"
            out[key] = item.name
            for spec, (name, param) in zip(optimizer_class(item.name).spec, item.hyper, strict=True):
                if name == "lr" or param != canonical_value(spec, spec.default):
                    out[f"{key}.{name}"] = encode_value(spec, param)
            if item.max_grad_norm is not None:
                out[f"{key}.clip"] = format_number(item.max_grad_norm)
            if item.compress_topk is not None:
                out[f"{key}.topk"] = str(item.compress_topk)
                if not item.error_feedback:
                    out[f"{key}.ef"] = "0"
                if item.momentum_correction is not None:
                    out[f"{key}.dgc"] = format_number(item.momentum_correction)
            if item.label:
                out[f"{key}.label"] = item.label
            if item.schedule is not None:
                out |= _own_schedule_field(key, item.label or item.name).encode_all(item.schedule)
                out[f"{key}.{_SCHEDULE_KEY}"] = item.schedule[0]  # also "constant": it overrides the race's
        return out

    # the sidebar's slots
    def slot_key(self, page: str, slot: int, name: str = "") -> str:
        return f"{page}_{self.widget}{slot}" + (f"_{name}" if name else "")

    def is_slot_widget(self, page: str, key: str) -> bool:
        """Whether ``key`` is the widget key of one of the slots (``<page>_o<slot>_...``)."""
        prefix = f"{page}_{self.widget}"
        return key.startswith(prefix) and _SLOT_REST.match(key[len(prefix) :]) is not None

    def count_key(self, page: str) -> str:
        return f"{page}_n_opt"

    def write_widget(self, state: State, page: str, value: tuple[OptimizerEntry, ...], values) -> None:
        for old in [k for k in state if self.is_slot_widget(page, k)]:
            del state[old]
        state[self.count_key(page)] = len(value)
        for slot, item in enumerate(value):
            state[self.slot_key(page, slot, "name")] = item.name
            write_params(state, self.slot_key(page, slot), item.name, optimizer_class(item.name).spec, item.hyper)
            state[self.slot_key(page, slot, "clip_on")] = item.max_grad_norm is not None
            state[self.slot_key(page, slot, "clip")] = item.max_grad_norm if item.max_grad_norm is not None else 1.0
            topk, feedback, momentum = item.compression
            state[self.slot_key(page, slot, "topk_on")] = topk is not None
            state[self.slot_key(page, slot, "topk")] = topk if topk is not None else limits.MIN_TOPK
            state[self.slot_key(page, slot, "ef")] = feedback
            state[self.slot_key(page, slot, "dgc_on")] = momentum is not None
            state[self.slot_key(page, slot, "dgc")] = momentum if momentum is not None else 0.9
            state[self.slot_key(page, slot, "label")] = item.label
            own_name, own_params = item.schedule if item.schedule is not None else (SAME_SCHEDULE, ())
            state[self.slot_key(page, slot, _SCHEDULE_KEY)] = own_name
            if own_name in gdviz.SCHEDULES:
                specs = schedule_class(own_name).spec
                write_params(state, self.slot_key(page, slot, _SCHEDULE_KEY), own_name, specs, own_params)

    def read_own_schedule(self, state: State, page: str, slot: int, problems: list[str]) -> OwnSchedule | None:
        """The schedule the slot's own schedule widgets show (None: the race's)."""
        key = self.slot_key(page, slot, _SCHEDULE_KEY)
        name = state.get(key, SAME_SCHEDULE)
        if name == CONSTANT:
            return CONSTANT, ()
        if name not in gdviz.SCHEDULES:
            return None
        params = read_params(state, key, name, schedule_class(name).spec, problems)
        own, problem = checked_own_schedule(own_schedule(name, params))
        if problem:
            problems.append(f"Optimizer {slot + 1}'s schedule {name}: {problem} — using its defaults.")
        return own

    def read_slot(self, state: State, page: str, slot: int, problems: list[str]) -> OptimizerEntry:
        cls = optimizer_class(state.get(self.slot_key(page, slot, "name"), "SGD"))
        hyper = read_params(state, self.slot_key(page, slot), cls.name, cls.spec, problems)
        clip = None
        if state.get(self.slot_key(page, slot, "clip_on")):
            value = widget_number(state.get(self.slot_key(page, slot, "clip"), 1.0))
            clip = limits.clamp(value, limits.MIN_CLIP, limits.MAX_CLIP)
        label = clean_label(state.get(self.slot_key(page, slot, "label"), ""))
        squeezed = compression()
        if state.get(self.slot_key(page, slot, "topk_on")):
            topk = int(
                limits.clamp(int(state.get(self.slot_key(page, slot, "topk"), 1)), limits.MIN_TOPK, limits.MAX_TOPK)
            )
            feedback = bool(state.get(self.slot_key(page, slot, "ef"), True))
            momentum = None
            if feedback and state.get(self.slot_key(page, slot, "dgc_on")):
                value = widget_number(state.get(self.slot_key(page, slot, "dgc"), 0.9))
                momentum = limits.clamp(value, 0.0, limits.MAX_DGC_MOMENTUM)
            squeezed = compression(topk, feedback, momentum)
        schedule = self.read_own_schedule(state, page, slot, problems)
        item = OptimizerEntry(cls.name, full_params(cls.spec, hyper), clip, label, *squeezed, schedule)
        item, problem = checked_entry(item)
        if problem:
            problems.append(f"Optimizer {slot + 1} ({cls.name}): {problem} — using its defaults.")
        return item

    def read_widget(self, state: State, page: str, old, problems: list[str], values):
        count = int(limits.clamp(int(state.get(self.count_key(page), 1)), 1, self.max_items))
        return tuple(self.read_slot(state, page, slot, problems) for slot in range(count))


_COMPRESSION_KEYS = ("topk", "ef", "dgc")
_SCHEDULE_KEY = "sched"  # o<n>.sched=Name and o<n>.sched.<param>: the racer's own lr schedule
SAME_SCHEDULE = "race"  # the own-schedule widget's option for "the race's schedule" (no own schedule)


def _own_schedule_field(key: str, owner: str) -> Entry:
    return Entry(f"{key}.{_SCHEDULE_KEY}", f"{owner} schedule", "schedule", CONSTANT, constant=True, horizon=0)


def _read_own_schedule(key: str, owner: str, raw: Mapping[str, str], used: set[str], notices: list[str]):
    """An optimizer's own schedule ``<key>.sched=Name`` with its ``<key>.sched.<param>`` from the query,
    read like the race's schedule (parsed, clamped, checked by the engine). None: the race's schedule.

    Parameters without ``.sched``, or of an unknown schedule, are named in a notice and ignored."""
    field = _own_schedule_field(key, owner)
    params = sorted(k for k in raw if k.startswith(field.key + "."))
    if field.key not in raw:
        if params:
            used.update(params)
            notices.append(
                f"{owner}: {shown(', '.join(params), 80)} only apply with its own schedule ({field.key}); ignored."
            )
        return None
    text = raw[field.key].strip()[: limits.MAX_QUERY_VALUE_CHARS]
    if text.lower() not in {name.lower() for name in field.options()}:
        used.update([field.key, *params])
        notices.append(f"{owner}: unknown schedule '{shown(text)}'; using the race's schedule.")
        return None
    name, values = field.read_all(dict(raw), used, notices)
    return (CONSTANT, ()) if name == CONSTANT else (name, values)


def _read_compression(key: str, owner: str, raw: Mapping[str, str], used: set[str], notices: list[str]):
    """An optimizer's ``<key>.topk``, ``.ef`` and ``.dgc`` from the query, as canonical compression fields.

    ``.ef`` and ``.dgc`` without ``.topk`` mean nothing and are named in a notice; momentum correction
    without error feedback is not DGC, so ``.dgc`` is then dropped with a notice.
    """
    given = {name: raw[f"{key}.{name}"] for name in _COMPRESSION_KEYS if f"{key}.{name}" in raw}
    used.update(f"{key}.{name}" for name in given)
    if "topk" not in given:
        if given:
            notices.append(f"{owner}: {', '.join(sorted(given))} only apply with top-k compression (.topk); ignored.")
        return compression()
    topk = Number(f"{key}.topk", f"{owner} top-k", None, limits.MIN_TOPK, limits.MAX_TOPK, integer=True)
    k = topk.read(given["topk"], notices)
    if k is None:
        return compression()
    feedback = True
    if "ef" in given:
        text = given["ef"].strip().lower()
        if text in ("0", "false", "no", "off", "1", "true", "yes", "on"):
            feedback = text in ("1", "true", "yes", "on")
        else:
            notices.append(f"{owner}: error feedback '{shown(given['ef'])}' is not 1 or 0; using 1.")
    momentum = None
    if "dgc" in given:
        dgc = Number(f"{key}.dgc", f"{owner} DGC momentum", None, 0.0, limits.MAX_DGC_MOMENTUM)
        momentum = dgc.read(given["dgc"], notices)
        if momentum is not None and not feedback:
            notices.append(f"{owner}: momentum correction needs error feedback; ignored.")
            momentum = None
    return compression(k, feedback, momentum)


def read_params_query(
    prefix: str, owner: str, specs, raw: Mapping[str, str], used: set[str], notices: list[str]
) -> dict[str, Any]:
    """Parameters ``<prefix>.<name>`` from the query: parsed, clamped, each problem noted."""
    known = {spec.name: spec for spec in specs}
    out: dict[str, Any] = {}
    for key in [k for k in raw if k.startswith(prefix + ".")]:
        name = key[len(prefix) + 1 :]
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


Field = Number | Choice | Names | Point | Entry | Version | Surface | Starts | Racers | Story


# -- the query string ---------------------------------------------------------------------------------
def defaults(fields: Sequence[Field]) -> dict[str, Any]:
    return {f.key: f.default for f in fields}


def read_query(
    fields: Sequence[Field], params: Mapping[str, Any], value_chars: int | None = limits.MAX_QUERY_VALUE_CHARS * 4
) -> tuple[dict[str, Any], list[str]]:
    """Values for every field from untrusted query parameters, and a notice for each problem
    (``value_chars``: each value cut to this length first; None when the fields bound their own)."""
    notices: list[str] = []
    try:
        raw = plain_query(params, notices, value_chars)
        used: set[str] = set()
        values = defaults(fields)
        for f in fields:
            if hasattr(f, "read_all"):
                values[f.key] = f.read_all(raw, used, notices, values)
            elif f.key in raw:
                used.add(f.key)
                values[f.key] = f.read(raw[f.key], notices)
        for f in fields:
            point = values[f.key] if isinstance(f, Point) else None
            if point is not None and len(point) != len(default_start(values[f.surface_key])):
                notices.append(
                    f"{f.label} has {len(point)} coordinate(s) but the surface has another dimension; using its default start."
                )
                values[f.key] = None
        notices.extend(unknown_keys_notice(raw, used))
        return values, notices
    except Exception as error:  # noqa: BLE001 -- a link must never break the page
        return defaults(fields), notices + [f"The link could not be read ({type(error).__name__}); using defaults."]


def to_query(fields: Sequence[Field], values: Mapping[str, Any]) -> dict[str, str]:
    """The values as query parameters: only those that differ from the defaults."""
    out: dict[str, str] = {}
    for f in fields:
        value = values.get(f.key, f.default)
        if hasattr(f, "encode_all"):
            out |= f.encode_all(value)
        elif value is not None and (value != f.default or getattr(f, "always", False)):
            out[f.key] = f.encode(value)
    return out


# -- widgets ----------------------------------------------------------------------------------------
def widget_key(page: str, key: str) -> str:
    return f"{page}_{key.replace('.', '_')}"


def write_widgets(page: str, fields: Sequence[Field], values: Mapping[str, Any], state: State) -> None:
    """Put every widget of the page in the state that shows ``values``."""
    for f in fields:
        key, value = widget_key(page, f.widget or f.key), values.get(f.key, f.default)
        if hasattr(f, "write_widget"):
            f.write_widget(state, page, value, values)
        elif isinstance(f, Point):
            default = default_start(values[f.surface_key])
            point = value if value is not None and len(value) == len(default) else default
            for i, v in enumerate(point):
                state[f"{key}_{i}"] = float(v)
        elif isinstance(f, Entry):
            name, params = value
            state[key] = name
            if name != CONSTANT:
                write_params(state, key, name, f.specs(name), params)
        elif isinstance(f, Names):
            state[key] = list(value)
        else:
            state[key] = value


def read_widgets(page: str, fields: Sequence[Field], state: State, fallback: Mapping[str, Any]):
    """The values the widgets show (clamped and checked); ``fallback`` for widgets not in the state."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for f in fields:
        key = widget_key(page, f.widget or f.key)
        old = fallback.get(f.key, f.default)
        if hasattr(f, "read_widget"):
            values[f.key] = f.read_widget(state, page, old, problems, values)
        elif isinstance(f, Point):
            surface = gdviz.surface(values[f.surface_key])
            cap = limits.MAX_ABS_START
            coords = [state.get(f"{key}_{i}") for i in range(surface.dim)]
            if any(c is None for c in coords):
                values[f.key] = old if old is not None and len(old) == surface.dim else None
                continue
            point = tuple(limits.clamp(widget_number(c), -cap, cap) for c in coords)
            values[f.key] = None if point == default_start(surface.name) else point
        elif isinstance(f, Entry):
            name = state.get(key, old[0])
            name = name if name in f.options() else f.default[0]
            if name == CONSTANT:
                values[f.key] = (CONSTANT, ())
                continue
            given = read_params(state, key, name, f.specs(name), problems)
            values[f.key] = f.checked(*f.canonical(name, given), problems)
        else:
            values[f.key] = f.clean(state[key]) if key in state else old
    return values, problems


def _address_query() -> dict[str, str]:
    """The address bar's query, in the plain form the fields read (its notices are :func:`read_query`'s)."""
    return plain_query(st.query_params.to_dict(), [], limits.MAX_QUERY_VALUE_CHARS * 4)


# -- the page's life cycle ------------------------------------------------------------------------------
# A browser that reconnects to a new session (another replica, a restarted server) sends the values its widgets
# show, the visitor's last change included, while the address bar's link lags that change behind. The session's
# first run draws the link (so every widget, its options and its id are as they were); at its end the widgets
# are registered and Streamlit can read the browser's values: those that differ are kept and the page runs
# again with them, before any widget is drawn. Without this the first change after a failover was undone.
RECONNECT_IDS = "_reconnect_widget_ids"  # the widgets a reconnecting browser sent, until the first run's end
RECONNECT_VALUES = "_reconnect_values"  # key -> the browser's value, for the run after it


def note_browser_values(state: State) -> None:
    """On a session's first run, before any widget: remember which widgets' values came with the browser."""
    sent = _widget_ids_sent_by_browser()
    if sent:
        state[RECONNECT_IDS] = sent


def apply_browser_values(state: State) -> None:
    """At the top of a run, before any widget: the values a reconnecting browser showed (see above)."""
    for key, value in state.pop(RECONNECT_VALUES, {}).items():
        state[key] = value


def adopt_browser_values(state: State) -> None:
    """At the end of a session's first run (after every widget): where the reconnecting browser showed
    another value than the link's, run the page again with the browser's."""
    sent = state.pop(RECONNECT_IDS, None)
    if not sent:
        return
    shown = _browser_values(sent)
    changed = {key: value for key, value in shown.items() if key in state and state[key] != value}
    if changed:
        state[RECONNECT_VALUES] = changed
        st.rerun()


def _widget_ids_sent_by_browser() -> list[str]:
    """The ids of the widgets whose values came with this run from the browser before any widget of this
    session was drawn: none on a first visit, the page's widgets after a reconnect.

    Streamlit keeps them until the widgets are registered (its WStates: "state gotten from a reconnecting
    browser") and has no public reader for them, so this reads its internals; if they change shape it
    returns nothing and the link wins, as it did before.
    """
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx(suppress_warning=True)
        return list(ctx.session_state._state._new_widget_state.states)  # noqa: SLF001 (no public reader)
    except Exception:  # noqa: BLE001 (an internal that moved: fall back to the link)
        return []


def _browser_values(ids: list[str]) -> dict[str, Any]:
    """Widget key -> the value the browser sent, for the widgets of ``ids`` this run has registered
    (Streamlit deserializes a value once its widget is known)."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx
        from streamlit.runtime.state.common import user_key_from_element_id

        ctx = get_script_run_ctx(suppress_warning=True)
        widgets = ctx.session_state._state._new_widget_state  # noqa: SLF001 (see _widget_ids_sent_by_browser)
    except Exception:  # noqa: BLE001
        return {}
    values = {}
    for widget_id in ids:
        key = user_key_from_element_id(widget_id)
        if not key or widget_id not in widgets.widget_metadata:
            continue  # a widget this run did not draw (or drew with other options): the link's value stays
        try:
            values[key] = widgets[widget_id]
        except Exception:  # noqa: BLE001 (a value that does not deserialize with this run's widget)
            continue
    return values


# -- the page's life cycle ------------------------------------------------------------------------------
def load(page: str, fields: Sequence[Field]) -> list[str]:
    """Call before drawing the widgets: a new link (or a first visit) sets them; otherwise they keep
    what the visitor left, across views and pages.

    Returns the link's notices as they stand before the widgets run (:func:`notices` after
    :func:`publish` also knows whether the user has changed something since).
    """
    state = st.session_state
    raw = _address_query()
    values_key, link_key, notices_key = f"{page}__values", f"{page}__link", f"{page}__notices"
    if values_key not in state:
        note_browser_values(state)
    else:
        apply_browser_values(state)
    if raw and raw != state.get(link_key):
        values, problems = read_query(fields, raw)
        write_widgets(page, fields, values, state)
        state[values_key], state[notices_key] = values, problems
        state[link_key] = to_query(fields, values)
    elif values_key not in state:
        state[values_key], state[notices_key] = defaults(fields), []
        write_widgets(page, fields, state[values_key], state)
    # otherwise every widget still holds its value: they all persist for the session (persist_state)
    return notices(page)


def notices(page: str) -> list[str]:
    """What the link reader changed, for as long as the user has not changed anything since."""
    return list(st.session_state.get(f"{page}__notices", []))


def publish(page: str, fields: Sequence[Field]) -> tuple[dict[str, Any], list[str]]:
    """Call after drawing the widgets: the values they show, written to the URL; and any problems."""
    state = st.session_state
    adopt_browser_values(state)
    values, problems = read_widgets(page, fields, state, state.get(f"{page}__values", defaults(fields)))
    link = to_query(fields, values)
    if link != state.get(f"{page}__link"):
        state[f"{page}__notices"] = []  # the user changed something: the link's notices are settled
    state[f"{page}__values"], state[f"{page}__link"] = values, link
    if _address_query() != link:
        st.query_params.from_dict(link)
    return values, problems


# -- widgets for entries, and the link to the Playground ----------------------------------------------
def _on_entry_change(page: str, f: Entry, previous: str) -> None:
    """A newly picked optimizer or schedule starts from its defaults (a schedule's horizon the run's
    length), keeping the learning rate of the previous optimizer."""
    state = st.session_state
    key = widget_key(page, f.key)
    name = state[key]
    if name != CONSTANT:
        switch_params(state, key, f.specs(name), name, previous, f.horizon_params(name))


def entry_widgets(page: str, f: Entry, hide: Sequence[str] = (), label: str | None = None) -> None:
    """A select box for the name and a widget per parameter (``hide``: parameters not to show)."""
    key = widget_key(page, f.key)
    current = st.session_state.get(key, f.default[0])
    name = st.selectbox(
        label or f.label, f.options(), key=key, on_change=_on_entry_change, args=(page, f, current), persist_state=KEEP
    )
    if name == CONSTANT:
        return
    params_widgets(key, name, tuple(spec for spec in f.specs(name) if spec.name not in hide))


def playground_url(query: Mapping[str, str]) -> str:
    """The Playground's address with ``query``, relative to the current page (so it also works
    when the app is served under a base path)."""
    return f"{PLAYGROUND_PATH}?{urlencode(dict(query))}"


def playground_link(query: Mapping[str, str], label: str) -> None:
    """A button that opens the Playground with the scenario ``query`` (see ui.playground.scenario.to_query).

    It opens a new tab, that is a new session: the Playground reads a link on a session's first run,
    and the page the visitor is on stays as it is.
    """
    st.link_button(label, playground_url(query), icon=":material/open_in_new:")

"""A page's own state in the URL: typed fields, read from hostile query parameters, bound to widgets.

The Schedules and Landscape Lab pages each describe their state as a tuple of fields. One field is one
query key (``Entry`` also owns ``key.<param>`` keys for its hyper-parameters) and one widget key,
``<page>_<key>``. :func:`read_query` never raises: an unknown key, a malformed value or an
out-of-range one gives a notice and the default (or the clamped value). :func:`to_query` writes only
what differs from the defaults, so a link stays short.

Widget state lives in ``st.session_state`` and is written from the values before the widgets are
drawn, never through ``value=`` (see ui/state/widgets.py). Widgets that a page does
not draw in a run lose their state in Streamlit; :func:`load` puts them back from the last values, so
switching a view or a page keeps every setting.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import streamlit as st

import gdviz
from gdviz.optimizers import optimizer_class
from gdviz.schedules import schedule_class
from ui import limits
from ui.playground.scenario import checked_entry, checked_schedule, entry
from ui.state.query import parse_point, plain_query, shown, unknown_keys_notice
from ui.state.values import (
    NO_SCHEDULE,
    Params,
    clamp_value,
    encode_value,
    format_number,
    full_params,
    parse_number,
    parse_value,
    widget_number,
)
from ui.state.widgets import horizon_params, params_widgets, read_params, switch_params, write_params

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

    def read(self, text: str, notices: list[str]) -> float | int:
        try:
            value = parse_number(text, self.integer)
        except ValueError:
            notices.append(f"{self.label} '{shown(text)}' is not a valid number; using {self.default:g}.")
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
    horizon: int = limits.DEFAULT_STEPS
    choices: tuple[str, ...] = ()  # the names offered (default: the whole registry)
    default: Any = field(init=False, default=None)

    def __post_init__(self):
        object.__setattr__(self, "default", self.canonical(self.default_name, dict(self.default_params)))

    def specs(self, name: str):
        if name == CONSTANT:
            return ()
        return (optimizer_class(name) if self.kind == "optimizer" else schedule_class(name)).spec

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
        if self.kind == "optimizer":
            item, problem = checked_entry(entry(name, **dict(params)))
            name, params = item.name, item.hyper
        else:
            name, params, problem = checked_schedule(name, params)
            name = name or CONSTANT
        if problem:
            notices.append(f"{self.label}: {shown(problem, 120)}; using the defaults.")
        return name, params

    def read_all(self, raw: dict[str, str], used: set[str], notices: list[str]) -> tuple[str, Params]:
        name = self.default[0]
        if self.key in raw:
            used.add(self.key)
            text = raw[self.key].strip()[: limits.MAX_QUERY_VALUE_CHARS]
            match = [n for n in self.options() if n.lower() == text.lower()]
            if match:
                name = match[0]
            else:
                notices.append(f"{self.label}: unknown '{shown(text)}'; using {name}.")
        specs = {spec.name: spec for spec in self.specs(name)}
        given: dict[str, Any] = dict(self.default[1]) if name == self.default[0] else {}
        for key in [k for k in raw if k.startswith(self.key + ".")]:
            used.add(key)
            pname = key[len(self.key) + 1 :]
            if pname not in specs:
                notices.append(f"{self.label}: unknown parameter '{shown(pname)}' ignored.")
                continue
            try:
                value = parse_value(specs[pname], raw[key])
            except ValueError as error:
                notices.append(f"{self.label}: {pname}='{shown(raw[key])}' is not valid ({shown(error, 60)}).")
                continue
            clamped = clamp_value(specs[pname], value)
            if clamped != value:
                shown_value = encode_value(specs[pname], clamped)
                notices.append(f"{self.label}: {pname}={shown(raw[key])} is out of range; clamped to {shown_value}.")
            given[pname] = clamped
        if name != self.default[0]:
            given = {**self.horizon_params(name), **given}
        return self.checked(*self.canonical(name, given), notices)

    def horizon_params(self, name: str) -> dict[str, Any]:
        """A schedule's horizon (T_max, total_steps) defaults to the run's length."""
        return horizon_params(self.specs(name), self.horizon)

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


Field = Number | Choice | Names | Point | Entry


# -- the query string ---------------------------------------------------------------------------------
def defaults(fields: Sequence[Field]) -> dict[str, Any]:
    return {f.key: f.default for f in fields}


def read_query(fields: Sequence[Field], params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Values for every field from untrusted query parameters, and a notice for each problem."""
    notices: list[str] = []
    try:
        raw = plain_query(params, notices, limits.MAX_QUERY_VALUE_CHARS * 4)
        used: set[str] = set()
        values = defaults(fields)
        for f in fields:
            if isinstance(f, Entry):
                values[f.key] = f.read_all(raw, used, notices)
            elif f.key in raw:
                used.add(f.key)
                values[f.key] = f.read(raw[f.key], notices)
        for f in fields:
            point = values[f.key] if isinstance(f, Point) else None
            if point is not None and len(point) != len(start_of(values[f.surface_key])):
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
        if isinstance(f, Entry):
            out |= f.encode_all(value)
        elif value is not None and value != f.default:
            out[f.key] = f.encode(value)
    return out


# -- widgets ----------------------------------------------------------------------------------------
def widget_key(page: str, key: str) -> str:
    return f"{page}_{key.replace('.', '_')}"


def start_of(surface_name: str) -> tuple[float, ...]:
    return tuple(float(v) for v in gdviz.surface(surface_name).default_start)


def write_widgets(page: str, fields: Sequence[Field], values: Mapping[str, Any], state: State) -> None:
    """Put every widget of the page in the state that shows ``values``."""
    for f in fields:
        key, value = widget_key(page, f.key), values.get(f.key, f.default)
        if isinstance(f, Point):
            default = start_of(values[f.surface_key])
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
        key = widget_key(page, f.key)
        old = fallback.get(f.key, f.default)
        if isinstance(f, Point):
            surface = gdviz.surface(values[f.surface_key])
            cap = limits.MAX_ABS_START
            coords = [state.get(f"{key}_{i}") for i in range(surface.dim)]
            if any(c is None for c in coords):
                values[f.key] = old if old is not None and len(old) == surface.dim else None
                continue
            point = tuple(limits.clamp(widget_number(c), -cap, cap) for c in coords)
            values[f.key] = None if point == start_of(surface.name) else point
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


def restore_missing(page: str, fields: Sequence[Field], values: Mapping[str, Any], state: State) -> None:
    """Widgets Streamlit dropped (not drawn in the last run) get their last value back."""
    missing = []
    for f in fields:
        key = widget_key(page, f.key)
        if isinstance(f, Point):
            if f"{key}_0" not in state:
                missing.append(f)
        elif key not in state:
            missing.append(f)
        elif isinstance(f, Entry) and state[key] != CONSTANT and values[f.key][0] == state[key]:
            name, params = values[f.key]
            probe = f"{key}_{name}_{params[0][0]}" if params else None
            if probe and probe not in state and probe + "_0" not in state and probe + "__on" not in state:
                missing.append(f)
    if missing:
        write_widgets(page, missing, values, state)


def _address_query() -> dict[str, str]:
    """The address bar's query, in the plain form the fields read (its notices are :func:`read_query`'s)."""
    return plain_query(st.query_params.to_dict(), [], limits.MAX_QUERY_VALUE_CHARS * 4)


# -- the page's life cycle ------------------------------------------------------------------------------
def load(page: str, fields: Sequence[Field]) -> list[str]:
    """Call before drawing the widgets: a new link sets them; otherwise dropped widgets are restored.

    Returns the link's notices as they stand before the widgets run (:func:`notices` after
    :func:`publish` also knows whether the user has changed something since).
    """
    state = st.session_state
    raw = _address_query()
    values_key, link_key, notices_key = f"{page}__values", f"{page}__link", f"{page}__notices"
    if raw and raw != state.get(link_key):
        values, problems = read_query(fields, raw)
        write_widgets(page, fields, values, state)
        state[values_key], state[notices_key] = values, problems
        state[link_key] = to_query(fields, values)
    elif values_key not in state:
        state[values_key], state[notices_key] = defaults(fields), []
        write_widgets(page, fields, state[values_key], state)
    else:
        restore_missing(page, fields, state[values_key], state)
    return notices(page)


def notices(page: str) -> list[str]:
    """What the link reader changed, for as long as the user has not changed anything since."""
    return list(st.session_state.get(f"{page}__notices", []))


def publish(page: str, fields: Sequence[Field]) -> tuple[dict[str, Any], list[str]]:
    """Call after drawing the widgets: the values they show, written to the URL; and any problems."""
    state = st.session_state
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
    name = st.selectbox(label or f.label, f.options(), key=key, on_change=_on_entry_change, args=(page, f, current))
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

"""Widgets for the registries' hyper-parameters, and their values in ``st.session_state``.

One key scheme for every page: the parameter ``name`` of optimizer or schedule ``owner`` shown under
``prefix`` lives at ``<prefix>_<owner>_<name>`` (a pair at ``…_0``/``…_1``, an optional parameter's
switch at ``…__on``). The owner is part of the key, so switching an optimizer never feeds one
algorithm's value to another's widget. Every widget passes ``persist_state=KEEP``, so Streamlit
keeps its value while it is not drawn (another page or view). Widgets never get a ``value=``: :func:`write_params` puts a
value in the state before they are drawn, :func:`read_params` reads it back, validated and clamped.

Widget per spec kind: a float with ``log=True`` is a ``select_slider`` over a 1-2-…-9 grid per decade,
with the current value inserted when it is off the grid. Dragging then moves multiplicatively, as a
learning rate should, and any exact value from a link or a preset (η = 0.4, 0.6, 0.03) is shown as is;
a ``number_input`` would step additively (0.001 → 0.002 → … is useless over five decades). Other
floats are sliders, ints number inputs, bools checkboxes, choices select boxes, pairs two sliders,
lists a comma-separated text input. Ranges come from :func:`ui.state.values.bounds`, the same ones a
link is clamped to. Adding an optimizer or a schedule to the engine's registry adds its widgets here
with no change.
"""

from __future__ import annotations

import math
from collections.abc import MutableMapping, Sequence
from typing import Any

import streamlit as st

import gdviz
from gdviz.params import HyperParam
from ui import limits
from ui.state.values import bounds, canonical_value, clamp_value, full_params, widget_number

State = MutableMapping[str, Any]
# every widget keeps its value while it is not drawn (another page, another view, an optimizer switched
# away and back): Streamlit's own persistence, instead of writing dropped widgets back by hand
KEEP = "session"
# int schedule parameters that name the horizon of the run: set to the step count when the schedule is chosen
_MANTISSAS = (1, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9)


def param_key(prefix: str, owner: str, name: str) -> str:
    return f"{prefix}_{owner}_{name}"


# -- values in the state ----------------------------------------------------------------------------
_MISSING = object()


def settle(state: State, key: str, value: Any) -> None:
    """Store ``value`` at widget ``key`` only where the state holds something else (type included).

    Any write to a widget's key during a run, even of the value it already holds, makes Streamlit send that
    value to the browser as a new one. A run that started before the visitor's latest drag then puts the
    slider back where it was, and the next run reads the old value: the change is lost. So a widget's key
    is written only when its value really changes (a link, a preset, a repair).
    """
    current = state.get(key, _MISSING)
    if type(current) is not type(value) or current != value:
        state[key] = value


def write_params(state: State, prefix: str, owner: str, specs, params) -> None:
    """Put ``params`` (canonical, in spec order) where the widgets of ``owner`` under ``prefix`` read them."""
    for spec, (name, value) in zip(specs, params, strict=True):
        key = param_key(prefix, owner, name)
        if spec.optional:
            state[key + "__on"] = value is not None
            value = spec.default if value is None else value
            if value is None:
                continue
        if spec.kind == "pair":
            state[key + "_0"], state[key + "_1"] = value
        elif spec.kind == "list":
            state[key] = ", ".join(str(v) for v in value)
        else:
            state[key] = value


def read_params(state: State, prefix: str, owner: str, specs, problems: list[str]) -> dict[str, Any]:
    """What the widgets of ``owner`` show, validated and clamped; a problem (and the default) for a bad one."""
    out: dict[str, Any] = {}
    for spec in specs:
        key = param_key(prefix, owner, spec.name)
        if spec.optional and not state.get(key + "__on", spec.default is not None):
            out[spec.name] = None
            continue
        try:
            if spec.kind == "pair":
                value = (widget_number(state[key + "_0"]), widget_number(state[key + "_1"]))
            elif spec.kind == "list":
                text = str(state[key]).strip()
                value = tuple(int(float(part)) for part in text.split(",")) if text else ()
            elif spec.kind == "float":
                value = widget_number(state[key])
            else:
                value = state[key]
            spec.validate(list(value) if spec.kind == "list" else value, owner)
        except KeyError:
            value = spec.default
        except (TypeError, ValueError) as error:
            problems.append(f"{owner}: {spec.name}: {error}; using the default.")
            value = spec.default
        out[spec.name] = clamp_value(spec, canonical_value(spec, value))
    return out


def switch_params(state: State, prefix: str, specs: Sequence[HyperParam], new: str, old: str, given=None) -> None:
    """A newly picked optimizer or schedule ``new`` starts from its defaults (over ``given``), keeping
    the learning rate that ``old`` had under the same prefix, where both have one."""
    params = dict(full_params(tuple(specs), given or {}))
    old_lr = state.get(param_key(prefix, old, "lr"))
    by_name = {spec.name: spec for spec in specs}
    if old_lr is not None and "lr" in by_name:
        params["lr"] = clamp_value(by_name["lr"], float(old_lr))
    write_params(state, prefix, new, tuple(specs), tuple(params.items()))


def horizon_params(schedule: str, steps: int) -> dict[str, int]:
    """The schedule's horizon parameters (``Schedule.horizon``: T_max, total_steps, total_iters) set to the
    run's length."""
    return dict.fromkeys(gdviz.SCHEDULES[schedule].horizon, steps) if schedule in gdviz.SCHEDULES else {}


def playable_schedules() -> list[str]:
    """Schedules whose parameters all have widgets (SequentialLR also needs sub-schedules: not offered)."""
    names = []
    for name, cls in sorted(gdviz.SCHEDULES.items()):
        params = {s.name: limits.DEFAULT_STEPS for s in cls.spec if s.optional and s.kind == "int"}
        for attempt in ({}, params):
            try:
                cls(**attempt)
            except (ValueError, TypeError):
                continue
            names.append(name)
            break
    return names


# -- widgets --------------------------------------------------------------------------------------
def log_grid(low: float, high: float) -> list[float]:
    """1, 1.5, 2, 2.5, 3, …, 9 × 10^k between ``low`` and ``high`` (both included), as exact decimals."""
    low = max(low, high * 1e-9) if low <= 0 else low
    values = {low, high}
    for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
        for mantissa in _MANTISSAS:
            value = float(f"{mantissa}e{exponent}")
            if low <= value <= high:
                values.add(value)
    return sorted(values)


def _slider_step(low: float, high: float) -> float:
    span = high - low
    return float(f"1e{math.floor(math.log10(span)) - 2}") if span > 0 else 1.0


def log_slider(label: str, key: str, low: float, high: float, help_text: str | None = None) -> None:
    options = sorted(set(log_grid(low, high)) | {float(st.session_state[key])})
    st.select_slider(
        label, options=options, key=key, help=help_text, format_func=lambda v: f"{v:g}", persist_state=KEEP
    )


def _float_widget(spec: HyperParam, key: str, label: str, help_text: str) -> None:
    low, high = bounds(spec)
    settle(st.session_state, key, float(st.session_state[key]))
    if spec.log and high > 0:
        log_slider(label, key, low, high, help_text)
    else:
        step = _slider_step(low, high)
        st.slider(
            label, min_value=low, max_value=high, step=step, key=key, help=help_text, format="%g", persist_state=KEEP
        )


def param_widget(spec: HyperParam, key: str) -> None:
    """One widget for ``spec`` with its state under ``key`` (two keys ``key_0``/``key_1`` for a pair)."""
    state = st.session_state
    help_text = spec.help or spec.name
    default = canonical_value(spec, spec.default)
    if spec.optional:
        state.setdefault(key + "__on", default is not None)
        if not st.checkbox(
            f"set {spec.name}", key=key + "__on", help=f"{help_text} (off: derived / unused)", persist_state=KEEP
        ):
            return
    if spec.kind == "pair":
        for index, column in enumerate(st.columns(2)):
            state.setdefault(f"{key}_{index}", default[index] if default is not None else bounds(spec)[0])
            with column:
                _float_widget(spec, f"{key}_{index}", f"{spec.name}[{index}]", help_text)
        return
    if spec.kind == "list":
        state.setdefault(key, ", ".join(str(v) for v in (default or ())))
        st.text_input(f"{spec.name} (comma-separated)", key=key, help=help_text, max_chars=400, persist_state=KEEP)
        return
    state.setdefault(key, default if default is not None else canonical_value(spec, bounds(spec)[0]))
    if spec.kind == "bool":
        st.checkbox(spec.name, key=key, help=help_text, persist_state=KEEP)
    elif spec.kind == "choice":
        st.selectbox(spec.name, options=list(spec.choices), key=key, help=help_text, persist_state=KEEP)
    elif spec.kind == "int":
        low, high = bounds(spec)
        st.number_input(
            spec.name, min_value=int(low), max_value=int(high), step=1, key=key, help=help_text, persist_state=KEEP
        )
    else:
        _float_widget(spec, key, spec.name, help_text)


def params_widgets(prefix: str, owner: str, specs) -> None:
    for spec in specs:
        param_widget(spec, param_key(prefix, owner, spec.name))


def number_field(page: str, f, **extra) -> None:
    """The number input of a page's Number field ``f`` (ui.state.fields.Number), bound to its widget key."""
    st.number_input(
        f.label,
        f.low,
        f.high,
        step=1 if f.integer else None,
        format=None if f.integer else "%g",
        key=f"{page}_{f.key.replace('.', '_')}",
        **extra,
        persist_state=KEEP,
    )


def choice_field(page: str, f, labels: dict | None = None, **extra) -> None:
    """The horizontal radio of a page's Choice field ``f`` (ui.state.fields.Choice), its options labelled."""
    st.radio(
        f.label,
        f.options,
        key=f"{page}_{f.key.replace('.', '_')}",
        horizontal=True,
        format_func=lambda v: (labels or {}).get(v, v),
        **extra,
        persist_state=KEEP,
    )


# A dropdown's list is as wide as its box, which in the sidebar cuts long options ("Defect 2 · no acceleration on a
# gentle s…"); the list opens over the page, so it may be wider than the box: wide enough for a story's title, and
# never wider than the screen (Streamlit draws it into the body, positioned at the box, with its width inline)
WIDE_DROPDOWNS_CSS = """<style>
[data-testid="stSelectboxVirtualDropdown"] {
  width: max(var(--trigger-width, 0px), min(28rem, calc(100vw - 3rem))) !important;
}
</style>"""


def widen_dropdowns() -> None:
    """Every page's dropdown lists wide enough for their options (see WIDE_DROPDOWNS_CSS)."""
    st.html(WIDE_DROPDOWNS_CSS)

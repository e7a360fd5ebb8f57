"""The Linear Regression page's settings: its fields (one query key and one widget key each), its
presets, and how a field is drawn."""

from __future__ import annotations

import streamlit as st

from ui import limits
from ui.state import fields as ps
from ui.state.widgets import choice_field, number_field, playable_schedules

PAGE = "rg"
A = limits.REGRESSION_MAX_ABS_PARAM
# the defaults converge: standardized features make both directions equally curved, so GD at lr 0.1 reaches the
# least-squares fit in 60 epochs; the notes' own experiment (raw x ~ 10·N(0, 1), lr 0.001, 10 epochs: a fit
# still far off) is NOTES_PRESET
OPT = ps.Entry("opt", "Optimizer", "optimizer", "SGD", (("lr", 0.1),))
SCHED = ps.Entry(
    "sched", "Schedule", "schedule", ps.CONSTANT, constant=True, horizon=10, choices=tuple(playable_schedules())
)
FIELDS = (
    ps.Choice("src", "Data", "synthetic", ("synthetic", "upload")),
    ps.Number("n", "samples N", 100, 2, limits.REGRESSION_MAX_SAMPLES, integer=True),
    ps.Number("d", "features d", 1, 1, limits.MAX_FEATURES, integer=True),
    ps.Number("w", "true weight w (every feature)", 2.0, -A, A),
    ps.Number("b", "true bias b", 1.0, -A, A),
    ps.Number("noise", "noise σ", 2.0, 0.0, limits.REGRESSION_MAX_NOISE),
    ps.Number("xs", "x scale (x ~ scale · N(0, 1))", 10.0, 1e-3, limits.REGRESSION_MAX_X_SCALE),
    ps.Number("seed", "seed", 0, limits.MIN_SEED, limits.MAX_SEED, integer=True),
    OPT,
    SCHED,
    ps.Choice("every", "the schedule steps once per", "epoch", ("epoch", "update")),
    ps.Choice("mode", "Mode", "GD", ("GD", "SGD", "minibatch")),
    ps.Number("bs", "batch size b", 10, 1, limits.REGRESSION_MAX_SAMPLES, integer=True),
    ps.Choice("sampling", "sampling", "shuffle", ("shuffle", "replacement")),
    ps.Number("epochs", "epochs", 60, 1, limits.MAX_EPOCHS, integer=True),
    ps.Choice("std", "features", "standardized", ("raw", "standardized")),
    ps.Choice("init", "initial parameters", "torch", ("torch", "zeros")),
    ps.Choice("device", "device", "auto", ("auto", "cpu", "cuda", "mps")),
    ps.Choice("dtype", "precision", "float32", ("float32", "float64")),
    ps.Choice("cmp_lr", "comparison learning rates", "same", ("same", "scaled")),
    ps.Number("cmp_epochs", "comparison epochs", 2, 1, limits.REGRESSION_MAX_COMPARE_EPOCHS, integer=True),
    ps.Number("gd_epochs", "GD's epochs in the comparison", 10, 1, limits.REGRESSION_MAX_COMPARE_EPOCHS, integer=True),
)
BY_KEY = {f.key: f for f in FIELDS}
# the experiment of the notes on gradient descent
NOTES_PRESET = {"std": "raw", "opt": ("SGD", {"lr": 0.001}), "epochs": 10}
# d2l's airfoil data is 1500 × 5, standardized; its lrs 1, 0.4, 0.05, 0.005 for a loss ½·MSE are 0.5·b/200 here
D2L_PRESET = {"n": 1500, "d": 5, "std": "standardized", "opt": ("SGD", {"lr": 0.5}), "cmp_lr": "scaled"}
UPLOAD = f"{PAGE}_upload"  # (file name, bytes) of the last upload: kept when the visitor switches pages


def key(name: str) -> str:
    return ps.widget_key(PAGE, name)


def number(name: str, **extra) -> None:
    number_field(PAGE, BY_KEY[name], **extra)


def choice(name: str, labels: dict | None = None, **extra) -> None:
    choice_field(PAGE, BY_KEY[name], labels, **extra)


def apply_preset(overrides: dict) -> None:
    values = ps.defaults(FIELDS)
    for name, value in overrides.items():
        f = BY_KEY[name]
        values[name] = f.canonical(value[0], value[1]) if isinstance(f, ps.Entry) else value
    ps.write_widgets(PAGE, FIELDS, values, st.session_state)

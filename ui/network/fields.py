"""The Networks page's settings: its fields (one query key and one widget key each) and how a field is drawn."""

from __future__ import annotations

from gdviz.network import ACTIVATIONS, CENTRES, DATASETS, PLANES
from ui import limits
from ui.state import fields as ps
from ui.state.entries import entry
from ui.state.widgets import choice_field, number_field, playable_schedules

PAGE = "nn"
RACERS = ps.Racers(
    "o",
    "Optimizers",
    (entry("SGD", lr=0.1), entry("SGD", lr=0.1, momentum=0.9), entry("Adam", lr=0.01)),
    max_items=limits.NETWORK_MAX_RACERS,
)
SCHED = ps.Entry(
    "sched", "Schedule", "schedule", ps.CONSTANT, constant=True, horizon=200, choices=tuple(playable_schedules())
)
FIELDS = (
    ps.Choice("data", "Data", "moons", tuple(DATASETS)),
    ps.Number("n", "samples", 200, 20, limits.NETWORK_MAX_SAMPLES, integer=True),
    ps.Number("noise", "noise σ", 0.1, 0.0, limits.NETWORK_MAX_NOISE),
    ps.Number("seed", "seed", 0, limits.MIN_SEED, limits.MAX_SEED, integer=True),
    ps.Number("width", "width (units per hidden layer)", 32, 2, limits.NETWORK_MAX_WIDTH, integer=True),
    ps.Number("depth", "hidden layers", 2, 1, limits.NETWORK_MAX_DEPTH, integer=True),
    ps.Choice("act", "activation", "tanh", ACTIVATIONS),
    RACERS,
    SCHED,
    ps.Number("steps", "steps", 200, 1, limits.NETWORK_MAX_STEPS, integer=True),
    ps.Choice("mode", "batches", "full", ("full", "minibatch")),
    ps.Number("bs", "batch size", 32, 1, limits.NETWORK_MAX_SAMPLES, integer=True),
    ps.Choice("plane", "plane", "pca", PLANES),
    ps.Choice("centre", "centre of the random plane", "start", CENTRES),
    ps.Number("grid", "grid points per axis", 41, limits.NETWORK_MIN_GRID, limits.NETWORK_MAX_GRID, integer=True),
    ps.Choice("device", "device", "auto", ("auto", "cpu", "cuda", "mps")),
)
BY_KEY = {f.key: f for f in FIELDS}
# what "Add optimizer" picks first: the ones not racing yet, the classic ones first
ADD_ORDER = ("SGD", "Adam", "RMSprop", "Adagrad", "NAdam", "AdamW", "Adadelta", "Adamax", "RAdam", "Lion", "Yogi")


def key(name: str) -> str:
    return ps.widget_key(PAGE, name)


def number(name: str, **extra) -> None:
    number_field(PAGE, BY_KEY[name], **extra)


def choice(name: str, labels: dict | None = None, **extra) -> None:
    choice_field(PAGE, BY_KEY[name], labels, **extra)

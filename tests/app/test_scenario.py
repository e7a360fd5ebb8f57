"""The Playground state and its link codec: canonical round trip, and hostile query strings."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gdviz
from gdviz.optimizers import optimizer_class
from ui import limits
from ui.playground.scenario import CUSTOM, Scenario, auto_labels, from_query, to_query
from ui.state.entries import OptimizerEntry, checked_entry, entry, schedule_params
from ui.state.text import clean_label, escape_markdown
from ui.state.values import NO_SCHEDULE, bounds, canonical_value, full_params
from ui.state.widgets import playable_schedules

FORMULAS = ("x^2 + 2*y^2", "x*cos(0.15*pi*x)", "(1 - x)^2 + 100*(y - x^2)^2", "sin(x1) * x2^2")


def _value(spec):
    """A strategy for a valid, in-range value of one hyper-parameter (None for an unset optional one)."""
    low, high = bounds(spec)
    floats = st.floats(low, high, allow_nan=False, allow_infinity=False)
    ints = st.integers(int(math.ceil(low)), int(min(high, 1000)))
    by_kind = {
        "float": floats,
        "int": ints,
        "bool": st.booleans(),
        "choice": st.sampled_from(spec.choices or (spec.default,)),
        "pair": st.tuples(floats, floats),
        "list": st.lists(ints, max_size=limits.MAX_LIST_ITEMS).map(tuple),
    }
    strategy = by_kind[spec.kind]
    return st.one_of(st.none(), strategy) if spec.optional else strategy


@st.composite
def optimizer_entries(draw):
    name = draw(st.sampled_from(sorted(gdviz.OPTIMIZERS)))
    specs = optimizer_class(name).spec
    hyper = {spec.name: draw(_value(spec)) for spec in specs}
    clip = draw(st.one_of(st.none(), st.floats(limits.MIN_CLIP, limits.MAX_CLIP)))
    label = clean_label(draw(st.text(max_size=60)))
    item = OptimizerEntry(name, full_params(specs, hyper), clip, label)
    return checked_entry(item)[0]  # cross-parameter rules (nesterov needs momentum) as the codec applies them


@st.composite
def scenarios(draw):
    custom = draw(st.booleans())
    surface = CUSTOM if custom else draw(st.sampled_from(sorted(gdviz.SURFACES)))
    formula = draw(st.sampled_from(FORMULAS)) if custom else ""
    dim = 2 if custom else gdviz.SURFACES[surface].dim
    coordinate = st.floats(-limits.MAX_ABS_START, limits.MAX_ABS_START, allow_nan=False)
    start = draw(st.one_of(st.none(), st.tuples(*[coordinate] * dim)))
    more = () if start is None else draw(st.lists(st.tuples(*[coordinate] * dim), max_size=limits.MAX_STARTS - 1))
    schedule, params = NO_SCHEDULE, ()
    if draw(st.booleans()):
        schedule = draw(st.sampled_from(playable_schedules()))
        specs = gdviz.SCHEDULES[schedule].spec
        params = full_params(specs, {spec.name: draw(_value(spec)) for spec in specs})
    optimizers = tuple(draw(st.lists(optimizer_entries(), min_size=1, max_size=limits.MAX_OPTIMIZERS)))
    most_steps = min(limits.MAX_STEPS, limits.MAX_RUN_STEPS // (len(optimizers) * (1 + len(more))))
    return Scenario(
        surface=surface,
        formula=formula,
        start=start,
        more_starts=tuple(more),
        steps=draw(st.integers(limits.MIN_STEPS, most_steps)),
        noise=draw(st.floats(limits.MIN_NOISE, limits.MAX_NOISE)),
        batch_size=draw(st.integers(limits.MIN_BATCH_SIZE, limits.MAX_BATCH_SIZE)),
        seed=draw(st.integers(limits.MIN_SEED, limits.MAX_SEED)),
        schedule=schedule,
        schedule_params=params,
        optimizers=optimizers,
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_every_valid_scenario_round_trips_through_the_link(scenario):
    query = to_query(scenario)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in query.items())
    restored, notices = from_query(query)
    if scenario.has_schedule and notices:
        # a schedule whose drawn parameters the engine refuses (e.g. CyclicLR base_lr > max_lr) falls back
        assert restored.schedule_params != scenario.schedule_params
        return
    assert notices == []
    assert restored == scenario
    assert to_query(restored) == query


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.one_of(
            st.sampled_from(["v", "s", "f", "x0", "steps", "noise", "batch", "seed", "sched", "sched.gamma"]),
            st.sampled_from(["o1", "o2", "o9", "o1.lr", "o1.betas", "o1.clip", "o1.label", "o2.momentum"]),
            st.text(max_size=12),
        ),
        st.one_of(
            st.text(max_size=40),
            st.sampled_from(["nan", "inf", "-1e309", "1e400", "SGD", "Adam", "Newton", "1,2", "1,2,3", "", "none"]),
        ),
        max_size=12,
    )
)
def test_any_query_gives_a_valid_scenario_and_never_raises(query):
    scenario, notices = from_query(query)
    assert isinstance(notices, list)
    assert 1 <= len(scenario.optimizers) <= limits.MAX_OPTIMIZERS
    assert limits.MIN_STEPS <= scenario.steps <= limits.MAX_STEPS
    assert limits.MIN_NOISE <= scenario.noise <= limits.MAX_NOISE
    assert limits.MIN_SEED <= scenario.seed <= limits.MAX_SEED
    for item in scenario.optimizers:
        gdviz.optimizer(item.name, max_grad_norm=item.max_grad_norm, **item.params)
    if scenario.has_schedule:
        gdviz.schedule(scenario.schedule, **dict(scenario.schedule_params))
    assert all(abs(v) <= limits.MAX_ABS_START for v in scenario.start or ())
    # what the reader produced encodes and reads back to itself without complaint
    assert from_query(to_query(scenario)) == (scenario, [])


def test_out_of_range_values_are_clamped_with_a_notice():
    scenario, notices = from_query(
        {"steps": "999999", "noise": "-3", "seed": "-1", "batch": "0", "x0": "1e9,0", "o1": "SGD", "o1.lr": "50"}
    )
    assert scenario.steps == limits.MAX_STEPS
    assert scenario.noise == 0.0
    assert scenario.seed == 0
    assert scenario.batch_size == 1
    assert scenario.start == (limits.MAX_ABS_START, 0.0)
    assert scenario.optimizers[0].params["lr"] == bounds(optimizer_class("SGD").spec[0])[1]
    assert len(notices) == 6
    assert all("clamped" in n or "limited" in n for n in notices)


def test_several_start_points_bad_ones_left_out():
    scenario, notices = from_query({"s": "himmelblau", "x0": "1,2; 3,4;bad;5,6,7; -1,-1"})
    assert scenario.start == (1.0, 2.0) and scenario.more_starts == ((3.0, 4.0), (-1.0, -1.0))
    assert len(notices) == 2 and all("left out" in n for n in notices)
    many = ";".join(f"{i},0" for i in range(20))
    scenario, notices = from_query({"s": "himmelblau", "x0": many})
    assert 1 + len(scenario.more_starts) == limits.MAX_STARTS and any("At most" in n for n in notices)
    assert to_query(scenario)["x0"].count(";") == limits.MAX_STARTS - 1


def test_the_run_budget_caps_steps_with_a_notice():
    query = {"s": "quadratic", "x0": ";".join(["1,1"] * 8), "steps": "5000", **{f"o{i}": "SGD" for i in range(1, 9)}}
    scenario, notices = from_query(query)
    assert scenario.steps == limits.MAX_RUN_STEPS // 64
    assert any("budget" in n for n in notices)
    assert from_query(to_query(scenario)) == (scenario, [])


def test_malformed_and_unknown_values_fall_back_with_a_notice():
    scenario, notices = from_query(
        {"s": "nope", "steps": "ten", "o1": "Foo", "o2": "Adam", "o2.betas": "0.9", "zz": "1"}
    )
    assert scenario.surface == Scenario().surface
    assert scenario.steps == limits.DEFAULT_STEPS
    assert [item.name for item in scenario.optimizers] == ["Adam"]
    assert scenario.optimizers[0].params["betas"] == (0.9, 0.999)
    text = " ".join(notices)
    for part in ("Unknown surface", "Steps 'ten'", "Unknown optimizer 'Foo'", "betas", "'zz'"):
        assert part in text


def test_more_than_eight_optimizers_are_cut_with_a_notice():
    query = {f"o{i}": "SGD" for i in range(1, 12)}
    scenario, notices = from_query(query)
    assert len(scenario.optimizers) == limits.MAX_OPTIMIZERS
    assert any("At most 8" in n for n in notices)


def test_cross_parameter_errors_use_the_engine_message():
    scenario, notices = from_query({"o1": "SGD", "o1.lr": "0.2", "o1.nesterov": "1"})
    assert scenario.optimizers[0].params["nesterov"] is False
    assert scenario.optimizers[0].params["lr"] == 0.2  # the lr survives the fallback
    assert any("Nesterov" in n for n in notices)


def test_labels_are_stripped_of_markup_and_bounded():
    assert clean_label("<b>hi</b>$x$`y`") == "bhi/bxy"
    assert len(clean_label("a" * 500)) == limits.MAX_LABEL_CHARS
    scenario, _ = from_query({"o1": "SGD", "o1.label": "<script>alert(1)</script>"})
    assert "<" not in scenario.optimizers[0].label


def test_markdown_escaping_shows_text_literally():
    # the colon followed by a letter would start a Streamlit directive (:red[…]): it becomes U+2236 RATIO
    assert escape_markdown("[x](javascript:alert(1))") == r"\[x\]\(javascript∶alert\(1\)\)"
    assert escape_markdown("$a$ *b*") == r"\$a\$ \*b\*"


def test_a_long_formula_is_cut_and_kept_as_custom():
    scenario, notices = from_query({"f": "x+" * 400})
    assert scenario.is_custom and len(scenario.formula) == limits.MAX_FORMULA_CHARS
    assert notices


def test_entry_is_canonical_and_rejects_unknown_names():
    item = entry("sgd", lr=1)
    assert item.name == "SGD" and item.params["lr"] == 1.0 and isinstance(item.params["lr"], float)
    assert [name for name, _ in item.hyper] == [spec.name for spec in optimizer_class("SGD").spec]
    with pytest.raises(ValueError):
        entry("SGD", beta=0.9)
    with pytest.raises(ValueError):
        schedule_params("StepLR", gama=0.5)


def test_auto_labels_name_the_changes_and_are_unique():
    labels = auto_labels((entry("SGD", lr=0.1), entry("SGD", lr=0.1), entry("SGD", lr=0.1, momentum=0.9)))
    assert labels == ["SGD η=0.1", "SGD η=0.1 #2", "SGD η=0.1, μ=0.9"]


def test_bounds_contain_the_default_and_stay_valid():
    for registry in (gdviz.OPTIMIZERS, gdviz.SCHEDULES):
        for cls in registry.values():
            for spec in cls.spec:
                if spec.kind not in ("float", "int", "pair", "list"):
                    continue
                low, high = bounds(spec)
                assert low <= high
                for edge in (low, high):
                    value = (edge, edge) if spec.kind == "pair" else [int(edge)] if spec.kind == "list" else edge
                    spec.validate(value, cls.name)
                if spec.default is not None and spec.kind in ("float", "int"):
                    assert low <= canonical_value(spec, spec.default) <= high

"""The Networks page's cost model (ui/network/compute.py: estimated_cost, check_work): what it counts, and which
settings it refuses, and where the race's budget starts. Whether its seconds are this machine's is measured by
benchmarks/network.py, not here."""

from __future__ import annotations

import dataclasses

import pytest

from gdviz.network.plane import PCA_MAX_ROWS
from gdviz.network.training import as_racer
from ui import limits
from ui.network import compute
from ui.network.compute import Setting, check_work, estimated_cost

RACERS = tuple(as_racer(item) for item in [("SGD", {"lr": 0.1}), ("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {})])
DEFAULT = Setting(
    data="moons", n=200, noise=0.1, seed=0, width=32, depth=2, activation="tanh", racers=RACERS, schedule=None,
    steps=200, batch_size=None, plane="pca", centre="start", grid=41, device="cpu",
)  # fmt: skip


def setting(**changes) -> Setting:
    return dataclasses.replace(DEFAULT, **changes)


def refusal(**changes) -> str:
    """check_work's message for the setting, "" when it accepts it."""
    try:
        check_work(setting(**changes))
    except compute.TooHeavy as error:
        message = str(error)
        # what the page's buttons apply is what the message says
        assert error.steps == (steps_that_fit(message) if "steps fit" in message else None)
        grid = message.split("a grid of ")[1].split(" points")[0] if "a grid of" in message else None
        assert error.grid == (None if grid is None else int(grid))
        return message
    return ""


def test_a_minibatch_step_costs_its_batch_plus_the_recorded_loss_on_every_sample():
    weights, n, lane_steps = DEFAULT.spec.parameters, DEFAULT.n, len(RACERS) * DEFAULT.steps
    full, mini = estimated_cost(DEFAULT).training, estimated_cost(setting(batch_size=16)).training
    # the forward and backward passes (about three) and the activations on 16 samples instead of 200; the
    # recorded loss unchanged
    units = DEFAULT.width * DEFAULT.depth
    saved = (
        lane_steps
        * (n - 16)
        * (weights * 3 / limits.NETWORK_TRAIN_MACS_PER_SECOND + units * limits.NETWORK_ACTIVATION_SECONDS)
    )
    assert full - mini == pytest.approx(saved, rel=1e-12)
    # a batch as large as the data is full batch
    assert estimated_cost(setting(batch_size=n)).training == full == estimated_cost(setting(batch_size=5 * n)).training


def test_a_step_costs_a_fixed_time_per_layer_beside_its_multiply_adds():
    tiny = setting(width=2, depth=1, n=20)
    per_step = estimated_cost(tiny).training / (len(RACERS) * tiny.steps)
    assert per_step == pytest.approx(2 * limits.NETWORK_LAYER_STEP_SECONDS, rel=0.05)  # two layers, little else
    deeper = setting(width=2, depth=4, n=20)
    assert estimated_cost(deeper).training / (len(RACERS) * deeper.steps) > 2.4 * per_step


@pytest.mark.parametrize(
    "field, more",
    [("steps", 400), ("n", 400), ("width", 48), ("depth", 3), ("racers", RACERS + RACERS[:1]), ("grid", 61)],
)
def test_the_estimate_grows_with_every_count(field, more):
    before, after = estimated_cost(DEFAULT), estimated_cost(setting(**{field: more}))
    assert after.picture > before.picture
    if field != "grid":
        assert after.training > before.training
    else:
        assert after.training == before.training


def test_the_pca_counts_at_most_its_thinned_rows():
    long = estimated_cost(setting(steps=1_000)).picture
    longer = estimated_cost(setting(steps=1_000, grid=11)).picture
    grid_share = (41**2 - 11**2) * DEFAULT.n * DEFAULT.spec.parameters / limits.NETWORK_GRID_MACS_PER_SECOND
    assert long - longer == pytest.approx(grid_share, rel=1e-9)
    assert len(RACERS) * 1_001 > PCA_MAX_ROWS  # so the PCA's part is that of its PCA_MAX_ROWS rows in both


def test_races_that_take_about_a_second_run():
    # each was refused by the multiply-add count this model replaced (measured here: 0.5, 0.9 and 0.5-0.6 s of
    # one core for the race, 0.3, 0.5 and 0.25 s for the picture; the model says 0.43, 0.89 and 0.49; 0.35,
    # 0.61 and 0.27)
    assert refusal(data="spirals", width=48, steps=300) == ""
    assert refusal(data="spirals", n=1_000, width=64, steps=200) == ""
    assert refusal(n=1_000, batch_size=32, steps=300) == ""


def test_the_recorded_weights_bound_the_race_below_the_refusal():
    """Under this server's caps the recorded weights (NETWORK_MAX_RECORDED) bind first: the costliest race they
    allow is put at about the training budget, which stops it if it runs long; the model's refusal guards a
    server whose operator raised them."""
    worst = 0.0
    for depth in range(1, limits.NETWORK_MAX_DEPTH + 1):
        for width in (2, 8, 16, 32, limits.NETWORK_MAX_WIDTH):
            weights = setting(width=width, depth=depth).spec.parameters
            racers = RACERS + RACERS[:1]
            steps = min(limits.NETWORK_MAX_STEPS, limits.NETWORK_MAX_RECORDED // (len(racers) * weights) - 1)
            if steps < 1:
                continue
            most = setting(n=limits.NETWORK_MAX_SAMPLES, width=width, depth=depth, steps=steps, racers=racers, grid=11)
            worst = max(worst, estimated_cost(most).training)
    assert (
        limits.NETWORK_TRAIN_SECONDS * 0.5 < worst < limits.NETWORK_MAX_TRAIN_OVER_BUDGET * limits.NETWORK_TRAIN_SECONDS
    )


@pytest.fixture
def more_recorded(monkeypatch):
    """A server that records a hundred times the weights: the training estimate is then what refuses."""
    monkeypatch.setattr(limits, "NETWORK_MAX_RECORDED", 100 * limits.NETWORK_MAX_RECORDED)


def test_a_race_far_beyond_the_budget_is_refused_saying_how_much_and_what_to_lower(more_recorded):
    heavy = dict(n=1_000, width=64, depth=4, steps=1_000, racers=RACERS + RACERS[:1], grid=11)
    cost = estimated_cost(setting(**heavy))
    assert cost.training > limits.NETWORK_MAX_TRAIN_OVER_BUDGET * limits.NETWORK_TRAIN_SECONDS
    message = refusal(**heavy)
    assert message.startswith("Training 4 optimizer(s) for 1,000 steps on 1,000 samples with 12,737 weights")
    assert f"about {cost.training:.0f} s of this server's CPU" in message
    assert f"after {limits.NETWORK_TRAIN_SECONDS:g} s" in message
    share = limits.NETWORK_TRAIN_SECONDS / cost.training
    assert f"about {share:.0%} of the steps" in message
    # the most steps that fit: accepted, one more refused
    assert message.endswith("steps fit; or fewer optimizers or samples, or a narrower or shallower network.")
    assert 0 < steps_that_fit(message) < 1_000
    advice_holds(heavy, message)


def test_a_minibatch_refusal_names_its_batches(more_recorded):
    message = refusal(n=1_000, width=64, depth=4, steps=1_000, batch_size=500, racers=RACERS + RACERS[:1], grid=11)
    assert "for 1,000 steps on minibatches of 500 of 1,000 samples with 12,737 weights" in message


def test_a_race_within_twice_the_budget_runs_and_the_budget_stops_it(more_recorded):
    slow = dict(n=1_000, width=64, steps=1_000, racers=RACERS + RACERS[:1], grid=11)
    training = estimated_cost(setting(**slow)).training
    assert limits.NETWORK_TRAIN_SECONDS < training < limits.NETWORK_MAX_TRAIN_OVER_BUDGET * limits.NETWORK_TRAIN_SECONDS
    assert refusal(**slow) == ""


def test_a_picture_beyond_its_cap_is_refused_with_what_to_lower():
    heavy = dict(n=1_000, width=64, depth=4, steps=50, grid=61)
    assert estimated_cost(setting(**heavy)).training < limits.NETWORK_TRAIN_SECONDS  # the race alone would run
    message = refusal(**heavy)
    assert message.startswith("The landscape (61² grid points and every iterate, each on 1,000 samples with 12,737")
    assert f"more than its {limits.NETWORK_MAX_PICTURE_SECONDS:g} s per picture: a grid of " in message
    # the finest grid that fits, the rest unchanged: accepted, one point more per axis refused
    grid = int(message.split("a grid of ")[1].split(" points per axis fits")[0])
    assert limits.NETWORK_MIN_GRID <= grid < 61
    assert refusal(**(heavy | {"grid": grid})) == "" and refusal(**(heavy | {"grid": grid + 1}))
    advice_holds(heavy, message)


def test_a_picture_no_grid_can_save_says_what_else_to_lower(monkeypatch):
    monkeypatch.setattr(limits, "NETWORK_MAX_PICTURE_SECONDS", 0.01)
    message = refusal(grid=limits.NETWORK_MIN_GRID + 1)
    assert "a grid of" not in message and "per picture: at most " in message, message
    advice_holds({"grid": limits.NETWORK_MIN_GRID + 1}, message)


def test_the_regression_picture_counts_its_curve_not_a_lattice():
    curve = estimated_cost(setting(data="cubic", width=32, depth=2)).picture
    lattice = estimated_cost(setting(width=32, depth=2)).picture
    frames = DEFAULT.steps if DEFAULT.steps < limits.NETWORK_MAX_FRAMES else limits.NETWORK_MAX_FRAMES
    weights_cubic = setting(data="cubic").spec.parameters
    function = len(RACERS) * (frames + 1) / limits.NETWORK_FUNCTION_MACS_PER_SECOND
    assert lattice - curve == pytest.approx(
        function * (compute.FUNCTION_GRID**2 * DEFAULT.spec.parameters - compute.CURVE_POINTS * weights_cubic)
        + (41**2 + len(RACERS) * 201)
        * DEFAULT.n
        * (DEFAULT.spec.parameters - weights_cubic)
        / limits.NETWORK_GRID_MACS_PER_SECOND
        + _pca(DEFAULT.spec.parameters)
        - _pca(weights_cubic),
        rel=1e-9,
    )


def _pca(weights: int) -> float:
    small, large = sorted((min(len(RACERS) * (DEFAULT.steps + 1), PCA_MAX_ROWS), weights))
    return small**2 * (large + small) / limits.NETWORK_PCA_MACS_PER_SECOND


def test_too_many_recorded_weights_say_how_many_steps_fit():
    message = refusal(n=1_000, width=64, steps=300)  # 3 paths of 301 iterates × 4,417 weights: 3,988,551 numbers
    assert f"more than this server's {limits.NETWORK_MAX_RECORDED:,}: at most " in message
    # the recorded weights bind first here: the most steps their cap allows, unless the others bind earlier
    assert steps_that_fit(message) <= limits.NETWORK_MAX_RECORDED // (3 * 4_417) - 1
    advice_holds({"n": 1_000, "width": 64, "steps": 300}, message)


def test_where_no_step_count_fits_the_message_says_so(monkeypatch):
    monkeypatch.setattr(limits, "NETWORK_MAX_PICTURE_SECONDS", 1e-6)  # not even the coarsest grid of one step
    message = refusal(grid=limits.NETWORK_MIN_GRID)
    assert "at most" not in message and "a grid of" not in message
    assert message.endswith(
        "per picture: fewer steps; or fewer optimizers or samples, or a narrower or shallower network."
    )
    assert refusal(grid=limits.NETWORK_MIN_GRID, steps=1)


def steps_that_fit(message: str) -> int:
    return int(message.split("at most ")[1].split(" steps fit")[0].replace(",", ""))


def advice_holds(changes: dict, message: str) -> None:
    """The steps the refusal says fit (with the rest unchanged) are accepted and one more is refused; where it
    says "fewer steps" alone, even one step is refused."""
    if "steps fit" in message:
        steps = steps_that_fit(message)
        assert refusal(**(changes | {"steps": steps})) == "" and refusal(**(changes | {"steps": steps + 1}))
    else:
        assert ": fewer steps;" in message or "; or fewer steps;" in message, message
        assert refusal(**(changes | {"steps": 1}))


def test_the_race_budget_starts_after_torchs_warm_up(monkeypatch):
    """torch's first optimizer step imports the rest of torch (~0.9 s of CPU): a fresh server's first race spent
    that from its own budget, so the heaviest link stopped at 759 of 1,000 steps; the warm-up comes first."""
    pytest.importorskip("torch")
    order = []
    monkeypatch.setattr(compute, "warm_up", lambda: order.append("warm-up"))
    budget = compute.Budget

    def recorded_budget(*args, **kwargs):
        order.append("budget")
        return budget(*args, **kwargs)

    monkeypatch.setattr(compute, "Budget", recorded_budget)
    paths, notices = compute.race(setting(n=20, width=2, depth=1, steps=2, seed=4321))
    assert order == ["warm-up", "budget"] and paths.done == 2 and not notices

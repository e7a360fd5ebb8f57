"""Scenarios that tell a story, one click each: the six defects of vanilla GD in the notes on gradient descent and d2l ch. 12.

Each preset is an ordinary :class:`~ui.playground.scenario.Scenario` (so it is also a link, with
``story=<key>``) with a title and a one-paragraph story. The numbers in the stories were measured with the
engine, and every story's claim is checked on its race by tests/app/test_story_claims.py. A racer may
carry its own schedule, so d2l's constant / exponential / polynomial comparison is one map.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import gdviz
from ui.playground.scenario import Scenario
from ui.state.entries import OptimizerEntry, entry


@dataclass(frozen=True)
class Preset:
    key: str
    title: str
    story: str
    scenario: Scenario


def _gd(lr: float, **more) -> OptimizerEntry:
    return entry("SGD", lr=lr, **more)


def _build() -> tuple[Preset, ...]:
    noisy_bowl = dict(surface="quadratic", start=(-5.0, -2.0), steps=100, noise=1.0, seed=0)
    return (
        Preset(
            "saddle",
            "Defect 1 · GD stalls at a saddle",
            "On f = x² − y² the gradient vanishes at the saddle (0, 0). Vanilla GD (η = 0.05) starts almost on "
            "the ridge and creeps towards the saddle, where every step is tiny: after 40 steps it is still there. "
            "Momentum (μ = 0.9) gathers speed along the escape direction and leaves in a few steps; Adam's "
            "per-coordinate scaling also pushes it off. Turn on gradient noise σ to see noisy SGD escape too.",
            Scenario(
                "saddle",
                start=(-1.8, 0.01),
                steps=40,
                optimizers=(_gd(0.05), _gd(0.05, momentum=0.9), entry("Adam", lr=0.05)),
            ),
        ),
        Preset(
            "plateau",
            "Defect 2 · no acceleration on a gentle slope",
            "Far from its well this surface has slope ≈ 0.001: even with η = 1, GD moves 0.001 per step and "
            "would need thousands of steps to cross (the 10⁵-step example of the notes on gradient descent). Momentum μ = 0.99 "
            "accumulates the small, consistent gradient up to 100× and reaches the well; Adam divides by the "
            "gradient's own size, so it moves about η per step whatever the slope.",
            Scenario(
                "plateau",
                steps=300,
                optimizers=(_gd(1.0), _gd(1.0, momentum=0.99), entry("Adam", lr=0.1)),
            ),
        ),
        Preset(
            "local-trap",
            "Defect 3 · trapped in a small local minimum",
            "f has a shallow local minimum at x₁ = 0 and the global one at x₁ = 3, behind a low hump at "
            "x₁ = 0.5. GD (η = 0.05) from x₁ = −1.5 settles in the first dip and stays; so does Adam. "
            "Momentum (μ = 0.9) arrives with enough speed to roll over the hump into the global minimum. "
            "Gradient noise (σ ≈ 3) kicks GD out as well — try it.",
            Scenario(
                "local_trap",
                start=(-1.5, 1.0),
                steps=150,
                optimizers=(_gd(0.05), _gd(0.05, momentum=0.9), entry("Adam", lr=0.1)),
            ),
        ),
        Preset(
            "cliff",
            "Defect 4 · flung across a cliff",
            "Right of x₁ ≈ 1 the wall is 100× steeper than the floor. Starting on the wall, GD's first step "
            "(η = 0.1 times a gradient of ≈ 156) throws it to x₁ ≈ −14, far off the map, and it spends the "
            "rest of the run walking back. Clipping the gradient norm to 1 (torch's clip_grad_norm_) turns the "
            "same η into a controlled slide down the wall; RMSprop normalizes the gradient per coordinate.",
            Scenario(
                "cliff",
                start=(1.4, 3.0),
                steps=100,
                optimizers=(_gd(0.1), _gd(0.1, max_grad_norm=1.0), entry("RMSprop", lr=0.05)),
            ),
        ),
        Preset(
            "ravine",
            "Defect 5 · heavy oscillation in a ravine",
            "A ravine with condition number 100: the steep direction allows at most η < 2/λmax = 0.1. "
            "At η = 0.095 GD zig-zags from wall to wall for about 30 steps while it crawls along the floor, and "
            "after 100 steps it is still 0.57 short of the minimum. Momentum keeps a running average of the "
            "gradients: their zig-zag parts flip sign every step and cancel, their parts along the floor add up. "
            "Heavy ball (η = 0.1, μ = 0.7) swings out its zig-zag within about 15 steps; Nesterov's look-ahead "
            "(η = 0.05, μ = 0.9) damps it at once, after the first step. Both run down the floor to the minimum, "
            "with a loss more than 1000× lower than GD's.",
            Scenario(
                "ravine",
                steps=100,
                optimizers=(_gd(0.095), _gd(0.1, momentum=0.7), _gd(0.05, momentum=0.9, nesterov=True)),
            ),
        ),
        Preset(
            "fixed-lr",
            "Defect 6 · one learning rate cannot fit everywhere",
            "GD starts on the cliff's wall, whose curvature reaches ≈ 770 (GD is stable there for η below "
            "2/770 ≈ 0.0026); on the floor below, the curvature is about 1 and η = 0.5 is a good step. A fixed "
            "η = 0.003, about the wall's limit, "
            "crawls along the floor: after 100 steps it is still 2.8 from the minimum. A fixed η = 0.5 is flung "
            "off the map at its first step, to x₁ ≈ −77, and is back on the map only after 6 steps. A schedule changes η "
            "over time: GD with η = 0.5 after a linear warm-up (torch's LinearLR from 0.01·η to η over 20 steps) "
            "walks down the wall with small steps, never leaves the map and runs along the floor into the "
            "minimum. A schedule only knows the step count, not where the iterate is: Adam (try it) adapts the "
            "step per coordinate instead.",
            Scenario(
                "cliff",
                start=(1.4, 3.0),
                steps=100,
                optimizers=(
                    _gd(0.003),
                    _gd(0.5),
                    _gd(0.5, schedule=("LinearLR", {"start_factor": 0.01, "end_factor": 1.0, "total_iters": 20})),
                ),
            ),
        ),
        Preset(
            "d2l-schedules",
            "d2l 12.4 · noisy SGD: constant, exponential, polynomial lr",
            "d2l's experiment: f = x₁² + 2x₂² from (−5, −2), gradient noise N(0, 1), η = 0.1, the same noise "
            "for all three. With a constant lr, SGD gets close quickly but never settles: for its last 50 steps it "
            "scribbles around the minimum in steps of ≈ 0.13. Exponential decay, η_t = 0.1·e^(−0.1t), dies so "
            "fast that the whole distance it may travel is bounded (Σ η_t ≈ 1.05): the noise is quelled, but SGD "
            "stops short, at x₁ ≈ −0.48. Polynomial decay, η_t = 0.1·(0.1t + 1)^(−1/2), decays slowly enough that "
            "Σ η_t grows without bound: SGD keeps closing in while its noise ball shrinks (steps of ≈ 0.04 at the "
            "end, a scribble half the size: zoom in on the minimum), and it ends with the lowest loss.",
            Scenario(
                **noisy_bowl,
                optimizers=(
                    _gd(0.1),
                    _gd(0.1, schedule=("ExponentialDecay", {"lam": 0.1})),
                    _gd(0.1, schedule=("PolynomialDecay", {"alpha": 0.5, "beta": 0.1})),
                ),
            ),
        ),
        Preset(
            "d2l-momentum",
            "d2l 12.6 · GD vs momentum, η = 0.4 and 0.6",
            "f = 0.1x₁² + 2x₂²: curvatures 0.2 and 4, so GD is stable only for η < 2/4 = 0.5. At η = 0.4 "
            "GD converges slowly along x₁; at η = 0.6 each step multiplies x₂ by −1.4: it leaves the map at its "
            "second step (the X on the edge marks where) and is flagged as diverged at step 45. Momentum "
            "with β = 0.5 widens the stable range to η < 2(1 + β)/4 = 0.75 and converges at both rates.",
            Scenario(
                "ill_conditioned",
                start=(-5.0, -2.0),
                steps=50,
                optimizers=(_gd(0.4), _gd(0.6), _gd(0.4, momentum=0.5), _gd(0.6, momentum=0.5)),
            ),
        ),
        Preset(
            "adagrad-rmsprop",
            "d2l 12.7–12.8 · AdaGrad's shrinking lr vs RMSProp",
            "AdaGrad divides η by the root of the *sum* of all past squared gradients, so its effective "
            "learning rate only shrinks: at η = 0.4 it slows to a crawl far from the minimum (watch the "
            "inspector's effective lr). η = 2 compensates. RMSProp replaces the sum by a moving average "
            "(γ = 0.9), so its step size recovers, and η = 0.4 converges. As in the book, ε = 10⁻⁶ sits inside "
            "the square root (eps_inside_sqrt; torch puts it outside), so the 20 steps end at the book's printed "
            "x₁: −2.382563, −0.002295 and −0.010599.",
            Scenario(
                "ill_conditioned",
                start=(-5.0, -2.0),
                steps=20,
                # d2l's adagrad_2d and rmsprop_2d divide by √(s + ε), ε = 1e-6 (torch: √s + ε)
                optimizers=(
                    entry("Adagrad", lr=0.4, eps=1e-6, eps_inside_sqrt=True),
                    entry("Adagrad", lr=2.0, eps=1e-6, eps_inside_sqrt=True),
                    entry("RMSprop", lr=0.4, alpha=0.9, eps=1e-6, eps_inside_sqrt=True),
                ),
            ),
        ),
        Preset(
            "newton-saddle",
            "d2l 12.3 · Newton's method on a saddle",
            "Newton's step −H⁻¹∇f jumps to the stationary point of the local quadratic model. On f = x² − y² "
            "that point is the saddle itself: Newton lands on (0, 0) in one step and stays there for good, "
            "while GD slowly slides off. Damping λ = 3 (> |−2|, the negative curvature) makes H + λI positive "
            "definite and turns the step downhill again: it escapes along y, where f is unbounded below.",
            Scenario(
                "saddle",
                start=(-1.8, 0.01),
                steps=40,
                optimizers=(entry("Newton"), _gd(0.05), entry("Newton", damping=3.0)),
            ),
        ),
        Preset(
            "newton-xcos",
            "d2l 12.3 · Newton on non-convex x·cos(cx)",
            "d2l's example: from x = 10 the Hessian is negative, so the full Newton step (η = 1) heads for "
            "a *maximum*. d2l's fix is a smaller step, η = 0.5, which reaches the minimum near x ≈ 7.3; "
            "GD gets there as well.",
            Scenario("xcos", start=(10.0,), steps=40, optimizers=(entry("Newton"), entry("Newton", lr=0.5), _gd(0.05))),
        ),
        Preset(
            "himmelblau-starts",
            "Himmelblau · four minima from four starts",
            "Himmelblau's function has four global minima (f = 0) around a hill at (−0.27, −0.92). Starting "
            "GD and momentum from four points only 0.5 away from the hilltop, each start rolls into a different "
            "minimum: which one you reach is decided by the start, not by the optimizer. This is why multiple "
            "random restarts (escape C in the notes on gradient descent) find more than one answer. Edit 'more starts' to try others.",
            Scenario(
                "himmelblau",
                start=(0.08, -0.57),
                more_starts=((-0.62, -0.57), (-0.62, -1.27), (0.08, -1.27)),
                steps=200,
                optimizers=(_gd(0.01), _gd(0.01, momentum=0.9)),
            ),
        ),
        Preset(
            "himmelblau",
            "Himmelblau · one start, four optimizers",
            "Himmelblau's four minima again, now from one start: which one an optimizer reaches also depends "
            "on how it moves. From (0.8, 0.9), plain GD, a small-momentum GD with a larger "
            "step, a heavy-ball GD (μ = 0.95) and a damped Newton end in four different minima. Click "
            "elsewhere on the map to restart them all from there.",
            Scenario(
                "himmelblau",
                start=(0.8, 0.9),
                steps=300,
                optimizers=(
                    _gd(0.01),
                    _gd(0.03, momentum=0.5),
                    _gd(0.005, momentum=0.95),
                    entry("Newton", lr=0.5, damping=10.0),
                ),
            ),
        ),
        Preset(
            "adam-then-sgd",
            "Adam first, then SGD",
            "The closing tip of the notes on optimizers: start with Adam for its fast early progress, then switch to SGD. "
            "On Rosenbrock, Adam (η = 0.05) is still far from (1, 1) after 600 steps; switching to SGD with "
            "momentum at step 150 gets about 60× lower. On a smooth toy surface a well-tuned SGD with "
            "momentum does just as well from the start: the trick earns its keep on real networks.",
            Scenario(
                "rosenbrock",
                steps=600,
                optimizers=(
                    entry("Adam", lr=0.05),
                    entry("AdamThenSGD", lr=0.05, switch_step=150, sgd_lr=0.0015, momentum=0.9),
                    _gd(0.0015, momentum=0.9),
                ),
            ),
        ),
        Preset(
            "compression",
            "Gradient compression · top-1 with and without error feedback",
            "Deep gradient compression, the motivation of the notes on vanilla and momentum SGD, sends only "
            "the largest gradient coordinates from a worker to the server. Here GD (η = 0.01) on Himmelblau from "
            "(0, 0) gets only the larger of its two coordinates each step (top-1), so it moves along one axis at "
            "a time. With error feedback the part not sent is kept and added to the next gradient: the staircase "
            "stays within 0.8 of plain GD's path and ends in the same minimum, (3, 2). Without it the x₁ part is "
            "dropped for good: for 10 steps only x₂ moves, straight up the axis, and the path ends in another "
            "minimum, (−2.81, 3.13): biased, not just slower. The inspector shows c_t and the residual; try "
            "momentum correction (DGC) in an optimizer's settings.",
            Scenario(
                "himmelblau",
                start=(0.0, 0.0),
                steps=60,
                optimizers=(
                    _gd(0.01, label="uncompressed"),
                    _gd(0.01, compress_topk=1, label="top-1, error feedback"),
                    _gd(0.01, compress_topk=1, error_feedback=False, label="top-1, no feedback"),
                ),
            ),
        ),
    )


def _explicit(preset: Preset) -> Preset:
    """The sidebar always shows a start point, so a preset spells out the surface's default start; and its
    scenario names its story."""
    scenario = replace(preset.scenario, story=preset.key)
    if scenario.start is None:
        scenario = replace(scenario, start=tuple(float(v) for v in gdviz.surface(scenario.surface).default_start))
    return replace(preset, scenario=scenario)


PRESETS: dict[str, Preset] = {preset.key: _explicit(preset) for preset in _build()}
# d2l 12.4 was three stories, one per schedule, before a racer could carry its own schedule
RENAMED = {"d2l-constant": "d2l-schedules", "d2l-exponential": "d2l-schedules", "d2l-polynomial": "d2l-schedules"}


def known_story(scenario: Scenario) -> tuple[Scenario, str | None]:
    """The scenario of a link with its ``story=`` a story that exists (an older key leads to its story now),
    else without one and a notice why."""
    key = RENAMED.get(scenario.story, scenario.story)
    if not key or key in PRESETS:
        return replace(scenario, story=key), None
    return replace(scenario, story=""), f"There is no story '{scenario.story}'; the scenario is shown without it."


def matching_preset(scenario: Scenario) -> Preset | None:
    """The preset whose scenario is exactly ``scenario`` whatever story it names (a link made before links
    named their story), if any."""
    for preset in PRESETS.values():
        if replace(scenario, story=preset.key) == preset.scenario:
            return preset
    return None


def loaded_story(scenario: Scenario) -> tuple[Preset | None, bool]:
    """The story the scenario was loaded from (or, for an older link, is exactly), and whether the visitor
    has changed the scenario since."""
    preset = PRESETS.get(scenario.story) or matching_preset(scenario)
    if preset is None:
        return None, False
    return preset, replace(scenario, story=preset.key) != preset.scenario

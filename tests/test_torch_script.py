"""gdviz.torch_script: the exported PyTorch script reproduces gdviz.race.

Scripts run in a fresh ``python -I`` from a temporary folder (so gdviz cannot be imported there), many in
one process to keep the suite fast: every preset of the Playground, every optimizer, schedule and surface
in the registries, and random scenarios (noise and noise schedules, schedules per racer or shared, with
ReduceLROnPlateau, clipping, custom formulas in 1-D and 2-D, batch sizes, several starts). Paths agree to
1e-9; where a path is chaotic, to torch's own sensitivity to a start nudged by 1e-14 (as
tests/test_optimizer_parity.py bounds it); a diverging run agrees up to gdviz's ``diverged_at``.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field

import numpy as np
import pytest

import gdviz
from gdviz.export.torch_optimizers import TORCH_OPTIMIZER_ARGS
from gdviz.export.torch_surfaces import TORCH_BODIES
from gdviz.optimizers import OPTIMIZERS
from gdviz.schedules import SCHEDULES
from gdviz.surfaces import SURFACES
from tests.torch_reference import torch

TOLERANCE = 1e-9

# runs each script given on the command line as __main__, keeps the last line it printed, and says
# whether anything imported gdviz
RUNNER = textwrap.dedent(
    """
    import contextlib, io, json, runpy, sys
    results = []
    for path in sys.argv[1:]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            runpy.run_path(path, run_name="__main__")
        results.append(out.getvalue().strip().splitlines()[-1])
    results.append(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] == "gdviz")))
    print("\\n".join(results))
    """
)


@dataclass
class Case:
    """One race: gdviz.race's arguments (``schedule`` may be a list) and its trajectories."""

    name: str
    surface: gdviz.Surface
    optimizers: list
    start: object = None
    steps: int = 60
    schedule: object = None
    noise: object = 0.0
    seed: int = 0
    batch_size: int = 1
    labels: list | None = None
    trajectories: list = field(default_factory=list)

    def script(self, nudge: bool = False) -> str:
        start = self.start if self.start is not None else self.surface.default_start
        start = np.asarray(start, dtype=np.float64)
        if nudge:
            start = start * (1 + 1e-14) + 1e-14
        return gdviz.torch_script(
            self.surface,
            self.optimizers,
            start,
            self.steps,
            self.schedule,
            self.noise,
            self.seed,
            self.batch_size,
            labels=self.labels,
        )

    def race(self) -> list:
        if not self.trajectories:
            self.trajectories = gdviz.race(
                self.surface,
                self.optimizers,
                self.start,
                self.steps,
                self.schedule,
                self.noise,
                self.seed,
                self.batch_size,
            )
        return self.trajectories


def run_scripts(scripts: list[str], tmp_path) -> tuple[list[dict], list[str]]:
    """Each script's printed JSON, and the gdviz modules that were imported (there must be none)."""
    torch.optim  # noqa: B018 - skips the test where torch is missing
    paths = []
    for i, text in enumerate(scripts):
        path = tmp_path / f"race_{i}.py"
        path.write_text(text)
        paths.append(str(path))
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER)
    done = subprocess.run(
        [sys.executable, "-I", str(runner), *paths], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    return [json.loads(line) for line in lines[:-1]], json.loads(lines[-1])


def _flat_paths(trajectories) -> list[tuple[np.ndarray, int]]:
    """(iterates, steps to compare) per run, in the script's order: racer by racer, start by start."""
    out = []
    for traj in trajectories:
        xs = traj.xs if traj.batched else traj.xs[:, None]
        for run, diverged in enumerate(traj.diverged_step.tolist()):
            out.append((xs[:, run], xs.shape[0] if diverged < 0 else diverged))
    return out


def path_error(ours: np.ndarray, reference: np.ndarray) -> float:
    """Largest relative deviation along a path, with an absolute floor near zero."""
    if ours.size == 0:
        return 0.0
    with np.errstate(all="ignore"):
        error = np.abs(ours - reference) / np.maximum(np.abs(reference), 1e-3)
    return float(np.max(np.where(np.isnan(error), np.inf, error)))


def check_cases(cases: list[Case], tmp_path) -> None:
    outputs, imported = run_scripts([case.script() for case in cases], tmp_path)
    assert imported == []
    suspicious = []
    for index, (case, output) in enumerate(zip(cases, outputs, strict=True)):
        runs = _flat_paths(case.race())
        assert len(output["xs"]) == len(runs) == len(output["labels"]), case.name
        for run, ((reference, stop), got) in enumerate(zip(runs, output["xs"], strict=True)):
            got = np.asarray(got, dtype=np.float64).reshape(-1, reference.shape[-1])
            assert got.shape[0] >= stop, f"{case.name} run {run}: the script stopped at {got.shape[0]} < {stop}"
            error = path_error(got[:stop], reference[:stop])
            if error > TOLERANCE:
                suspicious.append((index, run, stop, error, got))
    if not suspicious:
        return
    # chaotic paths: bound the difference by how much torch's own path moves when the start is nudged
    nudged, _ = run_scripts([cases[i].script(nudge=True) for i in sorted({s[0] for s in suspicious})], tmp_path)
    by_case = dict(zip(sorted({s[0] for s in suspicious}), nudged, strict=True))
    for index, run, stop, error, got in suspicious:
        other = np.asarray(by_case[index]["xs"][run], dtype=np.float64).reshape(-1, got.shape[-1])
        common = min(stop, other.shape[0])
        sensitivity = path_error(other[:common], got[:common])
        assert error <= 100 * sensitivity, (
            f"{cases[index].name} run {run}: error {error:.3g} vs torch's own sensitivity {sensitivity:.3g}"
        )


# ------------------------------------------------------------------ registries cover torch


def test_every_registered_surface_has_a_torch_body():
    missing = sorted(set(SURFACES) - set(TORCH_BODIES))
    assert not missing, f"add these surfaces to gdviz/export/torch_surfaces.py (TORCH_BODIES): {missing}"
    assert not set(TORCH_BODIES) - set(SURFACES), "TORCH_BODIES names surfaces the registry lacks"


def test_torch_argument_table_is_torchs():
    """The table the generator reads, against torch.optim's own signatures."""
    speed_flags = {"self", "params", "foreach", "fused", "capturable", "differentiable"}
    for name, args in TORCH_OPTIMIZER_ARGS.items():
        signature = inspect.signature(getattr(torch.optim, name).__init__).parameters
        assert set(args) == set(signature) - speed_flags, name
    torch_backed = {cls.torch_class for cls in OPTIMIZERS.values() if cls.torch_class}
    assert torch_backed <= set(TORCH_OPTIMIZER_ARGS)


@pytest.mark.parametrize(
    "kind, name",
    [("surface", n) for n in sorted(SURFACES)]
    + [("optimizer", n) for n in sorted(OPTIMIZERS)]
    + [("schedule", n) for n in sorted(SCHEDULES)],
)
def test_every_registry_entry_gives_a_script(kind, name):
    """Fast and torch-free: a registry entry the generator cannot write fails here (the slow test runs them)."""
    surface, optimizers, schedule = gdviz.surface("quadratic"), [gdviz.optimizer("SGD", lr=0.1)], None
    if kind == "surface":
        surface = SURFACES[name]
    elif kind == "optimizer":
        optimizers = [OPTIMIZERS[name](**OPTIMIZERS[name].demo)]
    else:
        schedule = SCHEDULES[name](**SCHEDULES[name].demo)
        optimizers = [gdviz.optimizer("SGD", lr=0.1, momentum=0.9)]
    script = gdviz.torch_script(surface, optimizers, schedule=schedule, steps=20, noise=0.1)
    compile(script, "race.py", "exec")


@pytest.mark.slow
def test_every_surface_optimizer_and_schedule_exports(tmp_path):
    """One race per registry entry (its demo setting), each run by its script."""
    cases = []
    for name, surface in sorted(SURFACES.items()):
        opts = [gdviz.optimizer("SGD", lr=1e-3), gdviz.optimizer("Adam", lr=0.01)]
        cases.append(Case(f"surface {name}", surface, opts, steps=40))
    quadratic = gdviz.surface("quadratic")
    for name, cls in sorted(OPTIMIZERS.items()):
        cases.append(Case(f"optimizer {name}", quadratic, [cls(**cls.demo)], steps=60, noise=0.3))
    for name, cls in sorted(SCHEDULES.items()):
        demo = dict(cls.demo)
        if name == "OneCycleLR":
            demo["total_steps"] = 60
        opt = gdviz.optimizer("SGD", lr=0.05, momentum=0.5)
        cases.append(
            Case(
                f"schedule {name}",
                quadratic,
                [opt, gdviz.optimizer("Adam", lr=0.1)],
                schedule=cls(**demo),
                steps=60,
                noise=0.2,
            )
        )
    check_cases(cases, tmp_path)


def _eps_inside_sqrt_optimizers() -> list:
    """d2l's eps-inside-sqrt Adagrad and RMSprop (every RMSprop variant), where gdviz has the option."""
    if "eps_inside_sqrt" not in {spec.name for spec in OPTIMIZERS["RMSprop"].spec}:
        return []
    d2l = dict(eps=1e-6, eps_inside_sqrt=True)
    return [
        gdviz.optimizer("Adagrad", lr=0.4, lr_decay=0.01, weight_decay=0.05, **d2l),
        gdviz.optimizer("RMSprop", lr=0.05, alpha=0.9, **d2l),
        gdviz.optimizer("RMSprop", lr=0.02, momentum=0.5, centered=True, maximize=False, **d2l),
    ]


@pytest.mark.slow
def test_every_option_the_script_writes_a_class_for(tmp_path):
    """The options torch lacks, each through the class the script defines for it: eps inside the square root,
    top-k compression (error feedback, without it, DGC's momentum correction, with maximize and both kinds
    of weight decay), and schedules that cycle the momentum (betas[0]) of every optimizer that has one."""
    bowl = gdviz.surface("ill_conditioned")
    cases = [Case("eps inside sqrt", bowl, _eps_inside_sqrt_optimizers() or [gdviz.optimizer("SGD")], noise=0.5)]
    compressed = [
        gdviz.optimizer("SGD", lr=0.05, momentum=0.9, compress_topk=1),
        gdviz.optimizer("SGD", lr=0.05, compress_topk=1, error_feedback=False),
        gdviz.optimizer("SGD", lr=0.05, compress_topk=1, momentum_correction=0.7, weight_decay=0.1),
        gdviz.optimizer("Adam", lr=0.1, compress_topk=1, weight_decay=0.05),
        gdviz.optimizer("AdamW", lr=0.1, compress_topk=1, weight_decay=0.05),
        gdviz.optimizer("Lion", lr=0.02, compress_topk=1, weight_decay=0.1),
        gdviz.optimizer("Adagrad", lr=0.5, compress_topk=2, weight_decay=0.05),
    ]
    cases.append(Case("compression", bowl, compressed, start=[[-5.0, -2.0], [3.0, 1.0]], noise=0.3, steps=80))
    cycling = [
        gdviz.optimizer("SGD", lr=0.05, momentum=0.9),
        gdviz.optimizer("Adam", lr=0.1),
        gdviz.optimizer("Lion", lr=0.02),
        gdviz.optimizer("Yogi", lr=0.1),
        gdviz.optimizer("AdamThenSGD", lr=0.1, switch_step=30, sgd_lr=0.02),
        gdviz.optimizer("RMSprop", lr=0.01, momentum=0.5),
    ]
    for sched in (
        gdviz.schedule("CyclicLR", step_size_up=10, mode="triangular2"),
        gdviz.schedule("OneCycleLR", total_steps=80),
        gdviz.schedule(
            "SequentialLR", schedulers=(("CyclicLR", {"step_size_up": 5}), "ExponentialDecay"), milestones=(40,)
        ),
    ):
        cases.append(Case(f"cycling {sched.name}", bowl, cycling, schedule=sched, steps=80, noise=0.2))
    check_cases(cases, tmp_path)


# ------------------------------------------------------------------ the Playground's presets


@pytest.mark.slow
def test_every_preset_exports(tmp_path):
    """The Playground's "Copy as PyTorch" for every preset: the race on screen, run by its script."""
    from ui.playground.export import race_script
    from ui.playground.presets import PRESETS
    from ui.playground.simulate import simulate

    cases = []
    for key, preset in PRESETS.items():
        race, error = simulate(preset.scenario)
        assert race is not None, (key, error)
        first = race.trajectories[0]
        case = Case(
            f"preset {key}",
            race.surface,
            [t.optimizer for t in race.trajectories],
            start=first.xs[0],
            steps=first.steps,
            schedule=[t.schedule for t in race.trajectories],
            noise=race.scenario.noise,
            seed=race.scenario.seed,
            batch_size=race.scenario.batch_size,
            labels=race.labels,
            trajectories=race.trajectories,
        )
        assert race_script(race) == case.script()
        cases.append(case)
    check_cases(cases, tmp_path)


# ------------------------------------------------------------------ random scenarios

FORMULAS_2D = (
    "x^2 + 2*y^2 + sin(3*x)",
    "(1 - x)^2 + 10*(y - x^2)^2",
    "sqrt(x^2 + y^2 + 1) + abs(x - y)/3",
    "exp(-x^2)*cosh(y/2) + x^4/10",
    "log(1 + x^2) + tanh(y)^2 - y/(2 + x^2)",
    "x1^2 - x1*x2 + 2*x2^2 + cos(x1 - (x2 - 1))",
)
FORMULAS_1D = ("x*cos(0.15*pi*x)", "x^4 - 3*x^2 + x", "e^(x/3) - x + 2^(-x^2)", "-(-x)^2/2 + x^4/8 - sinh(x/4)")


def _draw_hyper(cls, rng) -> dict:
    for _ in range(100):
        hyper = {}
        for spec in cls.spec:
            low, high = spec.slider_range()
            if spec.name == "lr":
                hyper["lr"] = float(spec.default * 10 ** rng.uniform(-1, 0))
            elif spec.name in ("maximize", "switch_step"):
                continue
            elif spec.kind == "bool":
                hyper[spec.name] = bool(rng.integers(2))
            elif spec.kind == "choice":
                hyper[spec.name] = spec.choices[rng.integers(len(spec.choices))]
            elif spec.kind == "float" and np.isfinite(low) and np.isfinite(high):
                hyper[spec.name] = float(rng.uniform(low, high))
            elif spec.kind == "pair" and np.isfinite(low) and np.isfinite(high):
                hyper[spec.name] = tuple(sorted(float(v) for v in rng.uniform(low, high, 2)))
        try:
            return cls(**hyper).hyper and hyper
        except ValueError:
            continue
    return {}


def _draw_schedule(rng, steps: int):
    choices = [
        lambda: gdviz.schedule("StepLR", step_size=int(rng.integers(5, 30)), gamma=float(rng.uniform(0.3, 0.9))),
        lambda: gdviz.schedule("MultiStepLR", milestones=(10, 25), gamma=0.5),
        lambda: gdviz.schedule("ExponentialLR", gamma=float(rng.uniform(0.9, 0.99))),
        lambda: gdviz.schedule("CosineAnnealingLR", T_max=steps),
        lambda: gdviz.schedule("CosineAnnealingWarmRestarts", T_0=int(rng.integers(5, 20)), T_mult=2),
        lambda: gdviz.schedule("CyclicLR", step_size_up=int(rng.integers(3, 15)), mode="triangular2"),
        lambda: gdviz.schedule("OneCycleLR", total_steps=steps),
        lambda: gdviz.schedule("LinearLR", start_factor=0.2, total_iters=10),
        lambda: gdviz.schedule("PolynomialLR", total_iters=steps, power=2.0),
        lambda: gdviz.schedule("ReduceLROnPlateau", patience=int(rng.integers(0, 5)), factor=0.5),
        lambda: gdviz.schedule("ExponentialDecay", lam=float(rng.uniform(0.01, 0.1))),
        lambda: gdviz.schedule("PolynomialDecay", alpha=0.5, beta=0.2),
        lambda: gdviz.schedule("SequentialLR", schedulers=("LinearLR", "CosineAnnealingLR"), milestones=(8,)),
    ]
    return choices[int(rng.integers(len(choices)))]()


def random_case(rng: np.random.Generator, index: int) -> Case:
    kind = rng.integers(3)
    if kind == 0:
        surface = gdviz.surface(sorted(SURFACES)[rng.integers(len(SURFACES))])
    else:
        pool = FORMULAS_2D if kind == 1 else FORMULAS_1D
        surface = gdviz.custom_surface(pool[rng.integers(len(pool))])
    steps = int(rng.integers(20, 70))
    names = sorted(OPTIMIZERS)
    optimizers = []
    for name in rng.choice(names, size=int(rng.integers(1, 4)), replace=False):
        cls = OPTIMIZERS[str(name)]
        if cls.needs_hessian and rng.random() < 0.5:
            continue
        hyper = _draw_hyper(cls, rng)
        if rng.random() < 0.3:
            hyper["max_grad_norm"] = float(rng.uniform(0.1, 3.0))
        if not cls.needs_hessian and rng.random() < 0.25:
            hyper["compress_topk"] = 1
            if rng.random() < 0.5:
                hyper["momentum_correction"] = float(rng.uniform(0.0, 0.9))
            else:
                hyper["error_feedback"] = bool(rng.integers(2))
        optimizers.append(cls(**hyper))
    if not optimizers:
        optimizers = [gdviz.optimizer("SGD", lr=0.01, momentum=0.9, max_grad_norm=1.0)]
    low, high = np.array(surface.bounds).T
    starts = int(rng.choice([1, 1, 2, 3]))
    start = low + (high - low) * rng.uniform(0.1, 0.9, size=(starts, surface.dim))
    start = start[0] if starts == 1 else start
    noise = 0.0
    if rng.random() < 0.6:
        noise = float(rng.uniform(0.05, 2.0)) if rng.random() < 0.6 else np.linspace(1.0, 0.0, steps) ** 2
    schedule = None
    draw = rng.random()
    if draw < 0.35:
        schedule = _draw_schedule(rng, steps)
    elif draw < 0.6:
        schedule = [_draw_schedule(rng, steps) if rng.random() < 0.6 else None for _ in optimizers]
    return Case(
        f"random {index} on {surface.title}",
        surface,
        optimizers,
        start=start,
        steps=steps,
        schedule=schedule,
        noise=noise,
        seed=int(rng.integers(0, 1000)),
        batch_size=int(rng.choice([1, 4, 32])),
    )


@pytest.mark.slow
def test_random_scenarios_match_the_race(tmp_path):
    rng = np.random.default_rng(20261206)
    cases = []
    while len(cases) < 60:
        case = random_case(rng, len(cases))
        try:
            case.race()
        except ValueError:
            continue  # f not finite at a random start (a formula's domain): not a scenario
        cases.append(case)
    check_cases(cases, tmp_path)


def test_divergence_agrees_up_to_diverged_at(tmp_path):
    """GD past 2/λmax on the parabola blows up: gdviz freezes the run, the script stops it; both agree before."""
    parabola = gdviz.surface("parabola")
    case = Case("diverging", parabola, [gdviz.optimizer("SGD", lr=1.5), gdviz.optimizer("SGD", lr=0.1)], steps=400)
    assert case.race()[0].diverged_at is not None
    check_cases([case], tmp_path)


# ------------------------------------------------------------------ the script itself


def test_script_runs_alone_without_gdviz(tmp_path):
    """`python -I race.py` from an empty folder: torch and numpy only, the JSON on the last line."""
    torch.optim  # noqa: B018
    script = gdviz.torch_script(
        gdviz.custom_surface("x^2 + 2*y^2"),
        [gdviz.optimizer("Lion", lr=0.05), gdviz.optimizer("Newton", lr=0.5)],
        start=[[1.0, 2.0], [-2.0, 0.5]],
        steps=10,
        noise=0.5,
        labels=["lion", "newton"],
    )
    assert "gdviz" not in script.split('"""', 2)[2]  # only the docstring names it
    (tmp_path / "race.py").write_text(script)
    done = subprocess.run([sys.executable, "-I", "race.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["labels"] == [
        "lion from (1.0, 2.0)",
        "lion from (-2.0, 0.5)",
        "newton from (1.0, 2.0)",
        "newton from (-2.0, 0.5)",
    ]
    assert [len(path) for path in result["xs"]] == [11] * 4
    assert result["xs"][2][0] == [1.0, 2.0]


def test_script_reads_like_the_textbook_loop():
    script = gdviz.torch_script(
        gdviz.surface("rosenbrock"),
        [gdviz.optimizer("SGD", lr=1e-3, momentum=0.9, max_grad_norm=1.0)],
        schedule=gdviz.schedule("StepLR", step_size=10),
    )
    loop = ["optimizer.zero_grad()", "loss.backward()", "clip_grad_norm_", "optimizer.step()", "scheduler.step()"]
    positions = [script.index(part) for part in loop]
    assert positions == sorted(positions)
    assert "torch.optim.SGD(params, lr=0.001, momentum=0.9)" in script
    assert "torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.1)" in script
    assert "import numpy" not in script  # no noise, no numpy
    compile(script, "race.py", "exec")


def test_formula_becomes_torch_operations():
    script = gdviz.torch_script(gdviz.custom_surface("x*cos(0.15*pi*x) - (-x)^2/2"), [gdviz.optimizer("SGD")])
    assert "return x * torch.cos(0.15 * math.pi * x) - (-x) ** 2.0 / 2.0" in script
    assert "import math" in script


@pytest.mark.parametrize(
    "arguments, message",
    [
        (dict(optimizers=[gdviz.optimizer("SGD", lr=np.array([0.1, 0.2]))]), "swept"),
        (dict(optimizers=[]), "list of gdviz optimizers"),
        (dict(optimizers=[gdviz.optimizer("SGD")], steps=-1), "steps"),
        (dict(optimizers=[gdviz.optimizer("SGD")], noise=[1.0, 2.0]), "one σ per step"),
        (dict(optimizers=[gdviz.optimizer("SGD")], schedule=[None, None]), "one gdviz schedule"),
        (dict(optimizers=[gdviz.optimizer("SGD")], start=(1.0,)), "shape"),
        (dict(optimizers=[gdviz.optimizer("SGD")], labels=["a", "b"]), "one label per optimizer"),
    ],
)
def test_bad_arguments_are_value_errors(arguments, message):
    with pytest.raises(ValueError, match=message):
        gdviz.torch_script(gdviz.surface("rosenbrock"), **arguments)


def test_a_surface_without_torch_body_is_refused():
    fake = gdviz.Surface(
        name="nowhere",
        title="x",
        dim=1,
        f=np.square,
        grad=lambda x: 2 * x,
        hessian=lambda x: 2 + 0 * x,
        bounds=((-1.0, 1.0),),
        minima=np.zeros((1, 1)),
        f_min=0.0,
        default_start=(0.5,),
    )
    with pytest.raises(ValueError, match="no torch version of the surface 'nowhere'"):
        gdviz.torch_script(fake, [gdviz.optimizer("SGD")])


# ------------------------------------------------------------------ the Playground's button


@pytest.mark.slow
def test_playground_offers_the_race_as_a_pytorch_script(tmp_path):
    """The Share and export section has the download and the script in an expander; the script runs and draws the race."""
    from tests.app.apptest import ok, open_app
    from ui.playground.scenario import Scenario
    from ui.playground.simulate import simulate

    at = open_app()
    ok(at)
    buttons = {button.key: button for button in at.get("download_button")}
    assert buttons["pg_dl_torch"].proto.label == "Copy as PyTorch (race.py)"
    assert "The race as a PyTorch script" in [expander.label for expander in at.expander]
    scripts = [block.value for block in at.code if block.value.startswith('"""') and "torch.optim" in block.value]
    assert len(scripts) == 1
    race, error = simulate(Scenario())
    assert race is not None, error
    (output,), imported = run_scripts(scripts, tmp_path)
    assert imported == []
    assert output["labels"] == race.labels
    for (reference, stop), got in zip(_flat_paths(race.trajectories), output["xs"], strict=True):
        assert path_error(np.asarray(got)[:stop], reference[:stop]) <= TOLERANCE


def test_hostile_labels_stay_text():
    """Labels are visitor text: quotes, backslashes, control characters and a lone surrogate end in the script
    as string contents, never as code, and the script can be written to a file."""
    torch.optim  # noqa: B018 - the script imports torch
    label = 'x"""; import os\\\x00 \ud800 η\n"'
    script = gdviz.torch_script(gdviz.surface("rosenbrock"), [gdviz.optimizer("SGD")], labels=[label])
    script.encode("utf-8")
    namespace: dict = {}
    exec(compile(script.replace('if __name__ == "__main__":', "if False:"), "race.py", "exec"), namespace)  # noqa: S102
    assert namespace["RACERS"][0][0] == label.encode("utf-8", "backslashreplace").decode("utf-8")
    assert "os" not in namespace

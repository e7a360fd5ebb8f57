"""gdviz.network.network_script ("Copy as PyTorch" on the Networks page): the script, run on its own, prints
train_racers's losses bit for bit; what it cannot reproduce is a ValueError."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from gdviz import network
from tests.torch_reference import torch


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def run_script(text: str, tmp_path) -> dict:
    path = tmp_path / "network.py"
    path.write_text(text, encoding="utf-8")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONPATH": ""}
    done = subprocess.run(
        [sys.executable, "-I", str(path)], capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


CASES = {
    "moons, full batch, the page's default racers": dict(
        dataset="moons", spec=network.MLP(2, 16, 2), steps=60,
        racers=[("SGD", {"lr": 0.1}), ("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.01})],
    ),
    "spirals, minibatches, a cosine schedule, clipping": dict(
        dataset="spirals", spec=network.MLP(2, 12, 3, activation="relu"), steps=45, n=90, noise=0.2, seed=5,
        batch_size=16, schedule="CosineAnnealingLR",
        racers=[network.Racer("RMSprop", {"lr": 0.01}, max_grad_norm=0.5, label='RMSprop "clipped"'),
                ("NAdam", {"lr": 0.02}), ("Adagrad", {"lr": 0.1, "weight_decay": 0.01})],
    ),
    "cubic regression, plateau schedule": dict(
        dataset="cubic", spec=network.MLP(1, 10, 1), steps=40, n=50, seed=2, batch_size=20,
        schedule=("ReduceLROnPlateau", {"patience": 2, "factor": 0.5}),
        racers=[("AdamW", {"lr": 0.05}), ("SGD", {"lr": 0.05, "nesterov": True, "momentum": 0.8})],
    ),
    "a d2l schedule torch lacks, as LambdaLR": dict(
        dataset="moons", spec=network.MLP(2, 8, 1), steps=30, n=40,
        schedule=("ExponentialDecay", {"lam": 0.05}), racers=[("Adamax", {"lr": 0.05}), ("RAdam", {"lr": 0.05})],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_the_script_prints_train_racers_losses_bit_for_bit(case, tmp_path):
    c = dict(CASES[case])
    dataset, spec, racers, steps = c.pop("dataset"), c.pop("spec"), c.pop("racers"), c.pop("steps")
    n, noise, seed = c.pop("n", 200), c.pop("noise", 0.1), c.pop("seed", 0)
    text = network.network_script(dataset, spec, racers, steps, n=n, noise=noise, seed=seed, **c)
    data = network.make_dataset(dataset, n, noise, seed)
    paths = network.train_racers(data, spec, racers, steps, seed=seed, **c)
    found = run_script(text, tmp_path)
    assert found["labels"] == [network.training.as_racer(r).title for r in racers]
    assert len(found["losses"]) == len(racers)
    for losses, expected in zip(found["losses"], paths.losses):
        assert len(losses) == steps + 1
        assert np.array_equal(np.array(losses), expected)  # the same ops in the same order: the same bits


def test_a_diverging_racer_stops_where_the_page_stops_it(tmp_path):
    spec = network.MLP(1, 8, 2)
    racers = [("SGD", {"lr": 1.0}), ("Adam", {"lr": 0.01})]
    text = network.network_script("cubic", spec, racers, 25, n=40, labels=["too fast", "steady"])
    paths = network.train_racers(network.make_dataset("cubic", 40), spec, racers, 25)
    assert paths.diverged_at[0] is not None and paths.diverged_at[1] is None  # the case tests what it means to
    found = run_script(text, tmp_path)
    assert found["labels"] == ["too fast", "steady"]
    for losses, expected in zip(found["losses"], paths.losses):
        assert np.array_equal(np.array(losses), expected)


def test_the_script_needs_only_torch_and_numpy():
    text = network.network_script("spirals", network.MLP(2, 4, 1), ["SGD"], 3, schedule="StepLR")
    imported = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported == {"copy", "json", "math", "numpy", "torch"}
    assert "gdviz" not in text.replace("gdviz.network.network_script", "").replace("gdviz Networks", "")


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: network.network_script("moons", network.MLP(2), ["Lion"]), "no torch.optim class"),
        (lambda: network.network_script("moons", network.MLP(2), [("Adagrad", {"eps_inside_sqrt": True})]), "torch"),
        (lambda: network.network_script("moons", network.MLP(2), ["Newton"]), "2-D surfaces"),
        (lambda: network.network_script("rings", network.MLP(2), ["SGD"]), "Unknown dataset"),
        (lambda: network.network_script("cubic", network.MLP(2), ["SGD"]), "input"),
        (lambda: network.network_script("moons", network.MLP(2), []), "at least one"),
        (lambda: network.network_script("moons", network.MLP(2), ["SGD"], 0), "steps"),
        (lambda: network.network_script("moons", network.MLP(2), ["SGD"], n=2), "samples"),
        (lambda: network.network_script("moons", network.MLP(2), ["SGD"], batch_size=0), "batch size"),
        (lambda: network.network_script("moons", network.MLP(2), ["SGD"], labels=["a", "b"]), "one label"),
        (lambda: network.network_script("moons", network.MLP(2), [("SGD", {"lr": -1.0})]), "lr"),
    ],
)
def test_what_the_script_cannot_reproduce_is_a_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_every_torch_optim_optimizer_of_the_registry_races_bit_for_bit_in_one_script(tmp_path):
    """The registry drives it: every optimizer the page offers either has its torch.optim class in the script
    (all of them raced together here, at their defaults, on minibatches) or is refused saying why."""
    import gdviz
    from gdviz.regression.optim import uses_torch_optim

    offered = sorted(name for name, cls in gdviz.OPTIMIZERS.items() if not cls.needs_hessian)
    exported = [name for name in offered if uses_torch_optim(name)]
    assert {"SGD", "Adam", "RMSprop", "Adagrad", "Rprop", "ASGD"} <= set(exported)
    for name in set(offered) - set(exported):
        with pytest.raises(ValueError, match="no torch.optim class"):
            network.network_script("moons", network.MLP(2, 4, 1), [name], 3)
    spec = network.MLP(2, 6, 2)
    text = network.network_script("moons", spec, exported, 12, n=30, batch_size=8, schedule="ExponentialLR")
    for name in exported:
        assert f"torch.optim.{gdviz.OPTIMIZERS[name].torch_class}(params" in text
    paths = network.train_racers(network.make_dataset("moons", 30), spec, exported, 12, batch_size=8,
                                 schedule="ExponentialLR")  # fmt: skip
    found = run_script(text, tmp_path)
    assert found["labels"] == exported
    for name, losses, expected in zip(exported, found["losses"], paths.losses):
        assert np.array_equal(np.array(losses), expected), name

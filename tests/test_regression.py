"""gdviz.regression: the seed's data, training against hand-written torch loops, closed form, CSV, devices."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

import gdviz
from gdviz import regression as reg
from gdviz.regression.training import epoch_order
from tests.torch_reference import torch

CUDA = pytest.mark.skipif("not torch.cuda.is_available()", reason="needs a CUDA device")
TORCH_BACKED = sorted(name for name, cls in gdviz.OPTIMIZERS.items() if cls.torch_class)
ENGINE_ONLY = sorted(name for name, cls in gdviz.OPTIMIZERS.items() if not cls.torch_class)


def seed_loop(X, y, epochs, opt_name="SGD", seed=0, scheduler=None, **hyper):
    """The seed's training loop, written by hand: nn.Linear, nn.MSELoss, torch.optim, full batch."""
    torch.manual_seed(seed)
    model = torch.nn.Linear(X.shape[1], 1).to(X.dtype)
    optimizer = getattr(torch.optim, opt_name)(model.parameters(), **hyper)
    sched = scheduler(optimizer) if scheduler else None
    loss_fn = torch.nn.MSELoss()
    losses = []
    for _ in range(epochs):
        loss = loss_fn(model(X), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if sched is not None:
            sched.step()
    final = loss_fn(model(X), y).item()
    return model, losses, final


# ----- data -----------------------------------------------------------------------------------
def test_make_data_is_the_seeds_experiment_bit_for_bit():
    torch.manual_seed(7)
    X_seed = torch.randn(100, 1) * 10
    y_seed = 2 * X_seed + 1 + torch.randn(100, 1) * 2
    X, y = reg.make_data(100, seed=7)
    assert torch.equal(X, X_seed) and torch.equal(y, y_seed)
    assert X.shape == (100, 1) and y.shape == (100, 1) and X.dtype == torch.float32


def test_make_data_several_features_and_weights():
    X, y = reg.make_data(2000, d=3, w=[1.0, -2.0, 0.5], b=4.0, noise=0.0, seed=1, dtype="float64")
    assert X.shape == (2000, 3) and X.dtype == torch.float64
    weight, bias = reg.closed_form(X, y)
    np.testing.assert_allclose(weight, [1.0, -2.0, 0.5], atol=1e-12)
    assert bias == pytest.approx(4.0, abs=1e-12)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 0}, "Invalid n value"),
        ({"n": 10, "d": 0}, "Invalid d value"),
        ({"n": 10, "noise": -1.0}, "Invalid noise value"),
        ({"n": 10, "w": [1.0, 2.0]}, "w must be 1 finite"),
        ({"n": 10, "dtype": "int64"}, "dtype must be one of"),
        ({"n": 2.5}, "n must be an integer"),
        ({"n": 10, "b": math.inf}, "Invalid b value"),
    ],
)
def test_make_data_refuses_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        reg.make_data(**kwargs)


# ----- training matches the hand-written loop -------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("d", [1, 3])
def test_full_batch_gd_matches_the_seed_loop_exactly(dtype, d):
    X, y = reg.make_data(100, d=d, seed=3, dtype=dtype)
    model, seed_losses, seed_final = seed_loop(X, y, 10, lr=0.001)
    result = reg.train(X, y, "SGD", lr=0.001, epochs=10, seed=0)
    assert result.weight.tolist() == model.weight.detach().double()[0].tolist()
    assert result.bias == float(model.bias.detach()[0])
    # the seed records the loss before each step; ours is the loss after each epoch
    assert result.initial_loss == seed_losses[0]
    assert result.losses.tolist() == seed_losses[1:] + [seed_final]
    assert result.updates == 10 and result.samples == 1000 and result.complete


@pytest.mark.parametrize("name", TORCH_BACKED)
def test_every_torch_optimizer_matches_its_hand_written_loop(name):
    X, y = reg.make_data(64, d=2, seed=5, dtype="float64")
    hyper = {"lr": 0.01} if name != "Adadelta" else {"lr": 1.0}
    model, _, seed_final = seed_loop(X, y, 6, name, **hyper)
    result = reg.train(X, y, name, epochs=6, **hyper)
    np.testing.assert_array_equal(result.weight, model.weight.detach()[0].numpy())
    assert result.final_loss == seed_final


def test_a_schedule_matches_its_torch_scheduler_in_the_loop():
    X, y = reg.make_data(50, seed=2, dtype="float64")
    model, _, final = seed_loop(
        X, y, 12, "SGD", scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, 3, 0.5), lr=0.001, momentum=0.9
    )
    result = reg.train(
        X, y, "SGD", lr=0.001, momentum=0.9, epochs=12, schedule=("StepLR", {"step_size": 3, "gamma": 0.5})
    )
    assert result.final_loss == final
    np.testing.assert_allclose(result.lrs, 0.001 * 0.5 ** (np.arange(12) // 3), rtol=1e-15)


def test_minibatches_use_one_permutation_per_epoch_like_a_shuffled_loop():
    """A loop over torch.randperm with the same generator, batches cut in order, gives identical parameters."""
    X, y = reg.make_data(103, seed=4, dtype="float64")
    torch.manual_seed(0)
    model = torch.nn.Linear(1, 1).double()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    for _ in range(3):
        perm = torch.randperm(103, generator=generator)
        for lo in range(0, 103, 10):
            idx = perm[lo : lo + 10]
            loss = torch.nn.MSELoss()(model(X[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    result = reg.train(X, y, "SGD", lr=1e-3, batch_size=10, epochs=3)
    assert result.weight[0] == model.weight.item() and result.bias == model.bias.item()
    assert result.updates_per_epoch == 11 and result.updates == 33 and result.samples == 309


@pytest.mark.parametrize("n, b", [(10, 3), (100, 10), (7, 7), (64, 1)])
def test_sampling_without_replacement_visits_every_sample_once_per_epoch(n, b):
    generator = torch.Generator().manual_seed(1)
    for _ in range(3):
        order, batches = epoch_order(n, b, False, generator, "cpu")
        if b >= n:
            assert order is None and batches == 1
            continue
        assert sorted(order.tolist()) == list(range(n))
        assert batches == math.ceil(n / b)


def test_sampling_with_replacement_draws_full_batches_of_random_indices():
    generator = torch.Generator().manual_seed(1)
    order, batches = epoch_order(100, 10, True, generator, "cpu")
    assert batches == 10 and order.shape == (100,)
    assert 0 <= int(order.min()) and int(order.max()) < 100
    assert len(set(order.tolist())) < 100  # with 100 draws from 100, repeats are all but certain (p = 1 - 100!/100^100)


def test_training_reaches_the_closed_form():
    X, y = reg.make_data(500, d=2, seed=9, dtype="float64")
    closed = reg.solve(X, y)
    gd = reg.train(X, y, "SGD", lr=reg.suggested_lr(X, standardize=True), epochs=300, standardize=True)
    assert closed.distance(gd.weight, gd.bias) < 1e-8
    # minibatch Adam with a cosine decay to 0: within 1e-6 of the optimal loss, 1e-3 of the parameters
    cosine = ("CosineAnnealingLR", {"T_max": 200})
    adam = reg.train(X, y, "Adam", lr=0.3, batch_size=50, epochs=200, standardize=True, schedule=cosine)
    assert adam.final_loss - closed.loss < 1e-6 * closed.loss
    assert closed.distance(adam.weight, adam.bias) < 1e-3


def test_newton_lands_on_the_closed_form_in_one_full_batch_step():
    X, y = reg.make_data(200, d=3, seed=1, dtype="float64")
    closed = reg.solve(X, y)
    result = reg.train(X, y, "Newton", epochs=1)
    assert closed.distance(result.weight, result.bias) < 1e-9


@pytest.mark.parametrize("name", ENGINE_ONLY)
def test_engine_only_optimizers_apply_the_engine_update_to_the_parameters(name):
    X, y = reg.make_data(40, d=2, seed=2, dtype="float64")
    result = reg.train(X, y, name, epochs=1, init="zeros")
    # the same step by hand: the engine's update at 0 with the exact full-batch gradient
    Z = torch.cat([X, torch.ones(40, 1, dtype=torch.float64)], 1).numpy()
    grad = 2.0 / 40 * Z.T @ (Z @ np.zeros(3) - y.numpy()[:, 0])
    engine = gdviz.optimizer(name)
    x0 = np.zeros((1, 3))
    hess = (2.0 / 40 * Z.T @ Z)[None] if engine.needs_hessian else None
    expected, _ = engine.update(
        x0, grad[None], engine.init(x0, np.array([[engine.lr]])), np.array([[engine.lr]]), 1, hess
    )
    np.testing.assert_allclose(result.params[1], expected[0], rtol=1e-13, atol=1e-15)


def test_standardized_training_reports_weights_in_the_original_units():
    X, y = reg.make_data(300, d=2, w=[3.0, -1.0], b=5.0, seed=3, dtype="float64")
    result = reg.train(X, y, "SGD", lr=0.5, epochs=200, standardize=True)
    closed = reg.solve(X, y)
    np.testing.assert_allclose(result.weight, closed.weight, rtol=1e-9)
    assert result.bias == pytest.approx(closed.bias, rel=1e-9)
    np.testing.assert_allclose(result.predict(X.numpy()), X.numpy() @ closed.weight + closed.bias, rtol=1e-8)
    # the path lives in training coordinates; to_training maps the closed form there
    np.testing.assert_allclose(result.params[-1], result.to_training(closed.weight, closed.bias), rtol=1e-8)
    assert np.all(result.std > 1)


def test_a_diverging_run_stops_with_finite_numbers():
    X, y = reg.make_data(100, seed=0)
    result = reg.train(X, y, "SGD", lr=1.0, epochs=50)
    assert result.diverged_at is not None and not result.complete
    for array in (result.losses, result.params, result.trace, result.curve_losses, result.weight):
        assert np.all(np.isfinite(array))
    assert math.isfinite(result.bias)


def test_max_updates_stops_early_and_progress_is_reported():
    X, y = reg.make_data(1000, seed=0)
    seen = []
    result = reg.train(
        X, y, "SGD", lr=1e-4, batch_size=10, epochs=3, max_updates=150, progress=lambda f, t: seen.append(f)
    )
    assert result.updates == 150 and result.epochs_done == 1 and not result.complete
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0) and 0 < seen[0]
    assert result.curve_updates[-1] == 150 and result.trace_updates[-1] <= 150


def test_a_progress_callback_that_raises_stops_training():
    X, y = reg.make_data(100, seed=0)

    def stop(fraction, text):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        reg.train(X, y, epochs=5, progress=stop)


def test_curve_and_trace_are_consistent():
    X, y = reg.make_data(200, seed=0)
    result = reg.train(X, y, "SGD", lr=1e-3, batch_size=20, epochs=4, curve_points=13, trace_points=7)
    assert result.curve_updates[0] == 0 and result.curve_updates[-1] == result.updates == 40
    assert np.all(np.diff(result.curve_seconds) >= 0) and np.all(np.diff(result.curve_samples) > 0)
    assert result.trace.shape == (result.trace_updates.size, 2) and result.trace.shape[0] <= 8 + 1
    np.testing.assert_array_equal(result.trace[0], result.params[0])
    assert result.losses.size == 4 and result.epoch_seconds.size == 4


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"optimizer": "Nope"}, "Unknown optimizer"),
        ({"momentum": -1.0}, "Invalid momentum value"),
        ({"betas": (0.9, 0.99)}, "unexpected hyper-parameter"),
        ({"lr": np.array([0.1, 0.2])}, "one value per hyper-parameter"),
        ({"batch_size": 0}, "Invalid batch_size"),
        ({"epochs": 0}, "Invalid epochs"),
        ({"schedule_step": "batch"}, "schedule_step must be"),
        ({"init": "ones"}, "init must be"),
        ({"dtype": "float16"}, "dtype must be one of"),
        ({"max_grad_norm": -1.0}, "Invalid max_grad_norm"),
        ({"schedule": 3}, "schedule must be None"),
    ],
)
def test_train_refuses_bad_input_loudly(kwargs, message):
    X, y = reg.make_data(10)
    with pytest.raises(ValueError, match=message):
        reg.train(X, y, **kwargs)


def test_train_refuses_non_finite_data_and_bad_shapes():
    X, y = reg.make_data(10)
    X[3, 0] = math.nan
    with pytest.raises(ValueError, match="must be finite"):
        reg.train(X, y)
    with pytest.raises(ValueError, match="as many rows"):
        reg.train(torch.zeros(5, 1), torch.zeros(4))
    result = reg.train(np.arange(6.0), 2 * np.arange(6.0) + 1, lr=0.01, epochs=2)  # 1-D X, NumPy, float64
    assert result.d == 1 and result.dtype == "float64"


def test_gradient_clipping_bounds_the_first_step():
    X, y = reg.make_data(100, seed=0, dtype="float64")
    result = reg.train(X, y, "SGD", lr=1.0, epochs=1, init="zeros", max_grad_norm=0.5)
    assert np.linalg.norm(result.params[1] - result.params[0]) == pytest.approx(
        0.5, rel=1e-5
    )  # torch divides by norm + 1e-6


# ----- schedules as torch schedulers ------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(gdviz.SCHEDULES))
def test_every_schedule_drives_torch_as_the_engine_computes_it(name):
    cls = gdviz.SCHEDULES[name]
    sched = cls(**cls.demo)  # what the class needs to be built (OneCycleLR's total_steps, SequentialLR's parts)
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=0.1)
    scheduler = reg.build_scheduler(sched, optimizer, 0.1)
    metrics = np.abs(np.sin(np.arange(40))) + 1.0  # wiggles, so ReduceLROnPlateau cuts
    got = []
    for t in range(40):
        got.append(optimizer.param_groups[0]["lr"])
        param.grad = torch.zeros(1)
        optimizer.step()
        if sched.needs_metric:
            scheduler.step(float(metrics[t]))
        else:
            scheduler.step()
    np.testing.assert_allclose(got, sched.lrs(0.1, 40, metrics), rtol=1e-12, atol=1e-15)


def test_sequential_schedule_with_d2l_parts_drives_torch():
    sched = gdviz.schedule("SequentialLR", schedulers=["LinearLR", "PolynomialDecay"], milestones=[5])
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=0.2)
    scheduler = reg.build_scheduler(sched, optimizer, 0.2)
    got = []
    for _ in range(20):
        got.append(optimizer.param_groups[0]["lr"])
        param.grad = torch.zeros(1)
        optimizer.step()
        scheduler.step()
    np.testing.assert_allclose(got, sched.lrs(0.2, 20), rtol=1e-12)


def test_per_update_schedule_matches_the_engine_lrs():
    X, y = reg.make_data(100, seed=0)
    sched = gdviz.schedule("PolynomialDecay", alpha=0.5, beta=0.1)
    result = reg.train(X, y, "SGD", lr=1e-3, batch_size=10, epochs=2, schedule=sched, schedule_step="update")
    np.testing.assert_allclose(result.trace_lrs, sched.lrs(1e-3, 20)[result.trace_updates.clip(max=19)], rtol=1e-12)


# ----- closed form --------------------------------------------------------------------------------
def test_closed_form_lstsq_and_normal_equation_agree_with_numpy():
    X, y = reg.make_data(300, d=4, seed=8)
    found = reg.solve(X, y)
    Z = np.c_[X.double().numpy(), np.ones(300)]
    theta = np.linalg.lstsq(Z, y.double().numpy()[:, 0], rcond=None)[0]
    np.testing.assert_allclose(found.weight, theta[:-1], rtol=1e-10)
    np.testing.assert_allclose(found.normal_weight, theta[:-1], rtol=1e-8)
    assert found.bias == pytest.approx(theta[-1], rel=1e-10)
    assert found.loss == pytest.approx(np.mean((Z @ theta - y.double().numpy()[:, 0]) ** 2), rel=1e-12)
    assert found.seconds >= 0 and found.normal_seconds >= 0 and found.device == "cpu"
    w, b = reg.closed_form(X, y, "normal")
    np.testing.assert_allclose(w, theta[:-1], rtol=1e-8)


def test_closed_form_with_a_constant_column():
    X = torch.cat([torch.randn(50, 1, dtype=torch.float64), torch.full((50, 1), 3.0, dtype=torch.float64)], 1)
    y = 2 * X[:, :1] + 1
    found = reg.solve(X, y)
    assert found.normal_weight is None and "singular" in found.normal_error
    assert found.loss < 1e-20  # lstsq (SVD) still finds an exact fit
    with pytest.raises(ValueError, match="normal equation fails.*no unique solution"):
        reg.closed_form(X, y, "normal")


def test_mse_landscape_from_moments_is_the_mse():
    X, y = reg.make_data(100, seed=1, dtype="float64")
    moments = reg.mse_moments(X, y)
    w, b = np.meshgrid(np.linspace(-1, 4, 7), np.linspace(-3, 3, 5))
    grid = reg.mse_on_grid(moments, w, b)
    direct = ((X.numpy()[:, 0][None, None] * w[..., None] + b[..., None] - y.numpy()[:, 0]) ** 2).mean(-1)
    np.testing.assert_allclose(grid, direct, rtol=1e-10)


# ----- comparison ---------------------------------------------------------------------------------
def test_compare_measures_every_mode():
    X, y = reg.make_data(400, seed=0)
    lr = reg.suggested_lr(X, standardize=True)
    modes = reg.default_modes(400, 32, lr)
    assert [m.batch_size for m in modes] == [None, 1, 10, 32, 100]
    rows = reg.compare(X, y, modes, epochs=2, standardize=True)
    by = {row.mode.batch_size: row for row in rows}
    assert by[None].samples_per_update == 400 and by[None].updates_per_epoch == 1
    assert by[1].samples_per_update == 1 and by[1].updates_per_epoch == 400
    assert by[32].updates_per_epoch == 13
    assert by[None].gradient_noise == 0.0
    noises = [by[b].gradient_noise for b in (1, 10, 32, 100)]
    assert noises == sorted(noises, reverse=True) and noises[-1] > 0
    for row in rows:
        assert row.seconds_per_update > 0 and row.seconds_per_epoch > 0 and not row.epoch_estimated
        assert row.distance >= 0 and row.loss_gap >= -1e-6 * row.final_loss
    target, claims = reg.d2l_claims(rows)
    assert math.isfinite(target) and len(claims) == 4
    assert all(claim.holds in (True, False) for claim in claims)
    assert all(row.result.curve_losses.min() <= target for row in rows)


def test_gradient_noise_matches_sampled_minibatches():
    X, y = reg.make_data(60, seed=3, dtype="float64")
    params = np.array([0.5, -0.3])
    Z = np.c_[X.numpy(), np.ones(60)]
    per_sample = 2 * (Z @ params - y.numpy()[:, 0])[:, None] * Z
    full = per_sample.mean(0)
    rng = np.random.default_rng(0)
    for replacement in (False, True):
        draws = [per_sample[rng.choice(60, 8, replace=replacement)].mean(0) for _ in range(20000)]
        sampled = math.sqrt(np.mean(np.sum((np.array(draws) - full) ** 2, 1))) / np.linalg.norm(full)
        assert reg.gradient_noise(X, y, params, 8, replacement) == pytest.approx(sampled, rel=0.03)


def test_compare_caps_updates_and_estimates_the_epoch():
    X, y = reg.make_data(500, seed=0)
    rows = reg.compare(X, y, [reg.Mode("SGD", 1, 1e-5)], epochs=1, max_updates=50)
    row = rows[0]
    assert row.result.updates == 50 and row.epoch_estimated
    assert row.seconds_per_epoch == pytest.approx(row.seconds_per_update * 500)


def test_d2l_claims_report_missing_modes():
    X, y = reg.make_data(100, seed=0)
    rows = reg.compare(X, y, [reg.Mode("GD", None, 1e-3), reg.Mode("SGD", 1, 1e-5)], epochs=1)
    _, claims = reg.d2l_claims(rows)
    assert claims[0].holds is not None and claims[2].holds is None and "b = 10" in claims[2].detail


# ----- devices and memory ---------------------------------------------------------------------------
def test_devices_report_cpu_and_the_reason_others_are_missing():
    found = {info.name: info for info in reg.devices()}
    assert found["cpu"].available
    for name in ("cuda", "mps"):
        assert found[name].detail  # a description, or the reason it is unavailable
    assert reg.resolve_device("cpu").type == "cpu"
    with pytest.raises(reg.UnavailableDevice, match="Unknown device"):
        reg.resolve_device("tpu")


@pytest.mark.skipif("torch.cuda.is_available()", reason="checks the message shown where CUDA is missing")
def test_unavailable_cuda_says_why():
    with pytest.raises(reg.UnavailableDevice, match="CUDA is unavailable: "):
        reg.resolve_device("cuda")
    if not torch.backends.mps.is_available():
        assert reg.resolve_device("auto").type == "cpu"


@pytest.mark.parametrize(
    "make_error",
    [
        lambda: torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
        lambda: RuntimeError("MPS backend out of memory (MPS allocated: 1.00 GB)"),
    ],
    ids=["cuda", "mps"],
)
def test_out_of_memory_becomes_a_clear_message(monkeypatch, make_error):
    error = make_error()

    def boom(*args, **kwargs):
        raise error

    monkeypatch.setattr("gdviz.regression.training._train", boom)
    X, y = reg.make_data(10)
    with pytest.raises(reg.DeviceMemoryError, match="ran out of memory.*Try fewer samples") as caught:
        reg.train(X, y)
    assert caught.value.__cause__ is error


def test_other_runtime_errors_pass_through(monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("something else")

    monkeypatch.setattr("gdviz.regression.training._train", boom)
    with pytest.raises(RuntimeError, match="something else"):
        reg.train(*reg.make_data(10))


def test_importing_gdviz_and_regression_does_not_import_torch():
    code = "import gdviz, gdviz.regression, sys; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


@CUDA
def test_cuda_training_matches_the_cpu():
    X, y = reg.make_data(1000, d=2, seed=0, dtype="float64")
    cpu = reg.train(X, y, "Adam", lr=0.05, batch_size=50, epochs=3, standardize=True)
    gpu = reg.train(X, y, "Adam", lr=0.05, batch_size=50, epochs=3, standardize=True, device="cuda")
    assert gpu.device.startswith("cuda")
    # the permutations differ between the CPU's and the GPU's generators: compare where both end up
    assert gpu.final_loss == pytest.approx(cpu.final_loss, rel=0.05)
    full_cpu = reg.train(X, y, "SGD", lr=0.1, epochs=20, standardize=True)
    full_gpu = reg.train(X, y, "SGD", lr=0.1, epochs=20, standardize=True, device="cuda")
    np.testing.assert_allclose(full_gpu.weight, full_cpu.weight, rtol=1e-10)


@CUDA
def test_cuda_closed_form_and_auto_device():
    X, y = reg.make_data(500, d=3, seed=0)
    assert reg.resolve_device("auto").type == "cuda"
    on_gpu = reg.solve(X.cuda(), y.cuda())
    on_cpu = reg.solve(X, y)
    assert on_gpu.device.startswith("cuda")
    np.testing.assert_allclose(on_gpu.weight, on_cpu.weight, rtol=1e-8)


@CUDA
def test_cuda_out_of_memory_is_a_clear_message():
    free, _ = torch.cuda.mem_get_info()
    n = int(free // 4 // 2) + 1  # X and y together exceed the free memory
    with pytest.raises(reg.DeviceMemoryError, match="ran out of memory"):
        reg.train(torch.zeros(n, 2), torch.zeros(n), device="cuda", epochs=1)
    # and the device still works afterwards
    reg.train(*reg.make_data(100), device="cuda", epochs=1)


# ----- CSV upload validation ------------------------------------------------------------------------
CAPS = {"max_bytes": 10_000, "max_rows": 50, "max_columns": 8}


def parse(text: str | bytes, **caps):
    data = text.encode() if isinstance(text, str) else text
    return reg.parse_csv(data, **{**CAPS, **caps})


def test_csv_good_file_with_missing_and_text_columns():
    table = parse("x,z,y,city\n1,2,3,Paris\n2,NA,5,Rome\n3,4,7,Oslo\n\n4,5,9,Bern\n")
    assert table.columns == ("x", "z", "y", "city") and table.rows == 4
    assert table.numeric == (True, True, True, False) and table.missing == (0, 1, 0, 0)
    assert table.numeric_columns() == ["x", "z", "y"]
    X, y, notes = reg.select_columns(table, "y", ["x"])
    np.testing.assert_array_equal(X[:, 0], [1, 2, 3, 4])
    np.testing.assert_array_equal(y, [3, 5, 7, 9])
    assert notes == []
    X, y, notes = reg.select_columns(table, "y", ["x", "z"], missing="drop")
    assert X.shape == (3, 2) and "Dropped 1 row(s)" in notes[0] and "data row 2" in notes[0]
    with pytest.raises(reg.CSVError, match="1 row\\(s\\) have missing values.*drop rows"):
        reg.select_columns(table, "y", ["x", "z"], missing="refuse")
    with pytest.raises(reg.CSVError, match="'city' is not numeric: 'Paris' \\(line 2\\)"):
        reg.select_columns(table, "y", ["city"])


def test_csv_delimiters_bom_and_quotes():
    table = parse("\ufeffa;b\n1,5;2\n3;4\n".replace("1,5", "1.5"))
    assert table.columns == ("a", "b") and table.values.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    table = parse('"a"\t"b"\n1\t2\n')
    assert table.columns == ("a", "b")


def test_csv_flags_constant_columns_and_target():
    table = parse("x,c,y\n1,3,5\n2,3,5\n3,3,5\n")
    _, _, notes = reg.select_columns(table, "y", ["x", "c"])
    assert any("'c' is constant (3)" in note and "normal equation" in note for note in notes)
    assert any("target 'y' is constant" in note for note in notes)


@pytest.mark.parametrize(
    "data, caps, message",
    [
        ("x,y\n" + "1,2\n" * 3000, {}, "The file is .* the limit is"),
        ("x,y\n" + "1,2\n" * 51, {}, "more than 50 data rows"),
        ("x,y\n1,2\n", {"max_columns": 1}, "2 columns; at most 1"),
        (b"x,y\n\xff\xfe,1\n", {}, "not UTF-8"),
        ("x,y\n1,2,3\n", {}, "Line 2 has 3 fields but the header has 2"),
        ("x,x\n1,2\n", {}, "unique: 'x'"),
        ("1,2\n3,4\n", {}, "add a header line"),
        ("x,y\n", {}, "no data rows"),
        ("", {}, "empty"),
        ("x\n1\n", {}, "at least two columns"),
        ("x,\n1,2\n", {}, "Column 2 has no name"),
        ("x,y\n1," + "9" * 200 + "\n", {}, "longer than 100 characters"),
        (b"x,y\n1,\x002\n", {}, "NUL bytes"),
    ],
)
def test_csv_refuses_bad_files_with_clear_messages(data, caps, message):
    with pytest.raises(reg.CSVError, match=message):
        parse(data, **caps)


def test_csv_infinite_and_text_cells_make_a_column_non_numeric():
    table = parse("x,y\n1,inf\n2,3\n")
    assert table.numeric == (True, False) and "'inf' (line 2)" in table.bad_example[1]


@pytest.mark.parametrize(
    "target, features, message",
    [
        ("nope", ["x"], "no column 'nope'"),
        ("y", [], "at least one feature"),
        ("y", ["y"], "cannot also be a feature"),
        ("y", ["x", "x"], "chosen twice"),
        ("y", ["nope"], "no column 'nope'"),
    ],
)
def test_csv_column_choices_are_checked(target, features, message):
    table = parse("x,y\n1,2\n2,4\n")
    with pytest.raises(reg.CSVError, match=message):
        reg.select_columns(table, target, features)


def test_csv_too_few_complete_rows():
    table = parse("x,y\n1,2\n2,\n,3\n")
    with pytest.raises(reg.CSVError, match="Only 1 complete row"):
        reg.select_columns(table, "y", ["x"])


def test_an_uploaded_table_trains():
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    text = "x,y\n" + "".join(f"{a:.6f},{3 * a - 1 + 0.1 * rng.normal():.6f}\n" for a in x)
    X, y, _ = reg.select_columns(parse(text, max_bytes=100_000, max_rows=1000), "y", ["x"])
    result = reg.train(X, y, "SGD", lr=0.5, epochs=100)
    assert result.dtype == "float64" and result.weight[0] == pytest.approx(3.0, abs=0.05)


# ----- the page's figures (pure functions of arrays) ------------------------------------------------
def test_fit_figure_subsamples_points_and_animates_every_epoch_up_to_a_cap():
    from ui.figures import regression as figures

    x = np.linspace(-1, 1, 5000)
    lines = np.column_stack([np.linspace(0, 2, 301), np.linspace(0, 1, 301)])
    fig = figures.fit_figure(x, 2 * x + 1, lines, (2.0, 1.0), max_points=300, max_frames=50)
    assert len(fig.data[0].x) == 300 and "300 of 5,000" in fig.data[0].name
    assert len(fig.frames) == 50 and fig.frames[0].name == "0" and fig.frames[-1].name == "300"
    np.testing.assert_allclose(fig.frames[-1].data[0].y, [2 * -1 + 1, 2 * 1 + 1])
    np.testing.assert_allclose(fig.data[2].y, [-1.0, 3.0])  # the closed form's line


def test_loss_figure_uses_log_time_and_drops_the_zero():
    from ui.figures import regression as figures

    X, y = reg.make_data(50, seed=0)
    result = reg.train(X, y, lr=1e-3, batch_size=5, epochs=2)
    series = [figures.curve_series("mb", result)]
    fig = figures.loss_figure(series, "seconds", 1.0)
    assert fig.layout.xaxis.type == "log" and np.all(np.asarray(fig.data[0].x) > 0)
    assert fig.data[-1].y == (1.0, 1.0) and fig.data[-1].name.startswith("closed form")
    by_epoch = figures.loss_figure(series, "epochs", 1.0)
    assert by_epoch.layout.xaxis.type == "linear" and by_epoch.data[0].x[0] == 0 and by_epoch.data[0].x[-1] == 2
    with pytest.raises(ValueError, match="axis must be"):
        figures.loss_figure(series, "steps", 1.0)


def test_landscape_figure_has_its_minimum_at_the_closed_form():
    from ui.figures import regression as figures

    X, y = reg.make_data(100, seed=0, dtype="float64")
    closed = reg.solve(X, y)
    result = reg.train(X, y, lr=1e-3, epochs=5)
    fig = figures.landscape_figure(reg.mse_moments(X, y), result.trace, np.append(closed.weight, closed.bias))
    contour = fig.data[0]
    z = np.asarray(contour.z)
    row, col = np.unravel_index(np.argmin(z), z.shape)
    spacing = np.diff(contour.x[:2])[0], np.diff(contour.y[:2])[0]
    assert abs(contour.x[col] - closed.weight[0]) <= spacing[0] and abs(contour.y[row] - closed.bias) <= spacing[1]
    np.testing.assert_array_equal(fig.data[1].x, result.trace[:, 0])


def test_comparison_and_closed_form_tables():
    from ui.regression import text

    X, y = reg.make_data(60, d=2, seed=1)
    rows = reg.compare(X, y, reg.default_modes(60, None, 1e-3), epochs=1)
    table = text.comparison_table(rows)
    assert table[0] == {"": "samples per update", "GD": "60", "SGD (b = 1)": "1", "minibatch b = 10": "10"}
    assert [r[""] for r in table][-1] == "distance to closed form"
    closed = reg.solve(X, y)
    rows3 = text.closed_table(closed, rows[0].result, "GD")
    assert [r["method"] for r in rows3][1].startswith("normal equation")
    assert rows3[1]["w2"] == text.fmt(float(closed.normal_weight[1]), 8)


def test_cache_keys_round_trip():
    from ui.regression import compute

    settings = {"optimizer": "Adam", "betas": (0.9, 0.99), "schedule": ("StepLR", {"step_size": 3, "gamma": 0.5})}
    frozen = compute.frozen(settings)
    hash(frozen)
    assert compute._unfrozen(frozen) == settings


@pytest.mark.parametrize("seconds, text", [(3.7e-5, "37 µs"), (0.0042, "4.2 ms"), (1.25, "1.25 s"), (math.nan, "–")])
def test_durations_read_well(seconds, text):
    from ui.regression.text import fmt_seconds

    assert fmt_seconds(seconds) == text

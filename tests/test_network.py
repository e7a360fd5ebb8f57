"""gdviz.network: the race's paths against plain torch loops, the plane's projection, the batched grid, hostile input."""

from __future__ import annotations

import numpy as np
import pytest

from gdviz import network
from gdviz.network.training import DIVERGENCE_FACTOR
from tests.torch_reference import torch

CUDA = pytest.mark.skipif("not torch.cuda.is_available()", reason="needs a CUDA device")


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread, as the page computes: the paths are the same on any count, and a shared 2-core
    machine runs a 2-thread torch many times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def plain_loop(data, spec, steps, name, hyper, *, seed=0, batch=None, scheduler=None, clip=None):
    """What a tutorial writes: seed, build the MLP, torch.optim.<name>, loss.backward(), step; the weights
    (parameters_to_vector) and the full-data loss after every step."""
    torch.manual_seed(seed)
    model = network.build(spec)
    opt = getattr(torch.optim, name)(model.parameters(), **hyper)
    sched = scheduler(opt) if scheduler else None
    loss_fn = network.loss_function(data.task)
    X, y = torch.from_numpy(data.X), torch.from_numpy(data.y)
    n = len(X)
    generator = torch.Generator().manual_seed(seed)
    weights = [torch.nn.utils.parameters_to_vector(model.parameters()).detach().clone()]
    with torch.no_grad():
        losses = [float(loss_fn(model(X), y))]
    order = None
    per_epoch = 1 if batch is None else -(-n // batch)
    for t in range(steps):
        if batch is None:
            xb, yb = X, y
        else:
            k = t % per_epoch
            if k == 0:
                order = torch.randperm(n, generator=generator)
            rows = order[k * batch : (k + 1) * batch]
            xb, yb = X[rows], y[rows]
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        if sched is not None:
            sched.step()
        weights.append(torch.nn.utils.parameters_to_vector(model.parameters()).detach().clone())
        with torch.no_grad():
            losses.append(float(loss_fn(model(X), y)))
    return torch.stack(weights).numpy(), np.array(losses)


MOONS = network.make_dataset("moons", 64, noise=0.1, seed=1)
CUBIC = network.make_dataset("cubic", 48, noise=0.1, seed=2)


@pytest.mark.parametrize(
    "data, name, hyper",
    [
        (MOONS, "SGD", {"lr": 0.1}),
        (MOONS, "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
        (MOONS, "Adam", {"lr": 0.01}),
        (CUBIC, "RMSprop", {"lr": 0.003}),
        (CUBIC, "Adagrad", {"lr": 0.1}),
    ],
)
def test_each_path_is_a_plain_torch_loop_bit_for_bit(data, name, hyper):
    spec = network.MLP(inputs=data.inputs, width=12, depth=2)
    paths = network.train_racers(data, spec, [network.Racer(name, hyper)], steps=25, seed=3)
    weights, losses = plain_loop(data, spec, 25, name, hyper, seed=3)
    assert np.array_equal(paths.weights[0], weights)
    assert np.array_equal(paths.losses[0], losses)
    assert paths.diverged_at == [None] and paths.complete


def test_racing_together_changes_nobody_minibatches_schedule_and_clipping():
    """Three racers in lockstep, minibatches of 10 (the same batches for all), a cosine schedule and clipping:
    each equals its own plain loop."""
    spec = network.MLP(inputs=2, width=8, depth=1, activation="relu")
    racers = [
        network.Racer("SGD", {"lr": 0.2, "momentum": 0.9}),
        network.Racer("Adam", {"lr": 0.02}, max_grad_norm=0.5),
        network.Racer("AdamW", {"lr": 0.02, "weight_decay": 0.1}),
    ]
    paths = network.train_racers(MOONS, spec, racers, steps=30, batch_size=10, seed=5, schedule="CosineAnnealingLR")
    for index, racer in enumerate(racers):
        cosine = lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=30)  # noqa: E731
        weights, losses = plain_loop(
            MOONS, spec, 30, racer.name, dict(racer.hyper), seed=5, batch=10, scheduler=cosine, clip=racer.max_grad_norm
        )
        assert np.array_equal(paths.weights[index], weights), racer
        assert np.array_equal(paths.losses[index], losses), racer
    assert paths.batch_size == 10 and paths.lrs[0][0] == 0.2 and paths.lrs[0][-1] < 0.01


def test_the_engines_own_optimizers_train_a_network_too():
    spec = network.MLP(inputs=2, width=8, depth=1)
    paths = network.train_racers(MOONS, spec, ["Lion", "Yogi"], steps=40)
    for losses in paths.losses:
        assert losses[-1] < losses[0]


def test_initial_weights_are_torchs_default_init_and_leave_the_global_generator_alone():
    spec = network.MLP(inputs=2, width=5, depth=2)
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    start = network.initial_weights(spec, 9)
    assert torch.equal(torch.rand(3), before)
    torch.manual_seed(9)
    expected = torch.nn.utils.parameters_to_vector(network.build(spec).parameters()).detach().numpy()
    assert np.array_equal(start, expected) and start.shape == (spec.parameters,)
    assert spec.parameters == 2 * 5 + 5 + 5 * 5 + 5 + 5 + 1


# -- the plane --------------------------------------------------------------------------------------------
def test_a_path_lying_in_a_known_plane_projects_with_zero_residual():
    rng = np.random.default_rng(0)
    origin = rng.standard_normal(50)
    q, _ = np.linalg.qr(rng.standard_normal((50, 2)))
    coords = rng.standard_normal((30, 2)) * [3.0, 0.5]
    path = origin + coords @ q.T
    plane = network.pca_plane([path[:10], path[10:]])
    found, distance = plane.project(path)
    assert np.abs(distance).max() < 1e-10
    # the plane is the same plane: the found coordinates map back onto the path
    assert np.allclose(plane.points(found), path, atol=1e-10)
    assert network.captured_share(plane, path) == pytest.approx(1.0, abs=1e-12)
    # a point off the plane by a known offset orthogonal to it
    normal = rng.standard_normal(50)
    normal -= q @ (q.T @ normal)
    normal /= np.linalg.norm(normal)
    _, off = plane.project(path[3] + 0.7 * normal)
    assert off[0] == pytest.approx(0.7, rel=1e-9)


def test_pca_explained_variance_is_numpys_svd():
    rng = np.random.default_rng(1)
    paths = [np.cumsum(rng.standard_normal((40, 20)) * np.linspace(2, 0.1, 20), axis=0) for _ in range(3)]
    plane = network.pca_plane(paths)
    pooled = np.concatenate(paths)
    singular = np.linalg.svd(pooled - pooled.mean(0), compute_uv=False)
    assert np.allclose(plane.explained, singular[:2] ** 2 / np.sum(singular**2), rtol=1e-10)
    _, _, vt = np.linalg.svd(pooled - pooled.mean(0), full_matrices=False)
    assert np.allclose(np.abs(plane.basis @ vt[:2].T), np.eye(2), atol=1e-8)  # the same directions, up to sign
    assert np.allclose(plane.basis @ plane.basis.T, np.eye(2), atol=1e-12)
    assert network.captured_share(plane, pooled) == pytest.approx(plane.explained.sum(), rel=1e-9)
    # more rows than weights: the other Gram matrix, the same answer
    tall = [p[:, :5] for p in paths]
    singular = np.linalg.svd(np.concatenate(tall) - np.concatenate(tall).mean(0), compute_uv=False)
    assert np.allclose(network.pca_plane(tall).explained, singular[:2] ** 2 / np.sum(singular**2), rtol=1e-10)


def test_the_variance_split_is_the_whole_arrays_block_by_block(monkeypatch):
    """variance_split takes the iterates a cache-sized block at a time: the same sums as the whole centred
    array's, from float32 rows (the recorded paths' precision) as from float64."""
    from gdviz.network import plane as planes

    rng = np.random.default_rng(3)
    pooled = np.cumsum(rng.standard_normal((205, 40)), axis=0).astype(np.float32)
    plane = network.random_plane(pooled[0].astype(np.float64), [(5, 8)], seed=1)
    centred = pooled.astype(np.float64) - pooled.astype(np.float64).mean(axis=0)
    along = centred @ plane.basis.T
    expected = (np.sum(centred**2), np.sum(along * np.linalg.solve(plane.basis @ plane.basis.T, along.T).T))
    monkeypatch.setattr(planes, "BLOCK_VALUES", 7 * 40)  # blocks of 7 rows, the last one of 2
    assert np.allclose(planes.variance_split(plane, pooled), expected, rtol=1e-12)
    monkeypatch.setattr(planes, "BLOCK_VALUES", 10**9)
    assert np.allclose(planes.variance_split(plane, pooled), expected, rtol=1e-12)


def test_random_directions_are_filter_normalized_and_skip_biases():
    spec = network.MLP(inputs=2, width=6, depth=2)
    centre = network.initial_weights(spec, 4).astype(np.float64)
    plane = network.random_plane(centre, spec.shapes, seed=7)
    for direction in plane.basis:
        offset = 0
        for shape in spec.shapes:
            size = int(np.prod(shape))
            part, target = direction[offset : offset + size], centre[offset : offset + size]
            if len(shape) == 1:
                assert not part.any()
            else:
                assert np.allclose(
                    np.linalg.norm(part.reshape(shape), axis=1), np.linalg.norm(target.reshape(shape), axis=1)
                )
            offset += size
    with pytest.raises(ValueError, match="degenerate"):
        network.random_plane(np.zeros(spec.parameters), spec.shapes)


# -- the grid ---------------------------------------------------------------------------------------------
@pytest.fixture(params=["numpy", "torch"])
def kernels(request, monkeypatch):
    """The grid's passes on the CPU run on NumPy's arrays; on a GPU on torch's tensors: both here, on the CPU."""
    from gdviz.network import grid

    if request.param == "torch":
        monkeypatch.setattr(grid, "_kernels", lambda device: grid.torch_kernels())
    return request.param


def test_the_grids_loss_at_the_planes_origin_is_the_models_loss_there(kernels):
    spec = network.MLP(inputs=2, width=10, depth=2)
    paths = network.train_racers(MOONS, spec, [("SGD", {"lr": 0.5}), ("Adam", {"lr": 0.05})], steps=20)
    plane = network.make_plane(paths, "pca")
    evaluator = network.Evaluator(spec, MOONS)
    grid = evaluator.plane_losses(plane, np.array([-1.0, 0.0, 2.0]), np.array([0.0, 1.5]))
    model = network.build(spec)
    torch.nn.utils.vector_to_parameters(torch.tensor(plane.origin, dtype=torch.float32), model.parameters())
    with torch.no_grad():
        expected = float(network.loss_function("classify")(model(torch.from_numpy(MOONS.X)), torch.from_numpy(MOONS.y)))
    assert grid.shape == (2, 3)
    assert grid[0, 1] == pytest.approx(expected, rel=1e-6)
    # and every grid point is the loop's number: batched and one-at-a-time agree
    a, b = np.meshgrid([-1.0, 0.0, 2.0], [0.0, 1.5])
    points = plane.points(np.column_stack([a.ravel(), b.ravel()]))
    assert np.allclose(grid.ravel(), evaluator.loop_losses(points), rtol=1e-5)
    assert np.allclose(evaluator.losses(points), evaluator.loop_losses(points), rtol=1e-5)


@pytest.mark.parametrize(
    "data, depth, activation",
    [("moons", 1, "tanh"), ("moons", 3, "relu"), ("cubic", 2, "tanh"), ("spirals", 2, "relu")],
)
def test_the_fused_grid_is_the_loop_over_its_points_across_chunks(monkeypatch, kernels, data, depth, activation):
    """plane_losses computes the first layer for the whole grid and the deeper weights from the coordinates:
    every point must still be the model's loss at plane.points, also where a grid spans many chunks."""
    from gdviz.network import grid

    monkeypatch.setattr(grid, "CPU_CHUNK_BYTES", 1)  # one grid point per chunk
    dataset = network.make_dataset(data, 60, noise=0.1, seed=3)
    spec = network.MLP(inputs=dataset.inputs, width=7, depth=depth, activation=activation)
    paths = network.train_racers(dataset, spec, [("SGD", {"lr": 0.2}), ("Adam", {"lr": 0.05})], steps=15)
    for plane in (network.make_plane(paths, "pca"), network.make_plane(paths, "random", direction_seed=2)):
        alphas, betas = np.linspace(-2.0, 1.5, 5), np.linspace(-1.0, 3.0, 4)
        found = network.Evaluator(spec, dataset).plane_losses(plane, alphas, betas)
        a, b = np.meshgrid(alphas, betas)
        points = plane.points(np.column_stack([a.ravel(), b.ravel()]))
        assert found.shape == (4, 5)
        assert np.allclose(found.ravel(), network.Evaluator(spec, dataset).loop_losses(points), rtol=1e-5, atol=1e-7)
    monkeypatch.setattr(grid, "CPU_CHUNK_BYTES", 2**30)  # and all of them in one chunk
    assert np.array_equal(network.Evaluator(spec, dataset).plane_losses(plane, alphas, betas).shape, (4, 5))
    assert np.allclose(network.Evaluator(spec, dataset).plane_losses(plane, alphas, betas), found, rtol=1e-6)


def test_the_default_networks_grid_is_the_loop_to_the_benchmarks_tolerance():
    """The page's default network over its whole landscape window (the largest |α|, |β|, where the float32
    products [1, α, β] @ (origin, directions) are furthest from Plane.points' float64): every point within
    benchmarks/network.py's tolerance of the loop, the plane's origin included."""
    data = network.make_dataset("moons", 200, noise=0.1, seed=0)
    spec = network.MLP(inputs=2, width=32, depth=2)
    paths = network.train_racers(data, spec, [("SGD", {"lr": 0.1}), ("Adam", {"lr": 0.01})], steps=60)
    view = network.landscape(paths, data, grid=9)
    a, b = np.meshgrid(view.alphas, view.betas)
    coords = np.vstack([np.column_stack([a.ravel(), b.ravel()]), [[0.0, 0.0]]])
    evaluator = network.Evaluator(spec, data)
    found = evaluator.losses_on_plane(view.plane, coords)
    assert np.allclose(found, evaluator.loop_losses(view.plane.points(coords)), rtol=1e-5, atol=1e-7)
    assert np.allclose(found[:-1].reshape(view.losses.shape), view.losses, rtol=1e-6)


def test_the_grids_constant_unit_is_exactly_one_after_each_activation():
    """plane_losses adds a hidden layer's bias through a unit whose pre-activation ONE_AFTER must come out as
    exactly 1 (in a vectorised kernel and its tail, in float32 and float64), by NumPy's activations (the CPU)
    and torch's (a GPU)."""
    from gdviz.network import grid

    assert set(grid.ONE_AFTER) == set(network.ACTIVATIONS)
    for kernels in (grid.numpy_kernels(), grid.torch_kernels()):
        assert set(kernels.act) == set(network.ACTIVATIONS)
        for activation, constant in grid.ONE_AFTER.items():
            for dtype in (torch.float32, torch.float64):
                for size in (1, 7, 33, 4099):
                    x = torch.full((size,), constant, dtype=dtype)
                    kernels.act[activation](kernels.native(x))
                    assert bool((x == 1).all()), (kernels, activation, dtype, size)


@pytest.mark.parametrize(
    "data, depth, activation", [("moons", 1, "tanh"), ("spirals", 3, "relu"), ("cubic", 2, "tanh")]
)
def test_the_networks_outputs_are_the_models_at_each_weight_vector(kernels, data, depth, activation):
    """The function picture (decision regions, fitted curve): Evaluator.outputs at a stack of weight vectors is
    the model's own output at each, the stack spanning several chunks."""
    dataset = network.make_dataset(data, 50, noise=0.1, seed=4)
    spec = network.MLP(inputs=dataset.inputs, width=9, depth=depth, activation=activation)
    paths = network.train_racers(dataset, spec, [("Adam", {"lr": 0.05})], steps=6)
    weights = paths.weights[0]
    inputs = np.random.default_rng(0).normal(size=(3000, dataset.inputs)).astype(np.float32)
    found = network.Evaluator(spec, dataset).outputs(weights, inputs)
    model = network.build(spec)
    assert found.shape == (len(weights), len(inputs))
    for row, w in zip(found, weights):
        torch.nn.utils.vector_to_parameters(torch.tensor(w, dtype=torch.float32), model.parameters())
        with torch.no_grad():
            expected = model(torch.from_numpy(inputs))[:, 0].double().numpy()
        assert np.allclose(row, expected, rtol=1e-5, atol=1e-6)


def test_the_landscape_reports_true_loss_plane_loss_and_distance():
    spec = network.MLP(inputs=2, width=10, depth=2)
    paths = network.train_racers(MOONS, spec, ["SGD", ("Adam", {"lr": 0.03})], steps=30)
    view = network.landscape(paths, MOONS, grid=9)
    assert view.losses.shape == (9, 9) and np.isfinite(view.losses).all()
    for r, weights in enumerate(paths.weights):
        assert view.coords[r].shape == (31, 2) and view.distances[r].shape == (31,)
        # the loss under the projected point is the model's loss at plane.points(coords)
        projected = view.plane.points(view.coords[r])
        assert np.allclose(view.plane_losses[r], network.Evaluator(spec, MOONS).loop_losses(projected), rtol=1e-5)
        # the distance is what is left of the iterate once the plane's part is taken out
        assert np.allclose(view.distances[r], np.linalg.norm(weights - projected, axis=1), atol=1e-5)
    assert 0 < view.captured <= 1 and view.spread > 0
    # the spread: the root-mean-square distance of every iterate from their mean; the PCA plane's captured share,
    # its two explained-variance ratios
    pooled = np.concatenate(paths.weights).astype(np.float64)
    assert view.spread == pytest.approx(np.sqrt(np.mean(np.sum((pooled - pooled.mean(0)) ** 2, axis=1))), rel=1e-9)
    assert view.captured == pytest.approx(view.plane.explained.sum(), rel=1e-6)
    # every path lies inside the grid's window
    for coords in view.coords:
        assert view.alphas[0] <= coords[:, 0].min() and coords[:, 0].max() <= view.alphas[-1]
        assert view.betas[0] <= coords[:, 1].min() and coords[:, 1].max() <= view.betas[-1]
    centred = network.landscape(paths, MOONS, plane="random", centre="best", grid=5)
    assert centred.alphas[0] <= 0 <= centred.alphas[-1] and np.isnan(centred.plane.explained).all()


# -- hostile input ----------------------------------------------------------------------------------------
def test_a_diverging_lr_is_flagged_and_the_others_race_on():
    spec = network.MLP(inputs=1, width=16, depth=2, activation="relu")
    paths = network.train_racers(CUBIC, spec, [("SGD", {"lr": 1e4}), ("SGD", {"lr": 0.01})], steps=30)
    step = paths.diverged_at[0]
    assert step is not None and paths.diverged_at[1] is None
    assert len(paths.weights[0]) == step and len(paths.losses[0]) == step  # up to the last good iterate
    assert np.all(paths.losses[0] <= DIVERGENCE_FACTOR * max(paths.losses[0][0], 1.0))
    assert len(paths.weights[1]) == 31
    view = network.landscape(paths, CUBIC, grid=7)  # still drawn: the diverged path is kept up to its last good step
    assert np.isfinite(view.losses).all()


def test_every_racer_diverging_at_once_still_gives_a_picture():
    spec = network.MLP(inputs=2, width=4, depth=1)
    paths = network.train_racers(MOONS, spec, [("SGD", {"lr": 1e30}), ("Adam", {"lr": 1e30})], steps=10)
    assert paths.diverged_at == [1, 1] and paths.done == 1
    view = network.landscape(paths, MOONS, grid=5)
    assert view.losses.shape == (5, 5)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: network.MLP(inputs=2, width=0), "width"),
        (lambda: network.MLP(inputs=2, width=2.5), "width"),
        (lambda: network.MLP(inputs=2, activation="gelu"), "activation"),
        (lambda: network.make_dataset("mnist"), "Unknown dataset"),
        (lambda: network.make_dataset("moons", 2), "samples"),
        (lambda: network.make_dataset("moons", 10, noise=float("nan")), "noise"),
        (lambda: network.train_racers(MOONS, network.MLP(2, 4, 1), ["Newton"], steps=3), "Hessian"),
        (lambda: network.train_racers(MOONS, network.MLP(2, 4, 1), ["SGD"], steps=0), "steps"),
        (lambda: network.train_racers(MOONS, network.MLP(2, 4, 1), [], steps=3), "at least one"),
        (lambda: network.train_racers(MOONS, network.MLP(1, 4, 1), ["SGD"], steps=3), "input"),
        (lambda: network.train_racers(MOONS, network.MLP(2, 4, 1), [("SGD", {"lr": -1})], steps=3), "lr"),
        (lambda: network.train_racers(MOONS, network.MLP(2, 4, 1), ["SGD"], steps=3, device="tpu"), "device"),
        (lambda: network.landscape(None, MOONS, grid=1), "grid"),
    ],
)
def test_bad_arguments_raise_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@CUDA
def test_cuda_paths_match_the_cpu_within_rounding():
    spec = network.MLP(inputs=2, width=16, depth=2)
    racers = [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.01})]
    cpu = network.train_racers(MOONS, spec, racers, steps=50)
    gpu = network.train_racers(MOONS, spec, racers, steps=50, device="cuda")
    for a, b in zip(cpu.losses, gpu.losses):
        assert np.allclose(a, b, rtol=1e-3, atol=1e-5)
    view = network.landscape(gpu, MOONS, grid=21, device="cuda")
    assert np.isfinite(view.losses).all()


def test_grid_points_far_out_give_a_loss_not_a_floating_point_warning(kernels):
    """Coordinates so large that the products overflow float32 (a huge window around a diverged racer): the
    loss there is whatever the arithmetic gives, huge, inf or NaN (the page reports a non-finite loss
    itself), no floating-point warning escapes (the suite turns warnings into errors), and the points
    beside them keep their loss."""
    spec = network.MLP(inputs=2, width=6, depth=3)
    paths = network.train_racers(MOONS, spec, [("SGD", {"lr": 0.3})], steps=5)
    plane = network.make_plane(paths, "pca")
    coords = np.array([[1e30, -1e30], [1e39, 0.0], [-1e39, 1e39], [0.0, 0.0]])
    evaluator = network.Evaluator(spec, MOONS)
    found = evaluator.losses_on_plane(plane, coords)
    assert found.shape == (4,) and not np.isfinite(found[1:3]).all()
    assert found[3] == pytest.approx(evaluator.loop_losses(plane.points(coords[3:]))[0], rel=1e-6)

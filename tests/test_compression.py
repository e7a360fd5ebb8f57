"""Gradient compression (the notes on vanilla and momentum SGD, towards deep gradient compression):
top-k with error feedback and DGC's momentum correction, held against plain-Python loops of the rules."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdviz
from gdviz.optimizers import OPTIMIZERS
from gdviz.optimizers.compression import COMPRESSED_GRAD, RESIDUAL, VELOCITY, top_k_mask
from gdviz.surfaces.base import Surface

DIM = 5


def _bowl(dim: int = DIM, seed: int = 0) -> Surface:
    """f(x) = ½ xᵀAx with a random well-conditioned SPD A (cross terms, so coordinates interact)."""
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((dim, dim))
    A = q @ q.T / dim + np.eye(dim)
    return Surface(
        name="bowl",
        title="bowl",
        dim=dim,
        f=lambda x: 0.5 * np.einsum("...i,ij,...j->...", x, A, x),
        # no BLAS: the same sums in the same order for a batch and for the reference's single point
        grad=lambda x: (np.asarray(x)[..., None, :] * A).sum(axis=-1),
        hessian=lambda x: np.broadcast_to(A, (*np.shape(x)[:-1], dim, dim)).copy(),
        bounds=((-5.0, 5.0),) * dim,
        minima=np.zeros((1, dim)),
        f_min=0.0,
        default_start=(1.0,) * dim,
    )


def _starts(runs: int, dim: int = DIM, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-3, 3, (runs, dim))


def _top_k_reference(values: list[float], k: int) -> list[float]:
    """The k entries of largest magnitude kept, the rest zero; ties to the lowest index."""
    keep = sorted(range(len(values)), key=lambda i: (-abs(values[i]), i))[:k]
    return [values[i] if i in keep else 0.0 for i in range(len(values))]


def _sgd_reference(grad, start, lr, k, steps, feedback=True):
    """SGD on the top-k of (residual + gradient), coordinate by coordinate in plain Python."""
    x, e, path = list(start), [0.0] * len(start), [list(start)]
    for _ in range(steps):
        g = [float(v) for v in grad(np.array(x))]
        a = [ei + gi for ei, gi in zip(e, g)] if feedback else g
        c = _top_k_reference(a, k)
        if feedback:
            e = [0.0 if ci != 0 or ai == 0 else ai for ai, ci in zip(a, c)]
        x = [xi - lr * ci for xi, ci in zip(x, c)]
        path.append(list(x))
    return np.array(path), np.array(e)


def _dgc_reference(grad, start, lr, k, m, steps):
    """Lin et al. 2018, Algorithm 1 on one worker: u = m u + g, v = v + u, send top-k(v), mask v and u."""
    dim = len(start)
    x, u, v, path = list(start), [0.0] * dim, [0.0] * dim, [list(start)]
    for _ in range(steps):
        g = [float(val) for val in grad(np.array(x))]
        u = [m * ui + gi for ui, gi in zip(u, g)]
        v = [vi + ui for vi, ui in zip(v, u)]
        sent = _top_k_reference(v, k)
        mask = [i in sorted(range(dim), key=lambda j: (-abs(v[j]), j))[:k] for i in range(dim)]
        v = [0.0 if mi else vi for vi, mi in zip(v, mask)]
        u = [0.0 if mi else ui for ui, mi in zip(u, mask)]
        x = [xi - lr * si for xi, si in zip(x, sent)]
        path.append(list(x))
    return np.array(path), np.array(v), np.array(u)


# -- top-k itself ---------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [1, 2, 3, 5, 7])
def test_top_k_mask_matches_the_reference_with_ties(k):
    rng = np.random.default_rng(k)
    # small integers: many ties, which must go to the lowest index
    values = rng.integers(-3, 4, (200, DIM)).astype(np.float64)
    mask = top_k_mask(values, k)
    expected = np.array([_top_k_reference(list(row), k) for row in values])
    np.testing.assert_array_equal(np.where(mask, values, 0.0), expected)
    assert np.all(mask.sum(axis=1) == min(k, DIM))
    # a tie between equal magnitudes of opposite sign: the lower index wins
    assert top_k_mask(np.array([[-2.0, 2.0, 1.0]]), 1).tolist() == [[True, False, False]]


# -- the engine against the plain-Python rules ----------------------------------------------------
@pytest.mark.parametrize("k", [1, 2, 4])
@pytest.mark.parametrize("feedback", [True, False])
def test_top_k_sgd_matches_a_plain_python_loop_for_every_run(k, feedback):
    surface, starts = _bowl(), _starts(6)
    opt = gdviz.optimizer("SGD", lr=0.3, compress_topk=k, error_feedback=feedback)
    traj = gdviz.run(surface, opt, start=starts, steps=40)
    for run, start in enumerate(starts):
        path, residual = _sgd_reference(surface.grad, start, 0.3, k, 40, feedback)
        np.testing.assert_allclose(traj.xs[:, run], path, rtol=1e-15, atol=1e-15)
        if feedback:
            np.testing.assert_allclose(traj.states[RESIDUAL][-1, run], residual, rtol=1e-15, atol=1e-15)
        else:
            assert RESIDUAL not in traj.states
    # each step sends (and so moves) at most k coordinates of every run
    assert np.all((traj.states[COMPRESSED_GRAD][1:] != 0).sum(axis=-1) <= k)
    assert np.all((np.diff(traj.xs, axis=0) != 0).sum(axis=-1) <= k)


@pytest.mark.parametrize("m", [0.0, 0.5, 0.9])
def test_momentum_correction_matches_the_papers_algorithm(m):
    surface, starts = _bowl(), _starts(4, seed=2)
    opt = gdviz.optimizer("SGD", lr=0.1, compress_topk=2, momentum_correction=m)
    traj = gdviz.run(surface, opt, start=starts, steps=60)
    for run, start in enumerate(starts):
        path, v, u = _dgc_reference(surface.grad, start, 0.1, 2, m, 60)
        np.testing.assert_allclose(traj.xs[:, run], path, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(traj.states[RESIDUAL][-1, run], v, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(traj.states[VELOCITY][-1, run], u, rtol=1e-14, atol=1e-15)


def test_momentum_correction_with_m_zero_is_error_feedback():
    surface, starts = _bowl(), _starts(3)
    ef = gdviz.run(surface, gdviz.optimizer("SGD", lr=0.2, compress_topk=2), start=starts, steps=30)
    dgc = gdviz.run(
        surface, gdviz.optimizer("SGD", lr=0.2, compress_topk=2, momentum_correction=0.0), start=starts, steps=30
    )
    np.testing.assert_array_equal(ef.xs, dgc.xs)


def test_error_feedback_sends_every_part_of_every_gradient_eventually():
    """Σ c_t + e_T = Σ g_t: what was not sent is still in the residual (noise and clipping included)."""
    surface, starts = _bowl(), _starts(5)
    opt = gdviz.optimizer("Adam", lr=0.05, compress_topk=1, max_grad_norm=2.0)
    traj = gdviz.run(surface, opt, start=starts, steps=200, noise=0.5, seed=3)
    sent = traj.states[COMPRESSED_GRAD][1:].sum(axis=0)
    np.testing.assert_allclose(sent + traj.states[RESIDUAL][-1], traj.grads.sum(axis=0), rtol=0, atol=1e-12)
    # the gradients recorded are the clipped ones: compression comes after clipping
    assert np.all(np.linalg.norm(traj.grads, axis=-1) <= 2.0 + 1e-9)


@pytest.mark.parametrize("k", [DIM, DIM + 3])
@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_k_at_least_dim_with_feedback_is_uncompressed_bit_for_bit(name, k):
    surface, starts = _bowl(), _starts(4)
    hyper = {"lr": 0.05, "weight_decay": 0.01}
    plain = gdviz.run(surface, gdviz.optimizer(name, **hyper), start=starts, steps=50, noise=0.3)
    full = gdviz.run(surface, gdviz.optimizer(name, compress_topk=k, **hyper), start=starts, steps=50, noise=0.3)
    np.testing.assert_array_equal(full.xs, plain.xs)
    assert not full.states[RESIDUAL].any()


# -- the preamble: weight decay and maximize act on the worker, before compression ----------------
def test_weight_decay_and_maximize_are_applied_before_compression():
    surface, starts = _bowl(), _starts(3)
    hyper = dict(lr=0.1, weight_decay=0.3, maximize=True, compress_topk=1, error_feedback=False)
    traj = gdviz.run(surface, gdviz.optimizer("SGD", **hyper), start=starts, steps=10)
    for t in range(10):
        local = -traj.grads[t] + 0.3 * traj.xs[t]
        expected = np.array([_top_k_reference(list(row), 1) for row in local])
        np.testing.assert_allclose(traj.states[COMPRESSED_GRAD][t + 1], expected, rtol=1e-15)
        # and only that coordinate moves: the decay is not added again, densely, after compression
        assert np.all((traj.xs[t + 1] != traj.xs[t]).sum(axis=1) == 1)


def test_decoupled_weight_decay_still_shrinks_every_coordinate():
    """AdamW's decay acts on x (the server's parameters), not on the gradient: it stays after compression."""
    surface, starts = _bowl(), _starts(2)
    opt = gdviz.optimizer("AdamW", lr=0.1, weight_decay=0.5, compress_topk=1)
    traj = gdviz.run(surface, opt, start=starts, steps=5)
    assert np.all((traj.xs[1] != traj.xs[0]).sum(axis=1) == DIM)
    assert np.all((traj.states[COMPRESSED_GRAD][1] != 0).sum(axis=1) == 1)


# -- the run loop: sweeps, divergence, records ------------------------------------------------------
def test_a_swept_lr_compresses_each_run_on_its_own():
    surface, start = _bowl(), _starts(1)[0]
    lrs = np.array([0.05, 0.2, 0.4])
    swept = gdviz.run(surface, gdviz.optimizer("SGD", lr=lrs, compress_topk=2), start=start, steps=30)
    for run, lr in enumerate(lrs):
        path, _ = _sgd_reference(surface.grad, start, float(lr), 2, 30)
        np.testing.assert_allclose(swept.xs[:, run], path, rtol=1e-15, atol=1e-15)


def test_a_diverged_run_keeps_its_last_good_compression_state():
    surface, start = _bowl(), _starts(1)[0]
    lrs = np.array([0.1, 50.0])
    traj = gdviz.run(surface, gdviz.optimizer("SGD", lr=lrs, compress_topk=1), start=start, steps=100)
    assert traj.diverged_at[0] is None and traj.diverged_at[1] is not None
    d = traj.diverged_at[1]
    for name in (COMPRESSED_GRAD, RESIDUAL):
        state = traj.states[name]
        assert np.all(np.isfinite(state))
        # frozen from the step it diverged: the state before that step, repeated
        np.testing.assert_array_equal(state[d:, 1], np.broadcast_to(state[d - 1, 1], state[d:, 1].shape))
    alone = gdviz.run(surface, gdviz.optimizer("SGD", lr=0.1, compress_topk=1), start=start, steps=100)
    np.testing.assert_array_equal(traj.xs[:, 0], alone.xs)


def test_a_race_keeps_compressed_and_plain_optimizers_apart():
    surface = gdviz.surface("himmelblau")
    plain, compressed = gdviz.race(
        surface, [gdviz.optimizer("SGD", lr=0.01), gdviz.optimizer("SGD", lr=0.01, compress_topk=1)], steps=20
    )
    assert COMPRESSED_GRAD not in plain.states and compressed.states[COMPRESSED_GRAD].shape == (21, 2)
    np.testing.assert_array_equal(plain.xs, gdviz.run(surface, gdviz.optimizer("SGD", lr=0.01), steps=20).xs)


# -- the contract: every first-order optimizer, settings, bad arguments ---------------------------
def _demo(cls):
    return dict(cls.demo)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_first_order_optimizer_takes_compression_and_newton_refuses(name):
    cls = OPTIMIZERS[name]
    if cls.needs_hessian:
        with pytest.raises(ValueError, match="first-order"):
            cls(compress_topk=1, **_demo(cls))
        return
    surface, starts = gdviz.surface("quadratic"), np.array([[-5.0, -2.0], [3.0, 1.5]])
    traj = gdviz.run(surface, cls(compress_topk=1, **_demo(cls)), start=starts, steps=30)
    assert np.all((traj.states[COMPRESSED_GRAD][1:] != 0).sum(axis=-1) <= 1)
    sent = traj.states[COMPRESSED_GRAD][1:].sum(axis=0)
    np.testing.assert_allclose(sent + traj.states[RESIDUAL][-1], traj.grads.sum(axis=0), atol=1e-10)
    # the optimizer's own state is all there, beside compression's
    assert set(cls.state_names) <= set(traj.states)
    # compressing nothing away (k = dim) is the optimizer itself
    full = gdviz.run(surface, cls(compress_topk=2, **_demo(cls)), start=starts, steps=30)
    np.testing.assert_array_equal(full.xs, gdviz.run(surface, cls(**_demo(cls)), start=starts, steps=30).xs)


def test_settings_carry_compression_and_rebuild_the_optimizer():
    opt = gdviz.optimizer("SGD", lr=0.1, compress_topk=1, momentum_correction=0.9, max_grad_norm=5.0)
    settings = opt.settings()
    assert settings["compress_topk"] == 1 and settings["error_feedback"] is True
    assert settings["momentum_correction"] == 0.9
    again = gdviz.optimizer("SGD", **settings)
    assert again.compression == opt.compression and again.max_grad_norm == 5.0
    assert "compress_topk" not in gdviz.optimizer("SGD", lr=0.1).settings()
    assert "error_feedback=False" in repr(gdviz.optimizer("Adam", compress_topk=2, error_feedback=False))


def test_without_compression_the_update_is_the_classs_own():
    """The hot path is untouched when compression is off: no wrapper on the instance."""
    opt = gdviz.optimizer("SGD", lr=0.1)
    assert "update" not in vars(opt) and "init" not in vars(opt) and opt.compression is None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"compress_topk": 0}, "compress_topk must be a whole number >= 1"),
        ({"compress_topk": -2}, "compress_topk must be a whole number >= 1"),
        ({"compress_topk": 1.0}, "compress_topk must be a whole number >= 1"),
        ({"compress_topk": True}, "compress_topk must be a whole number >= 1"),
        ({"compress_topk": "1"}, "compress_topk must be a whole number >= 1"),
        ({"compress_topk": 1, "error_feedback": "yes"}, "error_feedback must be True or False"),
        ({"compress_topk": 1, "error_feedback": None}, "error_feedback must be True or False"),
        ({"error_feedback": False}, "only apply with compress_topk"),
        ({"momentum_correction": 0.9}, "only apply with compress_topk"),
        ({"compress_topk": 1, "momentum_correction": 1.0}, r"a number in \[0, 1\)"),
        ({"compress_topk": 1, "momentum_correction": -0.1}, r"a number in \[0, 1\)"),
        ({"compress_topk": 1, "momentum_correction": math.nan}, r"a number in \[0, 1\)"),
        ({"compress_topk": 1, "momentum_correction": True}, r"a number in \[0, 1\)"),
        ({"compress_topk": 1, "momentum_correction": 0.9, "error_feedback": False}, "needs error_feedback=True"),
    ],
)
def test_bad_compression_arguments_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gdviz.optimizer("SGD", lr=0.1, **kwargs)

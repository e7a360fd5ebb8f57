"""The optimizer contract: validated hyper-parameters plus two pure functions, ``init`` and ``update``.

Every optimizer works on a batch of ``R`` runs at once: iterates and gradients are ``(R, dim)``
arrays, a swept hyper-parameter is an ``(R, 1)`` column and a scalar one a Python float, so that
one vectorized call can race settings or sweep a grid. Nothing is mutated in place: ``update``
returns the new iterate and a new state dict (named arrays, each ``(R, dim)`` or ``(R, 1)``).

The learning rate reaches ``init`` and ``update`` either as an ``(R, 1)`` column (a schedule, a
sweep) or as a Python float (the run loop's fast path when every run has the same constant lr);
every optimizer accepts both and gives the same bits for both.

The Playground's inspector replays a step through ``update`` and shows what :meth:`Optimizer.explain`
derives from it, in the lines of ``explanation``; neither is used by the run loop.

Every update starts as torch's do, with :meth:`Optimizer.preamble`: ``maximize`` negates the
gradient and ``weight_decay`` adds λx to it (or, decoupled as in AdamW, shrinks x by 1 - ηλ).

Every first-order optimizer also takes ``compress_topk=k`` (gradient compression, the motivation of the
notes on vanilla and momentum SGD; see :mod:`gdviz.optimizers.compression`): each step it receives only
the k largest coordinates of the gradient, with error feedback (``error_feedback=True``, the default)
and optionally Deep Gradient Compression's momentum correction (``momentum_correction=m``). The order
within a step: the run loop adds noise and clips (``max_grad_norm``); then the gradient's part of the
preamble (maximize, coupled weight decay λx) happens on the worker, before compression, as DGC applies
weight decay to the local gradient; then top-k (with the residual); then the optimizer's own update with
the sparse gradient, where only a decoupled weight decay (AdamW, Lion) still acts, on x. Compression
wraps ``init`` and ``update`` of the instance when it is on, so the update of an optimizer without it
is exactly the one below; its state arrays (``compressed_grad``, ``ef_residual``, ``dgc_velocity``) are
kept in the state dict next to the optimizer's own.

Speed: a race updates a handful of runs thousands of times, so an update costs what its NumPy calls
cost (~0.3 µs each on a few numbers), not what its arithmetic costs. ``prepare`` therefore works out
once, at construction, every constant the update needs, and :func:`operand` stores scalar ones as
0-d arrays: NumPy converts a Python float anew at every operation, which costs as much again.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from gdviz.optimizers.compression import COMPRESSED_GRAD, Compression
from gdviz.optimizers.compression import STATE_NAMES as COMPRESSION_STATE_NAMES
from gdviz.params import HyperParam, batch_size_of, validate_all

State = dict[str, np.ndarray]

LR = HyperParam("lr", 1e-3, minimum=0.0, ui_min=1e-5, ui_max=2.0, log=True, help="learning rate η")
WEIGHT_DECAY = HyperParam("weight_decay", 0.0, minimum=0.0, ui_min=0.0, ui_max=0.1, help="L2 penalty λ")
EPS = HyperParam("eps", 1e-8, minimum=0.0, ui_min=1e-10, ui_max=1e-1, log=True, help="term added for stability")
MAXIMIZE = HyperParam("maximize", False, kind="bool", help="maximize the objective instead of minimizing")


class Optimizer:
    """Base class of every optimizer; subclasses set the class attributes and implement two methods.

    Class attributes:
        name: the registry name (torch.optim's class name where torch has the algorithm).
        spec: the hyper-parameters, in torch's order and with torch's defaults.
        rule: the update rule in LaTeX, shown by the UI.
        state_names: the names of the arrays in the state, in display order.
        needs_hessian: ``update`` receives the Hessian ``(R, dim, dim)`` as ``hess``.
        torch_class: the torch.optim class name it must match step for step, or None.
        reference: where the update rule comes from.
        demo: one hyper-parameter setting (a read-only mapping of keyword arguments, ``cls(**cls.demo)``)
            with which the optimizer converges, within ``demo_steps`` steps, on every problem of the
            generic convergence test (quadratic, Booth, three-hump camel, Himmelblau from fixed starts;
            Newton on the convex ones). Generic tests read it, so a new optimizer needs no test edit.
            Empty: the defaults.
        demo_steps: the steps ``demo`` needs there.
        explanation: LaTeX lines that show one step with its numbers (the Playground's inspector). Each
            ``$name`` (``string.Template``) is filled with a value of :meth:`explain` or of the step itself:
            ``x`` and ``g`` (after the preamble), ``lr``, ``t`` and ``prev_<state name>`` (the state before
            the step). A line some of whose names are missing is left out, so ``explain`` picks the
            lines by what it returns. Empty: the inspector shows every state array before and after.
    """

    name: ClassVar[str]
    spec: ClassVar[tuple[HyperParam, ...]]
    rule: ClassVar[str]
    state_names: ClassVar[tuple[str, ...]] = ()
    needs_hessian: ClassVar[bool] = False
    torch_class: ClassVar[str | None] = None
    reference: ClassVar[str] = ""
    demo: ClassVar[Mapping[str, Any]] = MappingProxyType({})
    demo_steps: ClassVar[int] = 3000
    explanation: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        *,
        max_grad_norm: float | None = None,
        compress_topk: int | None = None,
        error_feedback: bool = True,
        momentum_correction: float | None = None,
        **hyper: Any,
    ):
        self.hyper: dict[str, Any] = validate_all(self.spec, hyper, self.name)
        self.check(self.hyper)
        self.batch: int = batch_size_of(self.hyper, self.name)
        # which float hyper-parameters are zero in every run / in some runs, decided once here
        # because the update runs thousands of times and its branches depend on it
        numbers = {k: v for k, v in self.hyper.items() if isinstance(v, (float, np.ndarray))}
        self._all_zero = {k: not np.any(v != 0) for k, v in numbers.items()}
        self._some_zero = {k: bool(np.any(v == 0)) for k, v in numbers.items()}
        if max_grad_norm is not None:
            if isinstance(max_grad_norm, bool) or not isinstance(max_grad_norm, (int, float, np.integer, np.floating)):
                raise ValueError(f"{self.name}: max_grad_norm must be a positive number or None")
            if not (math.isfinite(max_grad_norm) and max_grad_norm > 0):
                raise ValueError(f"Invalid max_grad_norm value: {max_grad_norm} (must be a positive number)")
            max_grad_norm = float(max_grad_norm)
        self.max_grad_norm: float | None = max_grad_norm
        self.compression: Compression | None = Compression.of(
            self.name, compress_topk, error_feedback, momentum_correction
        )
        if self.compression is not None and self.needs_hessian:
            raise ValueError(
                f"{self.name} uses the Hessian, not only the gradient: gradient compression (compress_topk) "
                "is for first-order optimizers"
            )
        self._prepare_preamble()
        self.prepare()
        if self.compression is not None:
            self._wrap_with_compression()

    # -- to implement -------------------------------------------------------------------------
    def check(self, hyper: dict[str, Any]) -> None:
        """Cross-parameter validation (e.g. Nesterov needs momentum); raise ``ValueError``."""

    def prepare(self) -> None:
        """Work out, once, the constants ``update`` needs from the validated ``self.hyper`` (optional)."""

    def init(self, x0: np.ndarray, lr: float | np.ndarray) -> State:
        """The state before the first step. ``x0``: (R, dim); ``lr``: float or (R, 1), the first step's lr."""
        raise NotImplementedError

    def update(
        self, x: np.ndarray, g: np.ndarray, state: State, lr: float | np.ndarray, t: int, hess: np.ndarray | None
    ) -> tuple[np.ndarray, State]:
        """One step. ``x``, ``g``: (R, dim); ``lr``: float or (R, 1) for this step; ``t``: 1-based step count.

        Returns the new iterate (R, dim) and the new state.
        """
        raise NotImplementedError

    def explain(
        self, x: np.ndarray, g: np.ndarray, before: State, after: State, lr: float | np.ndarray, t: int, hess
    ) -> dict[str, Any]:
        """The derived quantities of one step, for the inspector (never called by the run loop).

        Arguments as ``update``'s, with ``x`` and ``g`` after :meth:`preamble`, ``before`` the state it
        got and ``after`` the state it returned. Returns arrays with the run axis first (or scalars),
        each shown under its name (bias corrections, m̂, the effective per-coordinate lr, ...); names
        starting with ``_`` are only for the ``explanation`` lines (constants such as β1, text).
        Compute them with the helpers ``update`` uses, so that the numbers shown are the ones used.
        """
        return {}

    # -- the preamble: maximize and weight decay, as torch applies them ----------------------
    def decoupled(self) -> bool:
        """Weight decay shrinks x by (1 - ηλ) (AdamW) instead of adding λx to the gradient (torch's L2)."""
        return bool(self.hyper.get("decoupled_weight_decay", False))

    def _prepare_preamble(self) -> None:
        # decided once here, so that the common case (no maximize, no decay) costs update one check
        self._maximize = bool(self.hyper.get("maximize", False))
        off = "weight_decay" not in self.hyper or self.all_zero("weight_decay")
        self._weight_decay = None if off else self.hyper["weight_decay"]
        self._weight_decay_operand = None if off else operand(self._weight_decay)
        self._decoupled = self.decoupled()
        self.needs_preamble: bool = self._maximize or self._weight_decay is not None

    def preamble(self, x: np.ndarray, g: np.ndarray, lr: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """torch's first lines of every step: maximize negates g; weight decay adds λx to g, or (decoupled) shrinks x.

        An update calls it as ``if self.needs_preamble: x, g = self.preamble(x, g, lr)``: the check
        keeps the call out of the hot loop when neither is on.
        """
        if self._maximize:
            g = -g
        if self._weight_decay is not None:
            if self._decoupled:
                x = x * (1 - lr * self._weight_decay)
            else:
                g = g + self._weight_decay_operand * x
        return x, g

    # -- gradient compression (off: none of this runs) ----------------------------------------
    def _wrap_with_compression(self) -> None:
        """Route this instance's ``init`` and ``update`` through top-k compression.

        The gradient's part of the preamble (maximize, coupled weight decay) moves in front of the
        compression, onto the worker; the wrapped update then keeps only what acts on x (decoupled decay).
        """
        clash = sorted(set(COMPRESSION_STATE_NAMES) & set(self.state_names))
        if clash:
            raise ValueError(f"{self.name}: its state names {clash} are reserved for gradient compression")
        self._local_maximize = self._maximize
        self._local_weight_decay = None if self._decoupled else self._weight_decay_operand
        self._maximize = False
        if not self._decoupled:
            self._weight_decay = self._weight_decay_operand = None
        self.needs_preamble = self._weight_decay is not None
        self._plain_init = self.init
        self.init, self.update = self._compressed_init, self.compressed(self.update)  # type: ignore[method-assign]

    def _compressed_init(self, x0: np.ndarray, lr: float | np.ndarray) -> State:
        return {**self._plain_init(x0, lr), **self.compression.init(x0)}

    def compressed(self, update):
        """``update`` (``update`` or ``update_with_momentum``) behind top-k compression: the worker compresses
        its local gradient, and the update gets what was sent, with its own state apart from compression's."""

        def step(x, g, state, *rest):
            sent, memory = self.compression.compress(self.local_gradient(x, g), state)
            own = {name: value for name, value in state.items() if name not in memory}
            x_new, own = update(x, sent, own, *rest)
            return x_new, {**own, **memory}

        return step

    def local_gradient(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        """The gradient compression sees: g after maximize and coupled weight decay (g itself without compression)."""
        if self.compression is None:
            return g
        if self._local_maximize:
            g = -g
        if self._local_weight_decay is not None:
            g = g + self._local_weight_decay * x
        return g

    def rule_inputs(
        self, x: np.ndarray, g: np.ndarray, after: State, lr: float | np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """x and g as the update rule used them in a step that returned the state ``after`` (the inspector's view).

        That is x and g after :meth:`preamble`; with compression, g is the sparse gradient that was sent.
        """
        x_used, g_used = self.preamble(x, g, lr) if self.needs_preamble else (x, g)
        if self.compression is not None:
            g_used = after[COMPRESSED_GRAD]
        return x_used, g_used

    # -- shared helpers -----------------------------------------------------------------------
    @property
    def lr(self) -> float | np.ndarray:
        """The base learning rate (float, or (R, 1) for a sweep) that a schedule scales."""
        return self.hyper.get("lr", 1.0)

    def h(self, name: str) -> Any:
        return self.hyper[name]

    def all_zero(self, name: str) -> bool:
        """The float hyper-parameter is 0 in every run (its branch of the update can be skipped)."""
        return self._all_zero[name]

    def some_zero(self, name: str) -> bool:
        """The float hyper-parameter is 0 in at least one run (a sweep may mix both branches)."""
        return self._some_zero[name]

    def settings(self) -> dict[str, Any]:
        """Hyper-parameters as plain Python values (arrays as lists), e.g. for export."""
        out: dict[str, Any] = {}
        for key, value in self.hyper.items():
            if isinstance(value, np.ndarray):
                out[key] = value.ravel().tolist()
            elif isinstance(value, tuple):
                out[key] = [v.ravel().tolist() if isinstance(v, np.ndarray) else v for v in value]
            else:
                out[key] = value
        if self.max_grad_norm is not None:
            out["max_grad_norm"] = self.max_grad_norm
        if self.compression is not None:
            out.update(self.compression.settings())
        return out

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.settings().items())
        return f"{type(self).__name__}({shown})"


def operand(value: float | np.ndarray) -> np.ndarray:
    """A constant ready to meet an (R, dim) array: a Python float as a 0-d array, a sweep column as it is.

    Same bits either way; a 0-d array only spares NumPy the conversion of the float at every use.
    """
    return np.asarray(value, dtype=np.float64)


def column(value: float | np.ndarray, rows: int) -> np.ndarray:
    """A scalar or (R, 1) value as an (rows, 1) float array."""
    return np.broadcast_to(np.asarray(value, dtype=np.float64).reshape(-1, 1), (rows, 1)).copy()

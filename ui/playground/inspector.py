"""The per-step inspector: one optimizer's update rule at one step, with the actual numbers in it.

Nothing here knows an update rule. The step is replayed through the optimizer's own code: its
``preamble`` (maximize, weight decay) and ``update`` give g_t, x_t and the new state, its ``explain``
the derived quantities (bias corrections, m̂, the effective per-coordinate lr, Newton's direction ...),
and its class attribute ``explanation`` the LaTeX lines those numbers are written into. An optimizer
without an explanation (a new registry entry) is shown generically: every state before and after,
the step and the effective lr. ``Inspection.values`` holds every number shown, so tests can hold
them against the trajectory's arrays.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from string import Template

import numpy as np

from gdviz.optimizers.base import Optimizer
from gdviz.optimizers.compression import COMPRESSED_GRAD, RESIDUAL, VELOCITY
from gdviz.optimizers.compression import STATE_NAMES as COMPRESSION_STATE_NAMES
from gdviz.run import Trajectory


@dataclass
class Inspection:
    step: int
    lines: list[str] = field(default_factory=list)  # LaTeX, one equation each
    values: dict[str, np.ndarray] = field(default_factory=dict)  # every number shown, by name
    note: str = ""


# -- LaTeX numbers --------------------------------------------------------------------------------
def num(value: float) -> str:
    """A number for LaTeX: 4 significant digits, powers of ten written out."""
    value = float(value)
    if math.isnan(value):
        return r"\text{nan}"
    if math.isinf(value):
        return r"\infty" if value > 0 else r"-\infty"
    if value == 0:
        return "0"
    text = f"{value:.4g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text


def vec(values) -> str:
    """A vector as a row ``(a,\\; b)``; a 1-D problem's single coordinate as a plain number."""
    flat = np.atleast_1d(np.asarray(values, dtype=np.float64)).ravel()
    if flat.size == 1:
        return num(flat[0])
    return r"\left(" + r",\; ".join(num(v) for v in flat) + r"\right)"


def display(tex: str) -> str:
    """A multi-line rule wrapped so that KaTeX's display mode breaks its lines.

    Display math ignores a top-level ``\\\\`` (with a console warning); inside ``gathered`` it breaks
    the line. Line breaks inside an environment of the rule (``cases``) are left alone.
    """
    outside = _ENVIRONMENT.sub("", tex)
    return rf"\begin{{gathered}}{tex}\end{{gathered}}" if r"\\" in outside else tex


_ENVIRONMENT = re.compile(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.DOTALL)


# what each number in Inspection.values is called on screen
LABELS = {
    "x_prev": "x_{t-1}",
    "grad_exact": "∇f(x_{t-1})",
    "g": "g_t (gradient used)",
    "lr": "η_t (scheduled lr)",
    "x_new": "x_t",
    "x_rule": "x_t from the rule",
    "delta": "Δx = x_t − x_{t-1}",
    "effective_lr": "−Δx / g_t (effective lr)",
    "effective_lr_rule": "η_eff from the rule",
    "momentum_buffer": "b_t (momentum buffer)",
    "exp_avg": "m_t (first moment)",
    "exp_avg_sq": "v_t (second moment)",
    "max_exp_avg_sq": "v_t^max (AMSGrad)",
    "bias_correction1": "1 − β1^t",
    "bias_correction2": "1 − β2^t",
    "m_hat": "m̂_t",
    "v_hat": "v̂_t",
    "sum": "s_t (sum of g²)",
    "square_avg": "v_t (average of g²)",
    "grad_avg": "ḡ_t (average of g)",
    "acc_delta": "u_t (average of δ²)",
    "eigenvalues": "eigenvalues of H + λI",
    "newton_direction": "(H + λI)⁻¹ g_t",
    COMPRESSED_GRAD: "c_t (compressed gradient sent)",
    RESIDUAL: "e_t (residual, not sent yet)",
    VELOCITY: "u_t (DGC momentum, kept back)",
    "accumulated": "a_t (what top-k picks from)",
}


# -- entry point ----------------------------------------------------------------------------------
def inspect(trajectory: Trajectory, step: int, run: int = 0) -> Inspection:
    """The update of ``step`` (1-based: from x_{step-1} to x_step) of one run of ``trajectory``."""
    steps = trajectory.steps
    step = int(min(max(step, 1), max(steps, 1)))
    pick = (lambda a: a[:, run]) if trajectory.batched else (lambda a: a)
    xs, grads, lrs = pick(trajectory.xs), pick(trajectory.grads), pick(trajectory.lrs)
    out = Inspection(step)
    if steps == 0:
        out.note = "No steps were taken."
        return out
    diverged = trajectory.diverged_step[run]
    if 0 <= diverged <= step:
        out.note = f"This run diverged at step {diverged}: that update blew up and was not kept, so there is nothing to inspect from there on."
        return out
    opt = stepped_optimizer(trajectory, step)
    x, g, lr = xs[step - 1], grads[step - 1], float(lrs[step - 1])
    exact = trajectory.surface.grad(x)
    values = out.values
    values.update(x_prev=x, grad_exact=exact, g=g, lr=np.float64(lr), x_new=xs[step])
    lines = out.lines
    cycled = ""
    if trajectory.momentums is not None:
        momentum = np.float64(np.ravel(trajectory.momentums[step - 1])[0])
        values["cycled_momentum"] = momentum
        symbol = r"\beta_1" if "betas" in opt.hyper else r"\mu"
        cycled = rf", \quad {symbol} = {num(momentum)} \;(\text{{cycled by the schedule}})"
    lines.append(rf"t = {step}, \quad \eta_t = {num(lr)}{cycled}, \quad x_{{t-1}} = {vec(x)}")
    if trajectory.noise > 0 or opt.max_grad_norm is not None:
        what = "noise" if opt.max_grad_norm is None else "noise, clipping" if trajectory.noise > 0 else "clipping"
        lines.append(rf"\nabla f(x_{{t-1}}) = {vec(exact)}, \quad g_t = {vec(g)} \;(\text{{with {what}}})")
    else:
        lines.append(rf"g_t = \nabla f(x_{{t-1}}) = {vec(g)}")
    with np.errstate(all="ignore"):  # a nan shown as nan beats a RuntimeWarning in the server log
        replay = _replay(trajectory, opt, step, run)
    lines.extend(_preamble_lines(opt, replay, run, x, g))
    if opt.compression is not None:
        lines.extend(_compression_lines(opt, replay, values))
    if opt.explanation:
        lines.extend(_explanation_lines(opt.explanation, replay.namespace))
    else:
        for name, after in replay.after.items():
            if name in COMPRESSION_STATE_NAMES:
                continue  # shown by the compression lines
            was = replay.namespace[f"prev_{name}"]
            lines.append(rf"\text{{{name.replace('_', ' ')}}}_t = {vec(after)} \quad (\text{{was }} {vec(was)})")
            values[name] = after
    values.update(replay.shown)
    values["x_rule"] = replay.x_new
    delta = xs[step] - x
    with np.errstate(divide="ignore", invalid="ignore"):
        effective = np.where(g != 0, -delta / np.where(g != 0, g, 1.0), np.nan)
    values.update(delta=delta, effective_lr=effective)
    lines.append(rf"x_t = x_{{t-1}} + \Delta x = {vec(x)} + {vec(delta)} = {vec(xs[step])}")
    lines.append(rf"-\Delta x \oslash g_t = {vec(effective)} \quad (\text{{the lr each coordinate effectively got}})")
    return out


# -- the effective lr over a race, for the map --------------------------------------------------------
def effective_lrs(trajectory: Trajectory, steps) -> np.ndarray | None:
    """(len(steps), R, dim) the per-coordinate effective lr η_eff that each of ``steps`` used, every run.

    It is the optimizer's own ``explain()`` quantity (Adam: η/(√v̂ + ε), RMSprop: η/(√v + ε), Adagrad:
    η/(√s + ε), Adadelta: η·√(u + ε)/√(v + ε)), computed from the states the race recorded before and
    after the step, with the optimizer as it stepped (:func:`stepped_optimizer`), so the map's boxes show
    the inspector's numbers. Step 0 (no step yet) is nan. None when the optimizer explains no
    effective lr (plain or momentum SGD, Newton, ...) or the trajectory kept no per-step states.
    """
    total = trajectory.steps
    recorded = all(np.shape(history)[0] == total + 1 for history in trajectory.states.values())
    if total == 0 or not trajectory.states or not recorded or np.shape(trajectory.lrs)[0] != total:
        return None

    def batch(a: np.ndarray) -> np.ndarray:  # (R, ...) with the run axis even for a single run
        return a if trajectory.batched else a[:, None]

    xs, grads = batch(trajectory.xs), batch(trajectory.grads)
    out = np.full((len(steps), *xs.shape[1:]), np.nan)
    for row, step in enumerate(steps):
        step = int(step)
        if not 1 <= step <= total:
            continue
        opt = stepped_optimizer(trajectory, step)
        x, g = xs[step - 1], grads[step - 1]
        lr = np.reshape(trajectory.lrs[step - 1], (-1, 1))  # (R, 1), as a schedule gives it
        before = {name: batch(history)[step - 1] for name, history in trajectory.states.items()}
        after = {name: batch(history)[step] for name, history in trajectory.states.items()}
        hess = trajectory.surface.hessian(x) if opt.needs_hessian else None
        with np.errstate(all="ignore"):
            x_used, g_used = opt.rule_inputs(x, g, after, lr)
            shown = opt.explain(x_used, g_used, before, after, lr, step, hess)
        if "effective_lr_rule" not in shown:
            return None
        out[row] = np.broadcast_to(np.asarray(shown["effective_lr_rule"], dtype=np.float64), out.shape[1:])
    return out


# -- the replayed step ----------------------------------------------------------------------------
@dataclass
class _Replay:
    """One run's step as the optimizer's own code computes it."""

    x_new: np.ndarray  # x_t from ``update``
    after: dict[str, np.ndarray]  # the state ``update`` returned
    x: np.ndarray  # x_{t-1} and g_t after the preamble (with compression: g_t the gradient sent, c_t)
    g: np.ndarray
    g_local: np.ndarray  # with compression, g_t after maximize and weight decay, before top-k
    before: dict[str, np.ndarray]  # the state the step started from
    shown: dict[str, np.ndarray]  # what ``explain`` returned to show, by name
    namespace: dict[str, object]  # everything the explanation lines may name


def stepped_optimizer(trajectory: Trajectory, step: int) -> Optimizer:
    """The trajectory's optimizer as it took ``step``: with the momentum (β1) a cycling schedule set for it.

    A step with a cycled momentum μ_t is the step of the same optimizer built with momentum μ_t (β1 = μ_t):
    each update reads only the current value and its state (tests/test_momentum_cycling.py holds the
    two to the bit), so replaying and explaining that optimizer shows the numbers the race used.
    """
    opt = trajectory.optimizer
    if trajectory.momentums is None:
        return opt
    momentum = float(np.ravel(trajectory.momentums[step - 1])[0])  # one cycle for every run
    hyper = opt.settings()
    if "betas" in hyper:
        hyper["betas"] = [momentum, hyper["betas"][1]]
    else:
        hyper["momentum"] = momentum
        if momentum == 0 and hyper.get("nesterov"):
            hyper["nesterov"] = False  # torch's SGD at μ = 0 takes the plain step, Nesterov or not
    return type(opt)(**hyper)


def _replay(trajectory: Trajectory, opt: Optimizer, step: int, run: int) -> _Replay:
    """Step ``step`` of every run of the trajectory through ``preamble``, ``update`` and ``explain``; run ``run``'s numbers.

    The whole batch goes through, as in the race: a swept hyper-parameter is an (R, 1) column that
    only fits all R runs. ``opt`` is :func:`stepped_optimizer`.
    """

    def batch(a: np.ndarray) -> np.ndarray:  # (R, ...) with the run axis even for a single run
        return a if trajectory.batched else a[:, None]

    x, g = batch(trajectory.xs)[step - 1], batch(trajectory.grads)[step - 1]
    lr = np.reshape(trajectory.lrs[step - 1], (-1, 1))  # (R, 1), as a schedule gives it
    before = {name: batch(history)[step - 1] for name, history in trajectory.states.items()}
    hess = trajectory.surface.hessian(x) if opt.needs_hessian else None
    x_new, after = opt.update(x, g, before, lr, step, hess)
    x_used, g_used = opt.rule_inputs(x, g, after, lr)
    explained = {
        name: _row(value, run) for name, value in opt.explain(x_used, g_used, before, after, lr, step, hess).items()
    }
    namespace: dict[str, object] = {"x": x_used[run], "g": g_used[run], "lr": lr[run], "t": step}
    namespace.update({f"prev_{name}": value[run] for name, value in before.items()})
    namespace.update(explained)
    return _Replay(
        x_new=x_new[run],
        after={name: value[run] for name, value in after.items()},
        x=x_used[run],
        g=g_used[run],
        g_local=opt.local_gradient(x, g)[run],
        before={name: value[run] for name, value in before.items()},
        shown={name: value for name, value in explained.items() if not name.startswith("_")},
        namespace=namespace,
    )


def _row(value, run: int):
    """One run's entry of an explained value: arrays carry the run axis first, scalars and text are shared."""
    return value[run] if isinstance(value, np.ndarray) and value.ndim >= 1 else value


def _preamble_lines(opt: Optimizer, replay: _Replay, run: int, x: np.ndarray, g: np.ndarray) -> list[str]:
    """The lines of torch's preamble, when it changed x or g: maximize, then weight decay.

    With compression, maximize and a coupled weight decay act on the worker's gradient, before top-k.
    """
    if not opt.needs_preamble and opt.compression is None:
        return []
    lines = []
    if opt.hyper.get("maximize", False):
        g = -g
        lines.append(rf"\text{{maximize: }} g_t \leftarrow -g_t = {vec(g)}")
    decay = np.ravel(_row(np.asarray(opt.hyper.get("weight_decay", 0.0)), run))[0].item()  # a sweep: (R, 1)
    if decay:
        if opt.decoupled():
            lines.append(rf"x_{{t-1}} \leftarrow (1-\eta\lambda)\,x_{{t-1}} = {vec(replay.x)}")
        else:
            decayed = replay.g if opt.compression is None else replay.g_local
            lines.append(
                rf"g_t \leftarrow g_t + \lambda x_{{t-1}} = {vec(g)} + {num(decay)} \cdot {vec(x)} = {vec(decayed)}"
            )
    return lines


def _compression_lines(opt: Optimizer, replay: _Replay, values: dict[str, np.ndarray]) -> list[str]:
    """Top-k compression of g_t: what it picked from, what it sent and what it kept back (into ``values`` too)."""
    compression = opt.compression
    one = {name: value[None] for name, value in replay.before.items()}  # the run's state with its run axis
    accumulated, velocity = (
        None if value is None else value[0] for value in compression.accumulated(replay.g_local[None], one)
    )
    sent = replay.after[COMPRESSED_GRAD]
    top = rf"\operatorname{{top}}_{{{compression.k}}}"
    values.update({COMPRESSED_GRAD: sent, "accumulated": accumulated})
    lines = []
    if velocity is not None:
        before_u, before_v = replay.before[VELOCITY], replay.before[RESIDUAL]
        lines.extend(
            (
                rf"\text{{DGC: }} u_t = m\,u_{{t-1}} + g_t = {num(compression.momentum)} \cdot {vec(before_u)} + "
                rf"{vec(replay.g_local)} = {vec(velocity)}",
                rf"v_t = v_{{t-1}} + u_t = {vec(before_v)} + {vec(velocity)} = {vec(accumulated)}",
            )
        )
        picked = "v_t"
    elif compression.error_feedback:
        lines.append(
            rf"a_t = e_{{t-1}} + g_t = {vec(replay.before[RESIDUAL])} + {vec(replay.g_local)} = {vec(accumulated)}"
        )
        picked = "a_t"
    else:
        picked = "g_t"
    lines.append(rf"c_t = {top}({picked}) = {vec(sent)} \quad (\text{{the gradient sent}})")
    if compression.error_feedback:
        residual = replay.after[RESIDUAL]
        values[RESIDUAL] = residual
        kept = "v_t \\leftarrow v_t" if velocity is not None else "e_t = a_t"
        lines.append(rf"{kept} - c_t = {vec(residual)} \quad (\text{{kept for the next steps}})")
    else:
        lines.append(rf"g_t - c_t = {vec(replay.g_local - sent)} \quad (\text{{dropped: no error feedback}})")
    if velocity is not None:
        values[VELOCITY] = replay.after[VELOCITY]
        lines.append(rf"u_t \leftarrow u_t \text{{ where not sent, 0 where sent}} = {vec(replay.after[VELOCITY])}")
    lines.append(rf"g_t \leftarrow c_t = {vec(sent)} \quad (\text{{what the update rule below gets}})")
    return lines


def _explanation_lines(templates: tuple[str, ...], namespace: dict[str, object]) -> list[str]:
    """Each template with its numbers filled in; a template naming something not there is left out."""
    shown = {name: _tex(value) for name, value in namespace.items()}
    return [
        Template(line).substitute(shown)
        for line in templates
        if all(name in shown for name in Template(line).get_identifiers())
    ]


def _tex(value) -> str:
    """A value for a line: text as it is, a matrix as a pmatrix, numbers and vectors as ``vec`` writes them."""
    if isinstance(value, str):
        return value
    array = np.asarray(value, dtype=np.float64)
    if array.ndim == 2:
        rows = r" \\ ".join(" & ".join(num(v) for v in row) for row in array)
        return rf"\begin{{pmatrix}} {rows} \end{{pmatrix}}"
    return vec(array)

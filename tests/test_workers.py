"""Heavy computations move to worker processes, with their budget, and give the same results (issue 17).

ui/workers.py: a budgeted call computes here until the script run is heavy, then runs again in a worker
process at a low CPU priority, so that it does not hold the server's interpreter while other visitors wait.
These tests drive real worker processes; the server's side of the budget (which needs a running app) is a
Budget whose ``may_move`` / ``is_heavy`` / ``visitor_gone`` are set by the test.
benchmarks/load.py --attackers measures what it buys on a real server.
"""

from __future__ import annotations

import math
import os
import pickle
import runpy
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.runtime.scriptrunner import StopException

import gdviz
from ui import work, workers
from ui.lab import basins, escape
from ui.playground import scrub, simulate
from ui.playground.scenario import Scenario
from ui.state.entries import entry
from ui.work import Budget, Lanes, Stopped

ROOT = Path(__file__).resolve().parents[1]


# -- what the workers run (module level: a worker imports this module to find them) ---------------------------
def pid_and_race(steps: int, should_stop=None):
    race = gdviz.race(
        gdviz.surface("rosenbrock"),
        [gdviz.optimizer("Newton", lr=0.5), gdviz.optimizer("Adam", lr=0.05)],
        start=np.array([[-1.5, 2.0], [1.2, -0.5]]),
        steps=steps,
        should_stop=should_stop,
    )
    return os.getpid(), [t.xs for t in race]


def spin(should_stop=None) -> tuple[int, str | None]:
    """Asks its budget until it says stop; returns (its process, the reason)."""
    while not should_stop():
        sum(range(2000))
    return os.getpid(), getattr(should_stop, "reason", None)


CALLED_HERE: list[int] = []  # in a worker, the worker's own list


def recorded(should_stop=None) -> int:
    CALLED_HERE.append(os.getpid())
    return os.getpid()


def fails(should_stop=None):
    raise ValueError("f is not finite at the start point (0, 0)")


def stops(should_stop=None):
    raise Stopped({"xs": np.arange(3.0)}, 2, 5)


def unpicklable_result(should_stop=None):
    return os.getpid(), (lambda: None)


class Odd(Exception):
    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def unpicklable_error(should_stop=None):
    raise Odd("an error whose class does not unpickle", 3)


def niceness(should_stop=None) -> tuple[int, int]:
    return os.getpid(), os.nice(0)


def slow_warm_up() -> None:
    time.sleep(20.0)


def dies_in_a_worker(server_pid: int, should_stop=None) -> int:
    if os.getpid() != server_pid:
        os._exit(1)  # a worker killed (for memory, say) while it computes
    return os.getpid()


# -- helpers --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module", autouse=True)
def _pool():
    if not workers.enabled():
        pytest.skip("GDVIZ_WORKERS=0: no worker processes")
    yield
    workers.POOL.reset()


def occupy_every_worker(seconds: float) -> list[threading.Thread]:
    """Every worker spinning for ``seconds`` of CPU (each on a thread here, waiting for it); to be joined."""
    busy = [
        threading.Thread(target=workers.offloaded, args=(spin,), kwargs={"should_stop": server_budget(seconds)})
        for _ in range(workers.WORKERS)
    ]
    for thread in busy:
        thread.start()
    time.sleep(0.5)  # each has reached its worker
    return busy


def server_budget(seconds: float = 10.0, heavy=lambda: True, gone=lambda: False) -> Budget:
    """A Budget as a running server's script run has it: its work may move, and it is heavy when ``heavy()``."""
    budget = Budget(seconds)
    budget.may_move = lambda: True
    budget.is_heavy = heavy
    budget.visitor_gone = gone
    return budget


# -- the tests ------------------------------------------------------------------------------------------------
def test_a_heavy_call_runs_in_a_worker_and_gives_the_same_result_bit_for_bit():
    here_pid, here = pid_and_race(300)
    there_pid, there = workers.offloaded(pid_and_race, 300, should_stop=server_budget())
    assert here_pid == os.getpid() and there_pid != os.getpid()
    for a, b in zip(here, there, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_call_that_becomes_heavy_midway_is_computed_again_in_a_worker():
    questions = []

    def heavy() -> bool:  # the run crosses its free CPU at the budget's 20th question
        questions.append(1)
        return len(questions) > 20

    there_pid, there = workers.offloaded(pid_and_race, 300, should_stop=server_budget(heavy=heavy))
    assert there_pid != os.getpid()
    assert 20 < len(questions) < 40  # it started here, and moved at the first question after the 20th
    np.testing.assert_array_equal(there[0], pid_and_race(300)[1][0])


def test_a_cheap_call_and_a_call_outside_a_server_stay_here():
    assert workers.offloaded(pid_and_race, 20, should_stop=server_budget(heavy=lambda: False))[0] == os.getpid()
    assert Budget(10.0).may_move() is False  # no session: a test, a notebook, a benchmark
    assert workers.offloaded(pid_and_race, 20, should_stop=Budget(10.0))[0] == os.getpid()
    assert workers.offloaded(pid_and_race, 20)[0] == os.getpid()  # no budget at all


def test_work_the_page_estimated_heavy_goes_to_a_worker_without_a_try_here():
    def budget(expected: float) -> Budget:
        made = Budget(10.0, expected=expected)
        made.may_move = lambda: True
        return made

    CALLED_HERE.clear()
    with work.LANES.script_run():  # a script run of a server, with its CPU so far near 0
        assert workers.offloaded(recorded, should_stop=budget(work.HEAVY_AFTER_SECONDS / 10)) == os.getpid()
        assert CALLED_HERE == [os.getpid()]  # cheap by its estimate: computed here, as before
    CALLED_HERE.clear()
    with work.LANES.script_run():
        assert workers.offloaded(recorded, should_stop=budget(2 * work.HEAVY_AFTER_SECONDS)) != os.getpid()
        assert CALLED_HERE == []  # not even started here


def test_the_playground_and_the_lab_pass_their_probes_estimate_to_the_budget(monkeypatch):
    from ui.lab import stability

    seen = {}
    monkeypatch.setattr(simulate, "_step_cpu_seconds", lambda *a: 1e-3)
    monkeypatch.setattr(
        simulate, "_race_arrays", lambda key, scenario, budget: seen.setdefault("race", budget) and 1 / 0
    )
    scenario = Scenario(surface="rosenbrock", optimizers=(entry("Adam", lr=0.05),), steps=400)
    with pytest.raises(ZeroDivisionError):
        simulate.simulate(scenario)
    assert seen["race"].expected == pytest.approx(1e-3 * 400)
    monkeypatch.setattr(stability, "stability_step_seconds", lambda *a: 2e-3)
    monkeypatch.setattr(stability, "stability_rows", lambda *a: seen.setdefault("lab", a[-1]) and 1 / 0)
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / "landscape.py"), default_timeout=60)
    at.query_params.update({"view": "stability", "st.steps": "300"})
    at.run()
    assert seen["lab"].expected == pytest.approx(2e-3 * 300)
    # the regression's closed form: its cost model's estimate (torch's solve asks no question: it cannot move later)
    pytest.importorskip("torch")
    from gdviz.regression.cost import lstsq_seconds
    from ui.regression import compute as rc

    monkeypatch.setattr(rc, "offloaded", lambda fn, data, should_stop: seen.setdefault("closed", should_stop))
    X = np.zeros((5000, 40), dtype=np.float32)
    rc.closed_form.clear()
    rc.closed_form("estimate-test", rc.Arrays(X, np.zeros(5000, dtype=np.float32)))
    rc.closed_form.clear()  # (what it cached is the test's stand-in)
    assert seen["closed"].expected == lstsq_seconds(5000, 40) > 0


def test_the_budget_goes_along_and_the_worker_cpu_counts_against_it():
    budget = server_budget(seconds=0.3)
    cpu_deadline = budget.cpu_deadline
    start = time.monotonic()
    pid, reason = workers.offloaded(spin, should_stop=budget)
    assert pid != os.getpid() and reason == "time" and budget.reason == "time"
    assert time.monotonic() - start < 0.3 * work.WALL_FACTOR + 2.0
    # the worker used (about) the 0.3 s the budget had left; here it is as if this thread had used them
    assert 0.25 < cpu_deadline - budget.cpu_deadline < 0.6
    assert budget()  # the budget is spent


def test_a_visitor_who_leaves_stops_the_worker_at_its_next_question_and_the_script_run():
    left_at = time.monotonic() + 0.4
    budget = server_budget(seconds=30.0, gone=lambda: time.monotonic() > left_at)
    with pytest.raises(StopException):  # nobody will see the page: the run ends, as st.stop() ends it
        workers.offloaded(spin, should_stop=budget)
    assert budget.reason == "gone" and time.monotonic() - left_at < 0.5  # at once, not when the worker stops
    while workers.POOL.slots_in_use() and time.monotonic() - left_at < 10.0:
        time.sleep(0.05)
    assert workers.POOL.slots_in_use() == 0 and time.monotonic() - left_at < 5.0  # the worker stopped too, not
    # after the 30 s its budget allowed (within seconds even on a busy machine: it asks at every few steps)


def test_a_departed_visitors_queued_computation_does_not_wait_for_its_turn():
    busy = occupy_every_worker(3.0)
    left_at = time.monotonic() + 0.2
    budget = server_budget(seconds=30.0, gone=lambda: time.monotonic() > left_at)
    with pytest.raises(StopException):
        workers.offloaded(spin, should_stop=budget)
    assert time.monotonic() - left_at < 0.5 and budget.reason == "gone"  # not after the workers' 3 s
    assert workers.POOL.slots_in_use() == workers.WORKERS + 1  # its task keeps its flag until it ends
    for thread in busy:
        thread.join()  # (each worker's 3 s of CPU: up to WALL_FACTOR times that on a busy machine)
    joined = time.monotonic()
    while workers.POOL.slots_in_use() and time.monotonic() - joined < 5.0:
        time.sleep(0.05)
    assert workers.POOL.slots_in_use() == 0  # the departed task ran at its turn, stopped at once, freed its slot


def test_a_budget_asked_after_its_visitor_left_ends_the_script_run():
    budget = server_budget(gone=lambda: True)
    with pytest.raises(StopException):
        budget()
    assert budget.reason == "gone"


def test_errors_and_stops_come_back_as_raised():
    with pytest.raises(ValueError, match="not finite at the start point"):
        workers.offloaded(fails, should_stop=server_budget())
    with pytest.raises(Stopped) as stopped:
        workers.offloaded(stops, should_stop=server_budget())
    assert (stopped.value.done, stopped.value.wanted) == (2, 5)
    np.testing.assert_array_equal(stopped.value.result["xs"], np.arange(3.0))


def test_what_cannot_make_the_trip_back_is_computed_here_or_said_plainly():
    pid, _ = workers.offloaded(unpicklable_result, should_stop=server_budget())
    assert pid == os.getpid()  # the worker's result did not pickle: computed here after all
    with pytest.raises(RuntimeError, match="Odd: an error whose class does not unpickle"):  # and the pool lives on
        workers.offloaded(unpicklable_error, should_stop=server_budget())


def test_workers_run_at_a_lower_cpu_priority_than_the_server():
    pid, nice = workers.offloaded(niceness, should_stop=server_budget())
    assert pid != os.getpid()
    assert nice >= min(19, os.nice(0) + workers.NICENESS) or nice == 19


def test_a_worker_that_dies_leaves_the_call_to_this_process_and_the_next_gets_new_workers():
    assert workers.offloaded(dies_in_a_worker, os.getpid(), should_stop=server_budget()) == os.getpid()
    assert workers.offloaded(niceness, should_stop=server_budget())[0] != os.getpid()


def test_waiting_for_a_worker_the_run_counts_as_heavy(monkeypatch):
    # interactive runs do not wait for it, and heavy work in this process does not pause for it
    lanes = Lanes()
    monkeypatch.setattr(work, "LANES", lanes)
    with lanes.script_run():
        assert lanes.interactive_running()
        workers.offloaded(niceness, should_stop=server_budget())
        assert lanes.heavy_here() and not lanes.interactive_running()


def test_the_lab_and_the_playground_compute_the_same_in_a_worker():
    newton = ("Newton", (("lr", 0.5),))
    here = basins._basins("goldstein_price", newton, 24, 60, 0.01)
    there = workers.offloaded(basins._basins, "goldstein_price", newton, 24, 60, 0.01, should_stop=server_budget())
    np.testing.assert_array_equal(here.labels, there.labels)
    np.testing.assert_array_equal(here.final_loss, there.final_loss)
    sgd = ("SGD", (("lr", 0.01),))
    here = escape._restarts("local_trap", sgd, 12, 80, 3)
    there = workers.offloaded(escape._restarts, "local_trap", sgd, 12, 80, 3, should_stop=server_budget())
    np.testing.assert_array_equal(here.xs, there.xs)
    # a typed formula, several starts, Newton and Adam: the worker parses it and builds the engine objects itself
    scenario = Scenario(
        surface="custom",
        formula="tan(x/5)^2 + (y - x^2)^2/10",
        optimizers=(entry("Newton", lr=0.5), entry("Adam", lr=0.05)),
        start=(1.0, 1.5),
        more_starts=((0.5, -0.5),),
        steps=200,
    )
    here = simulate.race_arrays_of(scenario)
    there = workers.offloaded(simulate.race_arrays_of, scenario, should_stop=server_budget())
    for a, b in zip(here, there, strict=True):
        assert a.keys() == b.keys()
        for name in a.keys() - {"seconds", "states"}:  # (the time it took)
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)
        assert a["states"].keys() == b["states"].keys()
        for name in a["states"]:  # the optimizer's state (Adam's moments) at every step
            np.testing.assert_array_equal(a["states"][name], b["states"][name], err_msg=name)


def test_a_scrubbers_sweep_is_the_same_in_a_worker():
    # a racer with its own schedule and momentum (two knobs), from two starts: built from the scenario there
    scenario = Scenario(
        surface="rosenbrock",
        optimizers=(
            entry("Adam", lr=0.05),
            entry("SGD", lr=1e-3, momentum=0.9, schedule=("StepLR", {"step_size": 20})),
        ),
        start=(-1.5, 2.0),
        more_starts=((1.2, -0.5),),
        steps=80,
    )
    start = np.array([[-1.5, 2.0], [1.2, -0.5]])
    args = (scenario, 1, [1e-4, 5e-4, 1e-3], [0.0, 0.9], start, 80)
    here, there = scrub.sweep_of(*args), workers.offloaded(scrub.sweep_of, *args, should_stop=server_budget())
    np.testing.assert_array_equal(here.xs, there.xs)
    np.testing.assert_array_equal(here.diverged_at, there.diverged_at)
    race, _ = simulate.simulate(scenario)  # the sweep's cell at the racer's own setting is the race's path
    np.testing.assert_array_equal(there.xs[1, 2], race.trajectories[1].xs)  # β = 0.9, η = 1e-3


def reports_progress(should_stop=None, progress=None) -> int:
    for k in range(1, 6):
        progress(k / 5, f"step {k} of 5 · η ≈ 0.1")
        time.sleep(0.12)  # the server looks every few hundredths of a second
    return os.getpid()


def test_progress_from_a_worker_reaches_the_callback_in_the_server():
    seen: list[tuple[float, str]] = []
    pid = workers.offloaded(reports_progress, should_stop=server_budget(), progress=lambda f, t: seen.append((f, t)))
    assert pid != os.getpid()
    assert len(seen) >= 3 and seen == sorted(seen) and seen[-1][0] >= 0.8
    assert all(text.startswith("step ") and text.endswith("η ≈ 0.1") for _, text in seen)  # utf-8 intact


def test_the_torch_pages_train_the_same_in_a_worker_and_their_cpu_counts_for_the_page():
    pytest.importorskip("torch")
    from ui.network import compute as net
    from ui.network.fields import FIELDS
    from ui.network.view import setting_of
    from ui.regression import compute as rc
    from ui.regression.budget import PageBudget
    from ui.state.fields import defaults

    recipe = (500, 3, 2.0, 1.0, 2.0, 10.0, 4)
    X, y = rc.synthetic(*recipe)
    data = rc.Arrays(X, y, recipe)  # goes to the worker as its recipe, and the worker makes the same arrays
    assert len(pickle.dumps(data)) < 500 < X.nbytes and len(pickle.dumps(rc.Arrays(X, y))) > X.nbytes  # an upload whole
    settings = rc.frozen({"optimizer": "Adam", "lr": 0.05, "epochs": 30, "batch_size": 50, "seed": 2})
    here = rc.train_run(data, settings)
    page = PageBudget(30.0)
    left = page.left()
    budget = page.budget(10.0)
    budget.may_move, budget.is_heavy = (lambda: True), (lambda: True)
    there = workers.offloaded(rc.train_run, data, settings, should_stop=budget, progress=lambda f, t: None)
    np.testing.assert_array_equal(here.losses, there.losses)
    np.testing.assert_array_equal(here.weight, there.weight)
    assert budget.elsewhere > 0 and page.left() <= left - budget.elsewhere
    here, there = rc.solve_run(data), workers.offloaded(rc.solve_run, rc.Arrays(X, y), should_stop=server_budget())
    np.testing.assert_array_equal(here.weight, there.weight)
    # the closed form's budget is infinite (its caps bound it), but its CPU in a worker counts for the page too
    solving = page.track(server_budget(seconds=math.inf))
    left = page.left()
    workers.offloaded(rc.solve_run, data, should_stop=solving)
    assert solving.elsewhere > 0 and page.left() <= left - solving.elsewhere
    setting, _ = setting_of(defaults(FIELDS) | {"n": 60, "width": 8, "depth": 1, "steps": 40, "grid": 11})
    here, there = net.train_race(setting), workers.offloaded(net.train_race, setting, should_stop=server_budget())
    for a, b in zip(here.weights, there.weights, strict=True):
        np.testing.assert_array_equal(a, b)
    # the landscape under the paths and the network's function at each frame
    here = net.picture_of(setting, there.done, there)
    there = workers.offloaded(net.picture_of, setting, there.done, there, should_stop=server_budget())
    np.testing.assert_array_equal(here.view.losses, there.view.losses)
    for a, b in zip(here.outputs, there.outputs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_workers_warm_up_runs_what_app_py_names():
    from app import WORKER_WARM_UP

    pid = workers.POOL.executor().submit(workers._warm, WORKER_WARM_UP).result(timeout=120)
    assert pid != os.getpid()


def test_a_computation_does_not_wait_for_a_workers_warm_up():
    # the warm-up runs beside the tasks: at a worker's low priority on a busy machine it took minutes, and the
    # first visitor's race, queued behind it, waited as long (a browser test timed out in CI)
    pool = workers._Pool()
    try:
        pool.start((slow_warm_up,))
        begun = time.monotonic()
        pid = pool.executor().submit(os.getpid).result(timeout=60)
        assert pid != os.getpid() and time.monotonic() - begun < 15.0
    finally:
        pool.reset()


def test_a_computation_no_worker_began_runs_here_after_the_wait(monkeypatch):
    # a task handed to the workers' queue counts as "running" for its future before any worker begins it: the
    # wait must look at whether a worker began it (otherwise a computation queued behind a busy worker waited
    # for it however long it took, instead of LANE_WAIT_SECONDS)
    monkeypatch.setattr(work, "LANE_WAIT_SECONDS", 0.5)
    busy = occupy_every_worker(4.0)
    CALLED_HERE.clear()
    begun = time.monotonic()
    assert workers.offloaded(recorded, should_stop=server_budget()) == os.getpid()
    assert CALLED_HERE == [os.getpid()] and time.monotonic() - begun < 3.0  # here, not after the workers' 4 s
    for thread in busy:
        thread.join()


def test_back_from_a_worker_a_heavy_run_lets_an_interactive_run_finish_first(monkeypatch):
    # the caller builds its figures next, holding the interpreter: a visitor opening a page goes first
    import threading

    workers.offloaded(niceness, should_stop=server_budget())  # a warm worker: its answer takes milliseconds
    lanes = Lanes()
    monkeypatch.setattr(work, "LANES", lanes)
    started, order = threading.Event(), []

    def visitor():
        with lanes.script_run():  # an interactive run (a cheap page) that takes 0.2 s
            started.set()
            time.sleep(0.2)
            order.append("interactive run done")

    with lanes.script_run():
        thread = threading.Thread(target=visitor)
        thread.start()
        started.wait(5)
        workers.offloaded(niceness, should_stop=server_budget())
        order.append("heavy run goes on")
    thread.join(5)
    assert order == ["interactive run done", "heavy run goes on"]


def test_a_worker_ends_when_its_server_dies_without_shutting_it_down(tmp_path):
    import subprocess
    import sys

    code = (
        "import os\nfrom ui import workers\n"
        "print(workers.POOL.executor().submit(os.getpid).result(timeout=120), flush=True)\n"
        "os._exit(0)  # killed: no shutdown of the pool\n"
    )
    out = tmp_path / "worker.pid"
    with out.open("w") as told:  # a file, not a pipe: a worker left running would hold a pipe open
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, stdout=told, stderr=subprocess.DEVNULL, timeout=180)
    worker = int(out.read_text().split()[-1])

    def running() -> bool:
        try:
            state = Path(f"/proc/{worker}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        return state != "Z"  # (a zombie has ended; its new parent reaps it when it will)

    deadline = time.monotonic() + 10
    while running() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not running(), f"worker {worker} still running after its server died"


def test_the_workers_setting_is_a_count_or_the_default():
    default = workers._default_workers()
    assert 1 <= default <= 4
    assert workers._workers_setting(None) == default
    assert workers._workers_setting("0") == 0 and workers._workers_setting("3") == 3
    assert workers._workers_setting("-2") == 0
    assert workers._workers_setting("many") == default  # said in the log, not a crash at start


def test_a_worker_importing_app_py_runs_no_page(monkeypatch):
    # multiprocessing's spawn imports the server's __main__ (app.py, as Streamlit runs it) as __mp_main__
    def no_page(*args, **kwargs):
        raise AssertionError("a page ran in a worker")

    monkeypatch.setattr(st, "set_page_config", no_page)
    monkeypatch.setattr(st, "navigation", no_page)
    runpy.run_path(str(ROOT / "app.py"), run_name="__mp_main__")
    with pytest.raises(AssertionError, match="a page ran"):
        runpy.run_path(str(ROOT / "app.py"), run_name="__main__")

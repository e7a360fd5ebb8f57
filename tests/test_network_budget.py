"""The Networks page's heaviest links (issue 16, with issue 17's rule: a page's heaviest link costs at most a few
seconds of server CPU, and work past the budget stops with a notice instead of running long).

The links are benchmarks/load.py's :func:`network_heaviest_values`, which its load test's attackers send too:
every cap at its maximum (the work caps refuse it before anything runs), and the two heaviest links the caps
accept (the widest, deepest net on the largest grid; the most steps on the largest grid), with four racers.
CPU time (time.process_time, every thread of this process, the computations kept in it rather than moved to a
worker process) around the page's run is what the assertions bound, with margins for a shared machine. Measured
on the busy 2-core machine: refused 0.2 s; widest and deepest (814 samples, 57 steps: the picture's estimate is
the cap) 2.1-2.4 s; most steps 3.3 s (its 1,000 steps in about 2.9 s: within the 3.5 s training budget now that
torch's warm-up comes before it; it stopped at about 760 steps before).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.apptest import APP, ok
from tests.torch_reference import SKIP_REASON
from ui import limits

pytest.importorskip("torch", reason=f"the page trains with torch: {SKIP_REASON}")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from load import network_heaviest_values  # noqa: E402

from ui.network.fields import FIELDS  # noqa: E402
from ui.state.fields import to_query  # noqa: E402

# what the page may spend beyond its training budget: the picture (its cost model's estimate at most
# NETWORK_MAX_PICTURE_SECONDS) and the figure, with a margin for the shared machine and the model's error
PICTURE_SECONDS = 4.0


def heaviest(name: str, seed: int) -> dict[str, str]:
    values = network_heaviest_values()[name]
    return to_query(FIELDS, values) | {"seed": str(seed)}  # a seed no other test uses: nothing cached answers


def cpu_of_visit(query: dict[str, str]) -> tuple[float, AppTest]:
    """CPU seconds of this process while the Networks page runs ``query`` (the app's first page not counted)."""
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.query_params.clear()
    at.switch_page("pages/network.py")
    for key, value in query.items():
        at.query_params[key] = value
    cpu = time.process_time()
    at.run()
    return time.process_time() - cpu, at


@pytest.fixture(scope="module", autouse=True)
def in_this_process():
    """Every computation in this process, where time.process_time sees it: a heavy one would otherwise move to a
    worker process (ui/workers.py), whose CPU this process's clock leaves out."""
    from ui import workers

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(workers, "WORKERS", 0)
        yield


@pytest.fixture(scope="module", autouse=True)
def warm(in_this_process):
    """torch's import and first kernels are the server's once, not each link's."""
    spent, at = cpu_of_visit({"n": "20", "width": "2", "depth": "1", "steps": "2", "grid": "11", "seed": "901"})
    ok(at)


def shown(at: AppTest) -> str:
    return "\n".join(str(e.value) for e in [*at.error, *at.warning, *at.info])


def test_every_cap_at_its_maximum_is_refused_at_once_saying_what_to_lower():
    spent, at = cpu_of_visit(heaviest("every cap at its maximum (refused)", 902))
    ok(at)
    # what to lower: the most steps that fit the rest of this link (tests/test_network_cost.py checks the count)
    assert "more than this server's" in shown(at) and ("steps fit;" in shown(at) or "fewer steps;" in shown(at))
    assert "or fewer optimizers or samples, or a narrower or shallower network" in shown(at)
    assert not at.get("plotly_chart")
    assert spent < 2.0, f"{spent:.1f} s of CPU to refuse"


@pytest.mark.parametrize("name", ["widest, deepest net, largest grid", "most steps, largest grid"])
def test_the_heaviest_accepted_links_cost_a_few_seconds_of_cpu(name):
    spent, at = cpu_of_visit(heaviest(name, 903))
    ok(at)
    assert not at.error, shown(at)
    assert at.get("plotly_chart")  # drawn, whole or up to where the budget stopped it
    if "Stopped after" in shown(at):
        assert "time budget" in shown(at)
    print(f"{name}: {spent:.2f} s of CPU")
    assert spent < limits.NETWORK_TRAIN_SECONDS + PICTURE_SECONDS, f"{name}: {spent:.1f} s of CPU"


def test_the_heaviest_race_stops_at_its_budget_with_a_notice(monkeypatch):
    monkeypatch.setattr(limits, "NETWORK_TRAIN_SECONDS", 0.5)
    spent, at = cpu_of_visit(heaviest("most steps, largest grid", 904))
    ok(at)
    notices = [w.value for w in at.warning if w.value.startswith("Stopped after")]
    assert len(notices) == 1 and "of 1000 steps" in notices[0], shown(at)
    done = int(notices[0].split()[2])
    assert 0 < done < 1000
    assert at.get("plotly_chart")  # the steps it took are drawn
    print(f"stopped after {done} steps: {spent:.2f} s of CPU")
    assert spent < 0.5 + PICTURE_SECONDS, f"{spent:.1f} s of CPU for a 0.5 s budget"

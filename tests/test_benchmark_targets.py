"""Benchmarks report every target; ``--check`` turns a missed one into exit status 1 (benchmarks/targets.py).

The heavy measurements are never run here: the helper is tested on its own, and one script's wiring
(benchmarks/landscape.py) with its measurements replaced by fixed timings.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import landscape as landscape_benchmark
from benchmarks.targets import ENFORCE_TARGETS_HINT, Targets, verdict

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS_WITH_CHECK = sorted(path for path in (ROOT / "benchmarks").glob("*.py") if path.name != "targets.py")


def test_a_met_target_exits_0_enforced_or_not():
    for enforced in (False, True):
        targets = Targets(enforced=enforced)
        assert targets.verdict("speed-up >= 30x", True) == "met"
        assert targets.misses == [] and targets.exit_code() == 0


def test_a_missed_target_exits_1_only_when_enforced():
    reported = Targets(enforced=False)
    text = reported.verdict("sweep < 1 s", False)
    assert text == "MISSED (reported, not enforced: --check enforces it)"
    assert reported.misses == ["sweep < 1 s"] and reported.exit_code() == 0
    assert "reported, not enforced" in reported.summary()

    enforced = Targets(enforced=True)
    assert enforced.verdict("sweep < 1 s", False) == "MISSED"
    enforced.verdict("race >= 30x", True)
    assert enforced.exit_code() == 1 and enforced.results == {"sweep < 1 s": False, "race >= 30x": True}
    assert "exit status 1" in enforced.summary()
    enforced.verdict("sweep < 1 s", True)  # met on a second try: still a miss of this run
    assert enforced.misses == ["sweep < 1 s"] and enforced.exit_code() == 1


def test_the_browser_tests_name_their_own_switch():
    assert verdict(False, enforced=False, how_to_enforce=ENFORCE_TARGETS_HINT) == (
        "MISSED (reported, not enforced: GDVIZ_ENFORCE_TARGETS=1 enforces it)"
    )


@pytest.fixture
def fixed_landscape_timings(monkeypatch):
    """benchmarks/landscape.py without its grids: each case 'takes' the given seconds at a quiet reference of 1 s."""

    def use(seconds: float) -> None:
        monkeypatch.setattr(landscape_benchmark, "stability_case", lambda: None)
        monkeypatch.setattr(landscape_benchmark, "basin_case", lambda names: None)
        # (fastest time, time / reference, fastest reference): 'adjusted' is then the seconds themselves
        monkeypatch.setattr(landscape_benchmark, "measure", lambda repeats, fn: (seconds, seconds, 1.0))

    return use


def test_check_turns_a_missed_target_into_exit_status_1(fixed_landscape_timings, capsys):
    fixed_landscape_timings(5.0)  # over both targets (1 s and 2 s)
    assert landscape_benchmark.main(["--quick", "--check"]) == 1
    out = capsys.readouterr().out
    assert [line.endswith("  MISSED") for line in out.splitlines()].count(True) == 2
    assert "reported, not enforced" not in out
    assert "x ref" in out  # the ratios are printed as without --check


def test_without_check_a_miss_is_reported_and_the_status_is_0(fixed_landscape_timings, capsys):
    fixed_landscape_timings(5.0)
    assert landscape_benchmark.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert out.count("MISSED (reported, not enforced: --check enforces it)") == 2
    assert "FAIL" not in out


def test_check_with_every_target_met_exits_0(fixed_landscape_timings, capsys):
    fixed_landscape_timings(0.1)
    assert landscape_benchmark.main(["--quick", "--check"]) == 0
    assert "targets: all 2 met" in capsys.readouterr().out


@pytest.mark.parametrize("script", SCRIPTS_WITH_CHECK, ids=lambda path: path.name)
def test_every_benchmark_offers_check(script):
    source = script.read_text()
    assert "add_check_option(parser)" in source and "targets.finish()" in source
    assert 'if __name__ == "__main__":\n    sys.exit(main())' in source


def test_a_benchmark_runs_as_a_script_with_check():
    """Run as ``python benchmarks/landscape.py``, the script finds the helper (its directory is sys.path[0])."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "landscape.py"), "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "--check" in done.stdout

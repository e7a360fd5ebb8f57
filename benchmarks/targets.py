"""Targets a measurement is held to: every one reported, met or missed; a miss fails only on request.

Machines here are shared and noisy, so by default a benchmark prints its numbers and a verdict for each
target and exits 0; with ``--check`` a missed target makes it exit 1. A missed target that is not enforced
says so, so that a passing run never prints a bare failure. The browser tests use the same verdicts,
enforced by ``GDVIZ_ENFORCE_TARGETS=1``.

In a benchmark::

    add_check_option(parser)
    args = parser.parse_args()
    targets = Targets(enforced=args.check)
    print(f"speed-up {ratio:.1f}x (target >= 30x)  {targets.verdict('race >= 30x', ratio >= 30)}")
    ...
    return targets.finish()  # prints the summary; main's exit status: sys.exit(main())
"""

from __future__ import annotations

import argparse

CHECK_HINT = "--check enforces it"
ENFORCE_TARGETS_HINT = "GDVIZ_ENFORCE_TARGETS=1 enforces it"


def verdict(met: bool, enforced: bool, how_to_enforce: str = CHECK_HINT) -> str:
    """'met', or 'MISSED', which names how to enforce the target where it is not enforced."""
    if met:
        return "met"
    return "MISSED" if enforced else f"MISSED (reported, not enforced: {how_to_enforce})"


def add_check_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit with status 1 when a target is missed (without it every target is reported and the status is 0)",
    )


class Targets:
    """The verdicts of one run: each target's, and the exit status they make."""

    def __init__(self, enforced: bool, how_to_enforce: str = CHECK_HINT) -> None:
        self.enforced = enforced
        self.how_to_enforce = how_to_enforce
        self.results: dict[str, bool] = {}  # target -> met, in the order they were reported

    def verdict(self, target: str, met: bool) -> str:
        """Remember whether ``target`` (a short description, e.g. 'sweep < 1 s') was met; its verdict text.

        A target reported again stays missed if it was missed once."""
        self.results[target] = self.results.get(target, True) and met
        return verdict(met, self.enforced, self.how_to_enforce)

    @property
    def misses(self) -> list[str]:
        return [target for target, met in self.results.items() if not met]

    def exit_code(self) -> int:
        """1 when a target was missed and targets are enforced, else 0."""
        return 1 if self.enforced and self.misses else 0

    def summary(self) -> str:
        if not self.results:
            return "targets: none measured in this run"
        if not self.misses:
            return f"targets: all {len(self.results)} met"
        missed = "; ".join(self.misses)
        if self.enforced:
            return f"targets: {len(self.misses)} of {len(self.results)} MISSED ({missed}): exit status 1"
        return f"targets: {len(self.misses)} of {len(self.results)} missed ({missed}), reported, not enforced: {self.how_to_enforce}"

    def finish(self) -> int:
        """Print the summary; the exit status."""
        print(self.summary())
        return self.exit_code()

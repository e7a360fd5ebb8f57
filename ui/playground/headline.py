"""The first visit's one line: what the default race shows, read off that race itself.

A first-time visitor lands on the default scenario, which is no story, so nothing above the chart said what
it is about. The line names the racers and the surface and says who reaches the minimum first, in how many
steps, and where the others are at the end: numbers taken from the race's own results table (the same
``results_rows`` the page shows under the panels), so the line cannot claim what the race does not do.
"""

from __future__ import annotations

from dataclasses import replace

from ui.figures.panels import results_rows
from ui.playground.scenario import Scenario
from ui.playground.simulate import Race
from ui.state.text import escape_markdown as escape

TOLERANCE = 1e-4  # "reaches the minimum": the loss within this of f*, the results table's default tolerance


def _reach(row: dict) -> int | None:
    text = row["steps to f* + tol"]
    return int(text) if text.isdigit() else None


def first_visit_line(race: Race) -> str | None:
    """Markdown for the default scenario's race (None for any other scenario, or a batch of starts)."""
    scenario = race.scenario
    if scenario.start is not None and tuple(scenario.start) == tuple(race.surface.default_start):
        scenario = replace(scenario, start=None)  # the sidebar spells out the surface's default start
    if scenario != Scenario():
        return None
    rows = results_rows(race.trajectories, race.labels, TOLERANCE)
    if len(rows) != len(race.labels):
        return None
    steps = race.scenario.steps
    reached = sorted((row for row in rows if _reach(row) is not None), key=_reach)
    others = [row for row in rows if _reach(row) is None]
    count = {2: "Two", 3: "Three", 4: "Four"}.get(len(rows), str(len(rows)))
    surface = race.surface.title[:1].lower() + race.surface.title[1:]
    parts = [f"{count} optimizers race from one start on the {escape(surface)}: press **▶ Play**."]
    if reached:
        first, *rest = reached
        said = f"**{escape(first['optimizer'])}** reaches the minimum first ({_reach(first)} steps)"
        said += "".join(f", **{escape(row['optimizer'])}** in {_reach(row)}" for row in rest)
        parts.append(said + ("." if not others else ";"))
    for row in others:
        if row["diverged at"] != "—":
            parts.append(f"**{escape(row['optimizer'])}** diverges at step {row['diverged at']}.")
        else:
            parts.append(
                f"**{escape(row['optimizer'])}** is still {row['distance to minimum']:.2g} away after {steps} steps."
            )
    return " ".join(parts)

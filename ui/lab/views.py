"""The Landscape Lab's views: view key -> its module, in the order of the page's view switch.

A view module holds its ``TITLE``, its URL ``FIELDS``, ``sidebar()`` and ``view(values)``. Adding a
view is its module plus one line here.
"""

from __future__ import annotations

from types import ModuleType

from ui.lab import basins, critical, eigen, escape, fair, stability
from ui.state.fields import Choice

VIEWS: dict[str, ModuleType] = {
    "stability": stability,
    "basins": basins,
    "escape": escape,
    "critical": critical,
    "eigen": eigen,
    "fair": fair,
}
TITLES = {name: module.TITLE for name, module in VIEWS.items()}
FIELDS = (
    Choice("view", "View", "stability", tuple(VIEWS)),
    *(f for module in VIEWS.values() for f in module.FIELDS),
)

"""A figure that reaches ``st.plotly_chart`` as the plain dict it was built from.

Streamlit serializes a go.Figure by calling its ``to_dict()``, which deep-copies every trace of every
animation frame, and building the go.Figure first wraps each of them in a plotly.py object; for the
race (about 2,000 frame traces) the two cost ~200 ms per rerun against ~45 ms for building the
dicts themselves. A dict given to ``st.plotly_chart`` directly is worse: Streamlit validates it
through a go.Figure. So the page wraps the dict in :class:`PlainFigure`, a go.Figure whose
``to_dict()`` returns that dict with its NumPy arrays as plotly's base64 typed arrays (compact, and
quick for the browser to read), which is how the unvalidated go.Figure built from it serializes.
tests/test_plain_figure.py checks this, and that Streamlit's element carries the whole figure.

The figure is shared once built (figures are cached across reruns and sessions): nothing may change it.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from _plotly_utils.utils import convert_to_base64


class PlainFigure(go.Figure):
    """An empty go.Figure that serializes as ``spec``, a ``{"data", "layout", "frames"}`` dict.

    Only for handing a finished figure to Streamlit or plotly.io (both read ``to_dict()``); its
    plotly.py attributes (``data``, ``layout``) stay empty.
    """

    def __init__(self, spec: dict[str, Any]):
        """Takes ``spec`` over: its NumPy arrays are replaced in place by typed-array dicts."""
        super().__init__()
        convert_to_base64(spec)  # what go.Figure.to_dict does to its own copy
        self._spec = spec

    def to_dict(self) -> dict[str, Any]:
        return self._spec

    def to_plotly_json(self) -> dict[str, Any]:
        return self._spec

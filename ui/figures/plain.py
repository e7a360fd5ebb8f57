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

import base64
from typing import Any

import numpy as np
import plotly.graph_objects as go
from _plotly_utils.utils import to_typed_array_spec

# plotly.js's typed-array names for the dtypes it reads as they are (plotly.py narrows 64-bit integers first)
_SHORT_TYPES = {
    "int8": "i1",
    "uint8": "u1",
    "int16": "i2",
    "uint16": "u2",
    "int32": "i4",
    "uint32": "u4",
    "float32": "f4",
    "float64": "f8",
}
# keys whose arrays plotly.py leaves as they are
_SKIPPED_KEYS = frozenset({"geojson", "layer", "layers", "range"})


def typed_arrays(obj: Any) -> None:
    """Replace, in place, every NumPy array in a figure dict by plotly.js's base64 typed-array dict.

    What go.Figure.to_dict does (``_plotly_utils.utils.convert_to_base64``), at a fraction of the cost:
    the race has ~600 arrays, and plotly.py's per-array checks took ~100 ms of an uncached rerun. The
    common dtypes are encoded here; any other array goes through plotly.py's own conversion.
    """
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in _SKIPPED_KEYS:
                continue
            if isinstance(value, np.ndarray):
                obj[key] = _typed_array(value)
            elif isinstance(value, (dict, list, tuple)):
                typed_arrays(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            if isinstance(value, (dict, list, tuple)):
                typed_arrays(value)


def _typed_array(values: np.ndarray) -> Any:
    short = _SHORT_TYPES.get(values.dtype.name)
    if short is None or values.size == 0:
        return to_typed_array_spec(values)
    spec = {"dtype": short, "bdata": base64.b64encode(np.ascontiguousarray(values)).decode("ascii")}
    if values.ndim > 1:
        spec["shape"] = str(values.shape)[1:-1]
    return spec


class PlainFigure(go.Figure):
    """An empty go.Figure that serializes as ``spec``, a ``{"data", "layout", "frames"}`` dict.

    Only for handing a finished figure to Streamlit or plotly.io (both read ``to_dict()``); its
    plotly.py attributes (``data``, ``layout``) stay empty.
    """

    def __init__(self, spec: dict[str, Any]):
        """Takes ``spec`` over: its NumPy arrays are replaced in place by typed-array dicts."""
        super().__init__()
        typed_arrays(spec)  # what go.Figure.to_dict does to its own copy
        self._spec = spec

    def to_dict(self) -> dict[str, Any]:
        return self._spec

    def to_plotly_json(self) -> dict[str, Any]:
        return self._spec

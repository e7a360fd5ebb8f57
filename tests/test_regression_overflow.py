"""Issue 17: values near 1e300 in an uploaded CSV were refused as "must be finite"; they overflow."""

from __future__ import annotations

import pytest

from gdviz import regression as reg

CAPS = dict(max_bytes=10**6, max_rows=1000, max_columns=10)


def table(body: str) -> reg.Table:
    return reg.parse_csv(("x,y\n" + body).encode(), **CAPS)


def test_values_beyond_float32_are_said_to_overflow():
    X, y, notes = reg.select_columns(table("1,2\n2,1e300\n3,5\n"), "y", ["x"])
    assert y[1] == 1e300
    assert any("'y' has values as large as 1e+300: they overflow float32" in note for note in notes)
    with pytest.raises(ValueError, match=r"as large as 1e\+300 overflow float32 .*float64") as error:
        reg.train(X, y, "SGD", epochs=1, dtype="float32")
    assert "finite" not in str(error.value)
    reg.train(X, y, "SGD", epochs=1, dtype="float64")  # trains (the loss may overflow: it diverges then)


def test_ordinary_values_get_no_overflow_note():
    _, _, notes = reg.select_columns(table("1,2\n2,3e38\n3,-5\n"), "y", ["x"])
    assert not any("overflow" in note for note in notes)


@pytest.mark.parametrize("cell", ["1e400", "-2e308", "1E999"])
def test_numbers_beyond_float64_are_said_to_overflow(cell):
    with pytest.raises(reg.CSVError, match=rf"Column 'y' has a number too large .*'{cell}' \(line 3\) overflows"):
        reg.select_columns(table(f"1,2\n2,{cell}\n3,5\n"), "y", ["x"])


@pytest.mark.parametrize("cell", ["inf", "-Infinity"])
def test_infinity_spellings_stay_text(cell):
    with pytest.raises(reg.CSVError, match="'y' is not numeric"):
        reg.select_columns(table(f"1,2\n2,{cell}\n3,5\n"), "y", ["x"])


def test_nan_and_inf_arrays_are_still_refused_as_not_finite():
    with pytest.raises(ValueError, match="must be finite"):
        reg.train([[1.0], [2.0], [float("inf")]], [1.0, 2.0, 3.0], "SGD", epochs=1)

"""An uploaded CSV as a numeric table, validated before anything trains on it.

Pure functions of bytes (no pandas, no torch): the caps are checked before parsing (bytes) and
while parsing (rows, columns, cell length), so a hostile file costs at most what the caps allow.
Every problem is a :class:`CSVError` whose message a page can show as is.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

import numpy as np

# cells read as missing values (case-insensitive), as pandas' defaults do
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-", "--", "#n/a"})
MAX_CELL_CHARS = 100
MAX_NAME_CHARS = 60
# the largest float32 (the page trains in float32 by default): larger values become inf there
FLOAT32_MAX = float(np.finfo(np.float32).max)
# spellings of infinity, which are not numbers here (unlike 1e400, a number too large for float64)
_INFINITY = frozenset({"inf", "infinity"})


class CSVError(ValueError):
    """The file cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class Table:
    """A parsed CSV: ``values`` (rows, columns) float64 with NaN where a cell is missing or not a number.

    numeric[j]: every non-missing cell of column j is a finite number.
    missing[j]: how many cells of column j are missing.
    bad_example[j]: the first non-numeric cell of column j and its line, e.g. ``'Paris' (line 4)``.
    overflow[j]: that cell is a number too large for float64 (``1e400``), not text.
    """

    columns: tuple[str, ...]
    values: np.ndarray
    numeric: tuple[bool, ...]
    missing: tuple[int, ...]
    bad_example: tuple[str, ...]
    overflow: tuple[bool, ...] = ()

    @property
    def rows(self) -> int:
        return int(self.values.shape[0])

    def numeric_columns(self) -> list[str]:
        return [name for name, ok in zip(self.columns, self.numeric, strict=True) if ok]


def _size(nbytes: int) -> str:
    return f"{nbytes / 2**20:.1f} MB" if nbytes >= 2**20 else f"{nbytes / 1024:.0f} kB"


def _number(cell: str) -> float | None:
    """The cell's value; None for text. Thousands separators and NaN/inf spellings are not numbers."""
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _overflows(cell: str) -> bool:
    """A number written out in full that float64 cannot hold (``1e400``, ``-2e308``), not an inf spelling."""
    try:
        value = float(cell)
    except ValueError:
        return False
    return math.isinf(value) and cell.lstrip("+-").lower() not in _INFINITY


def parse_csv(data: bytes, *, max_bytes: int, max_rows: int, max_columns: int) -> Table:
    """Parse CSV bytes with a header line into a :class:`Table`, or raise :class:`CSVError`.

    The delimiter (comma, semicolon, tab) is sniffed from the first lines; a UTF-8 byte-order mark is
    skipped. Refused: files over ``max_bytes``, more than ``max_rows`` data rows or ``max_columns``
    columns, non-UTF-8 text, rows whose field count differs from the header's, duplicate or blank
    column names, cells over 100 characters, no data rows, fewer than two columns.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise CSVError("Expected the file's bytes.")
    if len(data) > max_bytes:
        raise CSVError(f"The file is {_size(len(data))}; the limit is {_size(max_bytes)}. Upload a smaller sample.")
    if not data.strip():
        raise CSVError("The file is empty.")
    try:
        text = bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CSVError(
            f"The file is not UTF-8 text (byte {error.start} cannot be decoded). Save it as UTF-8 CSV."
        ) from None
    if "\x00" in text:
        raise CSVError("The file contains NUL bytes: it looks binary, not like a CSV text file.")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as error:
        raise CSVError(f"Cannot read the header line: {error or 'no lines'}.") from None
    columns = tuple(name.strip() for name in header)
    _check_header(columns, max_columns)
    width = len(columns)
    values: list[list[float]] = []
    bad: list[str] = [""] * width
    overflow = [False] * width
    missing = [0] * width
    try:
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue  # blank lines, as pandas skips them
            if len(values) >= max_rows:
                raise CSVError(f"The file has more than {max_rows:,} data rows; upload at most {max_rows:,}.")
            if len(row) != width:
                raise CSVError(f"Line {line} has {len(row)} fields but the header has {width}.")
            parsed = []
            for j, cell in enumerate(row):
                cell = cell.strip()
                if len(cell) > MAX_CELL_CHARS:
                    raise CSVError(
                        f"Line {line}, column {columns[j]!r}: a cell longer than {MAX_CELL_CHARS} characters."
                    )
                if cell.lower() in MISSING:
                    missing[j] += 1
                    parsed.append(math.nan)
                    continue
                value = _number(cell)
                if value is None:
                    if not bad[j]:
                        bad[j] = f"{cell!r} (line {line})"
                        overflow[j] = _overflows(cell)
                    parsed.append(math.nan)
                else:
                    parsed.append(value)
            values.append(parsed)
    except csv.Error as error:
        raise CSVError(f"The CSV is malformed near line {reader.line_num}: {error}.") from None
    if not values:
        raise CSVError("The file has a header but no data rows.")
    return Table(
        columns=columns,
        values=np.array(values, dtype=np.float64),
        numeric=tuple(not example for example in bad),
        missing=tuple(missing),
        bad_example=tuple(bad),
        overflow=tuple(overflow),
    )


def _check_header(columns: tuple[str, ...], max_columns: int) -> None:
    if len(columns) > max_columns:
        raise CSVError(f"The file has {len(columns)} columns; at most {max_columns} are accepted.")
    if len(columns) < 2:
        raise CSVError("The file needs at least two columns (a target and a feature), with a header line.")
    for index, name in enumerate(columns):
        if not name:
            raise CSVError(f"Column {index + 1} has no name: the first line must name every column.")
        if len(name) > MAX_NAME_CHARS:
            raise CSVError(f"Column {index + 1}'s name is longer than {MAX_NAME_CHARS} characters.")
    seen = set()
    for name in columns:
        if name in seen:
            raise CSVError(f"Column names must be unique: {name!r} appears more than once.")
        seen.add(name)
    if all(_number(name) is not None for name in columns):
        raise CSVError("The first line is all numbers: add a header line that names the columns.")


def select_columns(
    table: Table, target: str, features: list[str], missing: str = "drop"
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``X`` (n, d), ``y`` (n,) float64 from the chosen columns, and notes to show; or :class:`CSVError`.

    ``missing="drop"`` drops the rows with a missing value in a chosen column (and says how many);
    ``"refuse"`` raises instead. Constant features are flagged in the notes: they duplicate the
    bias, so the normal equation is singular and standardizing cannot scale them (training still works).
    """
    if missing not in ("drop", "refuse"):
        raise CSVError(f"missing must be 'drop' or 'refuse', got {missing!r}")
    index = {name: j for j, name in enumerate(table.columns)}
    if target not in index:
        raise CSVError(f"There is no column {target!r}.")
    if not features:
        raise CSVError("Choose at least one feature column.")
    unknown = [name for name in features if name not in index]
    if unknown:
        raise CSVError(f"There is no column {unknown[0]!r}.")
    if target in features:
        raise CSVError(f"{target!r} is the target; it cannot also be a feature.")
    if len(set(features)) != len(features):
        raise CSVError("A feature column is chosen twice.")
    for name in [target, *features]:
        j = index[name]
        if not table.numeric[j] and j < len(table.overflow) and table.overflow[j]:
            raise CSVError(
                f"Column {name!r} has a number too large to compute with: {table.bad_example[j]} overflows "
                f"(beyond ±{np.finfo(np.float64).max:.3g}). Rescale the column, e.g. to other units."
            )
        if not table.numeric[j]:
            raise CSVError(
                f"Column {name!r} is not numeric: {table.bad_example[index[name]]}. Choose numeric columns only."
            )
    chosen = [index[target]] + [index[name] for name in features]
    block = table.values[:, chosen]
    incomplete = ~np.all(np.isfinite(block), axis=1)
    notes: list[str] = []
    count = int(incomplete.sum())
    if count:
        first = int(np.flatnonzero(incomplete)[0]) + 1
        if missing == "refuse":
            raise CSVError(
                f"{count:,} row(s) have missing values in the chosen columns (the first is data row {first}). "
                "Choose 'drop rows with missing values' to train without them."
            )
        notes.append(f"Dropped {count:,} row(s) with missing values (the first is data row {first}).")
        block = block[~incomplete]
    if block.shape[0] < 2:
        raise CSVError(f"Only {block.shape[0]} complete row(s) remain; a regression needs at least 2.")
    y, X = block[:, 0].copy(), np.ascontiguousarray(block[:, 1:])
    for j, name in enumerate(features):
        if np.all(X[:, j] == X[0, j]):
            notes.append(
                f"Feature {name!r} is constant ({X[0, j]:g}): it duplicates the bias, so the normal equation is "
                "singular and standardizing only centres it. Consider dropping it."
            )
    notes += _float32_notes(y, X, target, features)
    if np.all(y == y[0]):
        notes.append(f"The target {target!r} is constant ({y[0]:g}): the best fit is w = 0, b = {y[0]:g}.")
    return X, y, notes


def _float32_notes(y: np.ndarray, X: np.ndarray, target: str, features: list[str]) -> list[str]:
    """A note per chosen column with values beyond float32's range: they overflow there (not "not finite")."""
    notes = []
    for name, column in [(target, y), *((name, X[:, j]) for j, name in enumerate(features))]:
        with np.errstate(over="ignore"):
            overflows = not np.all(np.isfinite(column.astype(np.float32)))
        if overflows:
            largest = float(np.max(np.abs(column)))
            notes.append(
                f"Column {name!r} has values as large as {largest:.3g}: they overflow float32 (largest "
                f"{FLOAT32_MAX:.3g}) and can only train in float64; their squared errors may overflow even "
                "there. Rescale the column (e.g. other units) to train in float32."
            )
    return notes

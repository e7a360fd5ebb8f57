"""Plain words in the product (issue 13): sources are cited by their titles, and "seed" only ever means a
random seed.

The product's pages show random seeds ("the same seed gives every optimizer the same noise"), so a source
called "the seed" ("the seed's 10⁵-step example", "seed 001's list", "Reproduce the seed's experiment")
reads as a number. Sources are cited as the brief names them: d2l §12.4, "the notes on gradient descent",
"the notes on optimizers", ...
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# what the visitor reads (pages, their modules) and what a notebook user reads (the engine's docstrings)
PRODUCT = sorted(
    [ROOT / "app.py", *ROOT.glob("pages/*.py"), *ROOT.glob("ui/**/*.py"), *ROOT.glob("gdviz/**/*.py")],
    key=str,
)
# "seed" naming a document: its possessive, a numbered seed, seed notes/sources/material, seed-style
SOURCE_SEED = re.compile(
    r"\bseed(?:'s|’s| \d{3}\b|[- ](?:notes?|sources?|material|documents?|texts?|posts?|style|list|experiment|example)\b)"
    r"|\bproject's seed\b",
    re.IGNORECASE,
)
# files other helpers own whose wording is still to change (strict: the test says when it has)
PENDING = {}


def offending_lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [f"{path.relative_to(ROOT)}:{n}: {line.strip()}" for n, line in enumerate(text.splitlines(), 1)
            if SOURCE_SEED.search(line)]  # fmt: skip


def test_the_pattern_tells_a_source_from_a_random_seed():
    for source in ("the seed's 10⁵-step example", "seed 001's list", "Reproduce the seed's experiment",
                   "the seed notes' closing tip", "the project's seed notes", "a seed-style loop"):  # fmt: skip
        assert SOURCE_SEED.search(source), source
    for random in ("random seed", "the same seed gives every optimizer the same noise", "seed = 3",
                   "(seed = the first seed)", "seeded by ``seed``", "every seed would repeat the same run"):  # fmt: skip
        assert not SOURCE_SEED.search(random), random


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(p, marks=pytest.mark.xfail(strict=True, reason=PENDING[str(p.relative_to(ROOT))]))
        if str(p.relative_to(ROOT)) in PENDING
        else p
        for p in PRODUCT
    ],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_source_is_called_the_seed(path):
    assert offending_lines(path) == []

"""Every committed benchmark result is strict JSON (no NaN / Infinity tokens, which strict parsers such as
JavaScript's JSON.parse or jq reject): a figure that does not exist is null."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

RESULTS = sorted((Path(__file__).resolve().parents[1] / "benchmarks" / "results").glob("*.json"))


def _refuse(token: str) -> None:
    raise ValueError(f"non-strict JSON token {token}")


@pytest.mark.parametrize("path", RESULTS, ids=[p.name for p in RESULTS])
def test_a_committed_result_is_strict_json(path: Path) -> None:
    json.loads(path.read_text(encoding="utf-8"), parse_constant=_refuse)


def test_there_are_results_to_check() -> None:
    assert len(RESULTS) >= 10

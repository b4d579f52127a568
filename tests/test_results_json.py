"""Every committed benchmark result is strict JSON (no NaN / Infinity tokens, which strict parsers such as
JavaScript's JSON.parse or jq reject): a figure that does not exist is null. A result written since the scripts
store their RESULT line's figures (`result`, benchmarks/common.py's result_line) holds them as one flat mapping;
the files measured before have none until their benchmark is rerun."""

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


@pytest.mark.parametrize("path", RESULTS, ids=[p.name for p in RESULTS])
def test_a_committed_results_headline_is_the_result_lines_mapping(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or "result" not in document:
        pytest.skip("measured before the result mapping: rerun its benchmark")
    result = document["result"]
    assert isinstance(result, dict) and result, "result: the RESULT line's key -> value"
    for key, value in result.items():
        assert key and not any(c.isspace() or c == "=" for c in key), key
        assert value is None or isinstance(value, int | float | str), (key, value)  # one word each, as printed
        assert not isinstance(value, str) or (value and not any(c.isspace() or c == "=" for c in value)), (key, value)


def test_there_are_results_to_check() -> None:
    assert len(RESULTS) >= 10

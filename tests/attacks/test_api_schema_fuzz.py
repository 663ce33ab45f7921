"""schemathesis against the OpenAPI schema: nothing the schema allows - nor inputs that break
it on purpose - may make the service answer 5xx. A quick run (a few examples per operation,
as a caller who reaches deep and as a stranger); the long run is `benchmarks/fuzz_api.py`.

(schemathesis's pytest plugin does not run under this pytest; its Python API does: each
operation's hypothesis strategy is driven here directly.)
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.factories import World

EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 4}


def _caller(world: World, path: str, stranger: bool) -> dict[str, str]:
    if stranger:
        return {"Authorization": "Bearer pmt_not-a-real-token"}
    who = "police" if path.startswith(("/api/v1/verify", "/api/v1/checks")) else "doctor"
    return world.auth(who)


def _runner(
    operation: Any,
    mode: GenerationMode,
    examples: int,
    headers: dict[str, str],
    problems: list[str],
    calls: list[int],
) -> Any:
    """A hypothesis test that calls `operation` with generated cases, noting every 5xx."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.headers = {**(case.headers or {}), **headers}
        response = case.call()
        calls.append(response.status_code)
        if response.status_code >= 500:
            problems.append(
                f"{case.method} {case.formatted_path} ({mode.value}) -> "
                f"{response.status_code}: {response.text[:200]}"
            )

    return run


def fuzz_operations(
    app: Any, world: World, *, stranger: bool, scale: float = 1
) -> tuple[list[str], int]:
    """Run every operation's generated cases; return the 5xx answers found (with the case)
    and the number of requests made."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    problems: list[str] = []
    calls: list[int] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:
        headers = _caller(world, operation.path, stranger)
        for mode, examples in EXAMPLES.items():
            try:
                _runner(operation, mode, max(1, int(examples * scale)), headers, problems, calls)()
            except Unsatisfiable:
                # Nothing to break (e.g. no parameters at all): no negative case exists.
                assert mode is GenerationMode.NEGATIVE
    assert len(calls) >= len(operations) * max(1, int(min(EXAMPLES.values()) * scale)) // 2
    return problems, len(calls)


@pytest.mark.parametrize("stranger", [False, True], ids=["caller", "stranger"])
def test_no_operation_answers_5xx(client: TestClient, world: World, stranger: bool) -> None:
    scale = 0.5 if stranger else 1.0
    problems, _requests = fuzz_operations(client.app, world, stranger=stranger, scale=scale)
    assert problems == []

"""schemathesis against /openapi.json on a live server, with a test key: every operation is
fuzzed within a bounded budget; no answer may be a 5xx, and answers the schema documents
must match it. A longer run: ``make fuzz``."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.helpers import Server

EXAMPLES = int(os.environ.get("MEDIAGATE_FUZZ_EXAMPLES", "8"))


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("fuzz"), latency=0.1).start()
    yield srv
    srv.stop()


schema = schemathesis.pytest.from_fixture("fuzz_schema")


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_server: Server) -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_url(fuzz_server.url + "/openapi.json")
    loaded.config.update(base_url=fuzz_server.url)
    return loaded


@pytest.fixture(scope="module")
def fuzz_key(fuzz_server: Server) -> str:
    return fuzz_server.key("test")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_5xx_and_documented_answers_match(case: schemathesis.Case, fuzz_key: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {fuzz_key}"},
        checks=[not_a_server_error, response_schema_conformance],
        timeout=30,
    )

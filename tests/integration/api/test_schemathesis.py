"""schemathesis against `/openapi.json` of a live server, over real HTTP (docs/API.md).

The app the session's other tests use is served by uvicorn in a thread; every operation of the
document gets a few generated requests with an analyst key (and one without), and each
answer must be no 5xx and match the document (status, content type, body schema). Not
checked: that every schema-valid request is accepted, since an opaque cursor (any string, in
the document) is refused unless this API wrote it for the same order.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.integration.api.conftest import Harness

pytestmark = pytest.mark.slow

EXAMPLES_PER_OPERATION = 4


def test_the_live_server_answers_as_its_openapi_document_says(
    harness: Harness, live_url: str
) -> None:
    _, analyst = harness.key(marts=("*",))
    schema = schemathesis.openapi.from_url(f"{live_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(harness.api.catalog().marts) + 2
    checked = 0
    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), authorized=st.booleans())
        def run(case: schemathesis.Case, authorized: bool) -> None:
            nonlocal checked
            headers = {"Authorization": f"Bearer {analyst}"} if authorized else {}
            response = case.call_and_validate(
                base_url=live_url, headers=headers, excluded_checks=[positive_data_acceptance]
            )
            assert response.status_code < 500
            checked += 1

        run()
    assert checked >= len(operations)

"""The API's contract: /openapi.json is valid OpenAPI 3.1; schemathesis finds every operation honouring it."""

from __future__ import annotations

import pytest
import schemathesis
from apispec_webframeworks.flask import FlaskPlugin
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from feedserver import create_app
from tests.api_support import feed_tables, populate, serve_upstreams
from tests.conftest import write_config

EXAMPLES = 60  # per operation and mode; the whole run stays well under a minute
# invalid input is refused with 400, an unknown feed with 404, an overlong query string with 414
CONFIG = schemathesis.Config.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": ["400", "404", "414"]}}}
)
OWN_PATHS = ("/api/v1/feeds", "/api/v1/sources", "/api/v1/status", "/api/v1/stats")
FEEDS = ["waste-town", "air-mitte", "transit-bart", "alerts-cap", "waste-broken", "waste-new"]
OWN_OPERATIONS = {
    ("GET", "/api/v1/feeds"),
    ("GET", "/api/v1/feeds/{feed_id}"),
    ("GET", "/api/v1/feeds/{feed_id}/items"),
    ("GET", "/api/v1/sources"),
    ("GET", "/api/v1/status"),
    ("GET", "/api/v1/stats"),
}


@pytest.fixture(scope="module")
def api_app(tmp_path_factory, make_httpserver):
    """One server with a feed of every kind, polled once; rate limiting off so examples are not refused."""
    urls = serve_upstreams(make_httpserver)
    config = write_config(
        tmp_path_factory.mktemp("contract"), feed_tables(urls), "[api]\nrate_limit_enabled = false\n"
    )
    app = create_app(config)
    app.config["TESTING"] = True
    populate(app)
    make_httpserver.clear()
    return app


def test_openapi_document_is_valid_openapi_3_1(api_app):
    document = api_app.test_client().get("/openapi.json").get_json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    own = {"/api/v1/feeds", "/api/v1/feeds/{feed_id}", "/api/v1/feeds/{feed_id}/items"}
    assert own | {"/api/v1/sources", "/api/v1/status", "/api/v1/stats"} <= set(document["paths"])
    # the shapes come from the marshmallow schemas
    item = document["components"]["schemas"]["Item"]
    assert {"id", "title", "published", "starts", "data"} <= set(item["required"])
    assert document["components"]["parameters"]["FeedId"]["schema"]["examples"][0] == "air-mitte"


def test_every_documented_api_view_is_in_the_document(api_app):
    """Views registered on the app under /api/v1 with a YAML docstring appear, whoever wrote them."""
    document = api_app.test_client().get("/openapi.json").get_json()
    documented = {
        FlaskPlugin.flaskpath2openapi(rule.rule)
        for rule in api_app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and "---" in (api_app.view_functions[rule.endpoint].__doc__ or "")
    }
    assert len(documented) >= 5
    assert documented <= set(document["paths"])


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_honours_its_contract(api_app, mode):
    """Generated requests to every operation: no server error, no schema violation, no undocumented status."""
    api = schemathesis.openapi.from_wsgi("/openapi.json", api_app, config=CONFIG)
    # the editorial desk's operations (/api/v1/desk) are checked by test_desk_operations_honour_their_contract
    operations = [op for op in (r.ok() for r in api.get_all_operations()) if op.path.startswith(OWN_PATHS)]
    assert {(op.method.upper(), op.path) for op in operations} == OWN_OPERATIONS
    for operation in operations:
        if mode == GenerationMode.NEGATIVE and not (operation.path_parameters.items or operation.query.items):
            continue  # nothing to get wrong but a free-text header
        statuses = run_examples(operation, mode)
        if mode == GenerationMode.NEGATIVE:
            assert statuses & {400, 404}, (operation.path, statuses)


@pytest.mark.parametrize("feed_id", FEEDS)
def test_every_kind_of_feed_matches_the_documented_shapes(api_app, feed_id):
    """The same checks on fixed requests, so every kind's data (and stale and pending feeds) is validated."""
    api = schemathesis.openapi.from_wsgi("/openapi.json", api_app, config=CONFIG)
    for path, query in (
        ("/api/v1/feeds/{feed_id}", {}),
        ("/api/v1/feeds/{feed_id}/items", {}),
        ("/api/v1/feeds/{feed_id}/items", {"limit": 3}),
    ):
        case = api[path]["GET"].Case(path_parameters={"feed_id": feed_id}, query=query)
        response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
        assert response.status_code == 200


def run_examples(operation, mode: GenerationMode, headers=None, examples: int = EXAMPLES) -> set[int]:
    """Call the operation with generated examples, validating every response; the statuses seen."""
    statuses: set[int] = set()

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def honours_contract(case):
        # A schema-valid filter value can still be one this feed does not have (the valid values depend on
        # the feed and are listed in its catalogue entry), so a 400 for it is right, not a failure.
        response = case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
        statuses.add(response.status_code)

    honours_contract()
    return statuses


@pytest.fixture(scope="module")
def desk_app(tmp_path_factory):
    """Two announcements feeds and an admin with a token, for the editorial desk's operations."""
    import os

    from tests.desk_support import ANNOUNCEMENT_FEEDS, SECRET_ENV, cli

    os.environ.setdefault(SECRET_ENV, "contract-test-secret")
    extra = f'[api]\nrate_limit_enabled = false\n[server.secret_key]\nenv = "{SECRET_ENV}"\n'
    app = create_app(write_config(tmp_path_factory.mktemp("desk"), ANNOUNCEMENT_FEEDS, extra))
    app.config["TESTING"] = True
    cli(app, "users", "add", "chef", "--role", "admin", "--office", "presse")
    token = cli(app, "tokens", "create", "chef").output.strip().splitlines()[-1].split()[-1]
    return app, token


@pytest.mark.parametrize("authorised", [True, False])
def test_desk_operations_honour_their_contract(desk_app, authorised):
    """Generated requests to the desk, with an admin's token and without one: only documented answers."""
    app, token = desk_app
    api = schemathesis.openapi.from_wsgi("/openapi.json", app, config=CONFIG)
    operations = [
        op for op in (r.ok() for r in api.get_all_operations()) if op.path.startswith("/api/v1/desk")
    ]
    assert len(operations) >= 8
    headers = {"Authorization": f"Bearer {token}"} if authorised else {}
    seen: set[int] = set()
    for operation in operations:
        seen |= run_examples(operation, GenerationMode.POSITIVE, headers, examples=25)
    if authorised:
        assert 401 not in seen and 200 in seen, seen  # random bodies rarely name a real feed: 422s
    else:
        assert seen == {401}

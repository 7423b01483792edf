"""The API's contract: /openapi.json is valid OpenAPI 3.1 and tells the truth, so schemathesis with every
check, positive data acceptance included, finds every operation honouring it: what the document admits is
answered, what it forbids is refused."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
import schemathesis
from apispec_webframeworks.flask import FlaskPlugin
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance
from werkzeug.serving import make_server

from feedserver.app import create_app
from tests.api_support import feed_tables, populate, serve_upstreams
from tests.conftest import write_config

EXAMPLES = 60  # per operation and phase; the whole module stays well under two minutes
FEEDS = ["waste-town", "air-mitte", "transit-bart", "alerts-cap", "waste-broken", "waste-new"]
# invalid input is refused with 400, an unknown feed with 404, an overlong query string with 414
CONFIG = schemathesis.Config.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": ["400", "404", "414"]}}}
)
CLI_CONFIG = f"""
[checks.negative_data_rejection]
expected-statuses = ["400", "404", "414"]

# mostly this server's feeds, so generated filters reach the items of every kind
[dictionaries.feeds]
values = {FEEDS!r}

[parameters]
"path.feed_id" = {{ dictionary = "feeds", probability = 0.9 }}
"""
CLI_ENV = {**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"}
OWN_PATHS = r"^/api/v1/(feeds|sources|status|stats)"
DESK = "/api/v1/desk"
ITEMS = "/api/v1/feeds/{feed_id}/items"
OWN_OPERATIONS = {
    ("GET", "/api/v1/feeds"),
    ("GET", "/api/v1/feeds/{feed_id}"),
    ("GET", ITEMS),
    ("GET", "/api/v1/sources"),
    ("GET", "/api/v1/status"),
    ("GET", "/api/v1/stats"),
}


@pytest.fixture(scope="module")
def loopback():
    """A loopback HTTP server for the app, started first: the app's base URL is the server's address, so the
    links in its answers lead back to it (schemathesis follows them)."""
    hosted = {}
    server = make_server("127.0.0.1", 0, lambda environ, reply: hosted["app"](environ, reply), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hosted
    server.shutdown()
    thread.join()


@pytest.fixture(scope="module")
def api_app(tmp_path_factory, make_httpserver, loopback):
    """One server with a feed of every kind, polled once; rate limiting off so examples are not refused."""
    base_url, hosted = loopback
    urls = serve_upstreams(make_httpserver)
    config = write_config(
        tmp_path_factory.mktemp("contract"),
        feed_tables(urls),
        "[api]\nrate_limit_enabled = false\n",
        base_url=base_url,
    )
    app = create_app(config)
    app.config["TESTING"] = True
    populate(app)
    make_httpserver.clear()
    hosted["app"] = app
    return app


@pytest.fixture(scope="module")
def api_schema(api_app):
    """The document of the feeds, sources, status and stats operations (the desk's are checked below)."""
    api = schemathesis.openapi.from_wsgi("/openapi.json", api_app, config=CONFIG)
    return api.include(path_regex=OWN_PATHS)


@pytest.fixture(scope="module")
def document(api_app):
    return api_app.test_client().get("/openapi.json").get_json()


def test_openapi_document_is_valid_openapi_3_1(document):
    validate(document)
    assert document["openapi"] == "3.1.0"
    own = {"/api/v1/feeds", "/api/v1/feeds/{feed_id}", ITEMS}
    assert own | {"/api/v1/sources", "/api/v1/status", "/api/v1/stats"} <= set(document["paths"])
    # the shapes come from the marshmallow schemas
    item = document["components"]["schemas"]["Item"]
    assert {"id", "title", "published", "starts", "data"} <= set(item["required"])
    assert document["components"]["parameters"]["FeedId"]["schema"]["examples"][0] == "air-mitte"


def test_every_documented_api_view_is_in_the_document(api_app, document):
    """Views registered on the app under /api/v1 with a YAML docstring appear, whoever wrote them."""
    documented = {
        FlaskPlugin.flaskpath2openapi(rule.rule)
        for rule in api_app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and "---" in (api_app.view_functions[rule.endpoint].__doc__ or "")
    }
    assert len(documented) >= 5
    assert documented <= set(document["paths"])


def test_the_run_covers_every_own_operation(api_schema):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {(op.method.upper(), op.path) for op in operations} == OWN_OPERATIONS


def test_schemathesis_with_every_check_finds_nothing(api_app, loopback, tmp_path):
    """`schemathesis run --checks all`: examples, boundary values, fuzzing and walks along the links, valid
    and invalid requests. No server error, no schema violation, no undocumented status, no request the
    document admits refused (positive data acceptance), none it forbids accepted."""
    served = loopback[0]
    config = tmp_path / "schemathesis.toml"
    config.write_text(CLI_CONFIG)
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run"]
    command += [f"{served}/openapi.json", "--url", served, "--checks", "all"]
    command += ["--include-path-regex", OWN_PATHS, "--max-examples", str(EXAMPLES), "--workers", "2"]
    # in tmp_path: the command line keeps a cache (.schemathesis) in its working directory
    run = subprocess.run(command, capture_output=True, text=True, timeout=240, env=CLI_ENV, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "6 selected" in run.stdout and "No issues found" in run.stdout, run.stdout[-3000:]


@pytest.mark.parametrize("feed_id", FEEDS)
def test_every_kind_of_feed_matches_the_documented_shapes(api_schema, feed_id):
    """Fixed requests under every check, so every kind's data (and stale and pending feeds) is validated."""
    for path, query in (
        ("/api/v1/feeds/{feed_id}", {}),
        (ITEMS, {}),
        (ITEMS, {"limit": 3}),
    ):
        case = api_schema[path]["GET"].Case(path_parameters={"feed_id": feed_id}, query=query)
        response = case.call_and_validate()
        assert response.status_code == 200


# --- what the document admits is answered, what it forbids is refused ------------------------------------


def item_parameters(document) -> dict[str, dict]:
    operation = document["paths"][ITEMS]["get"]
    return {p["name"]: p for p in operation["parameters"] if "name" in p}


def admits(document, name: str, raw: str) -> bool:
    """Whether the document admits this raw query value of the items operation (arrays: comma-separated)."""
    schema = item_parameters(document)[name]["schema"]
    kind = schema.get("type")
    if kind == "array":
        value = raw.split(",")
    elif kind in ("number", "integer"):
        try:
            value = int(raw) if kind == "integer" else float(raw)
        except ValueError:
            return False
    else:
        value = raw
    return Draft202012Validator(schema, format_checker=FormatChecker()).is_valid(value)


@pytest.mark.parametrize("feed_id", FEEDS)
@pytest.mark.parametrize(
    ("name", "raw", "admitted"),
    [
        ("cursor", "0", False),  # cursors are 32 URL-safe base64 characters
        ("category", "0", False),  # no kind has a category 0
        ("station", "0", True),  # a station code or name; no feed here measures at a station 0
        ("cursor", "A" * 32, True),  # a position, made up
        ("category", "severe", True),  # an alert severity, also on a waste feed
        ("min_delay", "0", True),
    ],
)
def test_a_value_the_document_admits_is_answered_and_one_it_forbids_refused(
    api_app, document, feed_id, name, raw, admitted
):
    assert admits(document, name, raw) is admitted
    response = api_app.test_client().get(f"/api/v1/feeds/{feed_id}/items", query_string={name: raw})
    assert response.status_code == (200 if admitted else 400), response.get_json()


def test_every_documented_enum_value_is_accepted_on_every_feed(api_app, document):
    enums = {
        name: parameter["schema"]["items"]["enum"]
        for name, parameter in item_parameters(document).items()
        if "enum" in parameter["schema"].get("items", {})
    }
    assert set(enums) == {"category", "component", "type", "status"}
    client = api_app.test_client()
    for name, values in enums.items():
        for feed_id in FEEDS:
            everything = client.get(f"/api/v1/feeds/{feed_id}/items", query_string={name: ",".join(values)})
            assert everything.status_code == 200, (feed_id, name)
            for value in values:
                response = client.get(f"/api/v1/feeds/{feed_id}/items", query_string={name: value})
                assert response.status_code == 200, (feed_id, name, value)


def test_every_value_a_feed_lists_is_admitted_by_the_document(api_app, document):
    """The catalogue's values of each feed's filters are ones the document admits, and answered."""
    client = api_app.test_client()
    for feed in client.get("/api/v1/feeds").get_json()["data"]:
        for entry in feed["filters"]:
            for value in entry["values"]:
                assert admits(document, entry["name"], value), (feed["id"], entry["name"], value)
                url = f"/api/v1/feeds/{feed['id']}/items"
                assert client.get(url, query_string={entry["name"]: value}).status_code == 200


# --- the editorial desk ----------------------------------------------------------------------------------


def run_examples(operation, mode: GenerationMode, headers=None, examples: int = EXAMPLES) -> set[int]:
    """Call the operation with generated examples, validating every response; the statuses seen."""
    statuses: set[int] = set()

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def honours_contract(case):
        # Not yet positive data acceptance: the desk's bodies name feeds, its document admits any feed id,
        # and a body naming no announcements feed is answered 422.
        response = case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
        statuses.add(response.status_code)

    honours_contract()
    return statuses


@pytest.fixture(scope="module")
def desk_app(tmp_path_factory):
    """Two announcements feeds and an admin with a token, for the editorial desk's operations."""
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
    operations = [op for op in (r.ok() for r in api.get_all_operations()) if op.path.startswith(DESK)]
    assert len(operations) >= 8
    headers = {"Authorization": f"Bearer {token}"} if authorised else {}
    seen: set[int] = set()
    for operation in operations:
        seen |= run_examples(operation, GenerationMode.POSITIVE, headers, examples=25)
    if authorised:
        assert 401 not in seen and 200 in seen, seen  # random bodies rarely name a real feed: 422s
    else:
        assert seen == {401}

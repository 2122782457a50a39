"""EventBridge connections and API destinations below the wire: the SQLite store on a real
database file, and ``ConnectionOperations`` on it with a fake clock, its OAuth connections
talking to a real token endpoint (tests/token_endpoint.py). The same operations through boto3
and a real server are tests/e2e/test_events_connections.py."""

from __future__ import annotations

import base64
import re
import time

import pytest

from sagewatch.clock import FakeClock
from sagewatch.services.errors import AWSError
from sagewatch.services.events.connections import (
    ConnectionOperations,
    ConnectionUnavailable,
    InvocationRateLimiter,
)
from sagewatch.store import Conflict, Gone
from sagewatch.store.event_connections import ApiDestination, Connection
from sagewatch.store.sqlite.database import Database
from sagewatch.store.sqlite.event_connections import SQLiteConnectionStore

from ..token_endpoint import TokenEndpoint

REGION = "us-east-1"
ACCOUNT = "000000000000"
BASIC = {"BasicAuthParameters": {"Username": "user", "Password": "pass"}}


class Events(ConnectionOperations):
    """The host the mixin expects (EventsService in the server)."""

    def __init__(self, store, clock):
        self.connections_store = store
        self.clock = clock
        self.region = REGION
        self.account_id = ACCOUNT


@pytest.fixture
def database(tmp_path):
    database = Database(tmp_path / "db")
    yield database
    database.close()


@pytest.fixture
def clock():
    return FakeClock(1_700_000_000.0)


@pytest.fixture
def events(database, clock):
    return Events(SQLiteConnectionStore(database), clock)


@pytest.fixture
def token_endpoint():
    endpoint = TokenEndpoint("client-id", "client-secret", expires_in=600)
    yield endpoint
    endpoint.close()


def oauth_parameters(endpoint: TokenEndpoint, secret: str | None = None, **extra) -> dict:
    return {"OAuthParameters": {
        "ClientParameters": {"ClientID": endpoint.client_id, "ClientSecret": secret or endpoint.client_secret},
        "AuthorizationEndpoint": endpoint.url, "HttpMethod": "POST", **extra}}


def wait_for_state(events, name, state, bound=30.0):
    """The connection's state once it is ``state`` (a background token fetch gets it there)."""
    deadline = time.monotonic() + bound
    while (found := events.describe_connection(Name=name))["ConnectionState"] != state:
        assert time.monotonic() < deadline, f"{name} stayed {found['ConnectionState']}"
        time.sleep(0.01)
    return found


def error_of(call, **kwargs) -> AWSError:
    with pytest.raises(AWSError) as caught:
        call(**kwargs)
    return caught.value


# -- the store -------------------------------------------------------------------------------------

def _connection(name="c", arn=None) -> Connection:
    return Connection(name=name, arn=arn or f"arn:aws:events:{REGION}:{ACCOUNT}:connection/{name}/u",
                      authorization_type="BASIC", auth_parameters=BASIC, state="AUTHORIZED",
                      state_reason=None, secret_arn="s", description=None, kms_key_identifier=None,
                      invocation_connectivity_parameters=None, creation_time=1.0,
                      last_modified_time=1.0, last_authorized_time=1.0)


def _destination(name, connection_arn) -> ApiDestination:
    return ApiDestination(name=name, arn=f"arn:d/{name}", connection_arn=connection_arn,
                          invocation_endpoint="https://example.com", http_method="POST",
                          invocation_rate_limit_per_second=300, description=None,
                          creation_time=1.0, last_modified_time=1.0)


def test_the_store_keeps_connections_by_name_and_arn_across_a_reopen(database, tmp_path):
    store = SQLiteConnectionStore(database)
    store.create_connection(_connection("b"))
    store.create_connection(_connection("a"))
    with pytest.raises(Conflict):
        store.create_connection(_connection("a", arn="arn:other"))
    assert [c.name for c in store.connections()] == ["a", "b"]
    assert store.connection_by_arn(_connection("a").arn) == _connection("a")
    changed = store.update_connection("a", lambda c: setattr(c, "state", "DEAUTHORIZED"))

    def abandoned(connection):
        connection.state = "AUTHORIZING"
        raise RuntimeError("abandoned")

    with pytest.raises(RuntimeError):
        store.update_connection("a", abandoned)
    with pytest.raises(Gone):
        store.update_connection("nobody", lambda c: None)
    reopened = SQLiteConnectionStore(Database(tmp_path / "db"))
    assert reopened.connection("a") == changed  # the abandoned change was rolled back
    assert reopened.delete_connection("a") == changed
    assert reopened.delete_connection("a") is None


def test_an_api_destination_needs_its_connection_in_the_same_transaction(database):
    store = SQLiteConnectionStore(database)
    with pytest.raises(Gone):
        store.create_api_destination(_destination("d", "arn:none"))
    store.create_connection(_connection("c"))
    store.create_api_destination(_destination("d", _connection("c").arn))
    with pytest.raises(Conflict):
        store.create_api_destination(_destination("d", _connection("c").arn))
    with pytest.raises(Gone):
        store.update_api_destination("d", lambda d: setattr(d, "connection_arn", "arn:none"))
    assert store.api_destination("d").connection_arn == _connection("c").arn  # rolled back
    assert store.api_destination_by_arn("arn:d/d").name == "d"
    assert store.delete_api_destination("d") and not store.delete_api_destination("d")


# -- Basic and API key connections -----------------------------------------------------------------

def test_a_basic_connection_is_authorized_at_once_and_never_shows_its_password(events):
    created = events.create_connection(Name="hooks", AuthorizationType="BASIC", AuthParameters={
        **BASIC, "InvocationHttpParameters": {}})
    assert created["ConnectionState"] == "AUTHORIZED"
    assert re.fullmatch(rf"arn:aws:events:{REGION}:{ACCOUNT}:connection/hooks/[0-9a-f-]{{36}}",
                        created["ConnectionArn"])
    described = events.describe_connection(Name="hooks")
    assert described["AuthParameters"] == {"BasicAuthParameters": {"Username": "user"},
                                           "InvocationHttpParameters": {}}
    assert "pass" not in repr(described)
    assert re.fullmatch(
        rf"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:events!connection/hooks/[0-9a-f-]{{36}}-[A-Za-z0-9]{{6}}",
        described["SecretArn"])
    assert described["LastAuthorizedTime"] == described["CreationTime"]
    authorization = events.authorization(created["ConnectionArn"])
    assert authorization.headers == {"Authorization": "Basic " + base64.b64encode(b"user:pass").decode()}


def test_an_api_key_connection_sends_its_key_and_parameters_but_describes_no_secret_value(events):
    http = {"HeaderParameters": [{"Key": "x-team", "Value": "ml", "IsValueSecret": False},
                                 {"Key": "x-token", "Value": "hidden", "IsValueSecret": True}],
            "QueryStringParameters": [{"Key": "q", "Value": "1"}],
            "BodyParameters": [{"Key": "b", "Value": "2", "IsValueSecret": True}]}
    arn = events.create_connection(Name="k", AuthorizationType="API_KEY", AuthParameters={
        "ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "s3cr3t"},
        "InvocationHttpParameters": http})["ConnectionArn"]
    shown = events.describe_connection(Name="k")["AuthParameters"]
    assert shown == {"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key"}, "InvocationHttpParameters": {
        "HeaderParameters": [{"Key": "x-team", "Value": "ml", "IsValueSecret": False},
                             {"Key": "x-token", "IsValueSecret": True}],
        "QueryStringParameters": [{"Key": "q", "Value": "1", "IsValueSecret": False}],
        "BodyParameters": [{"Key": "b", "IsValueSecret": True}]}}
    authorization = events.authorization(arn)
    assert authorization.headers == {"x-team": "ml", "x-token": "hidden", "x-api-key": "s3cr3t"}
    assert authorization.query == {"q": "1"} and authorization.body == {"b": "2"}


@pytest.mark.parametrize("kind, parameters, message", [
    ("BASIC", {}, "BasicAuthParameters is required for AuthorizationType BASIC."),
    ("BASIC", {**BASIC, "ApiKeyAuthParameters": {"ApiKeyName": "a", "ApiKeyValue": "b"}},
     "ApiKeyAuthParameters cannot be used with AuthorizationType BASIC."),
    ("OAUTH_CLIENT_CREDENTIALS", {"OAuthParameters": {
        "ClientParameters": {"ClientID": "i", "ClientSecret": "s"},
        "AuthorizationEndpoint": "ftp://tokens", "HttpMethod": "POST"}},
     "AuthorizationEndpoint must be an https:// (or, in sagewatch, http://) URL: 'ftp://tokens'."),
    ("BASIC", {**BASIC, "InvocationHttpParameters": {"HeaderParameters": [{"Value": "v"}]}},
     "Each of HeaderParameters must have a Key and a Value."),
])
def test_create_refuses_parameters_that_do_not_fit_the_type(events, kind, parameters, message):
    error = error_of(events.create_connection, Name="c", AuthorizationType=kind, AuthParameters=parameters)
    assert (error.code, error.message) == ("ValidationException", message)
    assert events.list_connections()["Connections"] == []


def test_names_are_unique_and_missing_ones_get_aws_recorded_messages(events):
    events.create_connection(Name="c", AuthorizationType="BASIC", AuthParameters=BASIC)
    error = error_of(events.create_connection, Name="c", AuthorizationType="BASIC", AuthParameters=BASIC)
    assert error.code == "ResourceAlreadyExistsException"
    for call in (events.describe_connection, events.delete_connection, events.deauthorize_connection,
                 events.update_connection):
        error = error_of(call, Name="nope")
        assert (error.code, error.message) == (
            "ResourceNotFoundException", "Failed to describe the connection(s). Connection 'nope' does not exist.")


def test_update_changes_what_is_given_and_authorizes_again(events, clock):
    arn = events.create_connection(Name="c", AuthorizationType="BASIC", AuthParameters=BASIC,
                                   Description="first")["ConnectionArn"]
    clock.advance(10)
    answer = events.update_connection(Name="c", AuthParameters={"BasicAuthParameters": {"Password": "new"}})
    assert answer["ConnectionState"] == "AUTHORIZED"
    assert answer["LastModifiedTime"] == answer["LastAuthorizedTime"] == clock.now()
    assert events.authorization(arn).headers["Authorization"] == "Basic " + base64.b64encode(b"user:new").decode()
    assert events.describe_connection(Name="c")["Description"] == "first"
    # A new type needs its whole block; the old block goes.
    error = error_of(events.update_connection, Name="c", AuthorizationType="API_KEY",
                     AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "k"}})
    assert error.message == "ApiKeyAuthParameters for AuthorizationType API_KEY must include ApiKeyValue."
    events.update_connection(Name="c", AuthorizationType="API_KEY",
                             AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}})
    assert events.describe_connection(Name="c")["AuthParameters"] == {"ApiKeyAuthParameters": {"ApiKeyName": "k"}}
    assert events.authorization(arn).headers == {"k": "v"}


def test_deauthorize_removes_the_credentials_until_an_update_brings_new_ones(events):
    arn = events.create_connection(Name="c", AuthorizationType="BASIC", AuthParameters=BASIC)["ConnectionArn"]
    assert events.deauthorize_connection(Name="c")["ConnectionState"] == "DEAUTHORIZING"
    described = events.describe_connection(Name="c")
    assert described["ConnectionState"] == "DEAUTHORIZED"
    assert "AuthParameters" not in described and "SecretArn" not in described
    with pytest.raises(ConnectionUnavailable, match="DEAUTHORIZED"):
        events.authorization(arn)
    events.update_connection(Name="c", Description="only this")
    assert events.describe_connection(Name="c")["ConnectionState"] == "DEAUTHORIZED"
    error = error_of(events.update_connection, Name="c", AuthParameters={"BasicAuthParameters": {"Password": "p"}})
    assert error.message == "BasicAuthParameters for AuthorizationType BASIC must include Username."
    events.update_connection(Name="c", AuthParameters=BASIC)
    described = events.describe_connection(Name="c")
    assert described["ConnectionState"] == "AUTHORIZED" and "SecretArn" in described
    assert events.authorization(arn).headers["Authorization"].startswith("Basic ")


def test_list_filters_by_prefix_and_state_and_pages(events):
    for name in ("a-1", "a-2", "a-3", "b-1"):
        events.create_connection(Name=name, AuthorizationType="BASIC", AuthParameters=BASIC)
    events.deauthorize_connection(Name="a-2")
    first = events.list_connections(NamePrefix="a-", Limit=2)
    assert [c["Name"] for c in first["Connections"]] == ["a-1", "a-2"]
    rest = events.list_connections(NamePrefix="a-", Limit=2, NextToken=first["NextToken"])
    assert [c["Name"] for c in rest["Connections"]] == ["a-3"] and "NextToken" not in rest
    assert [c["Name"] for c in events.list_connections(ConnectionState="DEAUTHORIZED")["Connections"]] == ["a-2"]
    error = error_of(events.list_connections, NextToken="garbage")
    assert error.code == "ValidationException"


# -- OAuth client credentials ----------------------------------------------------------------------

def test_an_oauth_connection_is_authorizing_until_its_token_is_fetched(events, token_endpoint):
    created = events.create_connection(Name="o", AuthorizationType="OAUTH_CLIENT_CREDENTIALS",
                                       AuthParameters=oauth_parameters(token_endpoint))
    assert created["ConnectionState"] == "AUTHORIZING"
    described = wait_for_state(events, "o", "AUTHORIZED")
    assert described["AuthParameters"] == {"OAuthParameters": {
        "ClientParameters": {"ClientID": "client-id"}, "AuthorizationEndpoint": token_endpoint.url,
        "HttpMethod": "POST"}}
    request = token_endpoint.requests[0]
    assert (request.method, request.form) == ("POST", {"grant_type": "client_credentials"})
    assert events.authorization(created["ConnectionArn"]).headers == {"Authorization": "Bearer token-1"}
    assert len(token_endpoint.requests) == 1  # the token fetched in the background was cached


def test_the_token_request_carries_the_oauth_http_parameters(events, token_endpoint):
    http = {"HeaderParameters": [{"Key": "x-tenant", "Value": "t1"}],
            "QueryStringParameters": [{"Key": "audience", "Value": "api://hooks"}],
            "BodyParameters": [{"Key": "grant_type", "Value": "client_credentials"},
                               {"Key": "scope", "Value": "events", "IsValueSecret": True}]}
    events.create_connection(Name="o", AuthorizationType="OAUTH_CLIENT_CREDENTIALS",
                             AuthParameters=oauth_parameters(token_endpoint, OAuthHttpParameters=http))
    wait_for_state(events, "o", "AUTHORIZED")
    request = token_endpoint.requests[0]
    assert request.headers["x-tenant"] == "t1"
    assert request.query == {"audience": "api://hooks"}
    assert request.form == {"grant_type": "client_credentials", "scope": "events"}
    shown = events.describe_connection(Name="o")["AuthParameters"]["OAuthParameters"]["OAuthHttpParameters"]
    assert shown["BodyParameters"][1] == {"Key": "scope", "IsValueSecret": True}


def test_a_token_is_fetched_again_near_its_expiry_and_after_a_refusal(events, clock, token_endpoint):
    arn = events.create_connection(Name="o", AuthorizationType="OAUTH_CLIENT_CREDENTIALS",
                                   AuthParameters=oauth_parameters(token_endpoint))["ConnectionArn"]
    wait_for_state(events, "o", "AUTHORIZED")
    clock.advance(600 - 61)  # expires_in 600: more than a minute left
    assert events.authorization(arn).headers["Authorization"] == "Bearer token-1"
    clock.advance(2)  # within the last minute
    assert events.authorization(arn).headers["Authorization"] == "Bearer token-2"
    events.forget_token(arn)  # the endpoint answered 401
    assert events.authorization(arn).headers["Authorization"] == "Bearer token-3"
    assert len(token_endpoint.requests) == 3


def test_a_refused_token_deauthorizes_the_connection_and_its_destinations(events, token_endpoint):
    arn = events.create_connection(Name="o", AuthorizationType="OAUTH_CLIENT_CREDENTIALS",
                                   AuthParameters=oauth_parameters(token_endpoint, secret="wrong"))["ConnectionArn"]
    destination = events.create_api_destination(Name="d", ConnectionArn=arn, HttpMethod="POST",
                                                InvocationEndpoint="https://example.com/hook")
    assert destination["ApiDestinationState"] == "INACTIVE"  # AUTHORIZING
    described = wait_for_state(events, "o", "DEAUTHORIZED")
    assert described["StateReason"] == (
        "The OAuth token could not be fetched: the authorization endpoint answered HTTP 401.")
    assert events.describe_api_destination(Name="d")["ApiDestinationState"] == "INACTIVE"
    with pytest.raises(ConnectionUnavailable, match="answered HTTP 401"):
        events.authorization(arn)
    assert len(token_endpoint.requests) == 1  # a deauthorized connection asks no more
    # New credentials authorize it again.
    events.update_connection(Name="o", AuthParameters={
        "OAuthParameters": {"ClientParameters": {"ClientSecret": token_endpoint.client_secret}}})
    wait_for_state(events, "o", "AUTHORIZED")
    assert "StateReason" not in events.describe_connection(Name="o")
    assert events.describe_api_destination(Name="d")["ApiDestinationState"] == "ACTIVE"
    assert events.authorization(arn).headers == {"Authorization": "Bearer token-1"}


def test_an_unreachable_token_endpoint_deauthorizes_too(events, token_endpoint):
    url = token_endpoint.url
    token_endpoint.close()
    parameters = oauth_parameters(token_endpoint)
    parameters["OAuthParameters"]["AuthorizationEndpoint"] = url
    events.create_connection(Name="o", AuthorizationType="OAUTH_CLIENT_CREDENTIALS", AuthParameters=parameters)
    described = wait_for_state(events, "o", "DEAUTHORIZED")
    assert described["StateReason"].startswith(
        "The OAuth token could not be fetched: the authorization endpoint could not be reached")


def test_resume_authorizations_fetches_what_a_stopped_server_left_authorizing(database, clock, token_endpoint):
    store = SQLiteConnectionStore(database)
    before = Events(store, clock)
    before.create_connection(Name="o", AuthorizationType="OAUTH_CLIENT_CREDENTIALS",
                             AuthParameters=oauth_parameters(token_endpoint))
    wait_for_state(before, "o", "AUTHORIZED")
    store.update_connection("o", lambda c: setattr(c, "state", "AUTHORIZING"))  # as if it stopped first
    after = Events(store, clock)
    after.resume_authorizations()
    token_endpoint.wait_for_requests(2)
    wait_for_state(after, "o", "AUTHORIZED")


# -- API destinations ------------------------------------------------------------------------------

def test_api_destinations_follow_their_connection(events, clock):
    arn = events.create_connection(Name="c", AuthorizationType="BASIC", AuthParameters=BASIC)["ConnectionArn"]
    created = events.create_api_destination(Name="d", ConnectionArn=arn, HttpMethod="POST",
                                            InvocationEndpoint="http://127.0.0.1:9/hook", Description="x")
    assert created["ApiDestinationState"] == "ACTIVE"
    assert re.fullmatch(rf"arn:aws:events:{REGION}:{ACCOUNT}:api-destination/d/[0-9a-f-]{{36}}",
                        created["ApiDestinationArn"])
    described = events.describe_api_destination(Name="d")
    assert described["InvocationRateLimitPerSecond"] == 300 and described["Description"] == "x"
    clock.advance(5)
    events.update_api_destination(Name="d", HttpMethod="PUT", InvocationRateLimitPerSecond=5)
    listed = events.list_api_destinations(ConnectionArn=arn)["ApiDestinations"]
    assert [(d["HttpMethod"], d["InvocationRateLimitPerSecond"]) for d in listed] == [("PUT", 5)]
    assert listed[0]["LastModifiedTime"] == clock.now() and "Description" not in listed[0]
    assert events.api_destination(created["ApiDestinationArn"]).http_method == "PUT"
    events.delete_connection(Name="c")
    assert events.describe_api_destination(Name="d")["ApiDestinationState"] == "INACTIVE"
    assert events.delete_api_destination(Name="d") == {}
    error = error_of(events.describe_api_destination, Name="d")
    assert (error.code, error.message) == (
        "ResourceNotFoundException", "Failed to describe the api-destination(s). An api-destination 'd' does not exist.")


def test_an_api_destination_needs_an_existing_connection_and_a_web_url(events):
    missing = f"arn:aws:events:{REGION}:{ACCOUNT}:connection/gone/0f0f0f0f-0000-0000-0000-000000000000"
    error = error_of(events.create_api_destination, Name="d", ConnectionArn=missing, HttpMethod="POST",
                     InvocationEndpoint="https://example.com")
    assert (error.code, error.message) == (
        "ResourceNotFoundException", "Failed to describe the connection(s). Connection 'gone' does not exist.")
    arn = events.create_connection(Name="c", AuthorizationType="BASIC", AuthParameters=BASIC)["ConnectionArn"]
    error = error_of(events.create_api_destination, Name="d", ConnectionArn=arn, HttpMethod="POST",
                     InvocationEndpoint="invalid-endpoint")
    assert error.code == "ValidationException"
    events.create_api_destination(Name="d", ConnectionArn=arn, HttpMethod="POST", InvocationEndpoint="https://e.com")
    error = error_of(events.create_api_destination, Name="d", ConnectionArn=arn, HttpMethod="POST",
                     InvocationEndpoint="https://e.com")
    assert error.code == "ResourceAlreadyExistsException"
    error = error_of(events.update_api_destination, Name="d", ConnectionArn=missing)
    assert error.message == "Failed to describe the connection(s). Connection 'gone' does not exist."
    assert events.describe_api_destination(Name="d")["ConnectionArn"] == arn


def test_the_invocation_slot_keeps_the_rate(events):
    arn = events.create_connection(Name="c", AuthorizationType="BASIC", AuthParameters=BASIC)["ConnectionArn"]
    destination = events.create_api_destination(Name="d", ConnectionArn=arn, HttpMethod="POST",
                                                InvocationEndpoint="https://e.com",
                                                InvocationRateLimitPerSecond=1)["ApiDestinationArn"]
    assert events.invocation_slot(destination) == 0.0
    assert events.invocation_slot(destination) > 0.5  # one a second: the next waits most of it
    assert events.invocation_slot("arn:aws:events:us-east-1:000000000000:api-destination/none/x") == 0.0


def test_the_rate_limiter_lets_a_second_of_calls_through_then_spaces_them():
    now = [100.0]
    limiter = InvocationRateLimiter(monotonic=lambda: now[0])
    assert [limiter.slot("d", 4) for _ in range(4)] == [0.0, 0.0, 0.0, 0.0]
    assert [limiter.slot("d", 4) for _ in range(3)] == [0.25, 0.5, 0.75]
    assert limiter.slot("other", 4) == 0.0  # per destination
    now[0] += 10.0  # a quiet spell refills it
    assert [limiter.slot("d", 4) for _ in range(5)] == [0.0, 0.0, 0.0, 0.0, 0.25]

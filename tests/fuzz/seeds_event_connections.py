"""The EventBridge connection and API destination part of the events fuzz seeds (see seeds.py for
what seeds are): a Basic connection, an OAuth one, and an API destination on the first.
``EventsSeeds`` (seeds_events.py) merges ``known``, ``corpus()`` and ``restore()`` into its own.

The OAuth connection's authorization endpoint is a closed loopback port: fetching its token
fails at once, so fuzzing it deauthorizes a connection rather than calling out anywhere.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

CLOSED_PORT_URL = "http://127.0.0.1:9/token"  # port 9 (discard): nothing listens on loopback


class EventConnectionSeeds:
    def __init__(self, client, suffix: str) -> None:
        self.client = client
        self.basic, self.oauth, self.destination = f"fuzz-basic-{suffix}", f"fuzz-oauth-{suffix}", f"fuzz-{suffix}"
        self.restore()
        arn = client.describe_connection(Name=self.basic)["ConnectionArn"]
        # The basic connection is not among the names the fuzz draws: deleted by a random
        # DeleteConnection, it would come back under another ARN (a new uuid), and the corpus,
        # made once, names its ARN (CreateApiDestination, ListApiDestinations).
        self.known = {"ConnectionName": [self.oauth], "ApiDestinationName": [self.destination],
                      "ConnectionArn": [arn]}

    def _basic_parameters(self) -> dict:
        return {"BasicAuthParameters": {"Username": "fuzz", "Password": "fuzz-password"},
                "InvocationHttpParameters": {
                    "HeaderParameters": [{"Key": "x-fuzz", "Value": "1", "IsValueSecret": False}],
                    "QueryStringParameters": [{"Key": "q", "Value": "v", "IsValueSecret": True}],
                    "BodyParameters": [{"Key": "b", "Value": "v"}]}}

    def _oauth_parameters(self) -> dict:
        return {"OAuthParameters": {
            "ClientParameters": {"ClientID": "fuzz", "ClientSecret": "fuzz-secret"},
            "AuthorizationEndpoint": CLOSED_PORT_URL, "HttpMethod": "POST",
            "OAuthHttpParameters": {"BodyParameters": [{"Key": "scope", "Value": "all"}]}}}

    def corpus(self) -> dict[str, list[dict]]:
        arn = self.known["ConnectionArn"][0]
        return {
            "CreateConnection": [
                {"Name": f"{self.basic}-more", "AuthorizationType": "BASIC", "Description": "fuzz",
                 "AuthParameters": self._basic_parameters()},
                {"Name": f"{self.oauth}-more", "AuthorizationType": "OAUTH_CLIENT_CREDENTIALS",
                 "AuthParameters": self._oauth_parameters()},
                {"Name": f"{self.basic}-key", "AuthorizationType": "API_KEY",
                 "AuthParameters": {"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "k"}}}],
            "DescribeConnection": [{"Name": self.basic}],
            "ListConnections": [{"NamePrefix": "fuzz-", "ConnectionState": "AUTHORIZED", "Limit": 2}],
            "UpdateConnection": [
                {"Name": self.basic, "Description": "again",
                 "AuthParameters": {"BasicAuthParameters": {"Password": "new"}}},
                {"Name": self.oauth, "AuthorizationType": "OAUTH_CLIENT_CREDENTIALS",
                 "AuthParameters": {"OAuthParameters": {"ClientParameters": {"ClientSecret": "other"}}}}],
            "DeauthorizeConnection": [{"Name": self.oauth}],
            "DeleteConnection": [{"Name": self.oauth}],
            "CreateApiDestination": [{"Name": f"{self.destination}-more", "ConnectionArn": arn, "HttpMethod": "PUT",
                                      "InvocationEndpoint": "https://example.com/hook",
                                      "InvocationRateLimitPerSecond": 10, "Description": "fuzz"}],
            "DescribeApiDestination": [{"Name": self.destination}],
            "ListApiDestinations": [{"NamePrefix": "fuzz-", "ConnectionArn": arn, "Limit": 2}],
            "UpdateApiDestination": [{"Name": self.destination, "HttpMethod": "PATCH",
                                      "InvocationEndpoint": "http://127.0.0.1:9/hook",
                                      "InvocationRateLimitPerSecond": 1}],
            "DeleteApiDestination": [{"Name": self.destination}],
        }

    def restore(self) -> None:
        events = self.client
        creations = [
            lambda: events.create_connection(Name=self.basic, AuthorizationType="BASIC",
                                             AuthParameters=self._basic_parameters()),
            lambda: events.create_connection(Name=self.oauth, AuthorizationType="OAUTH_CLIENT_CREDENTIALS",
                                             AuthParameters=self._oauth_parameters()),
            lambda: events.create_api_destination(
                Name=self.destination, HttpMethod="POST", InvocationEndpoint="https://example.com/hook",
                ConnectionArn=events.describe_connection(Name=self.basic)["ConnectionArn"]),
        ]
        for create in creations:
            try:
                create()
            except ClientError as error:
                if error.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                    raise

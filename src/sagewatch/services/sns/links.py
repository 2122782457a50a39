"""The pages SNS's messages link to, served by sagewatch itself (Starlette routes, added in
server.py before the gateway):

* ``/SimpleNotificationService-<hex>.pem``: the signing certificate, the ``SigningCertURL`` of
  every signed message, which validators download to check signatures;
* ``GET /?Action=ConfirmSubscription&TopicArn=...&Token=...``: the ``SubscribeURL`` of a
  SubscriptionConfirmation (and of an UnsubscribeConfirmation, to restore), unsigned as an
  endpoint's plain GET is, answered with AWS's XML ``ConfirmSubscriptionResponse``;
* ``GET /?Action=Unsubscribe&SubscriptionArn=...``: a Notification's ``UnsubscribeURL``,
  answered with AWS's ``UnsubscribeResponse``;
* ``/confirmation.html?TopicArn=...&Token=...&Endpoint=...``: the page the "Confirm
  subscription" link of the confirmation email opens (AWS's path and page text);
* ``/unsubscribe.html?SubscriptionArn=...&Endpoint=...``: the page an email's unsubscribe link
  opens; like AWS's, opening it unsubscribes.

Any other ``GET /`` (a signed query-protocol call, or none of these actions) goes on to the
gateway. The confirmations and unsubscriptions are the SNS service's own ConfirmSubscription
and Unsubscribe, called as unsigned requests (``confirm_subscription_unsigned`` / ``unsubscribe_unsigned``: a subscription confirmed
with AuthenticateOnUnsubscribe is not removed by a link), and like every write they are
answered once on disk.
"""

from __future__ import annotations

import asyncio
import html
import urllib.parse
import uuid
from functools import cache

import botocore.loaders
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from ..errors import AWSError
from .delivery import SnsDelivery
from .emails import unsubscribe_link

# The query API's namespace (botocore's sns model: metadata.xmlNamespace).
XML_NAMESPACE = "http://sns.amazonaws.com/doc/2010-03-31/"
REQUEST_ID_HEADER = "x-amzn-RequestId"
CERTIFICATE_TYPE = "application/x-x509-ca-cert"


@cache
def _error_shapes() -> dict[str, tuple[int, bool]]:
    """Error code → (HTTP status, sender's fault), from botocore's SNS model."""
    model = botocore.loaders.create_loader().load_service_model("sns", "service-2")
    found = {}
    for shape in model["shapes"].values():
        error = shape.get("error")
        if shape.get("exception") and error:
            found[error.get("code")] = (error.get("httpStatusCode", 400), error.get("senderFault", False))
    return found


def _error_status(error: AWSError) -> tuple[int, bool]:
    status, sender = _error_shapes().get(error.code, (400, True))
    return (error.status or status, sender if error.sender_fault is None else error.sender_fault)


class SnsLinks:
    """The routes. ``sns`` is the SNS service; ``gateway`` the ASGI app any other ``GET /``
    goes to; ``durability`` the database's group commit (``wait(commit)``), so that a
    confirmation is answered only once it is on disk."""

    def __init__(self, sns, delivery: SnsDelivery, gateway, durability=None) -> None:
        self.sns = sns
        self.delivery = delivery
        self.gateway = gateway
        self.durability = durability

    def routes(self) -> list[BaseRoute]:
        return [
            Route(f"/{self.delivery.identity.certificate_file_name}", self.certificate, methods=["GET"]),
            Route("/confirmation.html", self.confirmation_page, methods=["GET"]),
            Route("/unsubscribe.html", self.unsubscribe_page, methods=["GET"]),
            Route("/", _QueryLinks(self), methods=["GET"]),
        ]

    async def certificate(self, request: Request) -> Response:
        return Response(self.delivery.identity.certificate_pem, media_type=CERTIFICATE_TYPE)

    # -- calling the service ---------------------------------------------------------------------

    async def call(self, operation, **arguments):
        """The service's operation on a worker thread (it reads and writes the store), the
        answer returned once what it wrote is on disk. Raises the operation's AWSError."""
        result, failure, commit = await run_in_threadpool(self._call_noting_commit, operation, arguments)
        if commit:
            await asyncio.wrap_future(self.durability.wait(commit))
        if failure is not None:
            raise failure
        return result

    def _call_noting_commit(self, operation, arguments):
        before = self.durability.last_commit_of_this_thread() if self.durability else 0
        result = failure = None
        try:
            result = operation(**arguments)
        except AWSError as error:
            failure = error
        after = self.durability.last_commit_of_this_thread() if self.durability else 0
        return result, failure, (after if after != before else 0)

    # -- the email pages -------------------------------------------------------------------------

    async def confirmation_page(self, request: Request) -> Response:
        """What AWS shows once the confirmation email's link is opened: "Subscription
        confirmed! You have subscribed <address> to the topic:<name>. Your subscription's id
        is: <arn> If it was not your intention to subscribe, click here to unsubscribe." (the
        AWS CLI user guide, cli-services-sns.html)."""
        if request.method == "HEAD":
            return _page("Confirm subscription", "")  # a link checker's look acts on nothing
        query = request.query_params
        topic_arn, token, endpoint = query.get("TopicArn"), query.get("Token"), query.get("Endpoint", "")
        if not topic_arn or not token:
            return _page("Subscription not confirmed", "<p>The link is incomplete: it needs a TopicArn and a Token.</p>",
                         status=400)
        try:
            result = await self.call(self.sns.confirm_subscription_unsigned, TopicArn=topic_arn, Token=token)
        except AWSError as error:
            return _page("Subscription not confirmed", f"<p>{html.escape(error.code)}: {html.escape(error.message or '')}</p>",
                         status=_error_status(error)[0])
        subscription_arn = result["SubscriptionArn"]
        topic_name = topic_arn.rsplit(":", 1)[-1]
        leave = unsubscribe_link(self.delivery.public_url, subscription_arn, endpoint)
        return _page("Subscription confirmed!",
                     f"<p>You have subscribed {html.escape(endpoint)} to the topic:<b>{html.escape(topic_name)}</b>.</p>\n"
                     f"<p>Your subscription's id is:<br>\n{html.escape(subscription_arn)}</p>\n"
                     f"<p>If it was not your intention to subscribe, "
                     f"<a href=\"{html.escape(leave)}\">click here to unsubscribe</a>.</p>")

    async def unsubscribe_page(self, request: Request) -> Response:
        """What AWS shows when an email's unsubscribe link is opened: "Subscription removed!
        Your subscription to the topic below has been deactivated for address <address>."
        (AWS's page as quoted in public test code that checks it)."""
        if request.method == "HEAD":
            return _page("Unsubscribe", "")  # a link checker's look acts on nothing
        query = request.query_params
        subscription_arn, endpoint = query.get("SubscriptionArn"), query.get("Endpoint", "")
        if not subscription_arn:
            return _page("Subscription not removed", "<p>The link is incomplete: it needs a SubscriptionArn.</p>",
                         status=400)
        subscription = await run_in_threadpool(self.sns.subscription, subscription_arn)
        if subscription is None:
            # Opened twice, or after the subscription went another way: nothing left to remove.
            return _page("Subscription not found", "<p>This subscription does not exist: it may already have "
                         "been removed.</p>", status=404)
        try:
            await self.call(self.sns.unsubscribe_unsigned, SubscriptionArn=subscription_arn)
        except AWSError as error:
            return _page("Subscription not removed", f"<p>{html.escape(error.code)}: {html.escape(error.message or '')}</p>",
                         status=_error_status(error)[0])
        return _page("Subscription removed!",
                     f"<p>Your subscription to the topic below has been deactivated for address "
                     f"{html.escape(endpoint or subscription.endpoint)}.</p>\n"
                     f"<p>{html.escape(subscription.topic_arn)}</p>\n"
                     f"<p>You will no longer receive notifications from this topic.</p>")


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title></head>\n"
                        f"<body>\n<h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n", status_code=status)


class _QueryLinks:
    """``GET /``: the SubscribeURL and UnsubscribeURL actions when unsigned, else the gateway
    (a HEAD too: a link checker's look never confirms or unsubscribes). An ASGI app (not a
    function) so that what it does not answer goes on, untouched."""

    ACTIONS = ("ConfirmSubscription", "Unsubscribe")

    def __init__(self, links: SnsLinks) -> None:
        self.links = links

    async def __call__(self, scope, receive, send) -> None:
        query = dict(urllib.parse.parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        signed = any(name == b"authorization" for name, _ in scope["headers"]) or "X-Amz-Signature" in query
        if signed or scope["method"] != "GET" or query.get("Action") not in self.ACTIONS:
            await self.links.gateway(scope, receive, send)
            return
        response = await self.answer(query)
        await response(scope, receive, send)

    async def answer(self, query: dict[str, str]) -> Response:
        request_id = str(uuid.uuid4())
        action = query["Action"]
        try:
            if action == "ConfirmSubscription":
                _require(query, "TopicArn", "Token")
                result = await self.links.call(self.links.sns.confirm_subscription_unsigned,
                                               TopicArn=query["TopicArn"], Token=query["Token"])
                inner = (f"<ConfirmSubscriptionResult><SubscriptionArn>{html.escape(result['SubscriptionArn'])}"
                         f"</SubscriptionArn></ConfirmSubscriptionResult>")
            else:
                _require(query, "SubscriptionArn")
                await self.links.call(self.links.sns.unsubscribe_unsigned,
                                      SubscriptionArn=query["SubscriptionArn"])
                inner = ""
        except AWSError as error:
            status, sender = _error_status(error)
            message = f"<Message>{html.escape(error.message)}</Message>" if error.message is not None else ""
            body = (f'<ErrorResponse xmlns="{XML_NAMESPACE}"><Error><Type>{"Sender" if sender else "Receiver"}</Type>'
                    f"<Code>{html.escape(error.code)}</Code>{message}</Error><RequestId>{request_id}</RequestId>"
                    f"</ErrorResponse>")
            return Response(body, status_code=status, media_type="text/xml",
                            headers={REQUEST_ID_HEADER: request_id})
        # AWS's response documents (API_ConfirmSubscription.html / API_Unsubscribe.html examples).
        body = (f'<{action}Response xmlns="{XML_NAMESPACE}">{inner}'
                f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>")
        return Response(body, media_type="text/xml", headers={REQUEST_ID_HEADER: request_id})


def _require(query: dict[str, str], *names: str) -> None:
    """AWS's answer to a query call missing a required member: ValidationError, "1 validation
    error detected: Value null at '<member>' failed to satisfy constraint: Member must not be
    null" (AWS's wording for a missing member, as localstack reproduces it from AWS snapshots)."""
    for name in names:
        if not query.get(name):
            member = name[0].lower() + name[1:]
            raise AWSError("ValidationError", f"1 validation error detected: Value null at '{member}' failed to "
                           f"satisfy constraint: Member must not be null", status=400, sender_fault=True)

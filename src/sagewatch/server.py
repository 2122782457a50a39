"""Assembles sagewatch: the store, the services over it, the gateway in front of them, and the
components that live as long as the server (the database, the alarm engine, background duties),
into one ASGI application that uvicorn serves.

Read this file to see every part and how they connect; nothing is registered anywhere else.
What runs is the ``Lifecycle`` at the end of ``Sagewatch.__init__``: its components start in
the order listed, their duties run on their periods, and they stop in reverse order.
"""

from __future__ import annotations

import contextlib
import gc
import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from .aws.gateway import Gateway
from .clock import SYSTEM_CLOCK, Clock
from .config import Settings
from .lifecycle import Duty, Lifecycle, Part
from .services.cloudwatch.alarm_events import configuration_change_event, state_change_event
from .services.cloudwatch.alarms import AlarmActions, AlarmEngine
from .services.cloudwatch.metrics import MetricData
from .services.cloudwatch.service import CloudWatchService
from .services.delivery import DeliveryQueue
from .services.events.scheduler import EventScheduler
from .services.events.service import EventsService
from .services.events.targets import KIND as EVENT_TARGET_KIND
from .services.events.targets import EventTargets
from .services.iam.service import IAMService
from .services.logs.service import LogsService
from .jobs.capacity import Capacity
from .jobs.controller import JobController
from .jobs.data import Storage
from .jobs.runners.docker import DockerRunner
from .jobs.runners.process import ProcessRunner
from .services.sagemaker.job_events import JobEventSource
from .services.sagemaker.jobs import JobStateListeners
from .services.sagemaker.metric_definitions import MetricDefinitions
from .services.sagemaker.stop_action import StopJobAction
from .services.sagemaker.service import SageMakerService
from .services.sns.alarm_action import SnsAlarmAction
from .services.sns.delivery import EMAIL_KIND, HTTP_KIND, SnsDelivery
from .services.sns.links import SnsLinks
from .services.sns.service import SNSService
from .services.sns.signing import SigningIdentity
from .services.sts.service import STSService
from .store.sqlite.jobs import SQLiteJobStore
from .store.sqlite.alarms import SQLiteAlarmStore
from .store.sqlite.database import Database
from .store.sqlite.event_connections import SQLiteConnectionStore
from .store.sqlite.event_schedules import SQLiteEventScheduleStore
from .store.sqlite.events import SQLiteEventStore
from .store.sqlite.logs import SQLiteLogStore
from .store.sqlite.metrics import SQLiteMetricStore
from .store.sqlite.outbox import SQLiteOutboxStore
from .store.sqlite.sns import SQLiteSnsStore
from .store.sqlite.tags import SQLiteTagStore

log = logging.getLogger("sagewatch")


class Sagewatch:
    """The running system: one database, the stores over it, the services, the gateway, and
    the lifecycle of what runs in the background."""

    def __init__(self, settings: Settings, clock: Clock = SYSTEM_CLOCK) -> None:
        self.settings = settings
        self.clock = clock
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.database = Database(settings.database_path)
        account = dict(region=settings.region, account_id=settings.account_id)
        tags = SQLiteTagStore(self.database)
        # Deliveries owed to the outside world (SNS notifications, EventBridge targets), queued
        # durably and carried out by handlers each service registers for its kinds.
        self.delivery_queue = DeliveryQueue(SQLiteOutboxStore(self.database, now=clock.now), clock=clock)
        self.logs = LogsService(SQLiteLogStore(self.database), tags, clock=clock.now_ms, **account)
        # SNS's real deliveries: signed with the server's own key pair (made once in the data
        # directory), POSTed to webhooks and emailed through [smtp]; delivery status logs go
        # to CloudWatch Logs.
        self.sns_delivery = SnsDelivery(
            SigningIdentity(settings.data_dir), public_url=settings.public_base_url, smtp=settings.smtp,
            clock=clock, logs=self.logs, **account)
        self.delivery_queue.register(HTTP_KIND, self.sns_delivery.deliver_http)
        self.delivery_queue.register(EMAIL_KIND, self.sns_delivery.deliver_email)
        # Subscribe and Unsubscribe queue what they owe in their own transaction (the outbox is
        # the store's); Publish queues its notifications through the queue.
        self.sns = SNSService(SQLiteSnsStore(self.database, self.delivery_queue.store), tags, self.sns_delivery,
                              self.delivery_queue, clock=clock, **account)
        self.sns_delivery.attach(self.sns)
        self.metric_data = MetricData(SQLiteMetricStore(self.database), clock=clock)
        alarm_store = SQLiteAlarmStore(self.database)
        # Alarm actions are delivered by handlers registered here as services arrive (SNS, ...).
        self.alarm_actions = AlarmActions()
        self.alarm_engine = AlarmEngine(alarm_store, self.metric_data, self.alarm_actions, clock=clock, **account)
        self.cloudwatch = CloudWatchService(
            self.metric_data, alarm_store, self.alarm_engine, tags, clock=clock.now, **account,
        )
        jobs = SQLiteJobStore(self.database)
        job_listeners = JobStateListeners()  # Step 5 puts job state changes on the event bus
        self.job_controller = JobController(
            jobs, _runner(settings), Capacity.from_settings(settings.jobs),
            work_dir=settings.jobs_dir, endpoint=_agent_endpoint(settings), region=settings.region,
            stop_grace_seconds=settings.jobs.stop_grace_seconds, listeners=job_listeners,
            clock=clock, storage=Storage.from_settings(settings.jobs, settings.region),
            resolve_settings=settings.jobs,
        )
        self.sagemaker = SageMakerService(jobs, tags, self.job_controller, clock=clock.now,
                                          state_listeners=job_listeners, **account)
        stop_action = StopJobAction(settings.region, self.sagemaker.request_stop)
        self.alarm_actions.register(stop_action.accepts, stop_action)
        # A training job's MetricDefinitions read its log lines as they are stored.
        self.logs.add_ingest_listener(MetricDefinitions(jobs, self.cloudwatch.put_metric_values))
        self.sts = STSService(account_id=settings.account_id)
        # No IAM: every call is AccessDenied, which the SageMaker SDK v3's role check accepts.
        self.iam = IAMService(account_id=settings.account_id)
        # EventBridge: rules matched on the buses; their targets act (SNS topics, API
        # destinations, SageMaker jobs: services/events/targets.py), at least once, retried, dead-
        # lettered; scheduled rules fired by a durable scheduler. A target calls SageMaker
        # through the gateway, so a request made from an event is checked as the API checks one.
        self.event_targets = EventTargets(
            clock=clock, sns_publish=self.sns.publish,
            sagemaker_call=lambda operation, request: self.gateway.invoke("sagemaker", operation, request),
            connections=lambda: self.events, put_metrics=self.cloudwatch.put_metric_values, **account)
        self.delivery_queue.register(EVENT_TARGET_KIND, self.event_targets.deliver)
        event_store = SQLiteEventStore(self.database)
        self.events = EventsService(event_store, tags, self.event_targets, self.delivery_queue, clock=clock,
                                    connections=SQLiteConnectionStore(self.database), **account)
        self.event_scheduler = EventScheduler(SQLiteEventScheduleStore(self.database), event_store,
                                              self.event_targets, self.delivery_queue.wake, clock=clock, **account)
        # What goes on the default bus: every alarm state and configuration change, told in order
        # by the alarm engine's announcer (services/cloudwatch/alarm_events.py), and every job
        # status change, put right after it is stored (services/sagemaker/job_events.py).
        self.alarm_engine.add_listener(lambda change: self.events.put_service_events([state_change_event(change)]))
        self.alarm_engine.add_configuration_listener(
            lambda change: self.events.put_service_events([configuration_change_event(change)]))
        job_listeners.add(JobEventSource(self.sagemaker.describe, tags.get_tags, self.events.put_service_events))
        # Alarm actions on SNS topics publish AWS's alarm message and email (services/sns/alarm_action.py).
        sns_action = SnsAlarmAction(self.sns.publish, settings.region, settings.account_id)
        self.alarm_actions.register(sns_action.accepts, sns_action)
        # Writes are acknowledged once they are on disk: the gateway waits on the database's
        # group commit.
        self.gateway = Gateway([self.logs, self.cloudwatch, self.sagemaker, self.sts, self.iam, self.sns,
                                self.events], durability=self.database.wal_sync)

        every = settings.compaction_seconds
        self.lifecycle = Lifecycle([
            # First started, last stopped: everything below writes to it until it stops.
            Part("database", on_stop=self.database.close,
                 periodic=[Duty("database.checkpoint", every, self.database.checkpoint)]),
            Part("logs", periodic=[
                Duty("logs.retention", settings.retention_sweep_seconds, self.logs.enforce_retention),
                # A job's agent writes many tiny batches; they become a few blocks
                # (store/log_blocks.py). 10 s: ~4,000 blocks a run at 20 busy jobs, one budget.
                Duty("logs.merge_small_blocks", 10.0, self.logs.store.merge_small_blocks)]),
            Part("metrics", periodic=[Duty("metrics.compaction", every, self.metric_data.compact)]),
            # EventBridge's AWS/Events metrics, counted in memory: published every 10 s and at stop.
            self.event_targets,
            # Its kept-alive webhook connections close once the queue's handlers have stopped.
            Part("sns.delivery", on_stop=self.sns_delivery.close),
            # Unconfirmed subscriptions go after three days (reference §9.1).
            Part("sns", periodic=[Duty("sns.expire_subscriptions", 3600.0, self.sns.expire_subscriptions)]),
            # Before the alarm engine, whose actions queue deliveries, and stopped after it; its
            # start releases the claims a crashed server held (they are delivered again).
            self.delivery_queue,
            # OAuth connections a stopped server left AUTHORIZING fetch their token.
            Part("events", on_start=self.events.resume_authorizations),
            # Fires scheduled rules into the queue; a slot missed while down fires if < 1 min late.
            self.event_scheduler,
            self.alarm_engine,
            # Last started: jobs a previous server left running are re-adopted once everything
            # they report to is up; first stopped, leaving their agents running.
            Part("jobs", on_start=self.job_controller.start, on_stop=self.job_controller.shutdown),
        ])


def _runner(settings: Settings):
    """Where instances run (docs/jobs.md): this machine's processes, or a local Docker engine."""
    if settings.jobs.runner == "docker":
        return DockerRunner(docker=settings.jobs.docker, job_python=settings.jobs.python)
    return ProcessRunner(job_python=settings.jobs.python)


def _agent_endpoint(settings: Settings) -> str:
    """The URL a job's agent ships to: this server, over loopback when it listens everywhere."""
    host = settings.host
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def create_app(settings: Settings, clock: Clock = SYSTEM_CLOCK) -> Starlette:
    system = Sagewatch(settings, clock)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        # Requests allocate thousands of short-lived dicts (a 1,000-datum PutMetricData makes
        # ~8,000); the default thresholds run a collection every few hundred of them, which
        # measured as a fifth of the request time. Long-lived start-up objects are frozen out of
        # the collector's way, and young objects are collected less often.
        gc.freeze()
        gc.set_threshold(100_000, 50, 100)
        async with system.lifecycle.running():
            yield

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    app = Starlette(
        routes=[
            Route("/_sagewatch/health", health, methods=["GET"]),
            # The pages SNS's messages link to (the signing certificate, SubscribeURL and
            # UnsubscribeURL, the email links): before the gateway, which gets every other GET /.
            *SnsLinks(system.sns, system.sns_delivery, system.gateway, system.database.wal_sync).routes(),
            Mount("/", app=system.gateway),
        ],
        lifespan=lifespan,
    )
    app.state.system = system
    return app

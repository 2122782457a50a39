"""Scheduled rules fire on time, once (services/events/scheduler.py).

The real application runs in process on a FakeClock (tests/inprocess.py): the test moves time,
runs the ``events.scheduler`` duty at each moment (as its one-second period would) and waits
for the delivery queue. Each rule's target is an API destination whose endpoint is a real HTTP
listener started by the test (tests/api_endpoint.py), so what a firing sends is what the
listener receives.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from sagewatch.clock import FakeClock

from ..api_endpoint import ApiEndpoint
from ..inprocess import InProcessSagewatch

START = 1_709_287_210.0  # 2024-03-01 10:00:10 UTC


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def hook():
    listener = ApiEndpoint()
    yield listener
    listener.close()


class Scheduled:
    """The application and what its scheduled rules delivered to the listener."""

    def __init__(self, data_dir, clock: FakeClock, hook) -> None:
        self.app = InProcessSagewatch(data_dir, clock)
        self.clock = clock
        self.hook = hook

    def __enter__(self) -> Scheduled:
        self.app.__enter__()
        self.events = self.app.client("events")
        return self

    def __exit__(self, *exc) -> None:
        self.app.__exit__(*exc)

    def rule(self, name: str, expression: str, state: str = "ENABLED") -> str:
        arn = self.events.put_rule(Name=name, ScheduleExpression=expression, State=state)["RuleArn"]
        connection = self.events.create_connection(
            Name=f"{name}-connection", AuthorizationType="API_KEY",
            AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "k"}})
        destination = self.events.create_api_destination(
            Name=f"{name}-destination", ConnectionArn=connection["ConnectionArn"],
            InvocationEndpoint=f"{self.hook.url}/{name}", HttpMethod="POST")
        self.events.put_targets(Rule=name, Targets=[{"Id": "hook", "Arn": destination["ApiDestinationArn"]}])
        return arn

    def at(self, moment: float) -> None:
        """Time passes to ``moment``; the scheduler looks; what it queued is delivered."""
        self.app.advance_to(moment)
        self.app.run_duty("events.scheduler")
        self.app.settle()

    def fired(self, name: str) -> list[dict]:
        return [json.loads(r["body"]) for r in self.hook.requests if r["path"] == f"/{name}"]

    def times(self, name: str) -> list[str]:
        return [event["time"] for event in self.fired(name)]


def test_a_rate_rule_fires_every_period_from_its_creation(tmp_path, hook):
    with Scheduled(tmp_path, FakeClock(START), hook) as s:
        arn = s.rule("every-5", "rate(5 minutes)")
        s.at(START + 299)
        assert s.fired("every-5") == []
        s.at(START + 300)
        assert s.times("every-5") == [iso(START + 300)]
        s.at(START + 450)
        s.at(START + 600)
        assert s.times("every-5") == [iso(START + 300), iso(START + 600)]
        event = s.fired("every-5")[0]
        assert event == {
            "version": "0", "id": event["id"], "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "000000000000", "time": iso(START + 300), "region": "us-east-1",
            "resources": [arn], "detail": {},
        }
        assert event["id"] != s.fired("every-5")[1]["id"]


def test_a_cron_rule_fires_at_its_minutes(tmp_path, hook):
    with Scheduled(tmp_path, FakeClock(START), hook) as s:
        s.rule("tens", "cron(0/10 * * * ? *)")
        for minute in range(1, 31):
            s.at(START - 10 + minute * 60)  # each minute's start, 10:01 ... 10:30
        assert s.times("tens") == ["2024-03-01T10:10:00Z", "2024-03-01T10:20:00Z", "2024-03-01T10:30:00Z"]


def test_a_slot_found_late_fires_once_not_a_burst(tmp_path, hook):
    with Scheduled(tmp_path, FakeClock(START), hook) as s:
        s.rule("minutely", "rate(1 minute)")
        s.at(START + 60)
        s.at(START + 60 * 5 + 7)  # four slots passed unseen (a stalled machine): the latest fires
        assert s.times("minutely") == [iso(START + 60), iso(START + 300)]


def test_disabled_rules_do_not_fire_and_enabling_starts_the_rate_again(tmp_path, hook):
    with Scheduled(tmp_path, FakeClock(START), hook) as s:
        s.rule("off", "rate(1 minute)", state="DISABLED")
        s.rule("toggled", "rate(2 minutes)")
        s.at(START + 120)
        assert s.times("toggled") == [iso(START + 120)]
        s.events.disable_rule(Name="toggled")
        s.at(START + 240)
        s.at(START + 330)
        s.events.enable_rule(Name="toggled")  # enabled at +330: the next slot is +450
        s.at(START + 331)
        s.at(START + 449)
        s.at(START + 450)
        assert s.fired("off") == []
        assert s.times("toggled") == [iso(START + 120), iso(START + 450)]


def test_a_restart_neither_fires_twice_nor_forgets(tmp_path, hook):
    clock = FakeClock(START)
    with Scheduled(tmp_path, clock, hook) as s:
        s.rule("durable", "rate(5 minutes)")
        s.at(START + 300)
    assert len(hook.requests) == 1
    # Back up at the same moment: the slot it fired is not fired again.
    with Scheduled(tmp_path, clock, hook) as s:
        s.at(START + 300)
        assert s.times("durable") == [iso(START + 300)]
    # Down across +600, up 30 s later: the missed slot is less than a minute late and fires.
    clock.set(START + 630)
    with Scheduled(tmp_path, clock, hook) as s:
        s.at(START + 630)
        assert s.times("durable") == [iso(START + 300), iso(START + 600)]
    # Down across +900, up two minutes later: too late, skipped; the schedule goes on.
    clock.set(START + 1020)
    with Scheduled(tmp_path, clock, hook) as s:
        s.at(START + 1020)
        assert s.times("durable") == [iso(START + 300), iso(START + 600)]
        s.at(START + 1200)
        assert s.times("durable") == [iso(START + 300), iso(START + 600), iso(START + 1200)]


def test_deleting_a_rule_stops_it(tmp_path, hook):
    with Scheduled(tmp_path, FakeClock(START), hook) as s:
        s.rule("gone", "rate(1 minute)")
        s.at(START + 60)
        s.events.remove_targets(Rule="gone", Ids=["hook"])
        s.events.delete_rule(Name="gone")
        s.at(START + 180)
        assert s.times("gone") == [iso(START + 60)]

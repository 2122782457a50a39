"""The application's lifecycle as server.py composes it: the lifespan starts the components and
stops them, every duty is named and runnable, and one clock is what every service reads."""

from __future__ import annotations

from sagewatch.clock import FakeClock

from ..inprocess import InProcessSagewatch

START = 1_767_225_605.0  # 2026-01-01 00:00:05 UTC
DAY = 86400


def test_the_lifespan_starts_and_stops_the_components(tmp_path):
    app = InProcessSagewatch(tmp_path / "data")
    engine = app.system.alarm_engine
    with app:
        assert engine._thread is not None and engine._thread.is_alive()
        assert {"database.checkpoint", "logs.retention", "metrics.compaction",
                "alarms.expire-history"} <= set(app.system.lifecycle.duties)
        thread = engine._thread
    assert not thread.is_alive()  # stopped with the application


def test_one_clock_for_every_service_and_duties_run_on_demand(tmp_path):
    clock = FakeClock(START)
    with InProcessSagewatch(tmp_path / "data", clock) as app:
        logs, cw = app.client("logs"), app.client("cloudwatch")
        logs.create_log_group(logGroupName="g")
        assert logs.describe_log_groups()["logGroups"][0]["creationTime"] == int(START * 1000)
        logs.put_retention_policy(logGroupName="g", retentionInDays=1)
        logs.create_log_stream(logGroupName="g", logStreamName="s")
        logs.put_log_events(logGroupName="g", logStreamName="s",
                            logEvents=[{"timestamp": int(START * 1000), "message": "old"}])
        cw.put_metric_alarm(AlarmName="a", Namespace="n", MetricName="m", Statistic="Sum", Period=60,
                            EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold")
        app.settle()
        history = cw.describe_alarm_history(AlarmName="a")["AlarmHistoryItems"]
        assert history[0]["Timestamp"].timestamp() == START

        clock.advance(2 * DAY)
        # The events are past retention by the fake clock: reads leave them out at once, and the
        # retention duty, run now rather than on its period, deletes them.
        assert logs.get_log_events(logGroupName="g", logStreamName="s")["events"] == []
        assert logs.describe_log_groups()["logGroups"][0]["storedBytes"] > 0
        app.run_duty("logs.retention")
        assert logs.describe_log_groups()["logGroups"][0]["storedBytes"] == 0

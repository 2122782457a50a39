"""The real aws CLI against sagewatch's CloudWatch: what a person types at a shell.

The CLI uses botocore's default protocol for CloudWatch; one test forces it onto each other
protocol through AWS_DATA_PATH, as a user of an older or newer SDK would speak."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from .cloudwatch_clients import (  # noqa: F401  (fixtures)
    PROTOCOLS,
    at,
    cloudwatch_data_root,
    cw_json,
    cw_clients,
    forced_model_dir,
    minute_floor,
)


def iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def test_put_and_read_metrics(aws, unique):
    ns = f"e2e-cli/{unique}"
    minute = minute_floor(time.time()) - 300
    for value in (2, 4, 5):
        aws("cloudwatch", "put-metric-data", "--namespace", ns, "--metric-name", "Loss", "--value", str(value),
            "--unit", "Count", "--dimensions", "Job=train,Host=algo-1", "--timestamp", iso(minute + 10))
    listed = aws.json("cloudwatch", "list-metrics", "--namespace", ns)
    assert listed["Metrics"] == [{"Namespace": ns, "MetricName": "Loss", "Dimensions": [
        {"Name": "Host", "Value": "algo-1"}, {"Name": "Job", "Value": "train"}]}]
    stats = aws.json("cloudwatch", "get-metric-statistics", "--namespace", ns, "--metric-name", "Loss",
                     "--dimensions", "Name=Job,Value=train", "Name=Host,Value=algo-1",
                     "--start-time", iso(minute), "--end-time", iso(minute + 60), "--period", "60",
                     "--statistics", "Sum", "Average", "SampleCount", "Minimum", "Maximum")
    (point,) = stats["Datapoints"]
    assert {k: point[k] for k in ("Sum", "Average", "SampleCount", "Minimum", "Maximum", "Unit")} == {
        "Sum": 11.0, "Average": 11 / 3, "SampleCount": 3.0, "Minimum": 2.0, "Maximum": 5.0, "Unit": "Count"}
    assert stats["Label"] == "Loss"
    queries = [{"Id": "loss", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Loss", "Dimensions": [
        {"Name": "Host", "Value": "algo-1"}, {"Name": "Job", "Value": "train"}]}, "Period": 60, "Stat": "p50"}},
               {"Id": "twice", "Expression": "loss * 2"}]
    data = aws.json("cloudwatch", "get-metric-data", "--metric-data-queries", json.dumps(queries),
                    "--start-time", iso(minute), "--end-time", iso(minute + 60))
    assert [(r["Id"], r["Values"]) for r in data["MetricDataResults"]] == [("loss", [4.0]), ("twice", [8.0])]


def test_list_metrics_paginates_across_500(aws, cw_json, unique):
    ns = f"e2e-cli/{unique}"
    cw_json.put_metric_data(Namespace=ns, MetricData=[{"MetricName": f"m{i:03d}", "Value": 1.0} for i in range(501)])
    listed = aws.json("cloudwatch", "list-metrics", "--namespace", ns)
    assert sorted(m["MetricName"] for m in listed["Metrics"]) == [f"m{i:03d}" for i in range(501)]
    first = aws.json("cloudwatch", "list-metrics", "--namespace", ns, "--no-paginate")
    assert len(first["Metrics"]) == 500 and first["NextToken"]


def test_alarm_lifecycle(aws, unique):
    name = f"e2e-cli-{unique}"
    aws("cloudwatch", "put-metric-alarm", "--alarm-name", name, "--namespace", f"e2e-cli/{unique}",
        "--metric-name", "GPUUtilization", "--statistic", "Average", "--period", "60", "--evaluation-periods", "3",
        "--datapoints-to-alarm", "2", "--threshold", "90", "--comparison-operator", "GreaterThanThreshold",
        "--treat-missing-data", "ignore", "--alarm-actions", "arn:aws:sns:us-east-1:000000000000:t",
        "--tags", "Key=team,Value=ml")
    (described,) = aws.json("cloudwatch", "describe-alarms", "--alarm-names", name)["MetricAlarms"]
    assert (described["StateValue"], described["Threshold"], described["DatapointsToAlarm"]) == (
        "INSUFFICIENT_DATA", 90.0, 2)
    aws("cloudwatch", "set-alarm-state", "--alarm-name", name, "--state-value", "ALARM",
        "--state-reason", "from the shell")
    (described,) = aws.json("cloudwatch", "describe-alarms", "--alarm-names", name,
                            "--state-value", "ALARM")["MetricAlarms"]
    assert described["StateReason"] == "from the shell"
    items = aws.json("cloudwatch", "describe-alarm-history", "--alarm-name", name,
                     "--history-item-type", "StateUpdate")["AlarmHistoryItems"]
    assert [i["HistorySummary"] for i in items] == ["Alarm updated from INSUFFICIENT_DATA to ALARM"]
    tags = aws.json("cloudwatch", "list-tags-for-resource", "--resource-arn", described["AlarmArn"])
    assert tags["Tags"] == [{"Key": "team", "Value": "ml"}]
    aws("cloudwatch", "disable-alarm-actions", "--alarm-names", name)
    assert aws.json("cloudwatch", "describe-alarms", "--alarm-names", name)["MetricAlarms"][0]["ActionsEnabled"] is False
    aws("cloudwatch", "delete-alarms", "--alarm-names", name)
    assert aws.json("cloudwatch", "describe-alarms", "--alarm-names", name)["MetricAlarms"] == []


def test_errors_reach_the_shell(aws, unique):
    result = aws("cloudwatch", "set-alarm-state", "--alarm-name", f"e2e-cli-{unique}-missing",
                 "--state-value", "OK", "--state-reason", "x", check=False)
    assert result.returncode != 0
    assert "(ResourceNotFound)" in result.stderr
    result = aws("cloudwatch", "put-metric-data", "--namespace", f"e2e-cli/{unique}", "--metric-data",
                 json.dumps([{"MetricName": "m", "Value": 1, "Values": [1, 2]}]), check=False)
    assert result.returncode != 0
    assert "(InvalidParameterCombination)" in result.stderr
    assert ("The parameters MetricData.member.1.Value and MetricData.member.1.Values are mutually exclusive "
            "and you have specified both.") in result.stderr


@pytest.mark.parametrize("protocol_id", ["query", "cbor", "json"])
def test_cli_on_each_protocol(aws, server, cloudwatch_data_root, unique, protocol_id):
    data_path = forced_model_dir(cloudwatch_data_root, PROTOCOLS[protocol_id])
    env = {**server.env(), "AWS_DATA_PATH": str(data_path)}
    env.pop("AWS_PROFILE", None)
    ns = f"e2e-cli/{protocol_id}/{unique}"

    def run(*args: str) -> dict | None:
        result = subprocess.run([aws.executable, *args, "--output", "json", "--debug"], capture_output=True,
                                text=True, env=env, timeout=60)
        assert result.returncode == 0, result.stderr[-2000:]
        return result

    sent = run("cloudwatch", "put-metric-data", "--namespace", ns, "--metric-name", "m", "--value", "7")
    # The CLI's debug log shows which protocol it spoke.
    marker = {"query": "Action=PutMetricData", "cbor": "/operation/PutMetricData",
              "json": "GraniteServiceVersion20100801.PutMetricData"}[protocol_id]
    assert marker in sent.stderr
    listed = json.loads(run("cloudwatch", "list-metrics", "--namespace", ns).stdout)
    assert [m["MetricName"] for m in listed["Metrics"]] == ["m"]

"""Which captured texts are metric values, and how a batch of log events is read
(services/sagemaker/metric_definitions.py)."""

from __future__ import annotations

import pytest

from sagewatch.regex import compile_user_regex
from sagewatch.services.cloudwatch.metrics import MetricValue
from sagewatch.services.sagemaker.metric_definitions import MetricDefinitions, metric_number


@pytest.mark.parametrize("text, value", [
    ("3", 3.0), ("-0.25", -0.25), ("+.5", 0.5), ("1e-3", 0.001), ("2.5E+04", 25000.0), (" 7 ", 7.0),
    ("10.", 10.0), ("0", 0.0),
])
def test_numbers(text, value):
    assert metric_number(text) == value


@pytest.mark.parametrize("text", [
    "", "abc", "nan", "NaN", "inf", "-Infinity", "1_000", "0x10", "1,5", "1.2.3", "e5", "1e", "3%",
    "1e400", "1e-400", "½",
])
def test_not_numbers(text):
    assert metric_number(text) is None


def test_reading_a_batch_takes_the_first_group_of_each_line_at_its_event_time():
    definitions = [("loss", compile_user_regex(r"loss[=:] ?(\S+)")),
                   ("acc", compile_user_regex(r"acc=(\d+(?:\.\d+)?)|accuracy (\d+)")),
                   ("lr", compile_user_regex(r"lr=(?P<v>[0-9.e-]+);"))]
    events = [
        (1_000, "step 1 loss=0.5 acc=0.7 lr=1e-3;"),
        (2_000, "loss: 0.4\nloss=nan\naccuracy 9"),   # three lines; the second's value is no number
        (3_500, "nothing here"),
    ]
    values, last = MetricDefinitions.read("job-1", definitions, events)
    dims = (("TrainingJobName", "job-1"),)
    assert values == [
        MetricValue("loss", dims, 1.0, 0.5), MetricValue("acc", dims, 1.0, 0.7), MetricValue("lr", dims, 1.0, 0.001),
        MetricValue("loss", dims, 2.0, 0.4),
    ]  # "accuracy 9" matches the second alternative: the first group took no part, so no value
    assert last == {"loss": (0.4, 2.0), "acc": (0.7, 1.0), "lr": (0.001, 1.0)}

"""PutMetricData's two ways from datums to stored aggregates must agree.

The bulk check (``_plain_values``) vouches for requests of plain single-value datums; every
other request goes through the per-datum checks (``_checked_samples``). For generated requests,
some of them breaking a rule, the bulk check must never accept what the per-datum checks
reject, and what both accept must aggregate to the same slots. The slot aggregation itself is
checked against ``statistics.from_samples`` on each slot's raw values. Datums are written as
dicts and handed over as the records the gateway makes of them (``takes_records``).
"""

from __future__ import annotations

import math
import random

import botocore.session
import pytest

from sagewatch.aws.typed_json import RecordConverter
from sagewatch.services.cloudwatch import statistics
from sagewatch.services.cloudwatch.metrics import Samples, aggregate_slots
from sagewatch.services.cloudwatch.service import CloudWatchService, _plain_values
from sagewatch.services.errors import AWSError

NOW = 1_764_000_000.0
NAMES = ("CPUUtilization", "train:loss", "GPUUtilization")
DIMENSION_SETS = (
    None, [], [{"Name": "Host", "Value": "algo-1"}],
    [{"Name": "Host", "Value": "algo-1"}, {"Name": "TrainingJobName", "Value": "job-a"}],
    [{"Name": "TrainingJobName", "Value": "job-a"}, {"Name": "Host", "Value": "algo-1"}],  # same, reordered
    [{"Name": "Host", "Value": "algo-2"}, {"Name": "TrainingJobName", "Value": "job-a"}],
)
# Each breaks a rule (or is another kind of datum) that only the per-datum checks word.
BREAKERS = (
    {"Timestamp": NOW - 15 * 86400}, {"Timestamp": NOW + 3 * 3600}, {"Value": math.nan},
    {"Value": math.inf}, {"Value": 1e-200}, {"Value": 2.0**361}, {"StorageResolution": 5},
    {"Values": [1.0, 2.0]}, {"StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}},
    {"Dimensions": [{"Name": "Host", "Value": "a"}, {"Name": "Host", "Value": "b"}]},
    {"Dimensions": [{"Name": f"d{i}", "Value": "v"} for i in range(31)]},
)


_INPUT = botocore.session.get_session().get_service_model("cloudwatch").operation_model("PutMetricData").input_shape
_CONVERTER = RecordConverter()


def _records(datums: list[dict]) -> list:
    """The datums as the method receives them (a null member reads as absent)."""
    return _CONVERTER.to_records(_INPUT, {"Namespace": "n", "MetricData": datums})["MetricData"]


def _service() -> CloudWatchService:
    return CloudWatchService(None, None, None, None, region="us-east-1", account_id="000000000000",
                             clock=lambda: NOW)


def _datum(rng: random.Random) -> dict:
    datum = {"MetricName": rng.choice(NAMES), "Value": rng.choice([0.0, -3.5, 7, rng.uniform(0, 100), 42.0])}
    dims = rng.choice(DIMENSION_SETS)
    if dims is not None:
        datum["Dimensions"] = [dict(d) for d in dims]
    if rng.random() < 0.7:
        datum["Timestamp"] = NOW - rng.uniform(0, 4000)
    if rng.random() < 0.5:
        datum["Unit"] = rng.choice(("None", "Percent", "Count"))
    if rng.random() < 0.4:
        datum["StorageResolution"] = rng.choice((1, 60))
    return datum


def _slots(samples: Samples) -> dict:
    """(metric, tier, start, unit) -> aggregate; a request touches each slot once (one row per
    slot), however its datums spell the metric's dimensions or unit."""
    slots: dict = {}
    for key, tier, start, unit, aggregate in aggregate_slots(samples):
        assert (key, tier, start, unit) not in slots, "one slot aggregated twice in one request"
        slots[(key, tier, start, unit)] = aggregate
    return slots


def _assert_same(one: dict, other: dict) -> None:
    assert one.keys() == other.keys()
    for slot, a in one.items():
        b = other[slot]
        assert a.sample_count == b.sample_count, slot
        assert math.isclose(a.sum, b.sum, rel_tol=1e-12, abs_tol=1e-9), slot
        assert (a.minimum, a.maximum) == (b.minimum, b.maximum), slot
        assert a.values.tolist() == b.values.tolist() and a.counts.tolist() == b.counts.tolist(), slot


@pytest.mark.parametrize("seed", range(40))
def test_bulk_and_per_datum_checks_agree(seed):
    rng = random.Random(seed)
    service = _service()
    datums = [_datum(rng) for _ in range(rng.randint(1, 300))]
    broken = seed % 2 == 1
    if broken:
        for _ in range(rng.randint(1, 3)):
            datums[rng.randrange(len(datums))].update(rng.choice(BREAKERS))
    records = _records(datums)
    plain = _plain_values("Sagewatch/Test", records, NOW)
    try:
        checked = service._checked_samples("Sagewatch/Test", records, NOW)
    except AWSError:
        checked = None
    if not broken:
        assert plain is not None, "the bulk check refused a request of plain, valid datums"
    if plain is not None:
        assert checked is not None, "the bulk check accepted a request the per-datum checks reject"
        _assert_same(_slots(plain), _slots(checked))


def test_slot_aggregates_match_the_samples_they_pool():
    rng = random.Random(7)
    datums = [_datum(rng) for _ in range(500)]
    samples = _service()._checked_samples("Sagewatch/Test", _records(datums), NOW)
    raw: dict = {}
    for datum in datums:
        dims = tuple(sorted((d["Name"], d["Value"]) for d in datum.get("Dimensions") or ()))
        unit = datum.get("Unit", "None")
        second = int(datum.get("Timestamp", NOW))
        slots = [(60, second - second % 60)] + ([(1, second)] if datum.get("StorageResolution") == 1 else [])
        for tier, start in slots:
            raw.setdefault((datum["MetricName"], dims, tier, start, unit), []).append(datum["Value"])
    got = _slots(samples)
    assert len(got) == len(raw)
    for (key, tier, start, unit), aggregate in got.items():
        values = raw[(key.name, key.dimensions, tier, start, unit)]
        _assert_same({0: aggregate}, {0: statistics.from_samples(values)})


def test_zero_counts_are_no_samples_and_statistic_sets_merge_into_their_slot():
    service = _service()
    datums = [
        {"MetricName": "m", "Timestamp": NOW, "Values": [1.0, 2.0, 3.0], "Counts": [0.0, 2.0, 0.0]},
        {"MetricName": "m", "Timestamp": NOW,
         "StatisticValues": {"SampleCount": 2, "Sum": 10.0, "Minimum": 4.0, "Maximum": 6.0}},
        {"MetricName": "z", "Timestamp": NOW, "Values": [5.0], "Counts": [0.0]},
    ]
    slots = _slots(service._checked_samples("n", _records(datums), NOW))
    (key, tier, start, unit), aggregate = next(iter(slots.items()))
    assert len(slots) == 1 and key.name == "m" and tier == 60 and start == int(NOW) - int(NOW) % 60
    assert (aggregate.sample_count, aggregate.sum, aggregate.minimum, aggregate.maximum) == (4.0, 14.0, 2.0, 6.0)
    assert aggregate.values is None  # a statistic set without a distribution: no percentiles

"""Amazon CloudWatch: metrics, alarms, anomaly detectors.

One method per operation of the API reference. Inputs arrive validated against the botocore
model; the rules the model cannot express are checked here, with AWS's error codes. CloudWatch
words its parameter errors with query-protocol paths ("MetricData.member.1.Value") whichever
protocol the request came in on, and lists several problems one per line.
"""

from __future__ import annotations

import copy
import datetime as _dt
import math
import operator
import re
import time
import uuid
from collections.abc import Callable

import msgspec
import numpy as np
import orjson
from msgspec import UNSET

from ... import arns
from ...store.alarms import Alarm, AlarmStore, HistoryItem
from ...store.tags import TagStore
from .. import tagging
from ..base import Service, takes_records
from ..errors import AWSError, Failure, query_path, serialization_error, validation_message
from ..pagination import InvalidToken, check_digits, page_token, parse_page_token
from . import alarm_rule, metrics, queries, statistics
from .alarm_evaluation import data_time
from .alarms import COMPOSITE_ALARM, INITIAL_REASON, METRIC_ALARM, AlarmEngine, ConfigurationChange
from .metrics import (
    MAX_VALUE, MIN_VALUE, MetricValue, Sample, Samples, align_start, dimensions_list, from_epoch,
    key_of_pairs, metric_key, storable,
)
from .statistics import StatisticError, parse_statistic

MAX_DATUMS = 1000
MAX_VALUES = 150
MAX_DIMENSIONS = 30
TWO_WEEKS = 14 * 86400
TWO_HOURS = 2 * 3600
THREE_HOURS = 3 * 3600
MAX_STATISTICS_DATAPOINTS = 1440
MAX_METRIC_DATA_DATAPOINTS = 100_800
LIST_METRICS_PAGE = 500
TREAT_MISSING_DATA = ("breaching", "notBreaching", "ignore", "missing")
BAND_OPERATORS = (
    "LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold",
)
ALARM_DEFINITION_MEMBERS = (
    "AlarmDescription", "OKActions", "AlarmActions", "InsufficientDataActions", "MetricName",
    "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit",
    "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator",
    "TreatMissingData", "EvaluateLowSampleCountPercentile", "Metrics", "ThresholdMetricId",
)
COMPOSITE_DEFINITION_MEMBERS = (
    "AlarmDescription", "OKActions", "AlarmActions", "InsufficientDataActions", "AlarmRule",
    "ActionsSuppressor", "ActionsSuppressorWaitPeriod", "ActionsSuppressorExtensionPeriod",
)


def invalid_value(message: str) -> AWSError:
    return AWSError("InvalidParameterValue", message)


def invalid_combination(message: str) -> AWSError:
    return AWSError("InvalidParameterCombination", message)


def missing_parameter(message: str) -> AWSError:
    return AWSError("MissingParameter", message)


def validation_error(message: str) -> AWSError:
    return AWSError("ValidationError", message)


class CloudWatchService(Service):
    model_name = "cloudwatch"

    def __init__(
        self, data: metrics.MetricData, alarms: AlarmStore, engine: AlarmEngine, tags: TagStore, *,
        region: str, account_id: str, clock: Callable[[], float] = time.time,
    ) -> None:
        self.data = data
        self.alarms = alarms
        self.engine = engine
        self.tags = tags
        self.region = region
        self.account_id = account_id
        self.clock = clock

    def invalid_input(self, failures: list[Failure]) -> AWSError:
        if any(f.is_type_error for f in failures):
            return serialization_error(None)
        missing = [f for f in failures if f.is_missing]
        if missing:
            return missing_parameter(
                "\n".join(f"The parameter {query_path(f.path)} is required." for f in missing)
            )
        failures = [_aws_enum_order(f) for f in failures]
        legacy = [_legacy_message(f) for f in failures]
        if legacy and all(legacy):
            # The query-era operations word these rules themselves, query paths and all: "The
            # parameter Statistics.member.1 must be a value in the set [ Minimum, Maximum, Average,
            # SampleCount, Sum ]." (real AWS, arabold/aws-to-slack#74).
            return invalid_value("\n".join(legacy))
        return validation_error(validation_message(failures))

    # == metrics ===================================================================================

    @takes_records
    def put_metric_data(self, Namespace, MetricData=None, EntityMetricData=None, StrictEntityValidation=None):
        datums = list(MetricData or [])
        for entity in EntityMetricData or ():
            datums += entity.MetricData or []
        if not datums:
            raise missing_parameter("The parameter MetricData is required.")
        if len(datums) > MAX_DATUMS:
            raise invalid_value(f"The collection MetricData must not have a size greater than {MAX_DATUMS}.")
        now = self.clock()
        samples = _plain_values(Namespace, datums, now)
        if samples is None:
            samples = self._checked_samples(Namespace, datums, now)
        ids = self.data.put(samples)
        self.engine.metrics_updated(ids.keys())
        return {}

    def put_metric_values(self, namespace: str, values: list[MetricValue]) -> None:
        """Store values published by sagewatch itself (a job's metrics), exactly as PutMetricData
        stores an accepted request, alarms notified; without building an AWS-shaped request.

        The caller is trusted code, so a value PutMetricData would refuse is a programming
        error: ValueError, and nothing of the call is stored."""
        if not values:
            return
        now = self.clock()
        for value in values:
            problem = _value_problem(value, now)
            if problem:
                raise ValueError(f"{namespace} {value.name}: {problem}")
        ids = self.data.put(Samples.of_values(namespace, values))
        self.engine.metrics_updated(ids.keys())

    def _checked_samples(self, namespace: str, datums: list, now: float) -> Samples:
        """Every datum checked on its own, for requests the bulk check of ``_plain_values`` does
        not vouch for: other kinds of datum, or a rule broken somewhere. These are the rare
        requests, so each record is read back as the dict of its present members."""
        samples, problems = [], []
        for index, datum in enumerate(datums, 1):
            try:
                samples.append(self._sample(namespace, msgspec.to_builtins(datum), f"MetricData.member.{index}",
                                            now))
            except _ValueProblem as problem:
                problems.append(problem.message)
        if problems:
            # AWS reports every invalid datum of the request, one per line ("The parameter
            # MetricData.member.1.Timestamp must ...\nThe parameter MetricData.member.2...").
            raise invalid_value("\n".join(problems))
        return Samples.of(samples)

    def _sample(self, namespace: str, datum: dict, where: str, now: float) -> Sample:
        """One datum, checked as AWS checks it."""
        dimensions = datum.get("Dimensions") or ()
        key = metric_key(namespace, datum["MetricName"], dimensions)
        if len(dimensions) > 1:
            if len(dimensions) > MAX_DIMENSIONS:
                raise _ValueProblem(
                    f"The collection {where}.Dimensions must not have a size greater than {MAX_DIMENSIONS}."
                )
            if _repeats_a_name(key.dimensions):
                raise _ValueProblem(f"The parameter {where}.Dimensions must not contain duplicate names.")
        value, values, counts, stats = (
            datum.get("Value"), datum.get("Values"), datum.get("Counts"), datum.get("StatisticValues")
        )
        if value is not None and values is not None:
            raise invalid_combination(
                f"The parameters {where}.Value and {where}.Values are mutually exclusive and you have specified both."
            )
        if value is not None and stats is not None:
            raise invalid_combination(
                f"The parameters {where}.Value and {where}.StatisticValues are mutually exclusive and you have specified both."
            )
        resolution = datum.get("StorageResolution", 60)
        if resolution != 60 and resolution != 1:
            raise _ValueProblem(f"The parameter {where}.StorageResolution must be a value in the set [ 1, 60 ].")
        stamp = datum.get("Timestamp")
        timestamp = stamp if stamp is not None else now
        if timestamp < now - TWO_WEEKS:
            raise _ValueProblem(f"The parameter {where}.Timestamp must specify a time within the past two weeks.")
        if timestamp > now + TWO_HOURS:
            raise _ValueProblem(
                f"The parameter {where}.Timestamp must specify a time no more than two hours in the future."
            )
        sample = Sample(key, timestamp, datum.get("Unit") or "None", resolution, [])
        if value is not None:
            _check_value(value, f"{where}.Value")
            sample.values = [value]
        if values is not None:
            if counts is not None and len(counts) != len(values):
                raise _ValueProblem(f"The parameters {where}.Values and {where}.Counts must be of the same size.")
            if len(values) > MAX_VALUES:
                raise _ValueProblem(
                    f"The collection {where}.Values must not have a size greater than {MAX_VALUES}."
                )
            for i, v in enumerate(values, 1):
                _check_value(v, f"{where}.Values.member.{i}")
            for i, c in enumerate(counts or (), 1):
                # Counts share the Values' model shape (botocore:cloudwatch:MetricDatum, both lists of
                # DatapointValue) and so its documented range, [-2^360, 2^360] without NaN or
                # infinities; a count is a number of samples, so it cannot be negative either. The
                # range is also what keeps every stored sum finite: a count of 1e308 times a value of
                # 1 added twice into one slot overflowed to infinity and broke every read of it.
                _check_value(c, f"{where}.Counts.member.{i}")
                if c < 0:
                    raise _ValueProblem(f"The value {_shown(c)} for parameter {where}.Counts.member.{i} is invalid.")
            sample.values, sample.counts = list(values), list(counts) if counts is not None else None
        if stats is not None:
            for member in ("SampleCount", "Sum", "Minimum", "Maximum"):
                _check_value(stats[member], f"{where}.StatisticValues.{member}")
            if stats["SampleCount"] <= 0:
                raise _ValueProblem(f"The parameter {where}.StatisticValues.SampleCount must be greater than 0.")
            if stats["Minimum"] > stats["Maximum"]:
                raise _ValueProblem(
                    f"The parameter {where}.StatisticValues.Maximum must be greater than or equal to "
                    f"{where}.StatisticValues.Minimum."
                )
            sample.statistic_set = (stats["SampleCount"], stats["Sum"], stats["Minimum"], stats["Maximum"])
        if value is None and values is None and stats is None:
            raise missing_parameter(f"The parameter {where}.Value is required.")
        return sample

    def list_metrics(
        self, Namespace=None, MetricName=None, Dimensions=None, NextToken=None, RecentlyActive=None,
        IncludeLinkedAccounts=None, OwningAccount=None,
    ):
        now = self.clock()
        seen_since = int(now - (THREE_HOURS if RecentlyActive == "PT3H" else TWO_WEEKS))
        after = _resume_after(NextToken, "metrics", int) or 0
        wanted = [(f["Name"], f.get("Value")) for f in Dimensions or ()]
        found = []
        while len(found) <= LIST_METRICS_PAGE:
            batch = self.data.list_metrics(
                namespace=Namespace, name=MetricName, seen_since=seen_since, after_id=after, limit=2000,
            )
            for metric in batch:
                dims = dict(metric.key.dimensions)
                if all(n in dims and (v is None or dims[n] == v) for n, v in wanted):
                    found.append(metric)
            if len(batch) < 2000:
                break
            after = batch[-1].id
        result: dict = {"Metrics": [
            {"Namespace": m.key.namespace, "MetricName": m.key.name, "Dimensions": dimensions_list(m.key)}
            for m in found[:LIST_METRICS_PAGE]
        ]}
        if len(found) > LIST_METRICS_PAGE:
            result["NextToken"] = page_token("metrics", found[LIST_METRICS_PAGE - 1].id)
        if IncludeLinkedAccounts:
            result["OwningAccounts"] = [self.account_id] * len(result["Metrics"])
        return result

    def get_metric_statistics(
        self, Namespace, MetricName, StartTime, EndTime, Period, Dimensions=None, Statistics=None,
        ExtendedStatistics=None, Unit=None,
    ):
        if Statistics and ExtendedStatistics:
            raise invalid_combination(
                "The parameters Statistics and ExtendedStatistics are mutually exclusive and you have specified both."
            )
        if not Statistics and not ExtendedStatistics:
            raise missing_parameter("The parameter Statistics or ExtendedStatistics is required.")
        for i, name in enumerate(Statistics or (), 1):
            if name not in statistics.STANDARD_STATISTICS:
                raise invalid_value(
                    f"The parameter Statistics.member.{i} must be a value in the set "
                    "[ Minimum, Maximum, Average, SampleCount, Sum ]."
                )
        extended = []
        for i, name in enumerate(ExtendedStatistics or (), 1):
            try:
                stat = parse_statistic(name)
            except StatisticError:
                stat = None
            if stat is None or not stat.is_extended:
                raise invalid_value(f"The value {name} for parameter ExtendedStatistics.member.{i} is not supported.")
            extended.append(stat)
        now = self.clock()
        start, end = self._time_range(StartTime, EndTime, Period, now, code="InvalidParameterValue")
        requested = _requested_datapoints(StartTime, EndTime, Period)
        if requested > MAX_STATISTICS_DATAPOINTS:
            raise invalid_combination(
                f"You have requested up to {requested} datapoints, which exceeds the limit of "
                f"{MAX_STATISTICS_DATAPOINTS}. You may reduce the datapoints requested by increasing "
                "Period, or decreasing the time range."
            )
        key = metric_key(Namespace, MetricName, Dimensions)
        standard = [parse_statistic(s) for s in Statistics or ()]
        datapoints = []
        for p in self.data.periods(key, start=start, end=end, period=Period, unit=Unit, by_unit=True):
            point: dict = {"Timestamp": from_epoch(p.start), "Unit": p.unit}
            for stat in standard:
                value = stat.compute(p.aggregate)
                if value is not None:
                    point[stat.name] = value
            if extended:
                values = {s.name: s.compute(p.aggregate) for s in extended}
                point["ExtendedStatistics"] = {k: v for k, v in values.items() if v is not None}
            datapoints.append(point)
        return {"Label": MetricName, "Datapoints": datapoints}

    def get_metric_data(
        self, MetricDataQueries, StartTime, EndTime, NextToken=None, ScanBy=None, MaxDatapoints=None,
        LabelOptions=None,
    ):
        plan = queries.plan(MetricDataQueries)
        now = self.clock()
        start, end = self._time_range(StartTime, EndTime, plan.period, now, code="ValidationError")
        utc_offset = _utc_offset((LabelOptions or {}).get("Timezone"))
        descending = (ScanBy or "TimestampDescending") == "TimestampDescending"
        request = _metric_data_request(MetricDataQueries, StartTime, EndTime, descending)
        resume = _metric_data_resume(NextToken, request)
        results = queries.run(plan, self.data, start=start, end=end, utc_offset=utc_offset)
        budget = MaxDatapoints or MAX_METRIC_DATA_DATAPOINTS
        out, stop = [], None
        labels = _default_labels(MetricDataQueries)
        ordinal = -1  # of the result, in response order
        for query in MetricDataQueries:
            if not query.get("ReturnData", True):
                continue
            for series in results[query["Id"]]:
                ordinal += 1
                timestamps = series.timestamps.tolist()
                values = series.values.tolist()
                if descending:
                    timestamps.reverse()
                    values.reverse()
                # Pagination counts datapoints across all results, in response order; a page
                # resumes after the last datapoint the previous one returned.
                begin = _resume_index(ordinal, timestamps, resume, descending)
                take = max(min(len(values) - begin, budget), 0)
                budget -= take
                done = begin + take
                if done < len(values) and stop is None:
                    stop = (ordinal, timestamps[done - 1] if done else None)
                label = series.label
                if "MetricStat" in query:
                    label = query.get("Label") or labels[query["Id"]]
                # AWS leaves a result's Messages out when there are none (AWS-recorded responses).
                out.append({
                    "Id": query["Id"],
                    "Label": label,
                    "Timestamps": [from_epoch(t) for t in timestamps[begin:done]],
                    "Values": values[begin:done],
                    "StatusCode": "PartialData" if done < len(values) else "Complete",
                })
        result: dict = {"MetricDataResults": out, "Messages": []}
        if stop is not None:
            result["NextToken"] = page_token("metric-data", (*stop, request))
        return result

    def _time_range(self, start_time, end_time, period, now, *, code):
        start, end = int(start_time), end_time
        # GetMetricData's ValidationError messages end every line with a newline: "The parameter
        # StartTime must not equal parameter EndTime.\n" (real AWS, elastic/beats#32687);
        # GetMetricStatistics' InvalidParameterValue has none (influxdata/telegraf#2022).
        end_of_line = "\n" if code == "ValidationError" else ""
        if start == int(end):
            raise AWSError(code, "The parameter StartTime must not equal parameter EndTime." + end_of_line)
        if start > end:
            raise AWSError(code, "The parameter StartTime must be less than the parameter EndTime." + end_of_line)
        if not (period in (1, 5, 10, 20, 30) or period % 60 == 0):
            raise AWSError(
                code, "The parameter Period must be 1, 5, 10, 20, 30, 60 or a multiple of 60." + end_of_line
            )
        return align_start(start, period, int(now)), math.ceil(end)

    # == alarms ====================================================================================

    def put_metric_alarm(self, AlarmName, EvaluationPeriods=None, ComparisonOperator=None, **members):
        definition = {k: v for k, v in members.items() if k in ALARM_DEFINITION_MEMBERS and v is not None}
        missing = [name for name, value in (("EvaluationPeriods", EvaluationPeriods),
                                            ("ComparisonOperator", ComparisonOperator)) if value is None]
        if missing:
            # Every missing parameter, one per line, as AWS lists them.
            raise missing_parameter("\n".join(f"The parameter {name} is required." for name in missing))
        definition.update(EvaluationPeriods=EvaluationPeriods, ComparisonOperator=ComparisonOperator)
        if definition.get("Threshold") is not None:
            # A double: JSON clients may send 30 for 30.0, AWS answers "Threshold": 30.0.
            definition["Threshold"] = float(definition["Threshold"])
            if not math.isfinite(definition["Threshold"]):
                # A threshold no datapoint can be compared with: the alarm could never leave
                # INSUFFICIENT_DATA. CloudWatch supports no special values in its doubles ("special
                # values (for example, NaN, +Infinity, -Infinity) are not supported",
                # botocore:cloudwatch:MetricDatum.Value). PutMetricAlarm answers its parameter
                # problems with ValidationError ("Period must be 10, 30 or a multiple of 60", real
                # AWS via CloudFormation, awsdocs/aws-cloudformation-user-guide PR #777); AWS's text
                # for this one is unpublished (unconfirmed), so it is worded as PutMetricData's.
                raise validation_error(
                    f"The value {_shown(definition['Threshold'])} for parameter Threshold is invalid."
                )
        self._check_metric_alarm(definition)
        metric_keys = self._alarm_metric_keys(definition)
        self._save_alarm(AlarmName, METRIC_ALARM, definition, metric_keys,
                         members.get("ActionsEnabled"), members.get("Tags"))
        return {}

    def _check_metric_alarm(self, d: dict) -> None:
        has_metric = "MetricName" in d or "Namespace" in d
        if "Metrics" in d:
            if has_metric or "Statistic" in d or "ExtendedStatistic" in d or "Period" in d:
                raise validation_error(
                    "Metrics list must not be specified together with MetricName, Namespace, "
                    "Statistic, ExtendedStatistic, Dimensions or Period."
                )
            plan = queries.plan(d["Metrics"], parameter="Metrics")
            returned = [q["Id"] for q in d["Metrics"] if q.get("ReturnData", True)]
            band_id = d.get("ThresholdMetricId")
            expected = 2 if band_id else 1
            if len(returned) != expected or (band_id and band_id not in returned):
                raise validation_error(
                    "Exactly one element of the Metrics list must return data"
                    + (", in addition to the ThresholdMetricId." if band_id else ".")
                )
            periods = {q["MetricStat"]["Period"] for q in d["Metrics"] if "MetricStat" in q}
            if len(periods) > 1:
                raise validation_error("All metrics in the Metrics list must have the same period.")
            period = plan.period
        else:
            if "MetricName" not in d:
                raise validation_error("MetricName must not be null")
            if "Namespace" not in d:
                raise validation_error("Namespace must not be null")
            if ("Statistic" in d) == ("ExtendedStatistic" in d):
                raise validation_error("Exactly one of Statistic and ExtendedStatistic must be specified.")
            if "ExtendedStatistic" in d:
                try:
                    stat = parse_statistic(d["ExtendedStatistic"])
                except StatisticError:
                    stat = None
                if stat is None or not stat.is_extended:
                    raise validation_error(
                        f"The value {d['ExtendedStatistic']} for parameter ExtendedStatistic is not supported."
                    )
            if "Period" not in d:
                raise validation_error("Period must not be null")
            period = d["Period"]
        if not (period in (10, 30) or period % 60 == 0):
            raise validation_error("Period must be 10, 30 or a multiple of 60")
        n = d["EvaluationPeriods"]
        limit = 86400 if period < 3600 else 604800
        if period * n > limit:
            raise validation_error(
                f"The evaluation period (Period * EvaluationPeriods) must not exceed {limit} seconds"
                + (" for periods under one hour." if limit == 86400 else ".")
            )
        if d.get("DatapointsToAlarm", 1) > n:
            raise validation_error("DatapointsToAlarm must be less than or equal to EvaluationPeriods.")
        band = d["ComparisonOperator"] in BAND_OPERATORS
        if band and "ThresholdMetricId" not in d:
            raise validation_error(
                f"ThresholdMetricId must be specified for the {d['ComparisonOperator']} comparison operator."
            )
        if not band and "ThresholdMetricId" in d:
            raise validation_error(
                "ThresholdMetricId can only be used with the LessThanLowerOrGreaterThanUpperThreshold, "
                "LessThanLowerThreshold and GreaterThanUpperThreshold comparison operators."
            )
        if not band and "Threshold" not in d:
            raise validation_error("Threshold must not be null")
        if band and "Threshold" in d:
            raise validation_error("Threshold must not be specified with ThresholdMetricId.")
        treat = d.get("TreatMissingData")
        if treat is not None and treat not in TREAT_MISSING_DATA:
            raise validation_error(
                f"The value {treat} is not supported for TreatMissingData parameter. "
                "Supported values are [breaching, notBreaching, ignore, missing]."
            )
        low_sample = d.get("EvaluateLowSampleCountPercentile")
        if low_sample is not None and low_sample not in ("evaluate", "ignore"):
            raise validation_error(
                f"Option {low_sample} is not supported. Supported options for parameter "
                "EvaluateLowSampleCountPercentile are evaluate and ignore."
            )
        self._check_actions(d)

    def _check_actions(self, d: dict) -> None:
        for member in ("OKActions", "AlarmActions", "InsufficientDataActions"):
            for arn in d.get(member) or ():
                parts = arn.split(":")
                if len(parts) < 6 or parts[0] != "arn":
                    raise validation_error(f"Invalid arn syntax: {arn}")

    @staticmethod
    def _alarm_metric_keys(d: dict) -> list:
        if "Metrics" in d:
            stats = [q["MetricStat"]["Metric"] for q in d["Metrics"] if "MetricStat" in q]
        else:
            stats = [d]
        for metric in stats:
            for member in ("Namespace", "MetricName"):
                # Optional in the model (the Metric shape is shared with ListMetrics filters), but
                # an alarm must name the metric it watches.
                if not metric.get(member):
                    raise missing_parameter(f"The parameter {member} is required.")
        keys = [metric_key(m["Namespace"], m["MetricName"], m.get("Dimensions")) for m in stats]
        return [[k.namespace, k.name, [list(p) for p in k.dimensions]] for k in keys]

    def put_composite_alarm(self, AlarmName, AlarmRule, ActionsEnabled=None, Tags=None, **members):
        try:
            rule = alarm_rule.parse_alarm_rule(AlarmRule)
        except alarm_rule.AlarmRuleError as error:
            raise validation_error(str(error)) from None
        if AlarmName in rule.alarm_names():
            raise validation_error(f"Error in AlarmRule [Alarm {AlarmName} cannot reference itself]")
        definition = {k: v for k, v in members.items() if k in COMPOSITE_DEFINITION_MEMBERS and v is not None}
        definition["AlarmRule"] = AlarmRule
        self._check_actions(definition)
        self._save_alarm(AlarmName, COMPOSITE_ALARM, definition, [], ActionsEnabled, Tags)
        return {}

    def _save_alarm(self, name, alarm_type, definition, metric_keys, actions_enabled, tags) -> None:
        with self.engine.changing():
            now = self.clock()
            existing = self.alarms.get_alarm(name)
            if existing is not None and existing.alarm_type != alarm_type:
                raise validation_error(
                    f"An alarm named {name} already exists as a {existing.alarm_type}."
                )
            enabled = True if actions_enabled is None else bool(actions_enabled)
            previous = copy.copy(existing)  # the update below changes `existing` in place
            if existing is None:
                alarm = Alarm(name, alarm_type, definition, metric_keys, "INSUFFICIENT_DATA", INITIAL_REASON,
                              None, now, now, now, enabled)
                summary, data = f'Alarm "{name}" created', {
                    "type": "Create", "version": "1.0", "createdAlarm": self._history_view(alarm)}
            else:
                original = self._history_view(existing)
                # An update overwrites the configuration and leaves the state as it is.
                alarm = existing
                alarm.definition, alarm.metric_keys = definition, metric_keys
                alarm.actions_enabled, alarm.configuration_updated = enabled, now
                summary, data = f'Alarm "{name}" updated', {
                    "type": "Update", "version": "1.0", "originalAlarm": original,
                    "updatedAlarm": self._history_view(alarm)}
            history = HistoryItem(name, alarm_type, now, "ConfigurationUpdate", summary,
                                  orjson.dumps(data).decode())
            # A new alarm has exactly the tags it is created with (tags are ignored when an
            # alarm is updated, AWS): its ARN may have named an alarm of the same name before,
            # whose tags must not pass on to it. One transaction, so a crash cannot split them.
            new_tags = None
            if existing is None:
                new_tags = (self.engine.arn(name), tagging.of_pairs(tags or ()))
                tagging.check(tagging.CLOUDWATCH, new_tags[1])
            self.alarms.save_alarm(alarm, [history], tags=new_tags)
            # Told before the engine may evaluate the alarm: a new alarm's configuration change
            # precedes its first state change on the event bus.
            self.engine.configuration_changed(ConfigurationChange(
                "create" if existing is None else "update", copy.copy(alarm), previous, now,
                self.engine.arn(name)))
            self.engine.alarm_saved(alarm)

    def _history_view(self, alarm: Alarm) -> dict:
        view = self._describe_alarm(alarm)
        for key, value in list(view.items()):
            if hasattr(value, "timestamp"):
                view[key] = data_time(value)
        return view

    def describe_alarms(
        self, AlarmNames=None, AlarmNamePrefix=None, AlarmTypes=None, ChildrenOfAlarmName=None,
        ParentsOfAlarmName=None, StateValue=None, ActionPrefix=None, MaxRecords=None, NextToken=None,
    ):
        limit = MaxRecords or 50
        after = _resume_after(NextToken, "alarms", str)
        types = AlarmTypes or [METRIC_ALARM]
        if ChildrenOfAlarmName is not None or ParentsOfAlarmName is not None:
            if ChildrenOfAlarmName is not None and ParentsOfAlarmName is not None:
                raise invalid_combination(
                    "ChildrenOfAlarmName and ParentsOfAlarmName cannot be specified together."
                )
            if AlarmNames or AlarmNamePrefix or StateValue or ActionPrefix:
                raise invalid_combination(
                    "With ChildrenOfAlarmName or ParentsOfAlarmName, only MaxRecords, NextToken "
                    "and AlarmTypes may be specified."
                )
            names = self._related_alarms(ChildrenOfAlarmName, ParentsOfAlarmName)
            found = self.alarms.list_alarms(names=sorted(names), types=types, after=after, limit=limit + 1)
        else:
            if AlarmNames and AlarmNamePrefix:
                raise invalid_combination("AlarmNames and AlarmNamePrefix cannot be specified together.")
            found = self.alarms.list_alarms(
                names=AlarmNames, prefix=AlarmNamePrefix, types=types, state=StateValue, after=after,
                limit=None if ActionPrefix else limit + 1,
            )
            if ActionPrefix:
                found = [a for a in found if any(
                    arn.startswith(ActionPrefix)
                    for member in ("OKActions", "AlarmActions", "InsufficientDataActions")
                    for arn in a.definition.get(member) or ()
                )][: limit + 1]
        page = found[:limit]
        result: dict = {
            "MetricAlarms": [self._describe_alarm(a) for a in page if a.alarm_type == METRIC_ALARM],
            "CompositeAlarms": [self._describe_alarm(a) for a in page if a.alarm_type == COMPOSITE_ALARM],
        }
        if len(found) > limit:
            result["NextToken"] = page_token("alarms", page[-1].name)
        return result

    def _related_alarms(self, children_of: str | None, parents_of: str | None) -> set[str]:
        if children_of is not None:
            composite = self.alarms.get_alarm(children_of)
            if composite is None or composite.alarm_type != COMPOSITE_ALARM:
                return set()
            return alarm_rule.parse_alarm_rule(composite.definition["AlarmRule"]).alarm_names()
        return self.engine.parents_of(parents_of)

    def _describe_alarm(self, alarm: Alarm) -> dict:
        d = alarm.definition
        described = {
            "AlarmName": alarm.name,
            "AlarmArn": self.engine.arn(alarm.name),
            "AlarmConfigurationUpdatedTimestamp": from_epoch(alarm.configuration_updated),
            "ActionsEnabled": alarm.actions_enabled,
            "OKActions": d.get("OKActions", []),
            "AlarmActions": d.get("AlarmActions", []),
            "InsufficientDataActions": d.get("InsufficientDataActions", []),
            "StateValue": alarm.state_value,
            "StateReason": alarm.state_reason,
            "StateUpdatedTimestamp": from_epoch(alarm.state_updated),
            "StateTransitionedTimestamp": from_epoch(alarm.state_transitioned),
        }
        if alarm.state_reason_data:
            described["StateReasonData"] = alarm.state_reason_data
        members = COMPOSITE_DEFINITION_MEMBERS if alarm.alarm_type == COMPOSITE_ALARM else ALARM_DEFINITION_MEMBERS
        for member in members:
            if member in d and member not in described:
                described[member] = d[member]
        if alarm.alarm_type == METRIC_ALARM:
            described.setdefault("Dimensions", [])
        if alarm.actions_suppressed_by:
            described["ActionsSuppressedBy"] = alarm.actions_suppressed_by
            described["ActionsSuppressedReason"] = alarm.actions_suppressed_reason
        return described

    def describe_alarms_for_metric(
        self, MetricName, Namespace, Statistic=None, ExtendedStatistic=None, Dimensions=None,
        Period=None, Unit=None,
    ):
        key = metric_key(Namespace, MetricName, Dimensions)
        wanted = [key.namespace, key.name, [list(p) for p in key.dimensions]]
        matches = []
        for alarm in self.alarms.list_alarms(types=[METRIC_ALARM]):
            d = alarm.definition
            if wanted not in alarm.metric_keys:
                continue
            if Statistic is not None and d.get("Statistic") != Statistic:
                continue
            if ExtendedStatistic is not None and d.get("ExtendedStatistic") != ExtendedStatistic:
                continue
            if Period is not None and d.get("Period") != Period:
                continue
            if Unit is not None and d.get("Unit") != Unit:
                continue
            matches.append(self._describe_alarm(alarm))
        return {"MetricAlarms": matches}

    def delete_alarms(self, AlarmNames):
        with self.engine.changing():
            existing = self.alarms.list_alarms(names=AlarmNames, types=[METRIC_ALARM, COMPOSITE_ALARM])
            missing = set(AlarmNames) - {a.name for a in existing}
            if missing:
                # "If you specify an incorrect alarm name ... no alarms are deleted."
                raise AWSError("ResourceNotFound", f"Alarm(s) {', '.join(sorted(missing))} not found.")
            now = self.clock()
            history = [
                HistoryItem(alarm.name, alarm.alarm_type, now, "ConfigurationUpdate",
                            f'Alarm "{alarm.name}" deleted',
                            orjson.dumps({"type": "Delete", "version": "1.0",
                                          "deletedAlarm": self._history_view(alarm)}).decode())
                for alarm in existing
            ]
            self.alarms.delete_alarms(AlarmNames, history, [self.engine.arn(n) for n in AlarmNames])
            self.engine.alarms_deleted(AlarmNames)
            for alarm in existing:
                self.engine.configuration_changed(
                    ConfigurationChange("delete", alarm, None, now, self.engine.arn(alarm.name)))
            return {}

    def set_alarm_state(self, AlarmName, StateValue, StateReason, StateReasonData=None):
        with self.engine.changing():
            alarm = self.alarms.get_alarm(AlarmName)
            if alarm is None:
                raise AWSError("ResourceNotFound")
            if StateReasonData is not None:
                try:
                    orjson.loads(StateReasonData)
                except orjson.JSONDecodeError:
                    raise AWSError("InvalidFormat", "StateReasonData is not valid JSON.") from None
            self.engine.set_state(alarm, StateValue, StateReason, StateReasonData)
        return {}

    def describe_alarm_history(
        self, AlarmName=None, AlarmContributorId=None, AlarmTypes=None, HistoryItemType=None,
        StartDate=None, EndDate=None, MaxRecords=None, NextToken=None, ScanBy=None,
    ):
        ascending = ScanBy == "TimestampAscending"
        after = _resume_after(NextToken, "history", int)
        limit = MaxRecords or 100
        items = self.alarms.history(
            name=AlarmName, types=AlarmTypes or [METRIC_ALARM], item_type=HistoryItemType,
            start=StartDate, end=EndDate,
            after_id=after, ascending=ascending, limit=limit + 1,
        )
        result: dict = {"AlarmHistoryItems": [
            {"AlarmName": i.alarm_name, "AlarmType": i.alarm_type, "Timestamp": from_epoch(i.timestamp),
             "HistoryItemType": i.item_type, "HistorySummary": i.summary, "HistoryData": i.data}
            for i in items[:limit]
        ]}
        if len(items) > limit:
            result["NextToken"] = page_token("history", items[limit - 1].id)
        return result

    def enable_alarm_actions(self, AlarmNames):
        self._set_actions_enabled(AlarmNames, True)
        return {}

    def disable_alarm_actions(self, AlarmNames):
        self._set_actions_enabled(AlarmNames, False)
        return {}

    def _set_actions_enabled(self, names, enabled: bool) -> None:
        with self.engine.changing():
            for alarm in self.alarms.list_alarms(names=names, types=[METRIC_ALARM, COMPOSITE_ALARM]):
                alarm.actions_enabled = enabled
                self.alarms.save_alarm(alarm)

    # == anomaly detectors =========================================================================

    def put_anomaly_detector(
        self, Namespace=None, MetricName=None, Dimensions=None, Stat=None, Configuration=None,
        MetricCharacteristics=None, SingleMetricAnomalyDetector=None, MetricMathAnomalyDetector=None,
    ):
        single = SingleMetricAnomalyDetector
        legacy = any(v is not None for v in (Namespace, MetricName, Dimensions, Stat))
        if legacy and (single or MetricMathAnomalyDetector):
            raise invalid_combination(
                "The top-level Namespace, MetricName, Dimensions and Stat cannot be combined with "
                "SingleMetricAnomalyDetector or MetricMathAnomalyDetector."
            )
        if legacy:
            single = {"Namespace": Namespace, "MetricName": MetricName, "Dimensions": Dimensions or [], "Stat": Stat}
        if bool(single) == bool(MetricMathAnomalyDetector):
            raise invalid_combination(
                "Exactly one of SingleMetricAnomalyDetector and MetricMathAnomalyDetector must be specified."
            )
        if single:
            for member in ("Namespace", "MetricName", "Stat"):
                if not single.get(member):
                    raise missing_parameter(f"The parameter SingleMetricAnomalyDetector.{member} is required.")
            try:
                parse_statistic(single["Stat"])
            except StatisticError:
                raise invalid_value(f"The value {single['Stat']} for parameter Stat is not supported.") from None
            single = {**single, "Dimensions": single.get("Dimensions") or []}
            if not legacy:
                # A detector made through SingleMetricAnomalyDetector is described with the account
                # of its metric, this one unless another was given ("If you omit this parameter,
                # the current account is used", botocore:cloudwatch:SingleMetricAnomalyDetector;
                # DescribeAnomalyDetectors example of the AWS CLI reference, describe-anomaly-
                # detectors.rst, shows "AccountId": "123456789012"). One made with the top-level
                # Namespace/MetricName/Dimensions/Stat is described without it (AWS-recorded,
                # localstack test_anomaly_detector_lifecycle, 2023).
                single = {"AccountId": self.account_id, **single}
        else:
            if not MetricMathAnomalyDetector.get("MetricDataQueries"):
                raise missing_parameter(
                    "The parameter MetricMathAnomalyDetector.MetricDataQueries is required.")
            queries.plan(MetricMathAnomalyDetector["MetricDataQueries"], parameter="MetricDataQueries")
        detector_id = _detector_id(single, MetricMathAnomalyDetector)
        # AWS describes a detector made with Configuration={} (or none) as {"ExcludedTimeRanges": []}
        # (AWS-recorded, localstack test_anomaly_detector_lifecycle).
        definition = {"Configuration": {"ExcludedTimeRanges": [], **(Configuration or {})}}
        if single:
            definition["SingleMetricAnomalyDetector"] = single
        else:
            definition["MetricMathAnomalyDetector"] = MetricMathAnomalyDetector
        if MetricCharacteristics:
            definition["MetricCharacteristics"] = MetricCharacteristics
        self.alarms.save_anomaly_detector(detector_id, definition)
        return {"AnomalyDetectorId": detector_id}

    def describe_anomaly_detectors(
        self, AnomalyDetectorIds=None, NextToken=None, MaxResults=None, Namespace=None, MetricName=None,
        Dimensions=None, AnomalyDetectorTypes=None,
    ):
        wanted_dims = sorted([d["Name"], d["Value"]] for d in Dimensions or ())
        found = []
        for detector_id, definition in self.alarms.anomaly_detectors():
            single = definition.get("SingleMetricAnomalyDetector")
            kind = "SINGLE_METRIC" if single else "METRIC_MATH"
            if AnomalyDetectorIds and detector_id not in AnomalyDetectorIds:
                continue
            if AnomalyDetectorTypes and kind not in AnomalyDetectorTypes:
                continue
            if (Namespace or MetricName or Dimensions) and not single:
                continue
            if Namespace and single["Namespace"] != Namespace:
                continue
            if MetricName and single["MetricName"] != MetricName:
                continue
            if Dimensions and sorted([d["Name"], d["Value"]] for d in single["Dimensions"]) != wanted_dims:
                continue
            found.append((detector_id, definition))
        after = _resume_after(NextToken, "detectors", str)
        if after is not None:
            found = [f for f in found if f[0] > after]
        limit = MaxResults or 100
        result: dict = {"AnomalyDetectors": [self._describe_detector(i, d) for i, d in found[:limit]]}
        if len(found) > limit:
            result["NextToken"] = page_token("detectors", found[limit - 1][0])
        return result

    def _describe_detector(self, detector_id: str, definition: dict) -> dict:
        described = {"AnomalyDetectorId": detector_id, **definition}
        configuration = definition.get("Configuration") or {}
        described["Configuration"] = {**configuration, "ExcludedTimeRanges": [
            {"StartTime": _instant(r["StartTime"]), "EndTime": _instant(r["EndTime"])}
            for r in configuration.get("ExcludedTimeRanges") or ()
        ]}
        single = definition.get("SingleMetricAnomalyDetector")
        if single:
            described.update(Namespace=single["Namespace"], MetricName=single["MetricName"],
                             Dimensions=single["Dimensions"], Stat=single["Stat"])
            key = metric_key(single["Namespace"], single["MetricName"], single["Dimensions"])
            described["StateValue"] = "TRAINED" if self.data.metric_id(key) is not None else "PENDING_TRAINING"
        else:
            described["StateValue"] = "TRAINED"
        return described

    def delete_anomaly_detector(
        self, AnomalyDetectorId=None, Namespace=None, MetricName=None, Dimensions=None, Stat=None,
        SingleMetricAnomalyDetector=None, MetricMathAnomalyDetector=None,
    ):
        if AnomalyDetectorId is None:
            single = SingleMetricAnomalyDetector or {
                "Namespace": Namespace, "MetricName": MetricName, "Dimensions": Dimensions or [], "Stat": Stat}
            AnomalyDetectorId = _detector_id(single, MetricMathAnomalyDetector)
        if not self.alarms.delete_anomaly_detector(AnomalyDetectorId):
            raise AWSError("ResourceNotFoundException", "This anomaly detection model does not exist.")
        return {}

    # == tags ======================================================================================

    def _alarm_name_of(self, arn: str) -> str:
        """The alarm an ARN names; an ARN that names no alarm of this account and Region is
        ResourceNotFoundException (alarms are the only taggable CloudWatch resource sagewatch has)."""
        name = arns.local_resource(arn, "cloudwatch", "alarm:", self.region, self.account_id)
        if name is None:
            raise _no_such_resource()
        return name

    def tag_resource(self, ResourceARN, Tags):
        # Checked and written under the alarms' change lock, so tags never land on an alarm that a
        # concurrent DeleteAlarms is removing (they would outlive it and pass to the next alarm of
        # that name). TagResource and UntagResource list ResourceNotFoundException
        # (botocore:cloudwatch:TagResource/UntagResource errors).
        with self.engine.changing():
            name = self._alarm_name_of(ResourceARN)
            if self.alarms.get_alarm(name) is None:
                raise _no_such_resource()
            tagging.add(tagging.CLOUDWATCH, self.tags, self.engine.arn(name), tagging.of_pairs(Tags))
        return {}

    def untag_resource(self, ResourceARN, TagKeys):
        with self.engine.changing():
            name = self._alarm_name_of(ResourceARN)
            if self.alarms.get_alarm(name) is None:
                raise _no_such_resource()
            tagging.remove(tagging.CLOUDWATCH, self.tags, self.engine.arn(name), TagKeys)
        return {}

    def list_tags_for_resource(self, ResourceARN):
        # The ARN of a deleted alarm lists no tags rather than failing: AWS answers 200 with an
        # empty list (as reported for this project from real AWS; no published source found, so
        # unconfirmed). Its tags went with it, so the list is empty.
        arn = self.engine.arn(self._alarm_name_of(ResourceARN))
        return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(self.tags.get_tags(arn).items())]}


# Where AWS's front end lists an enum in another order than the botocore model does (AWS-recorded:
# "Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]" for SetAlarmState,
# localstack test_set_alarm_invalid_input).
_AWS_ENUM_ORDER = {("StateValue",): "[INSUFFICIENT_DATA, ALARM, OK]"}


def _aws_enum_order(failure: Failure) -> Failure:
    order = _AWS_ENUM_ORDER.get(tuple(failure.path)) if not isinstance(failure.path, str) else None
    if order is None or not failure.constraint.startswith("Member must satisfy enum value set: "):
        return failure
    return Failure(failure.path, failure.value, f"Member must satisfy enum value set: {order}",
                   failure.is_type_error)


_COLLECTION_LIMIT = re.compile(r"^Member must have length less than or equal to (\d+)$")


def _legacy_message(failure: Failure) -> str | None:
    """AWS's own wording for a model-rule failure of the metric operations, where known."""
    path = failure.path
    if isinstance(path, str) or not path:
        return None
    if path[0] == "Statistics" and len(path) == 2 and failure.constraint.startswith("Member must satisfy enum"):
        return (f"The parameter {query_path(path)} must be a value in the set "
                "[ Minimum, Maximum, Average, SampleCount, Sum ].")
    limit = _COLLECTION_LIMIT.match(failure.constraint)
    if path[0] == "MetricData" and path[-1] == "Dimensions" and limit:
        # As the other PutMetricData collection limits ("The collection MetricData must not have
        # a size greater than 1000.").
        return f"The collection {query_path(path)} must not have a size greater than {limit.group(1)}."
    return None


def _no_such_resource() -> AWSError:
    return AWSError("ResourceNotFoundException", "The specified resource does not exist.")


class _ValueProblem(Exception):
    """One InvalidParameterValue problem of one datum; PutMetricData reports them all at once."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_NAME_AND_VALUE = operator.attrgetter("Name", "Value")
_NOTHING = object()


def _plain_values(namespace: str, datums: list, now: float) -> Samples | None:
    """The request as columns when every datum is a plain single Value that keeps every rule
    ``CloudWatchService._sample`` applies, checked in bulk; None when any datum is of another
    kind or might break a rule, which sends the request through the per-datum checks (they
    decide, and word the errors).

    This is the shape of nearly all metric traffic (agents publishing one value per metric per
    tick). A 1,000-datum request is a thousand records, so the work is laid out to touch each
    once: one loop reads them (attribute reads of a record are the cheapest reads Python has),
    a series is looked up only where it changes from one datum to the next, and the numbers
    are checked as arrays.
    """
    entries: dict[tuple, int] = {}  # (name, dimension pairs as written, unit) -> entry number
    entry_of_datum, values, timestamps, resolutions = [], [], [], []
    last_name = last_unit = last_dimensions = _NOTHING
    pairs: tuple = ()
    entry = -1
    for datum in datums:
        value = datum.Value
        if value is UNSET or datum.Values is not UNSET or datum.Counts is not UNSET \
                or datum.StatisticValues is not UNSET:
            return None  # another kind of datum, or an error to word
        dimensions = datum.Dimensions
        if dimensions != last_dimensions:
            pairs = tuple(map(_NAME_AND_VALUE, dimensions)) if dimensions else ()
            last_dimensions, last_name = dimensions, _NOTHING
        name, unit = datum.MetricName, datum.Unit
        if name != last_name or unit != last_unit:
            last_name, last_unit = name, unit
            entry = entries.setdefault((name, pairs, unit), len(entries))
        entry_of_datum.append(entry)
        values.append(value)
        timestamps.append(datum.Timestamp)
        resolutions.append(datum.StorageResolution)
    if not set(resolutions) <= {UNSET, 1, 60}:
        return None
    if UNSET in timestamps:
        timestamps = [now if t is UNSET else t for t in timestamps]
    timestamps = np.array(timestamps, dtype=np.float64)
    values = np.array(values, dtype=np.float64)
    if timestamps.min() < now - TWO_WEEKS or timestamps.max() > now + TWO_HOURS:
        return None
    magnitudes = np.abs(values)
    # NaN and infinities fail the first test, tiny non-zero magnitudes the second.
    if not (magnitudes <= MAX_VALUE).all() or ((magnitudes > 0) & (magnitudes < MIN_VALUE)).any():
        return None
    # Entries become series: dimensions written in another order, or an absent unit beside
    # "None", name the same one.
    series: dict[tuple, int] = {}
    series_of_entry = []
    for name, pairs, unit in entries:
        key = key_of_pairs(namespace, name, pairs)
        if len(key.dimensions) > MAX_DIMENSIONS or _repeats_a_name(key.dimensions):
            return None
        series_of_entry.append(series.setdefault((key, unit or "None"), len(series)))
    high_resolution = np.array([r == 1 for r in resolutions]) if 1 in resolutions else np.zeros(len(datums), bool)
    return Samples(
        list(series), np.array(series_of_entry, dtype=np.int64)[entry_of_datum], timestamps.astype(np.int64),
        high_resolution, values,
    )


def _value_problem(value: MetricValue, now: float) -> str | None:
    """Why PutMetricData would refuse an in-process value (the rules of ``_sample``), or None."""
    if not storable(value.value):
        return f"value {value.value!r} is outside CloudWatch's range"
    if value.storage_resolution not in (1, 60):
        return f"storage resolution {value.storage_resolution} is not 1 or 60"
    if not now - TWO_WEEKS <= value.timestamp <= now + TWO_HOURS:
        return f"timestamp {value.timestamp} is not within the past two weeks or the next two hours"
    names = sorted(name for name, _ in value.dimensions)
    if len(names) > MAX_DIMENSIONS or len(set(names)) < len(names):
        return "dimensions are more than 30 or repeat a name"
    return None


def _repeats_a_name(pairs: tuple[tuple[str, str], ...]) -> bool:
    """Whether sorted dimension pairs name a dimension twice (a repeat sits beside its twin)."""
    return any(pairs[i][0] == pairs[i + 1][0] for i in range(len(pairs) - 1))


def _instant(stored) -> _dt.datetime:
    """A stored timestamp as a result carries it: epoch seconds (or, written before sagewatch
    took timestamps as numbers, ISO 8601 text)."""
    if isinstance(stored, str):
        return _dt.datetime.fromisoformat(stored)
    return from_epoch(stored)


def _check_value(value: float, where: str) -> None:
    """AWS rejects NaN, infinities and magnitudes outside [2^-360, 2^360] (0 is fine): the range
    the API reference gives for a DatapointValue (botocore:cloudwatch:MetricDatum.Value, "-2^360 to
    2^360"; aws-behaviour.md §7.1). Older copies of the reference word it as "8.515920e-109 to
    1.174271e+108 (Base 10) or 2e-360 to 2e360 (Base 2)", whose decimal figures are 2^-359 and
    2^359 and contradict their own base-2 ones; the current text is followed."""
    if not storable(value):
        raise _ValueProblem(f"The value {_shown(value)} for parameter {where} is invalid.")


def _shown(value: float) -> str:
    """A number as AWS prints it in a parameter error: NaN as U+FFFD and the infinities as ∞ / -∞
    (real AWS: prometheus-to-cloudwatch PR #17; Netflix servo CloudWatchValueTest)."""
    if math.isnan(value):
        return "\ufffd"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return repr(value)


def _default_labels(queries_: list[dict]) -> dict[str, str]:
    """The labels AWS gives MetricStat results without a Label: the metric name, followed by the
    statistic and/or the period when those differ between the request's MetricStat queries
    (AWS-recorded, localstack test_label_generation: Sum/60 + Minimum/30 -> "metric1 Sum 60" and
    "metric1 Minimum 30"; Sum/60 + Minimum/60 -> "metric1 Sum"; Sum/60 + Sum/30 -> "metric1 60";
    a different Unit alone adds nothing)."""
    stats = [q for q in queries_ if "MetricStat" in q]
    differ = [
        member for member in ("Stat", "Period")
        if len({str(q["MetricStat"][member]) for q in stats}) > 1
    ]
    return {
        q["Id"]: " ".join([q["MetricStat"]["Metric"].get("MetricName", q["Id"])]
                          + [str(q["MetricStat"][member]) for member in differ])
        for q in stats
    }


def _utc_offset(timezone: str | None) -> int:
    if not timezone:
        return 0
    sign = -1 if timezone.startswith("-") else 1
    digits = timezone.lstrip("+-")
    if len(digits) != 4 or not digits.isdigit():
        raise validation_error(f"The value {timezone} for parameter LabelOptions.Timezone is invalid.")
    return sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)


def _detector_id(single: dict | None, math: dict | None) -> str:
    """A detector's id follows from what it models (so Put replaces, and Delete can name it by
    the same members): the metric and statistic, or the math queries."""
    if math:
        identity = ["math", math.get("MetricDataQueries")]
    else:
        identity = ["single", single.get("Namespace"), single.get("MetricName"),
                    sorted([d["Name"], d["Value"]] for d in single.get("Dimensions") or ()),
                    single.get("Stat")]
    return str(uuid.uuid5(uuid.NAMESPACE_URL, orjson.dumps(identity).decode()))


def _requested_datapoints(start_time: float, end_time: float, period: int) -> int:
    """How many datapoints a GetMetricStatistics request asks for, as AWS counts them against its
    1,440 limit (aws-behaviour.md §7.3): the periods between StartTime and EndTime as given, before
    StartTime is rounded down to the minute. AWS accepts now to now + 1 day at Period 60 whatever
    the seconds of now (as reported for this project from real AWS), which counting from the
    rounded start would make 1,441. Counted in whole milliseconds, the finest a timestamp travels
    on the wire, so that float noise in two epoch times a day apart cannot make 1,440.0000001."""
    span_ms = round(end_time * 1000) - round(start_time * 1000)
    return -(-span_ms // (period * 1000))


def _metric_data_request(queries_: list[dict], start_time: float, end_time: float, descending: bool) -> int:
    """A digest of what a GetMetricData request asks for (not MaxDatapoints, the page size): its
    NextToken only continues the request it came from."""
    return check_digits(queries_, start_time, end_time, descending)


def _metric_data_resume(token: str | None, request: int) -> tuple[int, int | None] | None:
    """Where a GetMetricData page resumes: (result number, timestamp of the last datapoint
    returned of it, or None when none was).

    A position by timestamp, not a count of datapoints already returned: a count goes stale as
    soon as the data changes between pages (a datapoint arriving for a newer minute shifts every
    later one, so the next page repeats one), a timestamp does not. A token of another request,
    or not ours, is InvalidNextToken (botocore:cloudwatch:GetMetricData errors).
    """
    if token is None:
        return None
    try:
        key = parse_page_token("metric-data", token)
    except InvalidToken:
        key = None
    if not (isinstance(key, tuple) and len(key) == 3 and key[2] == request and isinstance(key[0], int)
            and (key[1] is None or isinstance(key[1], int))):
        raise AWSError("InvalidNextToken", "The service cannot find the pagination token.")
    return key[0], key[1]


def _resume_index(ordinal: int, timestamps: list[int], resume: tuple[int, int | None] | None,
                  descending: bool) -> int:
    """How many datapoints of result number ``ordinal`` (in scan order) earlier pages returned."""
    if resume is None or ordinal > resume[0]:
        return 0
    if ordinal < resume[0]:
        return len(timestamps)
    last = resume[1]
    if last is None:
        return 0
    return sum(1 for t in timestamps if (t >= last if descending else t <= last))


def _resume_after(token: str | None, kind: str, key_type: type):
    """The key a listing token of ``kind`` carries (None without a token); a token that is not
    one of ours for this listing is InvalidNextToken."""
    if token is None:
        return None
    try:
        return parse_page_token(kind, token, key_type)
    except InvalidToken:
        raise AWSError("InvalidNextToken", "The service cannot find the pagination token.") from None

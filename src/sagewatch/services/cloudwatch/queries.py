"""Evaluating a list of MetricDataQuery: the engine behind GetMetricData and metric-math alarms.

Each query is either a MetricStat (one statistic of one metric over periods) or a metric math
Expression over other queries' results. Queries are validated first, as AWS does, so that a bad
request changes nothing and reports every problem it can.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..errors import AWSError
from . import anomaly, metric_math
from .metric_math import MathError, Series
from .metrics import MetricData, metric_key
from .statistics import StatisticError, parse_statistic

QUERY_ID = re.compile(r"^[a-z][a-zA-Z0-9_]*$")
MAX_QUERIES = 500


def validation_error(message: str) -> AWSError:
    return AWSError("ValidationError", message)


@dataclass(slots=True)
class QueryPlan:
    """A validated request: the MetricStat queries, the expressions in evaluation order."""

    queries: list[dict]
    metric_ids: list[str]  # MetricStat query ids, in request order (METRICS())
    expressions: dict[str, metric_math.Expr]
    order: list[str]  # expression ids, dependencies first
    period: int  # the period expressions are evaluated on


def plan(queries: list[dict], *, parameter: str = "MetricDataQueries") -> QueryPlan:
    """Check a MetricDataQueries list and prepare it for evaluation."""
    if len(queries) > MAX_QUERIES:
        raise validation_error(
            f"The collection {parameter} must not have a size greater than {MAX_QUERIES}."
        )
    seen: set[str] = set()
    metric_ids: list[str] = []
    expressions: dict[str, metric_math.Expr] = {}
    periods: list[int] = []
    problems: list[str] = []
    for index, query in enumerate(queries, 1):
        where = f"{parameter}.member.{index}"
        query_id = query["Id"]
        if not QUERY_ID.match(query_id):
            problems.append(
                f"The value {query_id} for parameter {where}.Id is invalid: it must start with a "
                "lowercase letter and contain only letters, numbers and underscores."
            )
        if query_id in seen:
            problems.append(f"The value {query_id} for parameter {where}.Id is not unique.")
        seen.add(query_id)
        has_stat, has_expression = "MetricStat" in query, "Expression" in query
        if has_stat == has_expression:
            problems.append(
                f"Exactly one element of the MetricStat and Expression parameters in {where} must be specified."
            )
            continue
        if has_stat:
            stat = query["MetricStat"]
            try:
                parse_statistic(stat["Stat"])
            except StatisticError:
                problems.append(
                    f"The value {stat['Stat']} for parameter {where}.MetricStat.Stat is not a valid statistic."
                )
            period = stat["Period"]
            if not _valid_period(period):
                problems.append(
                    f"The value {period} for parameter {where}.MetricStat.Period is invalid: it must be "
                    "1, 5, 10, 20, 30, 60 or a multiple of 60."
                )
            periods.append(period)
            metric_ids.append(query_id)
        else:
            if query["Expression"].lstrip().upper().startswith("SELECT"):
                problems.append(
                    f"The Metrics Insights query in {where}.Expression is not supported by sagewatch."
                )
                continue
            try:
                expressions[query_id] = metric_math.parse(query["Expression"])
            except MathError as error:
                problems.append(f"Error in expression '{query_id}': {error.message}")
            if "Period" in query:
                periods.append(query["Period"])
    if not problems and not any(q.get("ReturnData", True) for q in queries):
        problems.append("At least one of the queries must have ReturnData set to true.")
    order: list[str] = []
    if not problems:
        try:
            order = metric_math.dependency_order(expressions, metric_ids)
        except MathError as error:
            problems.append(error.message)
    if problems:
        # AWS lists every problem of the request, one per line; GetMetricData ends each line with a
        # newline ("The value None for parameter MetricDataQueries.member.223.MetricStat.Stat is not
        # a valid statistic.\nThe value None for ...\n", real AWS, yet-another-cloudwatch-exporter
        # #385).
        if parameter == "MetricDataQueries":
            raise validation_error("".join(p + "\n" for p in problems))
        raise validation_error("\n".join(problems))
    return QueryPlan(queries, metric_ids, expressions, order, min(periods) if periods else 60)


def _valid_period(period: int) -> bool:
    return period in (1, 5, 10, 20, 30) or (period >= 60 and period % 60 == 0)


def run(
    plan_: QueryPlan, data: MetricData, *, start: int, end: int, utc_offset: int = 0,
) -> dict[str, list[Series]]:
    """Every query's result over [start, end): a list of series (one unless an expression
    returns an array). MetricStat series cover the periods that have data."""
    results: dict[str, object] = {}
    provider = anomaly.BandProvider(data)
    by_id = {q["Id"]: q for q in plan_.queries}
    for query_id in plan_.metric_ids:
        series = _metric_stat_series(by_id[query_id], data, start=start, end=end)
        provider.track(series, by_id[query_id]["MetricStat"])
        results[query_id] = series
    for query_id in plan_.order:
        query = by_id[query_id]
        try:
            value = metric_math.evaluate(
                plan_.expressions[query_id], results, period=query.get("Period", plan_.period),
                start=start, end=end, all_metric_ids=plan_.metric_ids,
                band_provider=provider, utc_offset=utc_offset,
            )
            named = metric_math.finalize_labels(value, query_id, query.get("Label"))
            # An expression that returned one time series is a TS to the expressions that use it,
            # not a one-element TS[] ("e2 = e1 + 1" is a series, labelled by e2).
            results[query_id] = named[0] if isinstance(value, metric_math.Series) else named
        except MathError as error:
            raise validation_error(f"Error in expression '{query_id}': {error.message}") from None
    return {
        query_id: value if isinstance(value, list) else [value]
        for query_id, value in results.items()
    }


def _metric_stat_series(query: dict, data: MetricData, *, start: int, end: int) -> Series:
    stat = query["MetricStat"]
    metric = stat["Metric"]
    key = metric_key(metric.get("Namespace", ""), metric.get("MetricName", ""), metric.get("Dimensions"))
    statistic = parse_statistic(stat["Stat"])
    timestamps, values, _ = data.statistic_series(
        key, statistic, start=start, end=end, period=stat["Period"], unit=stat.get("Unit"),
    )
    label = query.get("Label") or metric.get("MetricName", query["Id"])
    return Series(np.asarray(timestamps, np.int64), np.asarray(values, np.float64), label, stat["Period"])

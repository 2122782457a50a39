"""CloudWatch (metrics and alarms) workloads, against sagewatch and moto in the same run.

    raw    PutMetricData   pre-serialized bodies (botocore's own json and query serializers) on
                           persistent connections: 1,000 single-value datums per request, and
                           100 datums of 100 Values/Counts each; values/s
    boto3  GetMetricData   Average + p90, Period 60, over one metric of 1,000,000 datapoints
                           spread over the last 24 hours (1,440 periods per statistic)
    boto3  alarm latency   100 metric alarms; for each, a breaching PutMetricData and then
                           DescribeAlarms every few ms until it reads ALARM

Each PutMetricData cell (protocol x payload shape) runs on a fresh server; moto gets the same
requests, except on the query protocol, where it takes seconds per request (~100x its json time
for 1,000 single values) and gets the first 10 or 20.

Every number is checked: each server's stored SampleCount and Sum against what was sent, every
GetMetricData period against numpy on the generated data (p90 exactly: no minute holds more than
4,096 distinct values, so sagewatch keeps the distribution exact).

CloudWatch's botocore model lists smithy-rpc-v2-cbor first, which moto does not speak; every boto3
client here is forced onto the json protocol (the same way tests/e2e/cloudwatch_clients.py
does it), for both servers.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import math
import shutil
import statistics
import tempfile
import threading
import time
import urllib.parse
import zlib
from pathlib import Path

import numpy as np

from common import CREDENTIALS, Moto, Row, Sagewatch, log, rss_bytes

NAME = "cloudwatch"
MB = 1_000_000
REGION = CREDENTIALS["AWS_DEFAULT_REGION"]
# The query protocol names no service in its body: the SigV4 credential scope does. Neither server
# checks signatures.
AUTHORIZATION = ("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/monitoring/aws4_request, "
                 "SignedHeaders=host, Signature=x")

# PutMetricData requests per cell (protocol, shape). moto gets the same requests, except on query,
# where it takes seconds per request: there it gets the first few of them.
PUT_REQUESTS = {"json single": 600, "json dist": 300, "query single": 200, "query dist": 100}
MOTO_PUT_REQUESTS = {"json single": 600, "json dist": 300, "query single": 10, "query dist": 20}

DEFAULTS = {
    "put_scale": 1.0,               # multiplies PUT_REQUESTS and MOTO_PUT_REQUESTS
    "put_connections": 2,
    "moto_put_budget_s": 120.0,     # safety net: moto stops sending a cell after this long
    # Runs of each PutMetricData cell, each on a fresh server; the median run is reported. A
    # sagewatch cell lasts seconds, short enough for a shared VM's speed swings to move it by
    # 15 % or more from run to run; moto's last a minute or more and average those out.
    "put_repeats": 3,
    "moto_put_repeats": 1,
    "datapoints": 1_000_000,        # GetMetricData: datapoints of the one metric, over 24 h
    "gmd_repeats": 5,               # sagewatch: median of this many GetMetricData
    "moto_gmd_repeats": 1,
    "moto_gmd_budget_s": 300.0,     # one moto GetMetricData may take this long (read timeout)
    "alarms": 100,
    "alarm_cap_s": 30.0,            # sagewatch: give up on one alarm after this long (fails the run)
    "moto_alarm_probes": 10,        # moto: alarms probed one by one with moto_alarm_cap_s each
    "moto_alarm_cap_s": 5.0,
    "poll_interval_s": 0.002,
}
QUICK = {**DEFAULTS, "put_scale": 0.034, "moto_put_budget_s": 5.0, "datapoints": 20_000,
         "gmd_repeats": 3, "moto_gmd_budget_s": 30.0, "alarms": 10, "moto_alarm_probes": 2,
         "moto_alarm_cap_s": 1.0}


def _requests(table: dict, label: str, scale: float) -> int:
    return max(1, round(table[label] * scale))


# -- clients ---------------------------------------------------------------------------------------


class Clients:
    """boto3 CloudWatch clients forced onto one protocol (json), plus botocore's serializers for
    the raw requests. The forced model lives in a temporary botocore data directory."""

    def __init__(self) -> None:
        import botocore.session

        self.tmp = Path(tempfile.mkdtemp(prefix="cw-bench-botocore-"))
        loader = botocore.session.get_session().get_component("data_loader")
        self.model = loader.load_service_model("cloudwatch", "service-2")
        forced = json.loads(json.dumps(self.model))
        forced["metadata"]["protocol"] = "json"
        forced["metadata"]["protocols"] = ["json"]
        target = self.tmp / "cloudwatch" / forced["metadata"]["apiVersion"]
        target.mkdir(parents=True)
        (target / "service-2.json").write_text(json.dumps(forced))

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def client(self, endpoint: str, read_timeout: float = 900):
        import boto3
        import botocore.session
        from botocore.config import Config

        session = botocore.session.Session()
        session.get_component("data_loader").search_paths.insert(0, str(self.tmp))
        client = boto3.Session(botocore_session=session).client(
            "cloudwatch", endpoint_url=endpoint, region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            config=Config(retries={"total_max_attempts": 1}, read_timeout=read_timeout,
                          connect_timeout=10),
        )
        assert client.meta.service_model.protocol == "json", client.meta.service_model.protocol
        return client

    def serializer(self, protocol: str):
        """(serialize(params) -> (body bytes, headers)) for PutMetricData on ``protocol``."""
        from botocore.model import ServiceModel
        from botocore.serialize import create_serializer

        model = json.loads(json.dumps(self.model))
        model["metadata"]["protocol"] = protocol
        model["metadata"]["protocols"] = [protocol]
        operation = ServiceModel(model, "cloudwatch").operation_model("PutMetricData")
        serializer = create_serializer(protocol, include_validation=False)

        def serialize(params: dict) -> tuple[bytes, dict]:
            request = serializer.serialize_to_request(params, operation)
            headers = {k: v for k, v in request["headers"].items()}
            body = request["body"]
            if protocol == "query":
                body = urllib.parse.urlencode(body).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
            elif isinstance(body, str):
                body = body.encode()
            headers["Authorization"] = AUTHORIZATION
            return body, headers

        return serialize


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


# -- PutMetricData: the payloads --------------------------------------------------------------------

SINGLE_METRICS = (
    ("GPUUtilization", "Percent"), ("GPUMemoryUtilization", "Percent"), ("CPUUtilization", "Percent"),
    ("MemoryUtilization", "Percent"), ("DiskUtilization", "Percent"), ("train:loss", "None"),
    ("train:throughput", "Count/Second"), ("train:grad_norm", "None"),
    ("NetworkReceiveThroughput", "Bytes/Second"), ("NetworkTransmitThroughput", "Bytes/Second"),
)
SINGLE_HOSTS = 4
DIST_METRICS = (("ModelLatency", "Microseconds"), ("OverheadLatency", "Microseconds"))
DIST_ENDPOINTS = 4
WINDOW_S = 100          # each request covers 100 s of one host / endpoint
SPREAD_S = 50 * 60      # request windows cycle over the 50 minutes before `base`


class PutCell:
    """The requests of one (protocol, shape) cell, and what each server must hold afterwards."""

    def __init__(self, protocol: str, shape: str, namespace: str, requests: list[dict]) -> None:
        self.protocol = protocol
        self.shape = shape
        self.namespace = namespace
        self.params = requests
        self.bodies: list[tuple[bytes, dict]] = []
        # per request: {(name, dims tuple): (sample count, sum)}
        self.expected: list[dict] = []
        self.values_per_request = 0
        self.samples_per_request = 0

    @property
    def label(self) -> str:
        return f"{self.protocol} {self.shape}"


def single_requests(count: int, namespace: str, base: int, seed: int) -> tuple[list[dict], list[dict]]:
    """(a) 10 metrics x 100 single-value datums (one host, 100 s at 1 Hz), 2 dimensions."""
    rng = np.random.default_rng(seed)
    requests, expected = [], []
    for i in range(count):
        host = i % SINGLE_HOSTS
        start = base + ((i // SINGLE_HOSTS) * WINDOW_S) % SPREAD_S
        dims = [{"Name": "TrainingJobName", "Value": "llama-ft-2024-06-10-12-00-00-000"},
                {"Name": "Host", "Value": f"algo-{host + 1}"}]
        datums, totals = [], {}
        for m, (name, unit) in enumerate(SINGLE_METRICS):
            values = np.round(rng.uniform(1, 100, WINDOW_S) * (10 ** (m % 4)), 3).tolist()
            for s, value in enumerate(values):
                datums.append({"MetricName": name, "Dimensions": dims, "Timestamp": _utc(start + s),
                               "Value": value, "Unit": unit})
            totals[(name, host)] = (len(values), math.fsum(values))
        requests.append({"Namespace": namespace, "MetricData": datums})
        expected.append(totals)
    return requests, expected


def dist_requests(count: int, namespace: str, base: int, seed: int) -> tuple[list[dict], list[dict]]:
    """(b) 100 datums of 100 distinct Values with Counts (latency distributions of one endpoint,
    2 metrics x 50 seconds), 2 dimensions: 10,000 values per request."""
    rng = np.random.default_rng(seed)
    per_metric = 100 // len(DIST_METRICS)
    requests, expected = [], []
    for i in range(count):
        endpoint = i % DIST_ENDPOINTS
        start = base + ((i // DIST_ENDPOINTS) * per_metric) % SPREAD_S
        dims = [{"Name": "EndpointName", "Value": f"llm-endpoint-{endpoint + 1}"},
                {"Name": "VariantName", "Value": "AllTraffic"}]
        datums, totals = [], {}
        for name, unit in DIST_METRICS:
            samples, total = 0, []
            for s in range(per_metric):
                values: list[float] = []
                while len(values) < 100:  # 100 distinct latencies, 0.1 us resolution
                    drawn = np.round(rng.lognormal(math.log(20_000), 0.6, 120), 1)
                    values = list(dict.fromkeys(drawn.tolist()))[:100]
                counts = rng.integers(1, 6, 100).astype(float).tolist()
                datums.append({"MetricName": name, "Dimensions": dims, "Timestamp": _utc(start + s),
                               "Values": values, "Counts": counts, "Unit": unit})
                samples += int(sum(counts))
                total += [v * c for v, c in zip(values, counts)]
            totals[(name, endpoint)] = (samples, math.fsum(total))
        requests.append({"Namespace": namespace, "MetricData": datums})
        expected.append(totals)
    return requests, expected


def build_cells(clients: Clients, p: dict, base: int) -> list[PutCell]:
    cells = []
    for protocol in ("json", "query"):
        serialize = clients.serializer(protocol)
        for shape, builder in (("single", single_requests), ("dist", dist_requests)):
            label = f"{protocol} {shape}"
            count = max(_requests(PUT_REQUESTS, label, p["put_scale"]),
                        _requests(MOTO_PUT_REQUESTS, label, p["put_scale"]))
            namespace = f"Bench/{protocol}-{shape}"
            requests, expected = builder(count, namespace, base, seed=zlib.crc32(label.encode()))
            cell = PutCell(protocol, shape, namespace, requests)
            cell.expected = expected
            cell.bodies = [serialize(r) for r in requests]
            cell.params = []  # only the bodies are needed from here on
            cell.values_per_request = sum(len(d.get("Values", [0])) for d in requests[0]["MetricData"])
            cell.samples_per_request = sum(n for n, _ in expected[0].values())
            cells.append(cell)
            size = sum(len(b) for b, _ in cell.bodies) / len(cell.bodies)
            log(f"built {count} {protocol} PutMetricData bodies ({shape}: {cell.values_per_request:,} "
                f"values each, {size / 1000:,.0f} KB average)")
    return cells


# -- PutMetricData: sending --------------------------------------------------------------------------


def send_cell(endpoint: str, cell: PutCell, count: int, connections: int, budget_s: float) -> dict:
    """Send the cell's first ``count`` bodies on ``connections`` persistent connections (request i
    on connection i % connections), stopping early once ``budget_s`` has passed. Every response
    must be 200."""
    port = int(endpoint.rsplit(":", 1)[1])
    count = min(count, len(cell.bodies))
    work = [list(range(c, count, connections)) for c in range(connections)]
    done: list[list[int]] = [[] for _ in range(connections)]
    errors: list[str] = []
    barrier = threading.Barrier(connections + 1)
    clock = {"start": 0.0}

    def run(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
        connection.connect()
        barrier.wait()
        try:
            for i in work[index]:
                if time.perf_counter() - clock["start"] > budget_s or errors:
                    return
                body, headers = cell.bodies[i]
                connection.request("POST", "/", body, headers)
                response = connection.getresponse()
                data = response.read()
                if response.status != 200:
                    errors.append(f"{response.status}: {data[:500]!r}")
                    return
                done[index].append(i)
        except (OSError, http.client.HTTPException) as error:  # a dead connection breaks the workload
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in range(connections)]
    for thread in threads:
        thread.start()
    clock["start"] = time.perf_counter()
    barrier.wait()
    start = time.perf_counter()
    clock["start"] = start
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    sent = sorted(i for d in done for i in d)
    return {
        "requests": len(sent), "planned": count, "seconds": seconds,
        "values": len(sent) * cell.values_per_request,
        "samples": len(sent) * cell.samples_per_request,
        "values_per_s": len(sent) * cell.values_per_request / seconds if sent else 0.0,
        "complete": len(sent) == count,
        "errors": errors[:3], "sent": sent,
    }


def check_cell(client, cell: PutCell, sent: list[int], base: int) -> dict:
    """GetMetricStatistics SampleCount + Sum of every metric the cell touched, against what the
    acknowledged requests carried."""
    want: dict = {}
    for i in sent:
        for key, (n, total) in cell.expected[i].items():
            old = want.get(key, (0, 0.0))
            want[key] = (old[0] + n, old[1] + total)
    mismatches = []
    start = _utc(base - 3600)
    end = _utc(time.time() + 120)
    for (name, who), (n, total) in sorted(want.items()):
        if cell.shape == "single":
            dims = [{"Name": "TrainingJobName", "Value": "llama-ft-2024-06-10-12-00-00-000"},
                    {"Name": "Host", "Value": f"algo-{who + 1}"}]
        else:
            dims = [{"Name": "EndpointName", "Value": f"llm-endpoint-{who + 1}"},
                    {"Name": "VariantName", "Value": "AllTraffic"}]
        points = client.get_metric_statistics(
            Namespace=cell.namespace, MetricName=name, Dimensions=dims, StartTime=start, EndTime=end,
            Period=3600, Statistics=["SampleCount", "Sum"])["Datapoints"]
        got_n = sum(p.get("SampleCount", 0) for p in points)
        got_sum = sum(p.get("Sum", 0) for p in points)
        if got_n != n or not math.isclose(got_sum, total, rel_tol=1e-9):
            mismatches.append(f"{name}/{who}: SampleCount {got_n:,.0f} (sent {n:,}), "
                              f"Sum {got_sum:,.6g} (sent {total:,.6g})")
    return {"metrics": len(want), "mismatches": mismatches, "ok": not mismatches}


def run_puts(server_class, clients: Clients, cells: list[PutCell], p: dict, base: int,
             budget_s: float, table: dict, repeats: int) -> dict:
    """Each cell ``repeats`` times, each run on a fresh server (moto keeps every sample as an
    object and scans them all for each GetMetricStatistics: one cell's data is enough for it).
    A cell's result is its median run by values/s, with every run's rate beside it; a run that
    broke is the result, whatever the others did."""
    out = {}
    rss = []
    for cell in cells:
        runs = []
        for attempt in range(repeats):
            if repeats > 1:
                log(f"{server_class.name}: {cell.label}, run {attempt + 1}/{repeats}")
            runs.append(_put_run(server_class, clients, cell, p, base, budget_s, table))
            rss.append(runs[-1]["rss_mb"])
        broken = [r for r in runs if r["errors"] or not r["check"]["ok"]]
        result = broken[0] if broken else sorted(runs, key=lambda r: r["values_per_s"])[len(runs) // 2]
        result["runs_values_per_s"] = [r["values_per_s"] for r in runs]
        out[cell.label] = result
    out["rss_mb"] = max(rss)
    return out


def _put_run(server_class, clients: Clients, cell: PutCell, p: dict, base: int, budget_s: float,
             table: dict) -> dict:
    with server_class() as server:
        client = clients.client(server.endpoint)
        count = _requests(table, cell.label, p["put_scale"])
        log(f"{server.name}: PutMetricData {cell.label}, {count} requests of "
            f"{cell.values_per_request:,} values on {p['put_connections']} connections"
            + (f" (budget {budget_s:.0f} s)" if math.isfinite(budget_s) else ""))
        result = send_cell(server.endpoint, cell, count, p["put_connections"], budget_s)
        result["rss_mb"] = rss_bytes(server.pid) / MB
        if result["errors"]:
            result["check"] = {"ok": False, "mismatches": [], "metrics": 0}
            log(f"{server.name}: {cell.label} FAILED: {result['errors'][0]}")
        else:
            log(f"{server.name}: {result['values_per_s']:,.0f} values/s ({result['requests']} requests "
                f"in {result['seconds']:.1f} s); RSS {result['rss_mb']:,.0f} MB; checking with "
                f"GetMetricStatistics")
            result["check"] = check_cell(client, cell, result["sent"], base)
            if not result["check"]["ok"]:
                log(f"{server.name}: {cell.label} stored values differ: "
                    f"{result['check']['mismatches'][:2]}")
        del result["sent"]
        return result


# -- GetMetricData over 1,000,000 datapoints ------------------------------------------------------------

GMD_NAMESPACE = "Bench/Inference"
GMD_METRIC = "ModelLatency"
GMD_DIMS = [{"Name": "EndpointName", "Value": "llm-endpoint-1"}, {"Name": "VariantName", "Value": "AllTraffic"}]
GMD_PERIODS = 1440


class Series:
    """1,000,000 latencies (ms, 0.1 ms resolution) over 1,440 minutes, per minute as distinct values
    and counts, with the expected Average and p90 (nearest rank) of each minute."""

    def __init__(self, total: int, base: int, seed: int = 11) -> None:
        rng = np.random.default_rng(seed)
        self.base = base
        self.total = total
        self.minutes: list[tuple[np.ndarray, np.ndarray]] = []
        self.average = np.empty(GMD_PERIODS)
        self.p90 = np.empty(GMD_PERIODS)
        self.max_distinct = 0
        for m in range(GMD_PERIODS):
            n = total // GMD_PERIODS + (1 if m < total % GMD_PERIODS else 0)
            # A daily cycle, so the minutes differ.
            centre = 25 * (1 + 0.3 * math.sin(2 * math.pi * m / GMD_PERIODS))
            samples = np.maximum(np.round(rng.lognormal(math.log(centre), 0.4, n), 1), 0.1)
            values, counts = np.unique(samples, return_counts=True)
            self.minutes.append((values, counts.astype(float)))
            self.max_distinct = max(self.max_distinct, values.size)
            self.average[m] = samples.mean()
            rank = math.ceil(0.9 * n)
            self.p90[m] = values[np.searchsorted(np.cumsum(counts), rank)]

    def requests(self) -> list[dict]:
        """Values/Counts datums of at most 150 values, 1,000 datums per request."""
        datums = []
        for m, (values, counts) in enumerate(self.minutes):
            for j, at in enumerate(range(0, values.size, 150)):
                datums.append({"MetricName": GMD_METRIC, "Dimensions": GMD_DIMS, "Unit": "Milliseconds",
                               "Timestamp": _utc(self.base + m * 60 + j * 5),
                               "Values": values[at:at + 150].tolist(),
                               "Counts": counts[at:at + 150].tolist()})
        return [{"Namespace": GMD_NAMESPACE, "MetricData": datums[i:i + 1000]}
                for i in range(0, len(datums), 1000)]


def get_metric_data(client, series: Series, stats: tuple[str, ...]) -> tuple[float, dict, int]:
    """(seconds, {stat: (timestamps, values)}, pages) of one GetMetricData, every page."""
    queries = [{"Id": f"q{i}", "ReturnData": True,
                "MetricStat": {"Metric": {"Namespace": GMD_NAMESPACE, "MetricName": GMD_METRIC,
                                          "Dimensions": GMD_DIMS},
                               "Period": 60, "Stat": stat}}
               for i, stat in enumerate(stats)]
    kwargs = {"MetricDataQueries": queries, "StartTime": _utc(series.base),
              "EndTime": _utc(series.base + GMD_PERIODS * 60), "ScanBy": "TimestampAscending"}
    got = {stat: ([], []) for stat in stats}
    pages = 0
    start = time.perf_counter()
    while True:
        response = client.get_metric_data(**kwargs)
        pages += 1
        for result in response["MetricDataResults"]:
            stat = stats[int(result["Id"][1:])]
            got[stat][0].extend(result["Timestamps"])
            got[stat][1].extend(result["Values"])
        token = response.get("NextToken")
        if not token:
            break
        kwargs["NextToken"] = token
    return time.perf_counter() - start, got, pages


def check_series(series: Series, got: dict) -> list[str]:
    problems = []
    for stat, (stamps, values) in got.items():
        if len(values) != GMD_PERIODS:
            problems.append(f"{stat}: {len(values)} datapoints, expected {GMD_PERIODS}")
            continue
        minutes = [(int(t.timestamp()) - series.base) // 60 for t in stamps]
        if minutes != list(range(GMD_PERIODS)):
            problems.append(f"{stat}: timestamps are not the {GMD_PERIODS} minutes in order")
            continue
        expected = series.average if stat == "Average" else series.p90
        got_values = np.asarray(values, dtype=float)
        if stat == "Average":
            bad = ~np.isclose(got_values, expected, rtol=1e-9, atol=0)
        else:  # exact: every minute has fewer than 4,096 distinct values
            bad = got_values != expected
        if bad.any():
            m = int(np.flatnonzero(bad)[0])
            problems.append(f"{stat}: {int(bad.sum())} periods differ, first minute {m}: "
                            f"{got_values[m]!r}, expected {expected[m]!r}")
    return problems


def _probe_p90(client, series: Series) -> str:
    """What a server answers to GetMetricData p90 over the series' first hour."""
    from botocore.exceptions import ClientError

    query = {"Id": "p", "MetricStat": {"Metric": {"Namespace": GMD_NAMESPACE, "MetricName": GMD_METRIC,
                                                  "Dimensions": GMD_DIMS}, "Period": 60, "Stat": "p90"}}
    try:
        result = client.get_metric_data(MetricDataQueries=[query], StartTime=_utc(series.base),
                                         EndTime=_utc(series.base + 3600))["MetricDataResults"][0]
    except ClientError as error:
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        code = error.response["Error"].get("Code") or ""
        return f"HTTP {status}" + (f" {code}" if code and code != str(status) else "")
    return f"{len(result['Values'])} values"


def run_gmd(server, clients: Clients, series: Series, stat_sets: tuple[tuple[str, ...], ...],
            repeats: int, budget_s: float, probe_p90: bool = False) -> dict:
    """Load the series, check its SampleCount, then time GetMetricData for each set of
    statistics (median of ``repeats``; a run that takes longer than ``budget_s`` ends them)."""
    client = clients.client(server.endpoint)
    requests = series.requests()
    log(f"{server.name}: loading {series.total:,} datapoints into one metric "
        f"({sum(len(r['MetricData']) for r in requests):,} Values/Counts datums in {len(requests)} requests)")
    start = time.perf_counter()
    for request in requests:
        client.put_metric_data(**request)
    out: dict = {"load_s": time.perf_counter() - start}
    points = client.get_metric_statistics(
        Namespace=GMD_NAMESPACE, MetricName=GMD_METRIC, Dimensions=GMD_DIMS, StartTime=_utc(series.base),
        EndTime=_utc(series.base + GMD_PERIODS * 60), Period=86400,
        Statistics=["SampleCount", "Sum"])["Datapoints"]
    out["sample_count"] = sum(p["SampleCount"] for p in points)
    log(f"{server.name}: loaded in {out['load_s']:.1f} s; GetMetricStatistics SampleCount "
        f"{out['sample_count']:,.0f}")
    if probe_p90:
        out["p90_probe"] = _probe_p90(client, series)
        log(f"{server.name}: GetMetricData p90 over the first hour: {out['p90_probe']}")
    slow = clients.client(server.endpoint, read_timeout=budget_s) if math.isfinite(budget_s) else client
    for stats in stat_sets:
        runs, problems, complete = [], [], True
        for i in range(repeats):
            log(f"{server.name}: GetMetricData {' + '.join(stats)} (run {i + 1}/{repeats})")
            try:
                seconds, got, pages = get_metric_data(slow, series, stats)
            except Exception as error:  # botocore's ReadTimeoutError: the budget ran out
                if "timeout" not in type(error).__name__.lower() and "timed out" not in str(error):
                    raise
                log(f"{server.name}: no answer within {budget_s:.0f} s")
                complete = False
                runs.append(budget_s)
                break
            runs.append(seconds)
            problems = check_series(series, got)
            log(f"{server.name}: {seconds:.3f} s, {pages} page(s)"
                + (f"; WRONG: {problems[0]}" if problems else "; every period checked"))
        out[" + ".join(stats)] = {
            "seconds": statistics.median(runs), "runs_s": [round(r, 4) for r in runs], "complete": complete,
            "problems": problems,
            "ok": complete and not problems and out["sample_count"] == series.total,
        }
        if not complete:
            break
    return out


# -- alarm latency ------------------------------------------------------------------------------------------

ALARM_NAMESPACE = "Bench/Alarms"
THRESHOLD = 100.0


def _alarm_metric(i: int) -> dict:
    return {"Namespace": ALARM_NAMESPACE, "MetricName": f"ModelLatency-{i:03d}",
            "Dimensions": [{"Name": "EndpointName", "Value": f"endpoint-{i:03d}"}]}


def _states(client, names: list[str]) -> dict[str, str]:
    states = {}
    for i in range(0, len(names), 100):
        found = client.describe_alarms(AlarmNames=names[i:i + 100], MaxRecords=100)
        states.update({a["AlarmName"]: a["StateValue"] for a in found["MetricAlarms"]})
    return states


def run_alarms(server, clients: Clients, count: int, cap_s: float, probes: int, poll_s: float,
               ok_wait_s: float) -> dict:
    """Create ``count`` alarms, bring them to OK with a non-breaching value, then for the first
    ``probes`` alarms one by one: breaching PutMetricData, poll until ALARM (at most ``cap_s``).
    The remaining alarms (moto only) get their breaching value without waiting, and a last
    DescribeAlarms counts how many read ALARM."""
    client = clients.client(server.endpoint)
    names = [f"bench-latency-{i:03d}" for i in range(count)]
    for i, name in enumerate(names):
        metric = _alarm_metric(i)
        client.put_metric_alarm(AlarmName=name, Namespace=metric["Namespace"], MetricName=metric["MetricName"],
                                Dimensions=metric["Dimensions"], Statistic="Average", Period=60,
                                EvaluationPeriods=1, Threshold=THRESHOLD,
                                ComparisonOperator="GreaterThanThreshold")
    created = _tally(_states(client, names))
    now = time.time()
    for i in range(0, count, 1000):
        client.put_metric_data(Namespace=ALARM_NAMESPACE, MetricData=[
            {"MetricName": _alarm_metric(j)["MetricName"], "Dimensions": _alarm_metric(j)["Dimensions"],
             "Timestamp": _utc(now), "Value": 1.0} for j in range(i, min(i + 1000, count))])
    log(f"{server.name}: {count} alarms created, non-breaching value sent; waiting for OK")
    deadline = time.monotonic() + ok_wait_s
    while True:
        states = _states(client, names)
        ok = sum(s == "OK" for s in states.values())
        if ok == count or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    out: dict = {"alarms": count, "states_created": created, "ok_before": ok, "states_before": _tally(states)}
    log(f"{server.name}: {ok} of {count} alarms read OK ({_tally(states)})")

    latencies, cross, never = [], [], 0
    for i, name in enumerate(names[:probes]):
        metric = _alarm_metric(i)
        client.put_metric_data(Namespace=ALARM_NAMESPACE, MetricData=[
            {"MetricName": metric["MetricName"], "Dimensions": metric["Dimensions"],
             "Timestamp": _utc(time.time()), "Value": 1000.0}])
        acked_wall, acked = time.time(), time.perf_counter()
        seen = None
        while time.perf_counter() - acked < cap_s:
            found = client.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
            if found["StateValue"] == "ALARM":
                seen = time.perf_counter() - acked
                cross.append(found["StateTransitionedTimestamp"].timestamp() - acked_wall)
                break
            time.sleep(poll_s)
        if seen is None:
            never += 1
        else:
            latencies.append(seen)
    # The rest (moto): breaching values without waiting, then one look at every alarm.
    for i in range(probes, count):
        metric = _alarm_metric(i)
        client.put_metric_data(Namespace=ALARM_NAMESPACE, MetricData=[
            {"MetricName": metric["MetricName"], "Dimensions": metric["Dimensions"],
             "Timestamp": _utc(time.time()), "Value": 1000.0}])
    if probes < count:
        time.sleep(cap_s)
    states = _states(client, names)
    out.update(probed=probes, reached=len(latencies), never=never, cap_s=cap_s,
               in_alarm_at_end=sum(s == "ALARM" for s in states.values()), states_after=_tally(states))
    if latencies:
        ordered = sorted(latencies)
        out.update(p50_s=_percentile(ordered, 50), p99_s=_percentile(ordered, 99), max_s=ordered[-1],
                   mean_s=statistics.fmean(ordered),
                   transitioned_minus_ack_s={"p50": _percentile(sorted(cross), 50),
                                             "p99": _percentile(sorted(cross), 99),
                                             "min": min(cross), "max": max(cross)},
                   latencies_ms=[round(x * 1000, 2) for x in latencies])
        log(f"{server.name}: {len(latencies)} of {probes} alarms reached ALARM; p50 {out['p50_s'] * 1000:.1f} ms, "
            f"p99 {out['p99_s'] * 1000:.1f} ms, max {out['max_s'] * 1000:.1f} ms")
    else:
        log(f"{server.name}: none of {probes} probed alarms reached ALARM within {cap_s:.0f} s each; "
            f"{out['in_alarm_at_end']} of {count} in ALARM at the end")
    return out


def _tally(states: dict[str, str]) -> dict[str, int]:
    tally: dict[str, int] = {}
    for state in states.values():
        tally[state] = tally.get(state, 0) + 1
    return tally


def _percentile(ordered: list[float], q: float) -> float:
    """Nearest rank: of 100 latencies, p99 is the 99th smallest."""
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


# -- the suite -------------------------------------------------------------------------------------------


def run(options: dict) -> tuple[list[Row], dict]:
    p = {**(QUICK if options.get("quick") else DEFAULTS),
         **{k: v for k, v in options.items() if k in DEFAULTS and v is not None}}
    clients = Clients()
    try:
        now = int(time.time())
        put_base = now - now % 60 - 55 * 60   # PutMetricData timestamps: the last hour
        log("pre-serializing PutMetricData bodies with botocore's json and query serializers")
        cells = build_cells(clients, p, put_base)
        gmd_base = now - now % 60 - GMD_PERIODS * 60   # the 24 h that end at the current minute
        log(f"generating {p['datapoints']:,} datapoints over {GMD_PERIODS} minutes")
        series = Series(p["datapoints"], gmd_base)
        log(f"at most {series.max_distinct} distinct values in a minute")

        sw_put = run_puts(Sagewatch, clients, cells, p, put_base, float("inf"), PUT_REQUESTS, p["put_repeats"])
        with Sagewatch() as server:
            sw_gmd = run_gmd(server, clients, series, (("Average", "p90"), ("Average",)), p["gmd_repeats"],
                             float("inf"))
        with Sagewatch() as server:
            sw_alarm = run_alarms(server, clients, p["alarms"], p["alarm_cap_s"], p["alarms"],
                                  p["poll_interval_s"], ok_wait_s=30)
        mo_put = mo_gmd = mo_alarm = None
        if not options.get("no_moto"):
            mo_put = run_puts(Moto, clients, cells, p, put_base, p["moto_put_budget_s"],
                              MOTO_PUT_REQUESTS, p["moto_put_repeats"])
            with Moto() as server:
                # moto has no percentiles: GetMetricData p90 fails (probed and reported).
                mo_gmd = run_gmd(server, clients, series, (("Average",),), p["moto_gmd_repeats"],
                                 p["moto_gmd_budget_s"], probe_p90=True)
            with Moto() as server:
                mo_alarm = run_alarms(server, clients, p["alarms"], p["moto_alarm_cap_s"],
                                      min(p["moto_alarm_probes"], p["alarms"]), p["poll_interval_s"],
                                      ok_wait_s=p["moto_alarm_cap_s"])
    finally:
        clients.close()

    broken = [f"sagewatch PutMetricData {label}: {r['errors'] or r['check']['mismatches'][:3]}"
              for label, r in sw_put.items() if label != "rss_mb" and (r["errors"] or not r["check"]["ok"])]
    for stats in ("Average + p90", "Average"):
        if not sw_gmd[stats]["ok"]:
            broken.append(f"sagewatch GetMetricData {stats}: SampleCount {sw_gmd['sample_count']}, "
                          f"{sw_gmd[stats]['problems'][:3]}")
    if sw_alarm["never"]:
        broken.append(f"sagewatch: {sw_alarm['never']} alarms never reached ALARM")
    if broken:
        raise RuntimeError("; ".join(broken))

    rows = _rows(cells, sw_put, mo_put, sw_gmd, mo_gmd, sw_alarm, mo_alarm, series, p)
    parameters = {
        "PutMetricData": "requests per cell (sagewatch / moto): " + ", ".join(
            f"{label} {_requests(PUT_REQUESTS, label, p['put_scale'])} / "
            f"{_requests(MOTO_PUT_REQUESTS, label, p['put_scale'])}" for label in PUT_REQUESTS)
            + f"; single = 1,000 single-value datums (10 metrics x 100 s at 1 Hz of one of {SINGLE_HOSTS} "
              f"training hosts, 2 dimensions); dist = 100 datums x 100 distinct Values with Counts 1-5 "
              f"(2 latency metrics x 50 s of one of {DIST_ENDPOINTS} endpoints, 2 dimensions); timestamps "
              f"in the last hour; pre-serialized by botocore's serializers, sent on {p['put_connections']} "
              f"persistent connections; every run on a fresh server, median of {p['put_repeats']} runs "
              f"(moto {p['moto_put_repeats']}); moto safety budget "
              f"{p['moto_put_budget_s']:.0f} s per cell",
        "GetMetricData": f"one metric of {series.total:,} datapoints (0.1 ms latencies, at most "
                         f"{series.max_distinct} distinct values per minute) over {GMD_PERIODS} minutes, loaded "
                         f"as Values/Counts datums; Average + p90, Period 60, whole range; sagewatch median of "
                         f"{p['gmd_repeats']}, moto {p['moto_gmd_repeats']} run(s) within "
                         f"{p['moto_gmd_budget_s']:.0f} s",
        "alarms": f"{p['alarms']} metric alarms (Average, Period 60, EvaluationPeriods 1, "
                  f"GreaterThanThreshold {THRESHOLD:g}); DescribeAlarms every {p['poll_interval_s'] * 1000:.0f} ms "
                  f"after each breaching put; moto: {p['moto_alarm_probes']} alarms probed, "
                  f"{p['moto_alarm_cap_s']:.0f} s each",
        "boto3 protocol": "json (forced; moto does not speak smithy-rpc-v2-cbor, botocore's default)",
    }
    details = {"sagewatch": {"put": sw_put, "get_metric_data": sw_gmd, "alarms": sw_alarm},
               "moto": {"put": mo_put, "get_metric_data": mo_gmd, "alarms": mo_alarm}}
    return rows, {"parameters": parameters, "options": p, "details": details}


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _put_row(cell: PutCell, sw: dict, mo: dict | None, p: dict) -> Row:
    s = sw[cell.label]
    shape = ("1,000 single-value datums/request" if cell.shape == "single"
             else "100 datums x 100 Values/Counts/request")
    notes = [(f"sagewatch {_n(s['requests'], 'request')} ({s['values']:,} values) in {s['seconds']:.1f} s, "
              f"stored SampleCount/Sum of all {s['check']['metrics']} metrics = sent")]
    if len(s["runs_values_per_s"]) > 1:
        notes.append("sagewatch runs " + " / ".join(f"{rate:,.0f}" for rate in s["runs_values_per_s"])
                     + " values/s, the median reported")
    comparable, moto_rate = True, None
    if mo is not None:
        m = mo[cell.label]
        if m["errors"]:
            comparable = False
            notes.append(f"moto FAILED after {m['requests']} requests: {m['errors'][0][:200]}")
        else:
            moto_rate = m["values_per_s"]
            fewer = m["planned"] < s["planned"]
            notes.append(f"moto {_n(m['requests'], 'request')} ({m['values']:,} values) in {m['seconds']:.1f} s"
                         + (f" (fewer requests: moto takes {m['seconds'] / max(m['requests'], 1):.1f} s "
                            f"per request here)" if fewer else "")
                         + ("" if m["complete"] else
                            f" (stopped by the {p['moto_put_budget_s']:.0f} s budget after {m['requests']} "
                            f"of {m['planned']})"))
            if m["check"]["ok"]:
                notes.append("moto stored SampleCount/Sum = sent")
            else:
                comparable = False
                notes.append(f"moto stored something else: {m['check']['mismatches'][0]}")
    if cell.shape == "dist":
        notes.append(f"values = Values entries; with Counts that is {cell.samples_per_request:,} samples "
                     f"per request")
    return Row(f"PutMetricData {cell.protocol}, {shape}", "values/s", s["values_per_s"], moto_rate,
               target=">= 10x moto", target_kind="ratio", target_value=10, comparable=comparable,
               note="; ".join(notes))


def _rows(cells, sw_put, mo_put, sw_gmd, mo_gmd, sw_alarm, mo_alarm, series: Series, p: dict) -> list[Row]:
    rows = [_put_row(cell, sw_put, mo_put, p) for cell in cells]
    rows.append(Row("Server RSS after a PutMetricData cell (largest of the 4)", "MB", sw_put["rss_mb"],
                    mo_put["rss_mb"] if mo_put else None, higher_is_better=False,
                    note="each cell runs on a fresh server; " + ", ".join(
                        f"{c.label}: sagewatch {sw_put[c.label]['rss_mb']:,.0f} MB"
                        + (f", moto {mo_put[c.label]['rss_mb']:,.0f} MB" if mo_put else "")
                        for c in cells)))

    both, avg = sw_gmd["Average + p90"], sw_gmd["Average"]
    notes = [(f"sagewatch runs {both['runs_s']} s, GetMetricStatistics SampleCount "
              f"{sw_gmd['sample_count']:,.0f}, all {GMD_PERIODS} Average and p90 values = numpy's "
              f"(p90 exactly)")]
    if mo_gmd is not None:
        notes.append(f"moto has no percentiles (GetMetricData p90 over one hour of this data: "
                     f"{mo_gmd['p90_probe']}), so it is timed on Average alone: see the next row")
    rows.append(Row(f"boto3 GetMetricData Average + p90, Period 60, over {series.total:,} datapoints",
                    "s", both["seconds"], None, higher_is_better=False, target="<= 0.5 s",
                    target_kind="max", target_value=0.5, note="; ".join(notes)))
    notes = [f"sagewatch runs {avg['runs_s']} s"]
    moto_seconds, comparable = None, True
    if mo_gmd is not None:
        m = mo_gmd.get("Average")
        moto_seconds = m["seconds"]
        what = f"moto loaded the data in {mo_gmd['load_s']:.0f} s, SampleCount {mo_gmd['sample_count']:,.0f}"
        if not m["complete"]:
            comparable = False
            what += f"; NO answer within the {p['moto_gmd_budget_s']:.0f} s budget: its time is a lower bound"
        elif m["problems"]:
            comparable = False
            what += f"; answered differently: {m['problems'][0]}"
        else:
            what += f"; its {GMD_PERIODS} Averages = numpy's"
        notes.append(what)
    rows.append(Row(f"boto3 GetMetricData Average, Period 60, over {series.total:,} datapoints",
                    "s", avg["seconds"], moto_seconds, higher_is_better=False, comparable=comparable,
                    note="; ".join(notes)))

    cross = sw_alarm["transitioned_minus_ack_s"]
    alarm_note = (f"{sw_alarm['reached']} of {sw_alarm['alarms']} alarms reached ALARM, one at a time; "
                  f"cross-check StateTransitionedTimestamp - ack: p50 {cross['p50'] * 1000:.1f} ms, "
                  f"p99 {cross['p99'] * 1000:.1f} ms, min {cross['min'] * 1000:.1f} ms, "
                  f"max {cross['max'] * 1000:.1f} ms")
    if mo_alarm is not None:
        alarm_note += (f"; moto never: {mo_alarm['reached']} of {mo_alarm['probed']} probed alarms reached "
                       f"ALARM within {mo_alarm['cap_s']:.0f} s each, {mo_alarm['in_alarm_at_end']} of "
                       f"{mo_alarm['alarms']} in ALARM at the end (moto creates every alarm in OK and does not "
                       f"evaluate alarms: states afterwards "
                       f"{', '.join(f'{k} x{v}' for k, v in mo_alarm['states_after'].items())})")
    for q, key, target in (("p50", "p50_s", None), ("p99", "p99_s", 1000.0), ("max", "max_s", None)):
        moto_ms = mo_alarm[key] * 1000 if mo_alarm and key in mo_alarm else None
        rows.append(Row(
            f"alarm latency {q}: breaching PutMetricData acked -> DescribeAlarms reads ALARM", "ms",
            sw_alarm[key] * 1000, moto_ms, higher_is_better=False,
            target="<= 1 s" if target else "", target_kind="max" if target else "", target_value=target,
            moto_display="never" if mo_alarm is not None and not mo_alarm["reached"] else "",
            note=alarm_note if q == "p99" else ""))
    return rows

"""The agent's outbox (spool.py) and its request signing (wire.py)."""

from __future__ import annotations

from sagewatch.agent.spool import Outbox
from sagewatch.agent.wire import Credentials, Signer


def put_lines(box: Outbox, count: int, start: int = 0, ms: int = 1000, width: int = 10) -> None:
    messages = [f"{i:0{width}d}" for i in range(start, start + count)]
    box.put(ms, messages, [len(m) for m in messages])


def drain(box: Outbox, max_events=10_000, max_bytes=1_048_576, max_span_ms=86_400_000):
    batches = []
    while (batch := box.take(max_events, max_bytes, max_span_ms)) is not None:
        batches.append(batch)
    return batches


def messages_of(batches) -> list[str]:
    return [m for batch in batches for _, messages in batch.runs for m in messages]


def test_batches_respect_the_event_and_byte_limits_counting_26_bytes_an_event(tmp_path):
    box = Outbox(tmp_path)
    put_lines(box, 25_000)
    batches = drain(box, max_events=10_000, max_bytes=360_000)   # 36 bytes an event: 10,000 fit
    assert [b.events for b in batches] == [10_000, 10_000, 5_000]
    assert all(b.size == b.events * 36 for b in batches)
    box2 = Outbox(tmp_path / "b")
    put_lines(box2, 100)
    batches_small = drain(box2, max_bytes=36 * 30 + 35)
    assert [b.events for b in batches_small] == [30, 30, 30, 10]
    assert messages_of(batches_small) == [f"{i:010d}" for i in range(100)]
    assert box2.pending_events == 0 and box2.pending_bytes == 0


def test_a_batch_never_spans_more_than_the_span_limit(tmp_path):
    box = Outbox(tmp_path)
    put_lines(box, 3, 0, ms=0)
    put_lines(box, 3, 3, ms=500)
    put_lines(box, 3, 6, ms=1001)
    batches = drain(box, max_span_ms=1000)
    assert [b.events for b in batches] == [6, 3]


def test_past_the_memory_bound_events_go_to_disk_and_come_back_in_order(tmp_path):
    box = Outbox(tmp_path, memory_limit=36 * 100, segment_bytes=2_000)
    for run in range(50):
        put_lines(box, 20, run * 20, ms=run)
    segments = list(tmp_path.glob("*.seg"))
    assert len(segments) > 3 and box.spilled_runs == 45
    taken = messages_of([box.take(30, 1_048_576, 86_400_000)])
    put_lines(box, 20, 1000, ms=100)            # still spilling: disk not empty yet
    rest = messages_of(drain(box, max_events=70))
    assert taken + rest == [f"{i:010d}" for i in range(1000)] + [f"{i:010d}" for i in range(1000, 1020)]
    assert list(tmp_path.glob("*.seg")) == []
    put_lines(box, 5, 2000)                     # disk empty again: memory
    assert list(tmp_path.glob("*.seg")) == []
    assert messages_of(drain(box)) == [f"{i:010d}" for i in range(2000, 2005)]


def test_non_ascii_messages_survive_the_disk(tmp_path):
    box = Outbox(tmp_path, memory_limit=1)
    messages = ["snow ☃", "tab\tand \"quotes\"", "\x00 nul"]
    box.put(5, messages, [len(m.encode()) for m in messages])
    assert list(tmp_path.glob("*.seg"))
    [batch] = drain(box)
    assert batch.runs == [(5, messages)]
    assert batch.size == sum(len(m.encode()) + 26 for m in messages)


def test_a_stale_spool_is_cleared(tmp_path):
    (tmp_path / "000000000000.seg").write_bytes(b'[1,["old"],[3]]\n')
    box = Outbox(tmp_path)
    assert box.take(10, 1000, 1000) is None


def test_the_signature_is_botocores_sigv4():
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials

    body = b'{"logGroupName":"/aws/sagemaker/TrainingJobs"}'
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Logs_20140328.CreateLogGroup"}
    for token in (None, "session-token"):
        environ = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"}
        if token:
            environ["AWS_SESSION_TOKEN"] = token
        ours = Signer(Credentials(environ), "eu-west-1").headers("logs", "127.0.0.1:4566", headers, body,
                                                                 now=1_700_000_000)
        request = AWSRequest("POST", "http://127.0.0.1:4566/", data=body, headers=dict(headers))
        # add_auth without its own clock: the steps it takes, at our request's time.
        request.context["timestamp"] = ours["X-Amz-Date"]
        auth = SigV4Auth(BotoCredentials("AKIDEXAMPLE", "secret", token), "logs", "eu-west-1")
        auth._modify_request_before_signing(request)
        signature = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
        assert ours["Authorization"].endswith(f"Signature={signature}")
        assert ours["Authorization"].startswith(
            f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/eu-west-1/logs/aws4_request, "
            f"SignedHeaders={auth.signed_headers(auth.headers_to_sign(request))}, ")


def test_the_put_log_events_body_is_what_orjson_makes_of_the_request():
    import orjson

    from sagewatch.agent.delivery import put_log_events_body
    from sagewatch.agent.spool import Batch

    tricky = ['a","b', '\\', '\\"', '","', 'ends with backslash \\', '"', ',', 'snow ☃ \U0001F600',
              '\x00\x1f control', 'tab\there', '{"json": [1, 2]}', 'x' * 1000, '" , "']
    batch = Batch(runs=[(1000, tricky), (1001, ["plain"]), (1002, list(reversed(tricky)))])
    body = put_log_events_body("/aws/sagemaker/TrainingJobs", "job/algo-1-1", batch)
    assert orjson.loads(body) == {
        "logGroupName": "/aws/sagemaker/TrainingJobs", "logStreamName": "job/algo-1-1",
        "logEvents": [{"timestamp": ms, "message": m} for ms, ms_messages in batch.runs for m in ms_messages],
    }

"""Channels, processing inputs and outputs: file:// on this machine, s3:// against a real S3
server (moto's, started here), and the FailureReasons when data is missing."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from sagewatch.jobs import contract, data
from sagewatch.store.jobs import JobRecord

from ..server import free_port


def training_job(request: dict, name: str = "train-1") -> JobRecord:
    request = {"TrainingJobName": name, "AlgorithmSpecification": {"TrainingImage": "img:1",
               "TrainingInputMode": "File"},
               "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
               **request}
    return JobRecord("TrainingJob", name, f"arn:aws:sagemaker:us-east-1:000000000000:training-job/{name}",
                     request, "InProgress", "Starting", [], 0.0, 0.0)


def processing_job(request: dict, name: str = "proc-1") -> JobRecord:
    request = {"ProcessingJobName": name, "AppSpecification": {"ImageUri": "img:1"},
               "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1,
                                                         "VolumeSizeInGB": 1}}, **request}
    return JobRecord("ProcessingJob", name, f"arn:aws:sagemaker:us-east-1:000000000000:processing-job/{name}",
                     request, "InProgress", None, [], 0.0, 0.0)


def layout_for(job, tmp_path: Path, host: str = "algo-1", hosts=("algo-1",)):
    return contract.build(job.kind, job, host, list(hosts), tmp_path / host / "ml")


def channel(name: str, uri: str, **source) -> dict:
    return {"ChannelName": name, "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri, **source}}}


def files_under(directory: Path) -> dict[str, str]:
    return {p.relative_to(directory).as_posix(): p.read_text() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_file_channels_land_in_their_directories(tmp_path):
    source = tmp_path / "dataset"
    (source / "sub").mkdir(parents=True)
    (source / "a.csv").write_text("1,2\n")
    (source / "sub" / "b.csv").write_text("3,4\n")
    single = tmp_path / "single.txt"
    single.write_text("one")
    job = training_job({"InputDataConfig": [channel("train", f"file://{source}"),
                                            channel("extra", f"file://{single}")]})
    layout = layout_for(job, tmp_path)
    data.fetch_inputs("TrainingJob", job.request, layout)
    assert files_under(layout.ml_root / "input/data/train") == {"a.csv": "1,2\n", "sub/b.csv": "3,4\n"}
    assert files_under(layout.ml_root / "input/data/extra") == {"single.txt": "one"}


def test_sharded_by_s3_key_splits_objects_between_instances(tmp_path):
    source = tmp_path / "shards"
    source.mkdir()
    for i in range(5):
        (source / f"part-{i}").write_text(str(i))
    job = training_job({"InputDataConfig": [channel("train", f"file://{source}",
                                                    S3DataDistributionType="ShardedByS3Key")],
                        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 2, "VolumeSizeInGB": 1}})
    seen = []
    for index, host in enumerate(["algo-1", "algo-2"]):
        layout = layout_for(job, tmp_path, host, ["algo-1", "algo-2"])
        data.fetch_inputs("TrainingJob", job.request, layout, instance_index=index, instance_count=2)
        seen.append(sorted(files_under(layout.ml_root / "input/data/train")))
    assert seen == [["part-0", "part-2", "part-4"], ["part-1", "part-3"]]


def test_a_missing_channel_fails_with_a_client_error(tmp_path):
    job = training_job({"InputDataConfig": [channel("train", f"file://{tmp_path}/nothing-here")]})
    with pytest.raises(data.DataError) as caught:
        data.fetch_inputs("TrainingJob", job.request, layout_for(job, tmp_path))
    assert str(caught.value).startswith("ClientError: Data download failed:")
    assert "nothing-here" in str(caught.value)


def test_pipe_mode_is_refused_with_a_reason(tmp_path):
    job = training_job({"InputDataConfig": [{**channel("train", f"file://{tmp_path}"), "InputMode": "Pipe"}]})
    with pytest.raises(data.DataError, match="Pipe input mode"):
        data.fetch_inputs("TrainingJob", job.request, layout_for(job, tmp_path))


def test_script_mode_code_is_unpacked_into_opt_ml_code(tmp_path):
    archive = tmp_path / "sourcedir.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        payload = b"print('hi')\n"
        info = tarfile.TarInfo("train.py")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    directory = tmp_path / "src"
    (directory / "pkg").mkdir(parents=True)
    (directory / "pkg" / "util.py").write_text("X = 1\n")
    for case, (uri, expected) in enumerate(((f"file://{archive}", {"train.py": "print('hi')\n"}),
                                            (f"file://{directory}", {"pkg/util.py": "X = 1\n"}))):
        job = training_job({"HyperParameters": {"sagemaker_program": '"train.py"',
                                                "sagemaker_submit_directory": json.dumps(uri)}})
        layout = layout_for(job, tmp_path / f"case-{case}")
        data.fetch_inputs("TrainingJob", job.request, layout)
        assert files_under(layout.code_dir) == expected


def test_model_and_output_data_are_archived_to_the_output_path(tmp_path):
    out = tmp_path / "out"
    job = training_job({"OutputDataConfig": {"S3OutputPath": f"file://{out}/"}}, name="my-job")
    roots = []
    for host in ("algo-1", "algo-2"):
        layout = layout_for(job, tmp_path, host, ["algo-1", "algo-2"])
        (layout.ml_root / "model" / "weights.txt").write_text(f"from {host}")
        roots.append(layout.ml_root)
    (roots[1] / "model" / "only-2.txt").write_text("two")
    (roots[0] / "output" / "data" / "report.txt").write_text("report")
    artifacts = data.upload_outputs("TrainingJob", job.request, roots)
    assert artifacts == f"file://{out}/my-job/output/model.tar.gz"
    with tarfile.open(out / "my-job/output/model.tar.gz") as tar:
        members = {m.name: tar.extractfile(m).read().decode() for m in tar.getmembers()}
    assert members == {"weights.txt": "from algo-1", "only-2.txt": "two"}
    with tarfile.open(out / "my-job/output/output.tar.gz") as tar:
        assert tar.getnames() == ["report.txt"]


def test_an_empty_model_still_uploads_and_empty_output_data_does_not(tmp_path):
    out = tmp_path / "out"
    job = training_job({"OutputDataConfig": {"S3OutputPath": f"file://{out}"}}, name="empty")
    layout = layout_for(job, tmp_path)
    assert data.upload_outputs("TrainingJob", job.request, [layout.ml_root]).endswith("/empty/output/model.tar.gz")
    assert sorted(p.name for p in (out / "empty/output").iterdir()) == ["model.tar.gz"]


def test_processing_inputs_and_outputs_round_trip_through_file_uris(tmp_path):
    code = tmp_path / "code" / "preprocess.py"
    code.parent.mkdir()
    code.write_text("print('processing')\n")
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "rows.csv").write_text("a,b\n")
    out = tmp_path / "results"
    job = processing_job({
        "ProcessingInputs": [
            {"InputName": "code", "S3Input": {"S3Uri": f"file://{code}", "LocalPath": "/opt/ml/processing/input/code",
                                              "S3DataType": "S3Prefix", "S3InputMode": "File"}},
            {"InputName": "raw", "S3Input": {"S3Uri": f"file://{raw}", "LocalPath": "/opt/ml/processing/input/raw",
                                             "S3DataType": "S3Prefix", "S3InputMode": "File"}}],
        "ProcessingOutputConfig": {"Outputs": [
            {"OutputName": "clean", "S3Output": {"S3Uri": f"file://{out}/clean", "LocalPath": "/opt/ml/processing/output",
                                                 "S3UploadMode": "EndOfJob"}}]}})
    layout = layout_for(job, tmp_path)
    data.fetch_inputs("ProcessingJob", job.request, layout)
    assert files_under(layout.ml_root / "processing/input") == {"code/preprocess.py": "print('processing')\n",
                                                                 "raw/rows.csv": "a,b\n"}
    (layout.ml_root / "processing/output/part").mkdir()
    (layout.ml_root / "processing/output/part/clean.csv").write_text("A,B\n")
    assert data.upload_outputs("ProcessingJob", job.request, [layout.ml_root]) is None
    assert files_under(out) == {"clean/part/clean.csv": "A,B\n"}


def test_a_missing_processing_input_fails_with_a_client_error(tmp_path):
    job = processing_job({"ProcessingInputs": [
        {"InputName": "x", "S3Input": {"S3Uri": f"file://{tmp_path}/absent", "LocalPath": "/opt/ml/processing/x",
                                       "S3DataType": "S3Prefix", "S3InputMode": "File"}}]})
    with pytest.raises(data.DataError) as caught:
        data.fetch_inputs("ProcessingJob", job.request, layout_for(job, tmp_path))
    assert str(caught.value).startswith("ClientError: Failed to download data. ")


# -- s3:// against a real S3 server ---------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_server():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    storage = data.Storage(endpoint_url=s3_server, region="us-east-1")
    storage.s3().create_bucket(Bucket="bucket")
    yield storage
    client = storage.s3()
    for item in client.list_objects_v2(Bucket="bucket").get("Contents", []):
        client.delete_object(Bucket="bucket", Key=item["Key"])
    client.delete_bucket(Bucket="bucket")


def test_s3_prefix_channels_and_model_upload(s3, tmp_path):
    client = s3.s3()
    client.put_object(Bucket="bucket", Key="data/train/a.csv", Body=b"1")
    client.put_object(Bucket="bucket", Key="data/train/deep/b.csv", Body=b"2")
    client.put_object(Bucket="bucket", Key="data/train/", Body=b"")          # a folder object
    client.put_object(Bucket="bucket", Key="data/valid.csv", Body=b"3")
    client.put_object(Bucket="bucket", Key="lists/all.manifest", Body=json.dumps(
        [{"prefix": "s3://bucket/data/"}, "train/a.csv", "valid.csv"]).encode())
    job = training_job({
        "InputDataConfig": [channel("train", "s3://bucket/data/train"),
                            channel("valid", "s3://bucket/data/valid.csv"),
                            channel("listed", "s3://bucket/lists/all.manifest", S3DataType="ManifestFile")],
        "OutputDataConfig": {"S3OutputPath": "s3://bucket/output"}}, name="s3-job")
    layout = layout_for(job, tmp_path)
    data.fetch_inputs("TrainingJob", job.request, layout, storage=s3)
    assert files_under(layout.ml_root / "input/data/train") == {"a.csv": "1", "deep/b.csv": "2"}
    assert files_under(layout.ml_root / "input/data/valid") == {"valid.csv": "3"}
    assert files_under(layout.ml_root / "input/data/listed") == {"train/a.csv": "1", "valid.csv": "3"}
    (layout.ml_root / "model/model.bin").write_bytes(b"weights")
    assert data.upload_outputs("TrainingJob", job.request, [layout.ml_root], storage=s3) == \
        "s3://bucket/output/s3-job/output/model.tar.gz"
    body = client.get_object(Bucket="bucket", Key="output/s3-job/output/model.tar.gz")["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        assert tar.extractfile("model.bin").read() == b"weights"


def test_an_empty_s3_prefix_fails_before_start(s3, tmp_path):
    job = training_job({"InputDataConfig": [channel("train", "s3://bucket/nothing/")]})
    with pytest.raises(data.DataError) as caught:
        data.fetch_inputs("TrainingJob", job.request, layout_for(job, tmp_path), storage=s3)
    assert str(caught.value).startswith("ClientError: Data download failed:")
    assert "s3://bucket/nothing/" in str(caught.value)


def test_s3_submit_directory_and_processing_outputs(s3, tmp_path):
    client = s3.s3()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        info = tarfile.TarInfo("train.py")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"#\n"))
    client.put_object(Bucket="bucket", Key="code/sourcedir.tar.gz", Body=archive.getvalue())
    job = training_job({"HyperParameters": {"sagemaker_program": '"train.py"',
                                            "sagemaker_submit_directory": '"s3://bucket/code/sourcedir.tar.gz"'}})
    layout = layout_for(job, tmp_path / "t")
    data.fetch_inputs("TrainingJob", job.request, layout, storage=s3)
    assert files_under(layout.code_dir) == {"train.py": "#\n"}

    proc = processing_job({"ProcessingOutputConfig": {"Outputs": [
        {"OutputName": "o", "S3Output": {"S3Uri": "s3://bucket/results", "LocalPath": "/opt/ml/processing/out",
                                         "S3UploadMode": "EndOfJob"}}]}})
    players = layout_for(proc, tmp_path / "p")
    (players.ml_root / "processing/out/x.txt").write_text("x")
    data.upload_outputs("ProcessingJob", proc.request, [players.ml_root], storage=s3)
    assert client.get_object(Bucket="bucket", Key="results/x.txt")["Body"].read() == b"x"

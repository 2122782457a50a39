"""Review of Step 4: nothing an input names may be written outside the job's tree.

An S3 key is any string (``data/../../x`` is a valid key) and a ManifestFile lists whatever paths
its author wrote (``../../x``, ``/abs/x``); joined onto the channel's directory unchecked, they
wrote files anywhere the server may write. Each such object now fails the download with a
ClientError, and nothing lands outside the tree."""

from __future__ import annotations

import json

import pytest

from sagewatch.jobs import data

from .test_jobs_data import channel, layout_for, s3, s3_server, training_job  # noqa: F401 (fixtures)


def _outside(tmp_path, job_tree):
    return {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and job_tree not in p.parents}


def test_a_relative_manifest_entry_cannot_climb_out_of_the_channel(tmp_path):
    # The manifest's prefix is deep enough that the climbing entry names a file that exists
    # (so the read succeeds), while the same entry joined onto the channel's directory
    # (<job>/algo-1/ml/input/data/train) lands in tmp_path, outside the job's tree.
    source = tmp_path / "src" / "a" / "b" / "c" / "d" / "e" / "prefix"
    source.mkdir(parents=True)
    (source / "ok.csv").write_text("ok")
    (tmp_path / "src" / "escaped.txt").write_text("payload")
    manifest = tmp_path / "all.manifest"
    manifest.write_text(json.dumps([{"prefix": f"file://{source}/"}, "ok.csv", "../../../../../../escaped.txt"]))
    job = training_job({"InputDataConfig": [channel("train", f"file://{manifest}", S3DataType="ManifestFile")]})
    job_tree = tmp_path / "job"
    layout = layout_for(job, job_tree)
    before = _outside(tmp_path, job_tree)
    with pytest.raises(data.DataError) as caught:
        data.fetch_inputs("TrainingJob", job.request, layout)
    assert str(caught.value).startswith("ClientError: Data download failed:")
    assert _outside(tmp_path, job_tree) == before
    assert not (tmp_path / "escaped.txt").exists()


def test_an_absolute_manifest_entry_stays_inside_the_channel(tmp_path):
    # "/<path>" is read from under the prefix (the prefix and the entry are joined), and was
    # written to /<path> itself: a join with an absolute path drops the directory.
    victim = tmp_path / "victim.txt"
    victim.write_text("original")
    source = tmp_path / "prefix"
    (source / victim.relative_to("/")).parent.mkdir(parents=True)
    (source / victim.relative_to("/")).write_text("overwritten")
    manifest = tmp_path / "all.manifest"
    manifest.write_text(json.dumps([{"prefix": f"file://{source}/"}, str(victim)]))
    job = training_job({"InputDataConfig": [channel("train", f"file://{manifest}", S3DataType="ManifestFile")]})
    layout = layout_for(job, tmp_path / "job")
    data.fetch_inputs("TrainingJob", job.request, layout)
    assert victim.read_text() == "original"
    assert (layout.ml_root / "input/data/train" / victim.relative_to("/")).read_text() == "overwritten"


def test_an_s3_key_that_climbs_out_of_its_prefix_is_refused(s3, tmp_path):  # noqa: F811
    client = s3.s3()
    client.put_object(Bucket="bucket", Key="data/train/a.csv", Body=b"1")
    client.put_object(Bucket="bucket", Key="data/train/../../../../../escaped.txt", Body=b"evil")
    keys = [o["Key"] for o in client.list_objects_v2(Bucket="bucket", Prefix="data/train/")["Contents"]]
    assert "data/train/../../../../../escaped.txt" in keys  # the S3 server kept the key as written
    job = training_job({"InputDataConfig": [channel("train", "s3://bucket/data/train/")]})
    layout = layout_for(job, tmp_path / "deep" / "er" / "job")
    with pytest.raises(data.DataError) as caught:
        data.fetch_inputs("TrainingJob", job.request, layout, storage=s3)
    assert str(caught.value).startswith("ClientError: Data download failed:")
    assert "escaped.txt" in str(caught.value)
    assert not list(tmp_path.rglob("escaped.txt"))

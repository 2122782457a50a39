"""The SQLite job store (store/sqlite/jobs.py) on a real database file."""

from __future__ import annotations

import pytest

from sagewatch.services.sagemaker.jobs import PROCESSING_JOB, TRAINING_JOB, begin_stopping, finish, new_job
from sagewatch.store import Conflict, Gone
from sagewatch.store.sqlite.database import Database
from sagewatch.store.sqlite.jobs import SQLiteJobStore
from sagewatch.store.sqlite.tags import SQLiteTagStore


@pytest.fixture
def database(tmp_path):
    database = Database(tmp_path / "db")
    yield database
    database.close()


def _job(name, kind=TRAINING_JOB, now=1.0):
    return new_job(kind, name, f"arn:{kind}/{name.lower()}", {"TrainingJobName": name, "When": 1.5}, now)


def test_create_get_and_tags_in_one_go(database):
    store = SQLiteJobStore(database)
    store.create(_job("Job-A"), {"k": "v"})
    job = store.get(TRAINING_JOB, "job-a")
    assert job == _job("Job-A")
    assert SQLiteTagStore(database).get_tags("arn:TrainingJob/job-a") == {"k": "v"}
    assert store.get(PROCESSING_JOB, "Job-A") is None


def test_names_are_unique_per_kind_regardless_of_case(database):
    store = SQLiteJobStore(database)
    store.create(_job("Job-A"), {})
    with pytest.raises(Conflict):
        store.create(_job("JOB-a"), {"k": "v"})
    assert SQLiteTagStore(database).get_tags("arn:TrainingJob/job-a") == {}  # nothing of it written
    store.create(_job("Job-A", PROCESSING_JOB), {})  # another kind


def test_update_is_read_modify_write_and_survives_a_reopen(database, tmp_path):
    store = SQLiteJobStore(database)
    store.create(_job("j"), {})
    updated = store.update(TRAINING_JOB, "J", lambda job: begin_stopping(job, 2.0))
    assert updated.status == "Stopping"
    with pytest.raises(RuntimeError):
        store.update(TRAINING_JOB, "j", lambda job: (finish(job, "Stopped", "Stopped", None, 3.0),
                                                     (_ for _ in ()).throw(RuntimeError("abandoned"))))
    assert store.get(TRAINING_JOB, "j").status == "Stopping"  # the failed change was rolled back
    with pytest.raises(Gone):
        store.update(TRAINING_JOB, "nobody", lambda job: None)
    reopened = SQLiteJobStore(Database(tmp_path / "db"))
    assert reopened.get(TRAINING_JOB, "j") == updated


def test_list_and_unfinished(database):
    store = SQLiteJobStore(database)
    for name in ("a", "b", "c"):
        store.create(_job(name), {})
    store.create(_job("p", PROCESSING_JOB), {})
    store.update(TRAINING_JOB, "b", lambda job: finish(job, "Completed", "Completed", None, 5.0))
    store.update(TRAINING_JOB, "c", lambda job: begin_stopping(job, 5.0))
    assert [job.name for job in store.list(TRAINING_JOB)] == ["a", "b", "c"]
    assert [job.name for job in store.unfinished()] == ["a", "c", "p"]


def test_final_metrics_keep_the_latest_value_of_each_metric(database):
    store = SQLiteJobStore(database)
    store.create(_job("j"), {})
    store.record_final_metrics(TRAINING_JOB, "j", {"loss": (0.5, 10.0), "acc": (0.7, 10.0)})
    store.record_final_metrics(TRAINING_JOB, "j", {"loss": (0.9, 9.0)})   # older: ignored
    store.record_final_metrics(TRAINING_JOB, "j", {"loss": (0.25, 11.0)})
    store.record_final_metrics(TRAINING_JOB, "gone", {"loss": (1.0, 1.0)})  # no such job: ignored
    assert store.get(TRAINING_JOB, "j").final_metrics == {"loss": (0.25, 11.0), "acc": (0.7, 10.0)}

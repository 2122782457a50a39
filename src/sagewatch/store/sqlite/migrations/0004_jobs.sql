-- Migration 4: SageMaker jobs (training, processing), one row per job.
-- A job's record (request, status, transitions, runtime state) is one JSON document; the columns
-- beside it are what listings filter and sort on. Names are unique per kind regardless of case
-- (name_key is the lower-cased name): SageMaker's ARN, the job's identity, lower-cases the name.
CREATE TABLE jobs (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    kind               TEXT NOT NULL,   -- TrainingJob | ProcessingJob
    name               TEXT NOT NULL,
    name_key           TEXT NOT NULL,
    status             TEXT NOT NULL,
    creation_time      REAL NOT NULL,
    last_modified_time REAL NOT NULL,
    record             TEXT NOT NULL,   -- JSON: the JobRecord
    UNIQUE (kind, name_key)
);
CREATE INDEX jobs_by_status ON jobs (status);

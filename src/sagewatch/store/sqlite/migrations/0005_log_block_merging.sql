-- Migration 5: small log blocks of a stream are merged into larger ones (store/log_blocks.py).
--
-- A merged block holds events ingested at different times, so it carries each event's ingestion
-- time as a fifth array (int64); NULL for a block one request wrote, whose events share the
-- block's ingestion_time.
ALTER TABLE log_blocks ADD COLUMN ingestion_times BLOB;

-- The merge duty's candidates, and only those: a partial index stays as small as the work left
-- to do, however large the table. SQLite uses it only for a query whose WHERE implies this
-- condition, so store/sqlite/logs.py (_SMALL_BLOCK) spells it the same way.
CREATE INDEX log_blocks_small ON log_blocks (stream_id, min_timestamp)
    WHERE event_count < 1000 AND stored_bytes < 131072;

-- The latest retention cutoff applied to a group. Retention deletes whole blocks; a block that
-- straddles the cutoff keeps its older events, hidden from reads by the policy in force. Merged
-- blocks span up to an hour, so when the policy changes (or is deleted) those events must not
-- come back: SQLiteLogStore.set_retention cuts the straddling blocks at this mark first.
ALTER TABLE log_groups ADD COLUMN expired_before INTEGER;

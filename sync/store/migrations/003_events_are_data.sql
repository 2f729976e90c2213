-- Events and alerts are data: the engine records the kind and its values (detail_json); the console and the
-- command line put them into words in the reader's language (sync.core.events). Rows written before keep their words.
ALTER TABLE events ALTER COLUMN message_nl DROP NOT NULL;
ALTER TABLE events ALTER COLUMN message_en DROP NOT NULL;
ALTER TABLE alerts ALTER COLUMN message_nl DROP NOT NULL;
ALTER TABLE alerts ALTER COLUMN message_en DROP NOT NULL;
ALTER TABLE alerts ADD COLUMN kind VARCHAR;
ALTER TABLE alerts ADD COLUMN detail_json VARCHAR;

-- A dry run is a preview, not a sync: kept apart from the runs, with what it found per invoice and payment.
CREATE TABLE previews (
    preview_id   VARCHAR PRIMARY KEY,
    identity_id  INTEGER NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ,
    outcome      VARCHAR NOT NULL,          -- running | ok | warnings | failed
    step         VARCHAR,
    progress     DOUBLE,
    actor        VARCHAR,
    result_json  VARCHAR                    -- sync.jobs.plan.Preview as data
);

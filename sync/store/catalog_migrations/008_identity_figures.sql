-- Per identity, the figures `/metrics` serves (sync/store/metrics.py): written with the account's health row after
-- each run, check and link change, so a scrape reads this one table instead of opening every account's file.
-- An account whose health was written before this table has no rows here until its next run or check.
CREATE TABLE identity_figures (
    account_key      VARCHAR NOT NULL,
    identity_id      BIGINT NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    last_success_at  TIMESTAMPTZ,             -- the last run (not a dry run) that ended ok or with warnings
    runs_ok          BIGINT NOT NULL DEFAULT 0,   -- runs (not dry runs) by how they ended, since the first
    runs_warnings    BIGINT NOT NULL DEFAULT 0,
    runs_failed      BIGINT NOT NULL DEFAULT 0,
    runs_refused     BIGINT NOT NULL DEFAULT 0,
    blocked          INTEGER NOT NULL DEFAULT 0,  -- invoices waiting for a person, by why
    refused          INTEGER NOT NULL DEFAULT 0,
    conflicts        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_key, identity_id)
);

-- The deployment's catalog: which accounts exist, where their databases are, and a health summary per account
-- (written after each run and check, so the support overview reads one small table, not every account's file).

CREATE TABLE catalog_meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

CREATE TABLE accounts (
    account_key     VARCHAR PRIMARY KEY,       -- short, lower-case: the name in URLs, the CLI and file names
    name            VARCHAR NOT NULL,
    gripp_token_enc VARCHAR,                   -- the Gripp API key, encrypted with the deployment's vault;
                                               -- NULL: the deployment's GRIPP_API_TOKEN (the account of old)
    key_hint        VARCHAR NOT NULL DEFAULT '',
    gripp_url       VARCHAR,                   -- NULL: the deployment's GRIPP_API_URL
    db_path         VARCHAR NOT NULL,          -- the account's own DuckDB file
    created_at      TIMESTAMPTZ NOT NULL,
    created_by      VARCHAR,
    removed_at      TIMESTAMPTZ,
    removed_by      VARCHAR
);

CREATE TABLE account_health (
    account_key   VARCHAR PRIMARY KEY,
    updated_at    TIMESTAMPTZ NOT NULL,
    identities    INTEGER NOT NULL DEFAULT 0,
    linked        INTEGER NOT NULL DEFAULT 0,
    broken_links  INTEGER NOT NULL DEFAULT 0,
    failed_runs   INTEGER NOT NULL DEFAULT 0,   -- linked identities whose last run failed
    overdue_runs  INTEGER NOT NULL DEFAULT 0,   -- scheduled identities without a run for two intervals
    blocked       INTEGER NOT NULL DEFAULT 0,
    refused       INTEGER NOT NULL DEFAULT 0,
    conflicts     INTEGER NOT NULL DEFAULT 0,
    open_alerts   INTEGER NOT NULL DEFAULT 0,
    last_run_at   TIMESTAMPTZ,
    last_outcome  VARCHAR,
    next_run_at   TIMESTAMPTZ,
    schedule_json VARCHAR                       -- [{identity_id, interval_minutes, paused}]: the scheduler's jobs
);

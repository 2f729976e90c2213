-- The last outcome of each setup check per identity (sync.jobs.checks), kept so that the account's health can say
-- a check fails without running it again (an unmapped VAT rate, a missing ledger: "In orde" only when they pass),
-- and the account's problems (sync.jobs.watch) can see a Gripp key or a subscription refused by a check.
CREATE TABLE check_results (
    identity_id INTEGER NOT NULL,
    check_key   VARCHAR NOT NULL,            -- CheckKey
    status      VARCHAR NOT NULL,            -- pass | warning | fail
    said_key    VARCHAR,                     -- the explanation's catalog key (which way it failed)
    checked_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (identity_id, check_key)
);

-- Who hears the link (sync/jobs/deliver.py): each account's notification targets, and the delivery of every
-- message to every target that hears it, with its attempts, so a target that fails is retried with backoff after
-- a restart too, and one that keeps failing shows. The deployment's own targets (SYNC_NOTIFY_URLS) are settings,
-- not rows; their deliveries and state are kept here all the same, under the same kind of key.

CREATE TABLE notify_targets (                -- an account's targets, set on Klanten by support
    target_key  VARCHAR PRIMARY KEY,         -- 'a-' + a keyed fingerprint of account and address (Vault.fingerprint)
    account_key VARCHAR NOT NULL,
    url_enc     VARCHAR NOT NULL,            -- the Apprise URL, encrypted with the deployment's vault (it holds secrets)
    hint        VARCHAR NOT NULL,            -- how it is shown: scheme and host (sync.core.targets.hint)
    lang        VARCHAR NOT NULL DEFAULT 'nl',
    created_at  TIMESTAMPTZ NOT NULL,
    created_by  VARCHAR
);

CREATE TABLE notify_target_state (           -- how delivery to a target goes (every target, the deployment's too)
    target_key      VARCHAR PRIMARY KEY,
    account_key     VARCHAR,                 -- NULL: a deployment target (SYNC_NOTIFY_URLS)
    hint            VARCHAR NOT NULL,
    failures_in_row INTEGER NOT NULL DEFAULT 0,
    last_error      VARCHAR,                 -- refused | timeout | invalid | error
    last_attempt_at TIMESTAMPTZ,
    last_ok_at      TIMESTAMPTZ
);

CREATE TABLE message_plans (                 -- a message whose deliveries were made (to the targets there were then)
    message_id BIGINT PRIMARY KEY,
    planned_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE deliveries (                    -- one message to one target
    message_id      BIGINT NOT NULL,
    target_key      VARCHAR NOT NULL,
    account_key     VARCHAR,                 -- the target's account; NULL: a deployment target
    state           VARCHAR NOT NULL,        -- due | sent | gave_up | dropped (its target was taken away)
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ,
    last_error      VARCHAR,
    sent_at         TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (message_id, target_key)
);

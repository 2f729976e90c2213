-- What the link tells people without being looked at (sync/core/notices.py): the deployment's ledger of problems
-- and the messages waiting to be delivered. Kept in the catalog, beside the accounts, so a problem is announced
-- once per deployment whichever process finds it, and survives a restart.

CREATE SEQUENCE notice_seq START 1;
CREATE TABLE notices (                       -- one problem, from when it was found until it was over
    notice_id    BIGINT PRIMARY KEY DEFAULT nextval('notice_seq'),
    account_key  VARCHAR NOT NULL,
    identity_id  BIGINT,                     -- NULL: the account as a whole (its Gripp key)
    kind         VARCHAR NOT NULL,           -- NoticeKind
    subject      VARCHAR NOT NULL DEFAULT '',-- what tells two problems of one kind on one identity apart
    values_json  VARCHAR NOT NULL DEFAULT '{}',
    started_at   TIMESTAMPTZ NOT NULL,
    ended_at     TIMESTAMPTZ                 -- NULL: still open
);

CREATE SEQUENCE message_seq START 1;
CREATE TABLE messages (                      -- what is to be said, once, to every target that hears its account
    message_id   BIGINT PRIMARY KEY DEFAULT nextval('message_seq'),
    account_key  VARCHAR,                    -- NULL: the deployment as a whole (the support team's digest)
    notice_id    BIGINT,                     -- the problem it is about; NULL for a digest or a test
    said         VARCHAR NOT NULL,           -- Said
    values_json  VARCHAR NOT NULL DEFAULT '{}',
    target_key   VARCHAR,                    -- only this target (a test, one target's digest); NULL: every target
    created_at   TIMESTAMPTZ NOT NULL
);

-- Which identity of which account links which SnelStart administration: the one place that spans the accounts
-- (each keeps its links in its own file), so that linking an administration another account already links is
-- refused, and a link support confirmed beside another shows a warning on both sides. The account's own file
-- stays the truth: its rows here are written again whenever the file is opened (`Catalog.know_links`).
CREATE TABLE administration_links (
    account_key         VARCHAR NOT NULL,
    identity_id         BIGINT NOT NULL,
    identity_name       VARCHAR,
    administration_id   VARCHAR NOT NULL,
    administration_name VARCHAR,
    confirmed_by        VARCHAR,               -- support's name when linked on purpose beside another link
    confirmed_at        TIMESTAMPTZ,
    PRIMARY KEY (account_key, identity_id)
);

-- The accounts whose links are known here. A deployment from before this table learns each account's links the
-- first time it opens the catalog (an SQL migration cannot read the accounts' own files).
CREATE TABLE administration_links_known (
    account_key VARCHAR PRIMARY KEY,
    known_at    TIMESTAMPTZ NOT NULL
);

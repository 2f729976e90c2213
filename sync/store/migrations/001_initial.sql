-- The cache of both sides, the link configuration, the outbox of bookings, applied payments, runs and events.
-- No foreign keys: cache tables are upserted in bulk and DuckDB's FK checks would fight that.

CREATE TABLE identities (
    identity_id   INTEGER PRIMARY KEY,
    name          VARCHAR NOT NULL,
    source        VARCHAR NOT NULL,          -- discovered (from invoice/company rows) or manual
    discovered_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE links (
    identity_id         INTEGER PRIMARY KEY,
    administration_id   VARCHAR NOT NULL,
    administration_name VARCHAR NOT NULL,
    koppelsleutel_enc   VARCHAR NOT NULL,    -- encrypted at rest (sync.core.vault)
    key_hint            VARCHAR NOT NULL,    -- "…ab12"
    start_date          DATE,
    interval_minutes    INTEGER NOT NULL DEFAULT 20,
    paused              BOOLEAN NOT NULL DEFAULT FALSE,
    linked_at           TIMESTAMPTZ NOT NULL,
    linked_by           VARCHAR NOT NULL,
    health              VARCHAR NOT NULL DEFAULT 'unknown',   -- ok | broken | unknown
    health_detail       VARCHAR,
    health_checked_at   TIMESTAMPTZ
);

CREATE TABLE link_requests (
    reference_key VARCHAR PRIMARY KEY,
    identity_id   INTEGER NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    used_at       TIMESTAMPTZ,
    created_by    VARCHAR NOT NULL,
    outcome       VARCHAR
);

CREATE TABLE vat_mappings (
    identity_id  INTEGER NOT NULL,
    gripp_vat_id INTEGER NOT NULL,
    gripp_label  VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL,           -- Hoog | Laag | Overig | Geen | Verlegd
    percentage   DECIMAL(5, 2) NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    updated_by   VARCHAR NOT NULL,
    PRIMARY KEY (identity_id, gripp_vat_id)
);

CREATE TABLE ledger_mappings (
    identity_id      INTEGER NOT NULL,
    gripp_ledger_id  INTEGER NOT NULL,
    gripp_label      VARCHAR NOT NULL,
    snelstart_number VARCHAR NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    updated_by       VARCHAR NOT NULL,
    PRIMARY KEY (identity_id, gripp_ledger_id)
);

-- Gripp cache ------------------------------------------------------------------------------------------
CREATE TABLE gripp_invoices (
    invoice_id     INTEGER PRIMARY KEY,
    identity_id    INTEGER,
    number         VARCHAR NOT NULL,
    company_id     INTEGER,
    company_name   VARCHAR,
    invoice_date   DATE,
    due_date       DATE,
    status         VARCHAR,
    subject        VARCHAR,
    total_incl_vat DECIMAL(18, 2),
    total_excl_vat DECIMAL(18, 2),
    total_open     DECIMAL(18, 2),
    total_paid     DECIMAL(18, 2),
    createdon      TIMESTAMPTZ,
    updatedon      TIMESTAMPTZ,
    directpdfurl   VARCHAR,
    lines_json     VARCHAR,                  -- the invoice lines, as parsed (Decimal as strings)
    payments_json  VARCHAR,                  -- the Gripp payments with their markers
    fetched_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX gripp_invoices_identity ON gripp_invoices (identity_id, number);

CREATE TABLE gripp_companies (
    company_id     INTEGER PRIMARY KEY,
    identity_id    INTEGER,
    customernumber INTEGER,
    name           VARCHAR,
    relationtype   VARCHAR,
    vatnumber      VARCHAR,
    cocnumber      VARCHAR,
    email          VARCHAR,
    street         VARCHAR,
    zipcode        VARCHAR,
    city           VARCHAR,
    country        VARCHAR,
    vatshifted     BOOLEAN,
    fetched_at     TIMESTAMPTZ NOT NULL
);

-- SnelStart cache, per administration -------------------------------------------------------------------
CREATE TABLE ss_open_items (
    administration_id VARCHAR NOT NULL,
    verkoopfactuur_id VARCHAR NOT NULL,
    booking_id        VARCHAR,
    factuurnummer     VARCHAR NOT NULL,
    relatie_id        VARCHAR,
    factuur_datum     DATE,
    verval_datum      DATE,
    factuur_bedrag    DECIMAL(18, 2),
    openstaand_saldo  DECIMAL(18, 2),
    modified_on       TIMESTAMP,
    fetched_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (administration_id, verkoopfactuur_id)
);
CREATE INDEX ss_open_items_number ON ss_open_items (administration_id, factuurnummer);

CREATE TABLE ss_ledgers (
    administration_id VARCHAR NOT NULL,
    ledger_id         VARCHAR NOT NULL,
    number            INTEGER NOT NULL,
    description       VARCHAR,
    active            BOOLEAN NOT NULL,
    function          VARCHAR,
    accepts           VARCHAR NOT NULL,      -- comma-separated btwSoort list
    balance_sheet     BOOLEAN NOT NULL,
    PRIMARY KEY (administration_id, ledger_id)
);

CREATE TABLE ss_vat_rates (
    administration_id VARCHAR NOT NULL,
    kind              VARCHAR NOT NULL,
    percentage        DECIMAL(5, 2) NOT NULL,
    valid_from        DATE NOT NULL,
    valid_to          DATE NOT NULL
);

CREATE TABLE ss_relaties (
    administration_id VARCHAR NOT NULL,
    relatie_id        VARCHAR NOT NULL,
    relatiecode       INTEGER,
    name              VARCHAR,
    kinds             VARCHAR,               -- comma-separated relatiesoort
    vat_number        VARCHAR,
    kvk_number        VARCHAR,
    PRIMARY KEY (administration_id, relatie_id)
);

CREATE TABLE ss_bank_lines (
    administration_id VARCHAR NOT NULL,
    bank_booking_id   VARCHAR NOT NULL,
    booking_id        VARCHAR NOT NULL,
    line_no           INTEGER NOT NULL,
    datum             DATE,
    amount            DECIMAL(18, 2) NOT NULL, -- credit - debet: money received against the booking
    PRIMARY KEY (administration_id, bank_booking_id, booking_id, line_no)
);

-- The link's own state ----------------------------------------------------------------------------------
CREATE TABLE relatie_matches (
    identity_id INTEGER NOT NULL,
    company_id  INTEGER NOT NULL,
    relatie_id  VARCHAR NOT NULL,
    matched_on  VARCHAR NOT NULL,            -- relatiecode | btwnummer | kvknummer | created
    matched_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (identity_id, company_id)
);

-- The outbox: one row per Gripp invoice that should reach SnelStart. State moves forward only:
-- pending -> posting -> booked -> done, or blocked / failed (retried next run), pdf_pending (booked, PDF retried).
CREATE TABLE bookings (
    identity_id     INTEGER NOT NULL,
    invoice_id      INTEGER NOT NULL,
    number          VARCHAR NOT NULL,
    state           VARCHAR NOT NULL,
    booking_id      VARCHAR,
    relatie_id      VARCHAR,
    fingerprint     VARCHAR,
    amount          DECIMAL(18, 2),
    reasons_json    VARCHAR,                 -- blocking problems (codes + texts)
    last_error      VARCHAR,
    error_kind      VARCHAR,                 -- config | transient
    attempts        INTEGER NOT NULL DEFAULT 0,
    adopted         BOOLEAN NOT NULL DEFAULT FALSE,
    changed_in_gripp BOOLEAN NOT NULL DEFAULT FALSE,
    document_id     VARCHAR,
    updated_at      TIMESTAMPTZ NOT NULL,
    booked_at       TIMESTAMPTZ,
    PRIMARY KEY (identity_id, invoice_id)
);

-- Payments registered in Gripp. The marker is also written on the Gripp payment, so a crash between the
-- Gripp call and this table is settled by reading Gripp back.
CREATE TABLE payments_applied (
    marker      VARCHAR PRIMARY KEY,
    identity_id INTEGER NOT NULL,
    invoice_id  INTEGER NOT NULL,
    booking_id  VARCHAR NOT NULL,
    amount      DECIMAL(18, 2) NOT NULL,
    pay_date    DATE NOT NULL,
    state       VARCHAR NOT NULL,            -- sending | done
    gripp_payment_id INTEGER,
    created_at  TIMESTAMPTZ NOT NULL,
    applied_at  TIMESTAMPTZ
);

CREATE TABLE sync_state (
    scope VARCHAR NOT NULL,                  -- "gripp" or an identity / administration id
    key   VARCHAR NOT NULL,
    value VARCHAR,
    PRIMARY KEY (scope, key)
);

CREATE TABLE runs (
    run_id      VARCHAR PRIMARY KEY,
    identity_id INTEGER,
    trigger     VARCHAR NOT NULL,            -- schedule | manual | cli
    dry_run     BOOLEAN NOT NULL DEFAULT FALSE,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    outcome     VARCHAR NOT NULL,            -- running | ok | warnings | failed
    step        VARCHAR,
    progress    DOUBLE,
    counts_json VARCHAR,
    message     VARCHAR,
    actor       VARCHAR
);

CREATE SEQUENCE event_seq START 1;
CREATE TABLE events (
    event_id       BIGINT PRIMARY KEY DEFAULT nextval('event_seq'),
    occurred_at    TIMESTAMPTZ NOT NULL,
    run_id         VARCHAR,
    identity_id    INTEGER,
    level          VARCHAR NOT NULL,         -- info | warning | error
    kind           VARCHAR NOT NULL,         -- booked, adopted, blocked, payment, error, link, mapping, ...
    invoice_id     INTEGER,
    invoice_number VARCHAR,
    message_nl     VARCHAR NOT NULL,
    message_en     VARCHAR NOT NULL,
    detail_json    VARCHAR,
    actor          VARCHAR
);

CREATE SEQUENCE alert_seq START 1;
CREATE TABLE alerts (
    alert_id        BIGINT PRIMARY KEY DEFAULT nextval('alert_seq'),
    identity_id     INTEGER,
    run_id          VARCHAR,
    raised_at       TIMESTAMPTZ NOT NULL,
    message_nl      VARCHAR NOT NULL,
    message_en      VARCHAR NOT NULL,
    acknowledged_at TIMESTAMPTZ,
    acknowledged_by VARCHAR
);

CREATE TABLE secrets (
    name       VARCHAR PRIMARY KEY,
    value_enc  VARCHAR NOT NULL,
    hint       VARCHAR NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- Kostenplaatsen (cost centres): where a booking line's kostenplaats comes from per identity, the mapping of Gripp's
-- kostenplaatsen to SnelStart's, both sides' kostenplaatsen and Gripp's projects as cached, whether a grootboek
-- demands one, and the kostenplaatsen the link creates for projects (written before the POST: exactly once).

-- line (Gripp's kostenplaats on the line) | project (the line's project) | none. NULL: line, the default, so every
-- link made before keeps booking what Gripp says.
ALTER TABLE links ADD COLUMN kostenplaats_source VARCHAR;

CREATE TABLE kostenplaats_mappings (
    identity_id          INTEGER NOT NULL,
    gripp_costheading_id INTEGER NOT NULL,
    gripp_label          VARCHAR NOT NULL,
    snelstart_number     VARCHAR NOT NULL,   -- SnelStart's kostenplaats `nummer`, as typed
    updated_at           TIMESTAMPTZ NOT NULL,
    updated_by           VARCHAR NOT NULL,
    PRIMARY KEY (identity_id, gripp_costheading_id)
);

-- Gripp's `costheading` (Instellingen > Kostenplaatsen): account-wide, like its ledgers.
CREATE TABLE gripp_costheadings (
    costheading_id INTEGER PRIMARY KEY,
    name           VARCHAR NOT NULL,
    number         VARCHAR NOT NULL,         -- Gripp types it as a string
    fetched_at     TIMESTAMPTZ NOT NULL
);

-- Gripp's projects that invoice lines name (for a kostenplaats per project).
CREATE TABLE gripp_projects (
    project_id INTEGER PRIMARY KEY,
    name       VARCHAR NOT NULL,
    number     INTEGER,
    fetched_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE ss_kostenplaatsen (
    administration_id VARCHAR NOT NULL,
    kostenplaats_id   VARCHAR NOT NULL,
    number            INTEGER NOT NULL,
    description       VARCHAR,
    active            BOOLEAN NOT NULL,
    PRIMARY KEY (administration_id, kostenplaats_id)
);

ALTER TABLE ss_ledgers ADD COLUMN kostenplaats_required BOOLEAN DEFAULT FALSE;

-- A project's kostenplaats: `creating` is written before the POST, `created` with SnelStart's id after it. A row
-- still `creating` means the answer may have been lost: it is looked up by number before anything is posted again.
CREATE TABLE project_kostenplaatsen (
    administration_id VARCHAR NOT NULL,
    project_id        INTEGER NOT NULL,
    number            INTEGER NOT NULL,
    state             VARCHAR NOT NULL,      -- creating | created
    kostenplaats_id   VARCHAR,
    updated_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (administration_id, project_id)
);

-- What this database holds: 'sandbox' (the built-in simulators' demo data) or 'real' (Gripp and SnelStart).
-- Written once, by the first process that uses the file; a process in the other mode refuses the file.
CREATE TABLE store_meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

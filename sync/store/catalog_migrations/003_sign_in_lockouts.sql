-- Sign-in throttling and lockouts (sync/auth/lockout.py), kept in the catalog so that a restart of the console
-- forgets no lockout. A key is a keyed hash of the user name or the client address (never the text as typed: a
-- name field may hold a password typed in the wrong place). Times are seconds since the epoch, the guard's clock.
CREATE TABLE sign_in_lockouts (
    kind          VARCHAR NOT NULL,            -- user | client
    key_hash      VARCHAR NOT NULL,
    failures_json VARCHAR NOT NULL,            -- [seconds, …]: the failures still within the window
    locked_until  FLOAT8 NOT NULL DEFAULT 0,
    touched_at    FLOAT8 NOT NULL,
    PRIMARY KEY (kind, key_hash)
);

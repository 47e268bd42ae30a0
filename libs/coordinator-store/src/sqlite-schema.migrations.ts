/**
 * Schema of the SQLite coordinator store. Entry i upgrades a database from `PRAGMA user_version`
 * i to i + 1; entries are append-only once released (edit a shipped one and old files diverge).
 * Tables are STRICT so a wrong type is an error rather than silently stored.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  // 1: initial schema.
  `
  CREATE TABLE nodes (
    id                    TEXT PRIMARY KEY,
    name                  TEXT NOT NULL,
    signing_public_key    TEXT NOT NULL UNIQUE,
    encryption_public_key TEXT,
    status                TEXT NOT NULL CHECK (status IN ('enrolled', 'revoked')),
    enrolled_at           INTEGER NOT NULL,
    last_seen_at          INTEGER
  ) STRICT;

  -- used_by_node_id has no foreign key: the token is consumed before the node row exists.
  CREATE TABLE enrolment_tokens (
    token_hash      TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    used_at         INTEGER,
    used_by_node_id TEXT
  ) STRICT;

  CREATE TABLE studies (
    id                   TEXT PRIMARY KEY,
    spec                 TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('created', 'running', 'completed', 'failed', 'stopped')),
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    current_round        INTEGER NOT NULL,
    latest_model_version INTEGER,
    failure_reason       TEXT
  ) STRICT;

  CREATE TABLE rounds (
    study_id          TEXT NOT NULL REFERENCES studies (id),
    round             INTEGER NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('train', 'evaluate')),
    state             TEXT NOT NULL CHECK (state IN ('collecting', 'aggregating', 'completed', 'failed')),
    model_version_in  INTEGER NOT NULL,
    model_version_out INTEGER,
    participants      TEXT NOT NULL,
    started_at        INTEGER NOT NULL,
    deadline_at       INTEGER NOT NULL,
    closed_at         INTEGER,
    failure_reason    TEXT,
    metrics           TEXT,
    PRIMARY KEY (study_id, round, kind)
  ) STRICT;

  -- seq keeps insertion order for contributions received in the same millisecond.
  CREATE TABLE contributions (
    seq           INTEGER PRIMARY KEY,
    study_id      TEXT NOT NULL,
    round         INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    node_id       TEXT NOT NULL REFERENCES nodes (id),
    received_at   INTEGER NOT NULL,
    frame_bytes   INTEGER NOT NULL,
    frame_sha256  TEXT NOT NULL,
    num_examples  INTEGER NOT NULL,
    payload       BLOB,
    metrics       TEXT NOT NULL,
    UNIQUE (study_id, round, kind, node_id),
    FOREIGN KEY (study_id, round, kind) REFERENCES rounds (study_id, round, kind)
  ) STRICT;
  CREATE INDEX contributions_node ON contributions (node_id);

  -- No foreign key to rounds: version 0 is the initial model, produced by no round.
  CREATE TABLE model_versions (
    study_id   TEXT NOT NULL REFERENCES studies (id),
    version    INTEGER NOT NULL,
    round      INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    weights    BLOB NOT NULL,
    metrics    TEXT,
    PRIMARY KEY (study_id, version)
  ) STRICT;

  -- No foreign keys: events also record messages from unknown senders and about unknown studies.
  CREATE TABLE site_events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,
    node_id  TEXT,
    kind     TEXT NOT NULL,
    study_id TEXT,
    round    INTEGER,
    detail   TEXT NOT NULL
  ) STRICT;
  CREATE INDEX site_events_at ON site_events (at, id);
  CREATE INDEX site_events_node ON site_events (node_id, at, id);
  CREATE INDEX site_events_study ON site_events (study_id, at, id);
  `,
  // 2: the aggregation strategy's server state (Adam moments, SCAFFOLD's control variate) per model version.
  `
  ALTER TABLE model_versions ADD COLUMN strategy_state BLOB;
  `,
  // 3: how many times a round was dispatched (retries after closing below minSites).
  `
  ALTER TABLE rounds ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1;
  `,
];

/** `PRAGMA application_id` of a medfed coordinator database: ASCII "MFED". */
export const SQLITE_APPLICATION_ID = 0x4d464544;

// The run store's tables. Versioned with PRAGMA user_version so a newer lft can migrate an older
// file and an older lft refuses a newer one instead of misreading it.
export const SCHEMA_VERSION = 1;

export const RUN_STATUSES = ["running", "completed", "failed", "interrupted", "crashed"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  recipe TEXT,
  config_hash TEXT,
  git_revision TEXT,
  status TEXT NOT NULL CHECK (status IN (${RUN_STATUSES.map((s) => `'${s}'`).join(", ")})),
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  step INTEGER NOT NULL DEFAULT 0 CHECK (step >= 0),
  total_steps INTEGER,
  pid INTEGER,
  host TEXT,
  proc_start TEXT,
  error TEXT
);
CREATE TABLE IF NOT EXISTS params (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS metrics (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  step INTEGER NOT NULL CHECK (step >= 0),
  value REAL NOT NULL,
  PRIMARY KEY (run_id, name, step)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS artifacts (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER,
  kind TEXT NOT NULL,
  path TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  message TEXT NOT NULL,
  data TEXT
);
CREATE INDEX IF NOT EXISTS runs_started ON runs(started_at);
CREATE INDEX IF NOT EXISTS artifacts_run ON artifacts(run_id);
CREATE INDEX IF NOT EXISTS events_run ON events(run_id, at);
`;

// The run store: one bun:sqlite file in WAL mode (readers such as the board never block the writer).
// Every write is one transaction, and inputs are checked before they reach SQL, so bad input is
// refused with a message and never half-written. Opening the store marks runs whose process died
// without recording an end (SIGKILL, power loss) as "crashed" instead of leaving them "running".
// Many runs may share one store: writes take the write lock up front (BEGIN IMMEDIATE, so the busy
// timeout applies) and are retried while another process holds it (busy.ts).
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { retryWhileBusy } from "./busy.ts";
import { type ProcessId, processAlive, thisProcess } from "./liveness.ts";
import { RUN_STATUSES, type RunStatus, SCHEMA, SCHEMA_VERSION } from "./schema.ts";

export class StoreError extends Error {
  override readonly name = "StoreError";
}

export interface RunRecord {
  readonly id: string;
  readonly name: string;
  readonly recipe: string | null;
  readonly configHash: string | null;
  readonly gitRevision: string | null;
  readonly status: RunStatus;
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly step: number;
  readonly totalSteps: number | null;
  readonly pid: number | null;
  readonly host: string | null;
  readonly error: string | null;
}

export interface NewRun {
  readonly id: string;
  readonly name?: string;
  /** The recipe's text, stored as is. */
  readonly recipe?: string;
  /** Resolved settings: flattened into params and hashed (config_hash) unless configHash is given. */
  readonly config?: Readonly<Record<string, unknown>>;
  readonly configHash?: string;
  readonly gitRevision?: string;
  readonly totalSteps?: number;
  readonly startedAt?: number;
  /** Continuing an existing run: metrics after this step (recorded by the killed process) are dropped. */
  readonly resumedFromStep?: number;
}

export interface MetricPoint {
  readonly step: number;
  readonly value: number;
}

export interface EventRecord {
  readonly at: number;
  readonly kind: string;
  readonly message: string;
  readonly data: unknown;
}

export interface ArtifactRecord {
  readonly step: number | null;
  readonly kind: string;
  readonly path: string;
  readonly createdAt: number;
}

interface RunRow {
  id: string;
  name: string;
  recipe: string | null;
  config_hash: string | null;
  git_revision: string | null;
  status: RunStatus;
  started_at: number;
  ended_at: number | null;
  step: number;
  total_steps: number | null;
  pid: number | null;
  host: string | null;
  proc_start: string | null;
  error: string | null;
}

function toRecord(r: RunRow): RunRecord {
  return {
    id: r.id,
    name: r.name,
    recipe: r.recipe,
    configHash: r.config_hash,
    gitRevision: r.git_revision,
    status: r.status,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    step: r.step,
    totalSteps: r.total_steps,
    pid: r.pid,
    host: r.host,
    error: r.error,
  };
}

/** Canonical JSON (sorted keys), so equal settings hash equally whatever their order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v ?? null);
}

export function configHash(config: unknown): string {
  return new Bun.CryptoHasher("sha256").update(canonicalJson(config)).digest("hex").slice(0, 16);
}

/** {a: {b: 1}} → [["a.b", "1"]]; leaves are JSON text. */
export function flattenParams(config: Readonly<Record<string, unknown>>, prefix = ""): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(config)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === "object" && !Array.isArray(v)) out.push(...flattenParams(v as Record<string, unknown>, key));
    else out.push([key, typeof v === "string" ? v : canonicalJson(v)]);
  }
  return out;
}

const isId = (s: unknown): s is string => typeof s === "string" && s.length > 0 && s.length <= 200 && s.trim() === s;
const isStep = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

export class RunStore {
  private constructor(
    private readonly db: Database,
    readonly path: string,
    private readonly me: ProcessId,
  ) {}

  static open(path: string): Result<RunStore, StoreError> {
    let db: Database | undefined;
    try {
      if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
      const opened = new Database(path, { create: true, strict: true });
      db = opened;
      opened.exec("PRAGMA busy_timeout = 5000");
      // Switching to WAL needs a moment alone with the file; another process opening it at the same
      // time makes this fail at once (no busy handler), so it is retried.
      if (path !== ":memory:") retryWhileBusy(() => opened.exec("PRAGMA journal_mode = WAL"));
      opened.exec("PRAGMA synchronous = NORMAL");
      opened.exec("PRAGMA foreign_keys = ON");
      const userVersion = (): number => (opened.query("PRAGMA user_version").get() as { user_version: number }).user_version;
      const version = retryWhileBusy(userVersion);
      if (version > SCHEMA_VERSION) {
        opened.close();
        return err(
          new StoreError(
            `${path}: the run store has schema version ${version}, newer than this lft's ${SCHEMA_VERSION}; upgrade lft or use another store file`,
          ),
        );
      }
      // Creating the schema is idempotent and takes the write lock first, so processes opening a new
      // store together wait for each other instead of failing.
      if (version < SCHEMA_VERSION)
        retryWhileBusy(() =>
          opened
            .transaction(() => {
              if (userVersion() >= SCHEMA_VERSION) return;
              opened.exec(SCHEMA);
              opened.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
            })
            .immediate(),
        );
      const store = new RunStore(db, path, thisProcess());
      store.markDeadRuns();
      return ok(store);
    } catch (e) {
      db?.close();
      return err(new StoreError(`${path}: cannot open the run store: ${(e as Error).message}`));
    }
  }

  private write(what: string, fn: () => void): Result<void, StoreError> {
    try {
      // IMMEDIATE: take the write lock before reading, so the busy timeout applies; a deferred
      // transaction upgrading from read to write would fail at once when another run is writing.
      retryWhileBusy(() => this.db.transaction(fn).immediate());
      return ok(undefined);
    } catch (e) {
      return err(new StoreError(`run store (${this.path}): ${what}: ${(e as Error).message}`));
    }
  }

  private exists(id: string): boolean {
    return this.db.query("SELECT 1 FROM runs WHERE id = ?").get(id) !== null;
  }

  /** Runs left "running" by a process that is gone become "crashed"; returns their ids. */
  markDeadRuns(now = Date.now()): string[] {
    const rows = retryWhileBusy(() => this.db.query("SELECT * FROM runs WHERE status = 'running'").all() as RunRow[]);
    const dead = rows.filter((r) => processAlive({ pid: r.pid, host: r.host, start: r.proc_start }) === false);
    if (dead.length === 0) return [];
    this.write("marking crashed runs", () => {
      for (const r of dead) {
        const msg = `process ${r.pid} on ${r.host} ended without recording an end (killed or crashed) after step ${r.step}`;
        this.db.query("UPDATE runs SET status = 'crashed', ended_at = ?, error = ? WHERE id = ? AND status = 'running'").run(now, msg, r.id);
        this.db.query("INSERT INTO events (run_id, at, kind, message) VALUES (?, ?, 'crashed', ?)").run(r.id, now, msg);
      }
    });
    return dead.map((r) => r.id);
  }

  /** Records a run as started by this process (or, resuming, running again). */
  startRun(r: NewRun): Result<void, StoreError> {
    if (!isId(r.id))
      return err(new StoreError(`run id must be a non-empty string without surrounding spaces (at most 200 characters), found ${JSON.stringify(r.id)}`));
    if (r.totalSteps !== undefined && !isStep(r.totalSteps))
      return err(new StoreError(`run ${r.id}: totalSteps must be an integer >= 0, found ${r.totalSteps}`));
    if (r.resumedFromStep !== undefined && !isStep(r.resumedFromStep))
      return err(new StoreError(`run ${r.id}: resumedFromStep must be an integer >= 0, found ${r.resumedFromStep}`));
    const at = r.startedAt ?? Date.now();
    const hash = r.configHash ?? (r.config ? configHash(r.config) : r.recipe !== undefined ? configHash(r.recipe) : null);
    return this.write(`starting run ${r.id}`, () => {
      if (this.exists(r.id)) {
        const step = r.resumedFromStep ?? 0;
        this.db
          .query(
            "UPDATE runs SET status = 'running', ended_at = NULL, error = NULL, step = ?, pid = ?, host = ?, proc_start = ?, total_steps = COALESCE(?, total_steps) WHERE id = ?",
          )
          .run(step, this.me.pid, this.me.host, this.me.start, r.totalSteps ?? null, r.id);
        this.db.query("DELETE FROM metrics WHERE run_id = ? AND step > ?").run(r.id, step);
        this.db
          .query("INSERT INTO events (run_id, at, kind, message) VALUES (?, ?, 'resumed', ?)")
          .run(r.id, at, `resumed after step ${step} by process ${this.me.pid}`);
      } else {
        this.db
          .query(
            "INSERT INTO runs (id, name, recipe, config_hash, git_revision, status, started_at, step, total_steps, pid, host, proc_start) VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)",
          )
          .run(
            r.id,
            r.name ?? r.id,
            r.recipe ?? null,
            hash,
            r.gitRevision ?? null,
            at,
            r.resumedFromStep ?? 0,
            r.totalSteps ?? null,
            this.me.pid,
            this.me.host,
            this.me.start,
          );
        for (const [k, v] of r.config ? flattenParams(r.config) : [])
          this.db.query("INSERT OR REPLACE INTO params (run_id, key, value) VALUES (?, ?, ?)").run(r.id, k, v);
        this.db
          .query("INSERT INTO events (run_id, at, kind, message) VALUES (?, ?, 'started', ?)")
          .run(r.id, at, `started by process ${this.me.pid} on ${this.me.host}`);
      }
    });
  }

  /**
   * Metrics of one step in one transaction; the run's step advances to `step`. A non-finite value
   * (a step the NaN guard skipped) is not a point on a curve: it becomes an event instead.
   */
  recordMetrics(runId: string, step: number, metrics: Readonly<Record<string, number>>, advance = true): Result<void, StoreError> {
    if (!isStep(step)) return err(new StoreError(`run ${runId}: step must be an integer >= 0, found ${step}`));
    for (const name of Object.keys(metrics)) if (!isId(name)) return err(new StoreError(`run ${runId}: bad metric name ${JSON.stringify(name)}`));
    return this.write(`recording step ${step} of run ${runId}`, () => {
      if (!this.exists(runId)) throw new Error(`no run "${runId}" (start it first)`);
      const bad: string[] = [];
      for (const [name, value] of Object.entries(metrics)) {
        if (typeof value !== "number" || !Number.isFinite(value)) bad.push(`${name} = ${String(value)}`);
        else this.db.query("INSERT OR REPLACE INTO metrics (run_id, name, step, value) VALUES (?, ?, ?, ?)").run(runId, name, step, value);
      }
      if (bad.length > 0)
        this.db
          .query("INSERT INTO events (run_id, at, kind, message) VALUES (?, ?, 'non-finite', ?)")
          .run(runId, Date.now(), `step ${step}: ${bad.join(", ")}`);
      if (advance) this.db.query("UPDATE runs SET step = MAX(step, ?) WHERE id = ?").run(step, runId);
    });
  }

  addArtifact(runId: string, a: { kind: string; path: string; step?: number }): Result<void, StoreError> {
    if (!isId(a.kind) || typeof a.path !== "string" || a.path === "")
      return err(new StoreError(`run ${runId}: an artifact needs a kind and a path, found ${JSON.stringify(a)}`));
    if (a.step !== undefined && !isStep(a.step)) return err(new StoreError(`run ${runId}: artifact step must be an integer >= 0, found ${a.step}`));
    return this.write(`recording an artifact of run ${runId}`, () => {
      if (!this.exists(runId)) throw new Error(`no run "${runId}"`);
      this.db
        .query("INSERT INTO artifacts (run_id, step, kind, path, created_at) VALUES (?, ?, ?, ?, ?)")
        .run(runId, a.step ?? null, a.kind, a.path, Date.now());
    });
  }

  addEvent(runId: string, kind: string, message: string, data?: unknown): Result<void, StoreError> {
    if (!isId(kind)) return err(new StoreError(`run ${runId}: event kind must be a non-empty string, found ${JSON.stringify(kind)}`));
    let text: string | null = null;
    try {
      text = data === undefined ? null : JSON.stringify(data);
    } catch (e) {
      return err(new StoreError(`run ${runId}: event data is not JSON: ${(e as Error).message}`));
    }
    return this.write(`recording an event of run ${runId}`, () => {
      if (!this.exists(runId)) throw new Error(`no run "${runId}"`);
      this.db.query("INSERT INTO events (run_id, at, kind, message, data) VALUES (?, ?, ?, ?, ?)").run(runId, Date.now(), kind, String(message), text);
    });
  }

  endRun(runId: string, status: Exclude<RunStatus, "running">, o: { step?: number; error?: string; at?: number } = {}): Result<void, StoreError> {
    if (!(RUN_STATUSES as readonly string[]).includes(status) || (status as string) === "running")
      return err(new StoreError(`run ${runId}: cannot end with status ${JSON.stringify(status)}; one of completed, failed, interrupted, crashed`));
    if (o.step !== undefined && !isStep(o.step)) return err(new StoreError(`run ${runId}: step must be an integer >= 0, found ${o.step}`));
    const at = o.at ?? Date.now();
    return this.write(`ending run ${runId}`, () => {
      if (!this.exists(runId)) throw new Error(`no run "${runId}"`);
      this.db
        .query("UPDATE runs SET status = ?, ended_at = ?, error = ?, step = COALESCE(?, step) WHERE id = ?")
        .run(status, at, o.error ?? null, o.step ?? null, runId);
      this.db.query("INSERT INTO events (run_id, at, kind, message) VALUES (?, ?, ?, ?)").run(runId, at, status, o.error ? `${status}: ${o.error}` : status);
    });
  }

  /** Newest first. */
  listRuns(limit = 50): RunRecord[] {
    return (retryWhileBusy(() => this.db.query("SELECT * FROM runs ORDER BY started_at DESC, id DESC LIMIT ?").all(limit)) as RunRow[]).map(toRecord);
  }

  /** By exact id or a unique prefix of one. */
  getRun(idOrPrefix: string): Result<RunRecord, StoreError> {
    const exact = retryWhileBusy(() => this.db.query("SELECT * FROM runs WHERE id = ?").get(idOrPrefix)) as RunRow | null;
    if (exact) return ok(toRecord(exact));
    const like = retryWhileBusy(() =>
      this.db.query("SELECT * FROM runs WHERE substr(id, 1, length(?)) = ? ORDER BY started_at DESC").all(idOrPrefix, idOrPrefix),
    ) as RunRow[];
    if (like.length === 1) return ok(toRecord(like[0]!));
    if (like.length > 1)
      return err(
        new StoreError(
          `run "${idOrPrefix}" is ambiguous: ${like
            .slice(0, 5)
            .map((r) => r.id)
            .join(", ")}${like.length > 5 ? ", ..." : ""}`,
        ),
      );
    const recent = this.listRuns(5).map((r) => r.id);
    return err(new StoreError(`no run "${idOrPrefix}" in ${this.path}${recent.length ? `; recent runs: ${recent.join(", ")}` : " (the store is empty)"}`));
  }

  /** Removes a run (by id or unique prefix) with its params, metrics, artifacts and events; returns its id. Files on disk stay. */
  deleteRun(idOrPrefix: string): Result<string, StoreError> {
    const found = this.getRun(idOrPrefix);
    if (found.isErr()) return err(found.error);
    const { id, status, pid } = found.value;
    if (status === "running" && pid !== process.pid)
      return err(new StoreError(`run ${id} is still running (process ${pid}); stop it first or wait until it ends`));
    return this.write(`removing run ${id}`, () => {
      this.db.query("DELETE FROM runs WHERE id = ?").run(id);
    }).map(() => id);
  }

  metricNames(runId: string): string[] {
    return (retryWhileBusy(() => this.db.query("SELECT DISTINCT name FROM metrics WHERE run_id = ? ORDER BY name").all(runId)) as { name: string }[]).map(
      (r) => r.name,
    );
  }

  metric(runId: string, name: string): MetricPoint[] {
    return retryWhileBusy(() => this.db.query("SELECT step, value FROM metrics WHERE run_id = ? AND name = ? ORDER BY step").all(runId, name)) as MetricPoint[];
  }

  params(runId: string): Record<string, string> {
    const rows = retryWhileBusy(() => this.db.query("SELECT key, value FROM params WHERE run_id = ? ORDER BY key").all(runId)) as {
      key: string;
      value: string;
    }[];
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  artifacts(runId: string): ArtifactRecord[] {
    const rows = retryWhileBusy(() => this.db.query("SELECT step, kind, path, created_at FROM artifacts WHERE run_id = ? ORDER BY id").all(runId)) as {
      step: number | null;
      kind: string;
      path: string;
      created_at: number;
    }[];
    return rows.map((r) => ({ step: r.step, kind: r.kind, path: r.path, createdAt: r.created_at }));
  }

  events(runId: string): EventRecord[] {
    const rows = retryWhileBusy(() => this.db.query("SELECT at, kind, message, data FROM events WHERE run_id = ? ORDER BY id").all(runId)) as {
      at: number;
      kind: string;
      message: string;
      data: string | null;
    }[];
    return rows.map((r) => ({ at: r.at, kind: r.kind, message: r.message, data: r.data === null ? null : (JSON.parse(r.data) as unknown) }));
  }

  close(): void {
    this.db.close();
  }
}

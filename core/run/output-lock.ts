// The lock a run takes on its output folder, so two runs never write the same checkpoints and
// adapter. The lock is a small JSON file inside the folder (pid, host, process start time, run,
// recipe, start time) created atomically (O_EXCL); a second run fails at once and names the holder.
// A lock left by a process that is gone (SIGKILL, power loss) on this host is stale: it is taken
// over with a warning. A lock from another host cannot be checked and is respected.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { type ProcessId, processAlive, thisProcess } from "../store/liveness.ts";

/** The lock's file name inside the output folder. */
export const OUTPUT_LOCK_FILE = ".lft-lock";

export class OutputLockError extends Error {
  override readonly name = "OutputLockError";
}

/** What the lock file records about the run holding it. */
export interface LockHolder extends ProcessId {
  /** The run's id once it has one (the training loop names it after the lock is taken). */
  readonly run: string | null;
  /** What is running: `<recipe file> · train sft`. */
  readonly what: string;
  /** ISO time the lock was taken. */
  readonly since: string;
  /** Random token: a holder removes the file only while it is still its own. */
  readonly token: string;
}

export interface OutputLock {
  readonly dir: string;
  readonly file: string;
  /** Records the run id in the lock file (for the messages other runs show). */
  name(run: string): void;
  /** Removes the lock (and the folder, when this lock created it and it stayed empty). Safe to call twice. */
  release(): void;
}

export interface Locked {
  readonly lock: OutputLock;
  /** The stale holder this lock replaced, to warn about. */
  readonly tookOver?: LockHolder;
}

function readHolder(file: string): LockHolder | "missing" | "unreadable" {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : "unreadable";
  }
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (typeof v.pid !== "number" || typeof v.host !== "string") return "unreadable";
    return {
      pid: v.pid,
      host: v.host,
      start: typeof v.start === "string" ? v.start : null,
      run: typeof v.run === "string" ? v.run : null,
      what: typeof v.what === "string" ? v.what : "a run",
      since: typeof v.since === "string" ? v.since : "?",
      token: typeof v.token === "string" ? v.token : "",
    };
  } catch {
    return "unreadable";
  }
}

/** One line naming who holds a lock, for messages. */
export function describeHolder(h: LockHolder): string {
  return `${h.run === null ? h.what : `run ${h.run} (${h.what})`}, process ${h.pid} on ${h.host}, since ${h.since}`;
}

/** The live holder of `dir`'s lock, if a run holds it now (for `lft check`); undefined when free or stale. */
export function outputLockHolder(dir: string): LockHolder | undefined {
  const h = readHolder(join(dir, OUTPUT_LOCK_FILE));
  if (typeof h === "string") return undefined;
  return processAlive(h) === false ? undefined : h;
}

/** A lock file that another process is still writing (created but not yet filled) is young. */
function young(file: string): boolean {
  try {
    return Date.now() - statSync(file).mtimeMs < 5_000;
  } catch {
    return false;
  }
}

function createExclusive(file: string, holder: LockHolder): boolean {
  try {
    writeFileSync(file, `${JSON.stringify(holder)}\n`, { flag: "wx" });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
}

/**
 * Removes a stale lock file. A second, short-lived lock (`.lft-lock.takeover`) makes the check and
 * the removal one step, so two runs that both found the lock stale cannot both take it (the second
 * would otherwise remove the first's fresh lock).
 */
function removeStale(file: string, stale: LockHolder | "unreadable"): boolean {
  const guard = `${file}.takeover`;
  const me = thisProcess();
  if (!createExclusive(guard, { ...me, run: null, what: "takeover", since: new Date().toISOString(), token: "" })) {
    const other = readHolder(guard);
    // A takeover guard whose process is gone is left from a crash in the few lines below.
    if (typeof other !== "string" && processAlive(other) === false) unlinkSync(guard);
    return false;
  }
  try {
    const now = readHolder(file);
    const same = stale === "unreadable" ? now === "unreadable" : typeof now !== "string" && now.token === stale.token && now.pid === stale.pid;
    if (!same) return false;
    unlinkSync(file);
    return true;
  } finally {
    unlinkSync(guard);
  }
}

/**
 * Takes the lock on `dir` (created if missing) for this process. Fails, naming the holder, when a
 * live run holds it; takes over a stale one (reported in `tookOver`).
 */
export function lockOutput(dir: string, what: string): Result<Locked, OutputLockError> {
  const file = join(dir, OUTPUT_LOCK_FILE);
  let created = false;
  try {
    if (existsSync(dir) && !statSync(dir).isDirectory())
      return err(new OutputLockError(`output ${dir} is a file, not a folder; name a folder for the run's checkpoints and results`));
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true });
      created = true;
    }
  } catch (e) {
    return err(new OutputLockError(`cannot create the output folder ${dir}: ${(e as Error).message}`));
  }
  const holder: LockHolder = { ...thisProcess(), run: null, what, since: new Date().toISOString(), token: crypto.randomUUID() };
  let tookOver: LockHolder | undefined;
  try {
    for (let attempt = 0; ; attempt++) {
      if (createExclusive(file, holder)) break;
      const found = readHolder(file);
      if (found === "missing") continue;
      if (found === "unreadable" && young(file) && attempt < 50) {
        Bun.sleepSync(20);
        continue;
      }
      if (found !== "unreadable") {
        const alive = processAlive(found);
        if (alive === true)
          return err(new OutputLockError(`output ${dir} is in use by ${describeHolder(found)}; wait for that run to end, or choose another output`));
        if (alive === null)
          return err(
            new OutputLockError(
              `output ${dir} is locked by ${describeHolder(found)}, which this host cannot check; if that run has ended, delete ${file}, or choose another output`,
            ),
          );
      }
      if (attempt >= 50) return err(new OutputLockError(`cannot take the lock ${file}: other runs keep taking it; choose another output`));
      if (removeStale(file, found)) {
        if (found !== "unreadable") tookOver = found;
      } else Bun.sleepSync(10);
    }
  } catch (e) {
    if (created) removeIfEmpty(dir);
    return err(new OutputLockError(`cannot lock the output folder ${dir}: ${(e as Error).message}`));
  }
  return ok({ lock: heldLock(dir, file, holder, created), ...(tookOver === undefined ? {} : { tookOver }) });
}

function removeIfEmpty(dir: string): void {
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // Someone else is using or removed it: leave it.
  }
}

function heldLock(dir: string, file: string, holder: LockHolder, created: boolean): OutputLock {
  let current = holder;
  let released = false;
  const ours = (): boolean => {
    const now = readHolder(file);
    return typeof now !== "string" && now.token === holder.token;
  };
  const release = (): void => {
    if (released) return;
    released = true;
    process.off("exit", release);
    try {
      if (ours()) unlinkSync(file);
    } catch {
      // Already gone: nothing to release.
    }
    if (created) removeIfEmpty(dir);
  };
  // A process that ends without reaching release (process.exit in a plugin) still frees the folder.
  process.on("exit", release);
  return {
    dir,
    file,
    name(run) {
      if (released || !ours()) return;
      current = { ...current, run };
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        writeFileSync(tmp, `${JSON.stringify(current)}\n`);
        renameSync(tmp, file);
      } catch {
        // The run id is for messages only; the lock itself stands.
      }
    },
    release,
  };
}

// Checkpoint folders under a run's directory: `checkpoint-<step>/` holding safetensors files, small
// JSON files and, written last, a manifest of them all (checkpoint-manifest.ts). A save writes
// everything into `.tmp-checkpoint-<step>-<pid>/`, flushes it, then renames it into place, so a folder
// with the final name is always complete (a kill mid-save leaves only a temp folder, removed when the
// next run starts; a save that fails removes its own at once). Only the newest `keep` checkpoints are
// kept. Resume takes the newest checkpoint that verifies, falling back past damaged ones.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { openSafetensors } from "../io/safetensors-read.ts";
import { writeSafetensors } from "../io/safetensors-write.ts";
import type { HostTensor } from "../optim/optimizer.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { type CheckpointVerdict, verifyCheckpoint, writeManifest } from "./checkpoint-manifest.ts";

/** What one checkpoint holds: safetensors files of named tensors, and JSON files. */
export interface CheckpointContents {
  readonly tensors: Readonly<Record<string, readonly (readonly [string, Tensor])[]>>;
  readonly json: Readonly<Record<string, unknown>>;
}

export interface CheckpointRef {
  readonly step: number;
  readonly path: string;
}

/** The file whose presence (with the final folder name) marks a checkpoint the loop wrote. */
export const STATE_FILE = "trainer_state.json";
const NAME = /^checkpoint-(\d+)$/;
const TEMP = /^\.tmp-checkpoint-\d+-(\d+)(-old)?$/;

function fsyncPath(path: string, dir = false): void {
  try {
    const fd = openSync(path, dir ? "r" : "r+");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes temp folders left by processes that died mid-save (not this process's, not a live one's); returns their names. */
export function removeStaleTemps(root: string): string[] {
  if (!existsSync(root)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(root)) {
    const m = TEMP.exec(name);
    if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) {
      rmSync(join(root, name), { recursive: true, force: true });
      removed.push(name);
    }
  }
  return removed;
}

export function saveCheckpoint(root: string, step: number, contents: CheckpointContents): Result<CheckpointRef, Error> {
  const final = join(root, `checkpoint-${step}`);
  const tmp = join(root, `.tmp-checkpoint-${step}-${process.pid}`);
  try {
    mkdirSync(root, { recursive: true });
    removeStaleTemps(root);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    for (const [file, entries] of Object.entries(contents.tensors)) {
      const w = writeSafetensors(
        join(tmp, file),
        entries.map(([name, data]) => ({ name, data })),
      );
      if (w.isErr()) {
        rmSync(tmp, { recursive: true, force: true });
        return err(new Error(`checkpoint at step ${step}: ${w.error.message}`));
      }
    }
    for (const [file, value] of Object.entries(contents.json)) {
      const path = join(tmp, file);
      writeFileSync(path, `${JSON.stringify(value, null, 1)}\n`);
      fsyncPath(path);
    }
    // Last: the manifest covers every file above, so its presence means they were all written.
    writeManifest(tmp, step);
    fsyncPath(tmp, true);
    // A folder of the same name (a run resumed from an earlier step reaching it again) is moved aside
    // first: rename cannot replace a non-empty directory.
    if (existsSync(final)) {
      const old = `${tmp}-old`;
      renameSync(final, old);
      renameSync(tmp, final);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, final);
    }
    fsyncPath(root, true);
    return ok({ step, path: final });
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    return err(new Error(`checkpoint at step ${step}: cannot write ${final}: ${(e as Error).message}`));
  }
}

/** Complete checkpoints under root, oldest first. */
export function listCheckpoints(root: string): CheckpointRef[] {
  if (!existsSync(root)) return [];
  const out: CheckpointRef[] = [];
  for (const name of readdirSync(root)) {
    const m = NAME.exec(name);
    if (m && existsSync(join(root, name, STATE_FILE))) out.push({ step: Number(m[1]), path: join(root, name) });
  }
  return out.sort((a, b) => a.step - b.step);
}

export function latestCheckpoint(root: string): CheckpointRef | undefined {
  return listCheckpoints(root).at(-1);
}

/** What resume found under a run's folder: the checkpoint to use, and the newer ones passed over. */
export interface IntactCheckpoint {
  /** Newest checkpoint that verifies; absent when none does (or there are none). */
  readonly ref?: CheckpointRef;
  /** True when the chosen checkpoint has no manifest (written by an older lft). */
  readonly legacy: boolean;
  /** Newer checkpoints that failed verification, newest first, with what was wrong. */
  readonly damaged: readonly (CheckpointRef & { readonly problem: string })[];
}

/** The newest checkpoint that validates as a whole (sizes, hashes, step agreement), newest first. */
export function latestIntactCheckpoint(root: string, o: { hashes: boolean } = { hashes: true }): IntactCheckpoint {
  const damaged: (CheckpointRef & { problem: string })[] = [];
  for (const ref of listCheckpoints(root).reverse()) {
    const v: CheckpointVerdict = verifyCheckpoint(ref.path, ref.step, o);
    if (v.ok) return { ref, legacy: !v.manifest, damaged };
    damaged.push({ ...ref, problem: v.problem });
  }
  return { legacy: false, damaged };
}

/**
 * Deletes all but the newest `keep` checkpoints (0: keeps all) and those at the `protect`ed steps (the
 * best one, as HF's save_total_limit keeps it); returns the removed paths.
 */
export function pruneCheckpoints(root: string, keep: number, protect: readonly number[] = []): string[] {
  if (keep <= 0) return [];
  const all = listCheckpoints(root);
  const gone = all
    .slice(0, Math.max(0, all.length - keep))
    .filter((c) => !protect.includes(c.step))
    .map((c) => c.path);
  for (const p of gone) rmSync(p, { recursive: true, force: true });
  return gone;
}

export function readCheckpointJson(dir: string, file: string): Result<unknown, Error> {
  const path = join(dir, file);
  try {
    return ok(JSON.parse(readFileSync(path, "utf8")) as unknown);
  } catch (e) {
    return err(new Error(`${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "missing from the checkpoint" : (e as Error).message}`));
  }
}

/** Every tensor of a checkpoint file, copied to the host as f32. */
export function readCheckpointTensors(dir: string, file: string): Result<Map<string, HostTensor>, Error> {
  const path = join(dir, file);
  const opened = openSafetensors(path);
  if (opened.isErr()) return err(opened.error);
  const f = opened.value;
  try {
    const out = new Map<string, HostTensor>();
    for (const name of f.names()) {
      const info = f.info(name);
      if (info.isErr()) return err(info.error);
      if (info.value.dtype !== "F32") return err(new Error(`${path}: tensor "${name}" is ${info.value.dtype}; checkpoints hold F32 training state`));
      const bytes = f.bytes(name);
      if (bytes.isErr()) return err(bytes.error);
      const data = new Float32Array(info.value.byteLength / 4);
      new Uint8Array(data.buffer).set(bytes.value);
      out.set(name, { shape: info.value.shape, data });
    }
    return ok(out);
  } finally {
    f.close();
  }
}

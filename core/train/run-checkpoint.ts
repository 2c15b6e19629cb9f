// Checkpoint folders under a run's directory: `checkpoint-<step>/` holding safetensors files and small
// JSON files. A save writes everything into `.tmp-checkpoint-<step>-<pid>/`, flushes it, then renames
// it into place, so a folder with the final name is always complete (a kill mid-save leaves only a
// temp folder, cleaned up on the next save). Only the newest `keep` checkpoints are kept.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { openSafetensors } from "../io/safetensors-read.ts";
import { writeSafetensors } from "../io/safetensors-write.ts";
import type { HostTensor } from "../optim/optimizer.ts";
import type { Tensor } from "../tensor/tensor.ts";

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

/** Removes temp folders left by processes that died mid-save (not this process's, not a live one's). */
export function removeStaleTemps(root: string): void {
  if (!existsSync(root)) return;
  for (const name of readdirSync(root)) {
    const m = TEMP.exec(name);
    if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) rmSync(join(root, name), { recursive: true, force: true });
  }
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
      if (w.isErr()) return err(new Error(`checkpoint at step ${step}: ${w.error.message}`));
    }
    for (const [file, value] of Object.entries(contents.json)) {
      const path = join(tmp, file);
      writeFileSync(path, `${JSON.stringify(value, null, 1)}\n`);
      fsyncPath(path);
    }
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

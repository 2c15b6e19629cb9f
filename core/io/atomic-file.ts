// Writes a file so that a crash never leaves it half-written: the bytes go to `<path>.tmp-<pid>`, are
// flushed to disk, and only then is the temp file renamed over `path` (rename is atomic on POSIX).
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { CheckpointError } from "./errors.ts";

export function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

/** Calls `write(put)`, where each `put(bytes)` appends to the file; returns the bytes written. */
export function writeFileAtomic(path: string, write: (put: (bytes: Uint8Array) => void) => void): Result<number, CheckpointError> {
  const tmp = tempPathFor(path);
  let fd: number | null = null;
  let total = 0;
  try {
    fd = openSync(tmp, "w", 0o644);
    const out = fd;
    write((bytes) => {
      for (let done = 0; done < bytes.length; ) done += writeSync(out, bytes, done, bytes.length - done);
      total += bytes.length;
    });
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== null) closeSync(fd);
    rmSync(tmp, { force: true });
    return err(new CheckpointError(path, `cannot write: ${(e as Error).message}`));
  }
  syncDir(dirname(path));
  return ok(total);
}

/** Makes the rename itself durable; some filesystems refuse to fsync a directory, which is harmless. */
function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {}
}

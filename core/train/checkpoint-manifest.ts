// A checkpoint's manifest, `checkpoint_manifest.json`: the format version, the step, and the size and
// sha256 of every other file in the folder. The save writes it last (inside the temp folder, before the
// rename), so a checkpoint validates as a whole: resume checks sizes and hashes, and that the step in
// the folder's name, the manifest and trainer_state.json agree. Checkpoints from older lft have no
// manifest; they are accepted with a note after the step check alone.
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, readSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { err, ok, type Result } from "neverthrow";

export const MANIFEST_FILE = "checkpoint_manifest.json";
export const MANIFEST_FORMAT = 1;
const STATE_FILE = "trainer_state.json";
const CHUNK = 1 << 22;

interface FileEntry {
  readonly size: number;
  readonly sha256: string;
}

interface Manifest {
  readonly format: number;
  readonly step: number;
  readonly files: Readonly<Record<string, FileEntry>>;
}

/** How a checkpoint checked out: intact (with or without a manifest), or what is wrong with it. */
export type CheckpointVerdict = { readonly ok: true; readonly manifest: boolean } | { readonly ok: false; readonly problem: string };

function sha256Of(path: string): string {
  const hasher = new Bun.CryptoHasher("sha256");
  const fd = openSync(path, "r");
  try {
    const buf = new Uint8Array(CHUNK);
    for (;;) {
      const got = readSync(fd, buf, 0, CHUNK, null);
      if (got <= 0) break;
      hasher.update(got === CHUNK ? buf : buf.subarray(0, got));
    }
  } finally {
    closeSync(fd);
  }
  return hasher.digest("hex");
}

/** Writes the manifest of every regular file now in `dir` (call it after everything else is written). */
export function writeManifest(dir: string, step: number): void {
  const files: Record<string, FileEntry> = {};
  for (const name of readdirSync(dir).sort()) {
    if (name === MANIFEST_FILE) continue;
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isFile()) files[name] = { size: st.size, sha256: sha256Of(path) };
  }
  const manifest: Manifest = { format: MANIFEST_FORMAT, step, files };
  const path = join(dir, MANIFEST_FILE);
  writeFileSync(path, `${JSON.stringify(manifest, null, 1)}\n`);
  const fd = openSync(path, "r+");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function readManifest(path: string): Result<Manifest, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    return err(`${MANIFEST_FILE} is unreadable (${(e as Error).message})`);
  }
  const m = raw as Partial<Manifest> | null;
  if (typeof m !== "object" || m === null || typeof m.files !== "object" || m.files === null || !Number.isSafeInteger(m.step))
    return err(`${MANIFEST_FILE} is not a manifest (expected { format, step, files })`);
  if (m.format !== MANIFEST_FORMAT) return err(`${MANIFEST_FILE} has format ${String(m.format)}; this lft reads format ${MANIFEST_FORMAT}`);
  for (const [name, e] of Object.entries(m.files as Record<string, Partial<FileEntry> | null>)) {
    if (typeof e !== "object" || e === null || !Number.isSafeInteger(e.size) || typeof e.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(e.sha256))
      return err(`${MANIFEST_FILE}: the entry for "${name}" is not { size, sha256 }`);
  }
  return ok(m as Manifest);
}

/** The step trainer_state.json records, or why it cannot be read. */
function stateStep(dir: string): Result<number, string> {
  try {
    const s = JSON.parse(readFileSync(join(dir, STATE_FILE), "utf8")) as { step?: unknown } | null;
    if (typeof s?.step === "number" && Number.isSafeInteger(s.step)) return ok(s.step);
    return err(`${STATE_FILE} has no integer step`);
  } catch (e) {
    return err(`${STATE_FILE} is ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : `unreadable (${(e as Error).message})`}`);
  }
}

/**
 * Checks a checkpoint folder `checkpoint-<step>` as a whole: the manifest's files are all there with
 * their sizes (and sha256 when `hashes`), and the folder name, manifest and trainer_state.json name the
 * same step. Without a manifest (older lft) only the step agreement is checked.
 */
export function verifyCheckpoint(dir: string, step: number, o: { hashes: boolean } = { hashes: true }): CheckpointVerdict {
  const bad = (problem: string): CheckpointVerdict => ({ ok: false, problem });
  const at = stateStep(dir);
  if (at.isErr()) return bad(at.error);
  if (at.value !== step) return bad(`${STATE_FILE} says step ${at.value} but the folder is ${basename(dir)} (the checkpoint was edited or mixed)`);
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) return { ok: true, manifest: false };
  const m = readManifest(manifestPath);
  if (m.isErr()) return bad(m.error);
  if (m.value.step !== step) return bad(`${MANIFEST_FILE} is for step ${m.value.step} but the folder is ${basename(dir)}`);
  for (const [name, want] of Object.entries(m.value.files)) {
    const path = join(dir, name);
    if (name.includes("/") || name.includes("\\") || name === "." || name === "..") return bad(`${MANIFEST_FILE} lists "${name}", which is not a file name`);
    if (!existsSync(path)) return bad(`${name} is missing`);
    const size = statSync(path).size;
    if (size !== want.size) return bad(`${name} is ${size} bytes but was written as ${want.size} (truncated or changed after it was written)`);
  }
  if (o.hashes) {
    for (const [name, want] of Object.entries(m.value.files)) {
      if (sha256Of(join(dir, name)) !== want.sha256) return bad(`${name} does not match its sha256 in ${MANIFEST_FILE} (changed after it was written)`);
    }
  }
  return { ok: true, manifest: true };
}

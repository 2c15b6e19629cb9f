// Getting rank 0's NCCL unique id to every rank. Over TCP: rank 0 listens at host:port (env
// LFT_RENDEZVOUS) and hands the 128 bytes to each peer that connects; peers retry until it listens. The
// socket work runs in a child process (rendezvous-worker.ts) so this stays synchronous like the engine's
// open(). Over an existing communicator (MPI): `broadcastId` with that engine's broadcast.
import { join } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { UNIQUE_ID_BYTES } from "./nccl.ts";

const WORKER = join(import.meta.dir, "rendezvous-worker.ts");

export interface RendezvousOptions {
  /** host:port rank 0 listens on and the others connect to. */
  readonly address: string;
  readonly rank: number;
  readonly size: number;
  /** Rank 0's id (made with ncclGetUniqueId); ignored on other ranks. */
  readonly id?: Uint8Array;
  /** How long to wait for the others (default 60 s). */
  readonly timeoutMs?: number;
}

/** Checks `host:port` (LFT_RENDEZVOUS's format). */
export function parseRendezvous(address: string): Result<{ host: string; port: number }, Error> {
  const m = /^(.+):(\d+)$/.exec(address);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || !(port >= 1 && port <= 65535))
    return err(new Error(`LFT_RENDEZVOUS must be host:port with a port in 1..65535 (rank 0's address, reachable from every rank), found "${address}"`));
  return ok({ host: m[1]!, port });
}

/** Every rank returns rank 0's id, or an error naming the address and what did not arrive. */
export function tcpRendezvous(o: RendezvousOptions): Result<Uint8Array, Error> {
  const parsed = parseRendezvous(o.address);
  if (parsed.isErr()) return err(parsed.error);
  const timeout = String(o.timeoutMs ?? 60_000);
  if (o.rank === 0) {
    if (!o.id || o.id.byteLength !== UNIQUE_ID_BYTES) return err(new Error(`rendezvous: rank 0 needs its ${UNIQUE_ID_BYTES}-byte unique id`));
    if (o.size === 1) return ok(o.id);
    const r = Bun.spawnSync([process.execPath, WORKER, "serve", o.address, String(o.size - 1), Buffer.from(o.id).toString("hex"), timeout], { stderr: "pipe" });
    if (r.exitCode !== 0) return err(new Error(`rendezvous at ${o.address} (rank 0): ${r.stderr.toString().trim() || `exit ${r.exitCode}`}`));
    return ok(o.id);
  }
  const r = Bun.spawnSync([process.execPath, WORKER, "fetch", o.address, timeout], { stderr: "pipe", stdout: "pipe" });
  if (r.exitCode !== 0) return err(new Error(`rendezvous at ${o.address} (rank ${o.rank}): ${r.stderr.toString().trim() || `exit ${r.exitCode}`}`));
  const id = Buffer.from(r.stdout.toString().trim(), "hex");
  if (id.length !== UNIQUE_ID_BYTES)
    return err(new Error(`rendezvous at ${o.address} (rank ${o.rank}): received ${id.length} bytes, expected ${UNIQUE_ID_BYTES}`));
  return ok(new Uint8Array(id));
}

/**
 * The id over an engine that is already up (MPI): rank 0's bytes broadcast in place. `broadcast` moves a
 * Float32Array of 32 words (the id's bytes reinterpreted, so no value changes) from rank 0 to every rank.
 */
export function broadcastId(
  rank: number,
  id: Uint8Array | undefined,
  broadcast: (words: Float32Array) => Result<Float32Array, Error>,
): Result<Uint8Array, Error> {
  const words = new Float32Array(UNIQUE_ID_BYTES / 4);
  if (rank === 0) {
    if (!id || id.byteLength !== UNIQUE_ID_BYTES) return err(new Error(`rendezvous: rank 0 needs its ${UNIQUE_ID_BYTES}-byte unique id`));
    new Uint8Array(words.buffer).set(id);
  }
  return broadcast(words).map((w) => new Uint8Array(w.buffer.slice(w.byteOffset, w.byteOffset + UNIQUE_ID_BYTES)));
}

// Opening reads only the header; a tensor's bytes are mapped when asked for. A sparse 5 GiB file (no
// disk, no page cache behind its big tensor) opens in milliseconds and its small tensor loads without the
// process's resident memory growing by anything like the big one's size.
import { afterAll, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openCheckpoint, openSafetensors } from "../../../core/index.ts";

const dir = mkdtempSync(join(tmpdir(), "lft-io-lazy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HUGE = 5 * 2 ** 30;

function sparseFile(): string {
  const header = Buffer.from(
    JSON.stringify({
      __metadata__: { format: "pt" },
      huge: { dtype: "U8", shape: [HUGE], data_offsets: [0, HUGE] },
      small: { dtype: "F32", shape: [4], data_offsets: [HUGE, HUGE + 16] },
    }).padEnd(168, " "),
  );
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  const path = join(dir, "model.safetensors");
  const fd = openSync(path, "w");
  writeSync(fd, Buffer.concat([len, header]));
  // Writing the last tensor past a 5 GiB hole: the hole takes no disk blocks.
  writeSync(fd, new Uint8Array(Float32Array.from([1.5, -2, 3, 4e-3]).buffer), 0, 16, 8 + header.length + HUGE);
  closeSync(fd);
  return path;
}

test("a 5 GiB file opens from its header alone and one small tensor loads without touching the rest", () => {
  const path = sparseFile();
  Bun.gc(true);
  const rssBefore = process.memoryUsage().rss;
  const start = performance.now();
  const ckpt = openCheckpoint(dir)._unsafeUnwrap();
  const small = ckpt.tensor("small")._unsafeUnwrap();
  const ms = performance.now() - start;
  const grown = process.memoryUsage().rss - rssBefore;

  expect(Array.from(small.toArray())).toEqual(Array.from(Float32Array.from([1.5, -2, 3, 4e-3])));
  expect(ckpt.info("huge")._unsafeUnwrap()).toEqual({ dtype: "U8", shape: [HUGE], byteLength: HUGE, file: path });
  // Reading 5 GiB would take seconds and gigabytes; the bounds leave room for a loaded CI machine.
  expect(ms).toBeLessThan(500);
  expect(grown).toBeLessThan(64 * 2 ** 20);
  ckpt.close();
});

test("a tensor too large for one JS array (> 4 GiB) is an Err from bytes(), not a crash", () => {
  const f = openSafetensors(sparseFile())._unsafeUnwrap();
  expect(f.bytes("huge")._unsafeUnwrapErr().message).toEndWith(`(${HUGE} bytes; one JavaScript array holds at most 4 GiB)`);
  expect(f.bytes("small")._unsafeUnwrap().byteLength).toBe(16);
  f.close();
});

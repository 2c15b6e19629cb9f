// The NCCL binding and engine against a fake libnccl (fixtures/fake_nccl.c, built here with gcc): the real
// entry points with their real C signatures, calls recorded, one-rank semantics on host memory. It checks
// bun:ffi marshalling (the by-value unique id arrives intact in ncclCommInitRank), which call each
// collective makes with which arguments, the size checks that stop a call before native code, errors named,
// and the TCP rendezvous between two processes. Real NCCL on GPUs is not exercised here (no GPU).
import { dlopen, FFIType } from "bun:ffi";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Collectives, defaultBackend, Tensor, tensor } from "../../../core/index.ts";
import { loadNccl, NCCL_DTYPE, NCCL_OP, type Nccl, ncclCollectives, openNcclAt, parseRendezvous, tcpRendezvous } from "../../../ffi/nccl/index.ts";

const gcc = ["gcc", "cc"].find((c) => Bun.spawnSync(["sh", "-c", `command -v ${c}`]).exitCode === 0) ?? null;
if (!gcc) console.log("[nccl] fake-library tests skipped: no C compiler (gcc/cc) on PATH");
const dir = mkdtempSync(join(tmpdir(), "lft-fake-nccl-"));
const lib = join(dir, "libnccl.so.2");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const { ptr: P, i32, u64, cstring, void: V } = FFIType;
const hookSymbols = {
  fake_call_count: { args: [], returns: i32 },
  fake_call_name: { args: [i32], returns: cstring },
  fake_call_field: { args: [i32, i32], returns: u64 },
  fake_reset: { args: [], returns: V },
  fake_set_fail: { args: [P], returns: V },
  fake_set_version: { args: [i32], returns: V },
  fake_last_id: { args: [P], returns: V },
  fake_last_nranks: { args: [], returns: i32 },
  fake_last_rank: { args: [], returns: i32 },
} as const;
let fake: ReturnType<typeof dlopen<typeof hookSymbols>>["symbols"];
let nccl: Nccl;

beforeAll(() => {
  if (!gcc) return;
  const r = Bun.spawnSync([gcc, "-shared", "-fPIC", "-O1", "-o", lib, join(import.meta.dir, "fixtures/fake_nccl.c")], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`building the fake libnccl failed: ${r.stderr}`);
  fake = dlopen(lib, hookSymbols).symbols;
  nccl = openNcclAt(lib)._unsafeUnwrap();
});
beforeEach(() => fake?.fake_reset());

const FIELD = { send: 0, recv: 1, count: 2, dtype: 3, op: 4, root: 5, comm: 6, stream: 7 } as const;
function calls(): { name: string; field: (f: keyof typeof FIELD) => number }[] {
  return Array.from({ length: fake.fake_call_count() }, (_, i) => ({
    name: String(fake.fake_call_name(i)),
    field: (f: keyof typeof FIELD) => Number(BigInt.asIntN(64, BigInt(fake.fake_call_field(i, FIELD[f])))),
  }));
}
const cstr = (s: string) => Buffer.from(`${s}\0`);

function engine(size = 1, rank = 0): Collectives {
  const id = nccl.uniqueId()._unsafeUnwrap();
  return ncclCollectives({ nccl, rank, size, id, backend: defaultBackend(), stream: null })._unsafeUnwrap();
}

describe.skipIf(!gcc)("nccl binding (fake libnccl)", () => {
  test("version, unique id, and the id passed by value reaches ncclCommInitRank intact", () => {
    expect(nccl.version()._unsafeUnwrap()).toBe(22105);
    const id = nccl.uniqueId()._unsafeUnwrap();
    expect(id.byteLength).toBe(128);
    // Distinct bytes in every position: a word shifted by the ABI trick would show up here.
    const custom = Uint8Array.from({ length: 128 }, (_, i) => (i * 7 + 3) & 0xff);
    nccl.initRank(4, custom, 3)._unsafeUnwrap();
    const seen = new Uint8Array(128);
    fake.fake_last_id(seen);
    expect([...seen]).toEqual([...custom]);
    expect(fake.fake_last_nranks()).toBe(4);
    expect(fake.fake_last_rank()).toBe(3);
  });

  test("initRank refuses a bad rank, world size or id before native code", () => {
    const id = new Uint8Array(128);
    expect(nccl.initRank(2, id, 2)._unsafeUnwrapErr().message).toContain("rank must be an integer in [0, 2)");
    expect(nccl.initRank(0, id, 0)._unsafeUnwrapErr().message).toContain("world size");
    expect(nccl.initRank(2, new Uint8Array(64), 0)._unsafeUnwrapErr().message).toContain("128 bytes");
    expect(fake.fake_call_count()).toBe(0);
  });

  test("a failing call is an error naming the call, NCCL's result name and its text", () => {
    fake.fake_set_fail(cstr("ncclGetUniqueId"));
    const e = nccl.uniqueId()._unsafeUnwrapErr().message;
    expect(e).toContain("ncclGetUniqueId failed: ncclInvalidUsage (5): fake: invalid usage");
  });

  test("enums match nccl.h", () => {
    expect(NCCL_DTYPE.f32).toBe(7);
    expect(NCCL_DTYPE.bf16).toBe(9);
    expect(NCCL_OP.sum).toBe(0);
    expect(NCCL_OP.avg).toBe(4);
  });

  test("loadNccl: LFT_NCCL_LIB is used, and a missing library says what to install", () => {
    expect(loadNccl({ LFT_NCCL_LIB: lib })._unsafeUnwrap().path).toBe(lib);
    const e = loadNccl({ LFT_NCCL_LIB: join(dir, "missing.so") })._unsafeUnwrapErr().message;
    expect(e).toContain("missing.so");
    expect(e).toContain("LFT_NCCL_LIB");
  });
});

describe.skipIf(!gcc)("nccl collectives engine (fake libnccl, one rank on host memory)", () => {
  test("allReduce sum/mean: in place on the tensor's memory, f32, sum or avg, on the given stream", () => {
    const c = engine();
    const t = tensor([1, 2, 3], [3]);
    c.allReduce(t, "sum")._unsafeUnwrap();
    c.allReduceStart(t, "mean")._unsafeUnwrap().wait()._unsafeUnwrap();
    const made = calls().filter((x) => x.name === "ncclAllReduce");
    expect(made.length).toBe(2);
    for (const x of made) {
      expect(x.field("send")).toBe(t.ptr);
      expect(x.field("recv")).toBe(t.ptr);
      expect(x.field("count")).toBe(3);
      expect(x.field("dtype")).toBe(NCCL_DTYPE.f32);
      expect(x.field("stream")).toBe(0);
    }
    expect(made.map((x) => x.field("op"))).toEqual([NCCL_OP.sum, NCCL_OP.avg]);
    expect([...t.toArray()]).toEqual([1, 2, 3]);
    c.close()._unsafeUnwrap();
  });

  test("allGather / reduceScatter / broadcast move the bytes (one rank) and check sizes first", () => {
    const c = engine();
    const a = tensor([5, 6], [2]);
    const out = Tensor.alloc(defaultBackend(), [2], "f32");
    c.allGather(a, out)._unsafeUnwrap();
    expect([...out.toArray()]).toEqual([5, 6]);
    const rs = Tensor.alloc(defaultBackend(), [2], "f32");
    c.reduceScatter(tensor([7, 8], [2]), rs, "mean")._unsafeUnwrap();
    expect([...rs.toArray()]).toEqual([7, 8]);
    c.broadcast(a, 0)._unsafeUnwrap();
    const before = fake.fake_call_count();
    expect(c.allGather(a, Tensor.alloc(defaultBackend(), [3], "f32"))._unsafeUnwrapErr().reason).toBe("shape");
    expect(c.broadcast(a, 1)._unsafeUnwrapErr().reason).toBe("rank");
    expect(c.allReduce(tensor([1], [1], { dtype: "i32" }), "sum")._unsafeUnwrapErr().reason).toBe("dtype");
    expect(fake.fake_call_count()).toBe(before);
    c.close()._unsafeUnwrap();
    expect(c.allReduce(a, "sum")._unsafeUnwrapErr().reason).toBe("closed");
    expect(calls().at(-1)!.name).toBe("ncclCommDestroy");
  });

  test("an engine failure names the rank and the call; an asynchronous error surfaces at wait()", () => {
    const c = engine();
    const t = tensor([1], [1]);
    fake.fake_set_fail(cstr("ncclAllReduce"));
    const e = c.allReduce(t, "sum")._unsafeUnwrapErr();
    expect(e.reason).toBe("engine");
    expect(e.message).toMatch(/rank 0: nccl: ncclAllReduce\(1 f32\) failed: ncclInvalidUsage/);
    fake.fake_set_fail(cstr("async"));
    expect(c.allReduceStart(t, "sum")._unsafeUnwrap().wait()._unsafeUnwrapErr().message).toContain("ncclRemoteError");
    c.close();
  });

  test("an NCCL older than 2.10 (no ncclAvg) is refused with the version", () => {
    fake.fake_set_version(20903);
    const e = ncclCollectives({ nccl, rank: 0, size: 1, id: new Uint8Array(128), backend: defaultBackend(), stream: null })._unsafeUnwrapErr();
    expect(e.reason).toBe("unavailable");
    expect(e.message).toContain("20903");
  });

  test("abort tears the communicator down without waiting and names the rank", () => {
    const id = nccl.uniqueId()._unsafeUnwrap();
    let said = "";
    const c = ncclCollectives({
      nccl,
      rank: 0,
      size: 1,
      id,
      backend: defaultBackend(),
      stream: null,
      exit: (m) => {
        said = m;
        throw new Error("exited");
      },
    })._unsafeUnwrap();
    expect(() => c.abort("rank 1 died")).toThrow("exited");
    expect(said).toBe("lft: rank 0 of 1 aborted the job: rank 1 died");
    expect(calls().at(-1)!.name).toBe("ncclCommAbort");
  });
});

describe.skipIf(!gcc)("unique-id rendezvous over TCP", () => {
  test("rank 1 in another process receives rank 0's id and joins with it", async () => {
    const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const address = `127.0.0.1:${probe.port}`;
    probe.stop(true);
    const peer = Bun.spawn([process.execPath, join(import.meta.dir, "fixtures/rendezvous-peer.ts"), lib, address], { stdout: "pipe", stderr: "pipe" });
    const id = nccl.uniqueId()._unsafeUnwrap();
    const got = tcpRendezvous({ address, rank: 0, size: 2, id, timeoutMs: 20_000 });
    expect(got.isOk()).toBe(true);
    expect(await peer.exited).toBe(0);
    const seen = JSON.parse(await new Response(peer.stdout).text());
    expect(seen).toEqual({ id: Buffer.from(id).toString("hex"), nranks: 2, rank: 1 });
  }, 30_000);

  test("a peer that finds no rank 0 fails with the address within its timeout", () => {
    const r = tcpRendezvous({ address: "127.0.0.1:9", rank: 1, size: 2, timeoutMs: 300 });
    expect(r._unsafeUnwrapErr().message).toMatch(/rendezvous at 127\.0\.0\.1:9 \(rank 1\): no unique id from rank 0/);
  });

  test("LFT_RENDEZVOUS must be host:port", () => {
    expect(parseRendezvous("node1:29500")._unsafeUnwrap()).toEqual({ host: "node1", port: 29500 });
    expect(parseRendezvous("node1")._unsafeUnwrapErr().message).toContain("host:port");
    expect(parseRendezvous("node1:70000").isErr()).toBe(true);
  });
});

// The caching allocator's reserved bytes (live + cached: what it holds from the system) and their peak,
// which bench/train.bench.ts reports beside the process's RSS.
import { expect, test } from "bun:test";
import { CachingAllocator } from "../../../core/index.ts";

/** Raw memory that hands out increasing fake addresses and records frees. */
function fakeRaw() {
  let next = 4096;
  const freed: number[] = [];
  return {
    freed,
    raw: {
      alloc: (bytes: number) => {
        const p = next;
        next += bytes;
        return p;
      },
      free: (p: number) => void freed.push(p),
    },
  };
}

test("reserved bytes count live and cached blocks; their peak follows system allocations and resetPeak", () => {
  const { raw, freed } = fakeRaw();
  const a = new CachingAllocator("test", raw);
  const x = a.alloc(1024);
  const y = a.alloc(2048);
  a.release(x);
  expect(a.stats()).toMatchObject({ liveBytes: 2048, cachedBytes: 1024, reservedBytes: 3072, peakReservedBytes: 3072 });
  // Served from the cache: reserved bytes do not grow.
  const z = a.alloc(1000);
  expect(a.stats()).toMatchObject({ reservedBytes: 3072, peakReservedBytes: 3072, systemAllocs: 2 });
  // A new size class is a system allocation on top of what is held.
  const w = a.alloc(4096);
  expect(a.stats()).toMatchObject({ reservedBytes: 7168, peakReservedBytes: 7168 });
  a.release(w);
  a.release(z);
  a.emptyCache();
  expect(freed.length).toBe(2);
  expect(a.stats()).toMatchObject({ reservedBytes: 2048, peakReservedBytes: 7168 });
  a.resetPeak();
  expect(a.stats().peakReservedBytes).toBe(2048);
  a.release(y);
});

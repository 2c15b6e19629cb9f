// Shared by stream.test.ts and its child process: a JSONL writer and a memory-growth sampler.
import { closeSync, openSync, writeSync } from "node:fs";

const MiB = 2 ** 20;

/** Writes alpaca rows of about 1 KB until the file has `mb` MiB; returns the row count. */
export function writeJsonl(path: string, mb: number, rowBytes = 1000): number {
  const fd = openSync(path, "w");
  let bytes = 0;
  let rows = 0;
  let chunk: string[] = [];
  while (bytes < mb * MiB) {
    const line = `${JSON.stringify({ instruction: `row ${rows} ${"x".repeat(rowBytes / 2)}`, output: "y".repeat(rowBytes / 2) })}\n`;
    chunk.push(line);
    bytes += line.length;
    rows++;
    if (chunk.length === 1000) {
      writeSync(fd, chunk.join(""));
      chunk = [];
    }
  }
  writeSync(fd, chunk.join(""));
  closeSync(fd);
  return rows;
}

/**
 * Runs `body`, sampling memory after a full collection every `every` calls to `tick`: the largest live
 * heap growth (what the code keeps) and the largest RSS growth over the start (what the process holds,
 * allocator high-water mark included). Growth, not totals: `bun test` runs every test file in one
 * process, so other files' caches are already on the heap.
 */
export async function peakMemory(body: (tick: () => void) => Promise<void>, every: number): Promise<{ heap: number; rss: number }> {
  Bun.gc(true);
  const start = process.memoryUsage();
  const base = start.rss;
  let heap = 0;
  let rss = 0;
  let n = 0;
  await body(() => {
    if (++n % every === 0) {
      Bun.gc(true);
      const m = process.memoryUsage();
      heap = Math.max(heap, m.heapUsed - start.heapUsed);
      rss = Math.max(rss, m.rss - base);
    }
  });
  return { heap, rss };
}

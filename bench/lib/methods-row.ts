// One row of bench/methods.bench.ts, in its own process so rows don't share a heap, an allocator cache or a
// peak: runs a recipe through the `lft` command line's own entry (dsl/cli.ts main, exactly what `lft <recipe>`
// runs), then prints one JSON line with what the command printed and this process's memory: the CPU
// allocator's peak bytes and the kernel's peak resident set (VmHWM).
// Usage (the bench spawns it): bun bench/lib/methods-row.ts <recipe.lft> <working directory>
import { readFileSync } from "node:fs";
import { main } from "../../dsl/cli.ts";
import { cpuBackend } from "../../lft.ts";
import { useCpuBackendByDefault } from "../../plugins/index.ts";

const [recipe, cwd] = process.argv.slice(2);
if (recipe === undefined || cwd === undefined) throw new Error("usage: bun bench/lib/methods-row.ts <recipe.lft> <working directory>");

useCpuBackendByDefault();
const out: string[] = [];
const errText: string[] = [];
const status = await main([recipe], { stdout: (t) => void out.push(t), stderr: (t) => void errText.push(t), cwd });
const hwm = readFileSync("/proc/self/status", "utf8").match(/VmHWM:\s+(\d+) kB/);
console.log(
  JSON.stringify({
    status,
    stdout: out.join(""),
    stderr: errText.join(""),
    allocatorPeakBytes: cpuBackend.allocator.stats().peakBytes,
    peakRssBytes: hwm ? Number(hwm[1]) * 1024 : null,
  }),
);

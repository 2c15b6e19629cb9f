// This machine's speed at the shapes a plan times: GEMM GFLOP/s at each weight shape of the model
// (through lft's own backend: ops.matmul), the attention kernel's GFLOP/s at the model's head
// geometry, elementwise bandwidth, and the fixed cost of one op. Each number is measured once and
// cached in $LFT_HOME/plan-probe.json under a key of the machine (CPU model, cores), the backend and
// the BLAS thread settings, so a later plan on the same machine reads it instead of measuring again.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { defaultBackend, full, lftHome, ops, randn, tidy, writeFileAtomic } from "../../core/index.ts";

export interface MachineRates {
  /** GFLOP/s of a matmul at m×n×k (x[m,k] · w[n,k]ᵀ, as a Linear runs it). */
  gemm(m: number, n: number, k: number): number;
  /** GFLOP/s of the causal attention kernel over [batch, seq, heads, headDim] (causal FLOPs). */
  attention(batch: number, seq: number, heads: number, kvHeads: number, headDim: number): number;
  /** Bytes/s an elementwise op moves. */
  readonly bandwidth: number;
  /** Seconds one small op costs (dispatch, checks, allocation). */
  readonly opSeconds: number;
  /** Where the numbers came from (`measured now`, `cached in …`). */
  readonly source: string;
}

interface Cache {
  key: string;
  gemm: Record<string, number>;
  attention: Record<string, number>;
  bandwidth?: number;
  opSeconds?: number;
}

export function machineKey(): string {
  const env = process.env;
  const cpu = cpus();
  return [
    cpu[0]?.model ?? "cpu",
    `${cpu.length} cores`,
    defaultBackend().name,
    `OPENBLAS_NUM_THREADS=${env.OPENBLAS_NUM_THREADS ?? ""}`,
    `OMP_NUM_THREADS=${env.OMP_NUM_THREADS ?? ""}`,
    `OPENBLAS_CORETYPE=${env.OPENBLAS_CORETYPE ?? ""}`,
  ].join("; ");
}

/** Runs fn until ~budget seconds have passed (at least three times after a warm-up) and gives the median seconds per run. */
function timeIt(fn: () => void, budget = 0.2): number {
  fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 3 || (performance.now() - start < budget * 1000 && times.length < 50)) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

// Large shapes are probed smaller (the rate has saturated well before), so a first plan of a 70B model
// costs a second or two: a weight of at most 4 Mi elements (k kept up to 4096, so the GEMM's inner
// loop is the model's), at most 2 GFLOP per GEMM (still over 200 rows), and 0.5 GFLOP per attention
// call (one row, at most 512 positions, as many heads as fit, keeping the query/key-value head ratio).
const maxWeight = 4 * 2 ** 20;
const maxInner = 4096;
const maxCallFlops = 2e9;
const maxAttentionFlops = 5e8;

function probeGemm(m: number, n: number, k: number): number {
  const kk = Math.min(k, maxInner);
  const nn = Math.max(1, Math.min(n, Math.floor(maxWeight / kk)));
  const mm = Math.max(1, Math.min(m, Math.floor(maxCallFlops / (2 * nn * kk)) || 1));
  return tidy(() => {
    // The values do not change a GEMM's speed: a constant fill is cheaper than random numbers.
    const x = full([mm, kk], 0.5);
    const w = full([nn, kk], 0.25);
    const seconds = timeIt(() => tidy(() => void ops.matmul(x, w, { transB: true })));
    return (2 * mm * nn * kk) / seconds / 1e9;
  });
}

function probeAttention(_batch: number, seq: number, heads: number, kvHeads: number, headDim: number): number {
  const s = Math.min(seq, 512);
  const group = Math.max(1, Math.floor(heads / kvHeads));
  const fit = Math.floor(maxAttentionFlops / (2 * s * s * headDim));
  const kv = Math.max(1, Math.min(kvHeads, Math.floor(fit / group)));
  const h = kv * group;
  return tidy(() => {
    const q = randn([1, s, h, headDim], { seed: 1 });
    const k = randn([1, s, kv, headDim], { seed: 2 });
    const v = randn([1, s, kv, headDim], { seed: 3 });
    const seconds = timeIt(() => tidy(() => void ops.causalAttention(q, k, v)));
    return (2 * s * s * h * headDim) / seconds / 1e9;
  });
}

function probeBandwidth(): number {
  return tidy(() => {
    const n = 4 * 2 ** 20;
    const a = randn([n], { seed: 1 });
    const b = randn([n], { seed: 2 });
    const seconds = timeIt(() => tidy(() => void ops.add(a, b)));
    return (3 * 4 * n) / seconds;
  });
}

function probeOp(): number {
  return tidy(() => {
    const a = randn([8], { seed: 1 });
    return timeIt(() => tidy(() => void ops.add(a, a)), 0.05);
  });
}

function readCache(file: string, key: string): Cache {
  try {
    const v = JSON.parse(readFileSync(file, "utf8")) as Cache;
    if (v.key === key && typeof v.gemm === "object" && typeof v.attention === "object") return v;
  } catch {
    // Missing or unreadable: measure again.
  }
  return { key, gemm: {}, attention: {} };
}

/**
 * The rates at the asked shapes, cached. `file` defaults to $LFT_HOME/plan-probe.json; a cache that
 * cannot be written only costs a probe next time.
 */
export function machineRates(file = join(lftHome(), "plan-probe.json")): MachineRates {
  const key = machineKey();
  const cache = readCache(file, key);
  let measured = false;
  const remember = <T>(value: T): T => {
    measured = true;
    return value;
  };
  cache.bandwidth ??= remember(probeBandwidth());
  cache.opSeconds ??= remember(probeOp());
  const save = (): void => {
    try {
      if (!existsSync(dirname(file))) mkdirSync(dirname(file), { recursive: true });
      writeFileAtomic(file, (put) => put(new TextEncoder().encode(`${JSON.stringify(cache, null, 1)}\n`)));
    } catch {
      // A read-only LFT_HOME: the next plan measures again.
    }
  };
  const rates: MachineRates = {
    gemm(m, n, k) {
      const id = `${m}x${n}x${k}`;
      if (cache.gemm[id] === undefined) {
        cache.gemm[id] = remember(probeGemm(m, n, k));
        save();
      }
      return cache.gemm[id]!;
    },
    attention(batch, seq, heads, kvHeads, headDim) {
      const id = `${batch}x${seq}x${heads}x${kvHeads}x${headDim}`;
      if (cache.attention[id] === undefined) {
        cache.attention[id] = remember(probeAttention(batch, seq, heads, kvHeads, headDim));
        save();
      }
      return cache.attention[id]!;
    },
    bandwidth: cache.bandwidth,
    opSeconds: cache.opSeconds,
    get source() {
      return measured ? `measured now, cached in ${file}` : `cached in ${file}`;
    },
  };
  if (measured) save();
  return rates;
}

const probed = new Map<string, MachineRates>();
/** This process's rates for a cache file (default $LFT_HOME's): read (or measured) once, and only when a CPU plan asks. */
export function processRates(file = join(lftHome(), "plan-probe.json")): MachineRates {
  let rates = probed.get(file);
  if (rates === undefined) {
    rates = machineRates(file);
    probed.set(file, rates);
  }
  return rates;
}

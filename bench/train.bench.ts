// One full-parameter AdamW training step of a Llama-shaped decoder built from core ops, driven by the
// real train() loop (micro-batch, backward, gradient-norm guard, fused AdamW, events), against PyTorch running
// the same shape in the same bench run (../shared/bench/peer_torch_step.py), with OPENBLAS_CORETYPE
// set to the kernels our binding chose so both use the same GEMMs. Step times are medians of
// onStep-to-onStep wall time after warmup (a step takes seconds; tinybench's sampling adds nothing).
// Run: node_modules/.bin/bun bench/train.bench.ts [--quick] [--no-peer] [--steps N] [--rounds R]
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type ResumableBatches, type Tensor, blasInfo, cpuBackend, ops, randn, tensor, train } from "../core/index.ts";
import { Philox } from "../core/random/philox.ts";
import { machine, table } from "./lib/results.ts";

const { values: args } = parseArgs({ options: { quick: { type: "boolean" }, "no-peer": { type: "boolean" }, steps: { type: "string" }, rounds: { type: "string" } } });
const SHAPE = { dim: 256, layers: 4, heads: 8, kv: 4, ffn: 688, vocab: 32000, seq: 256, batch: 4 };
const MEASURED = Number(args.steps ?? (args.quick ? 3 : 6));
const WARMUP = 1;
const PEER = "/work/shared/bench/peer_torch_step.py";

type S = typeof SHAPE;
const hd = SHAPE.dim / SHAPE.heads;

function buildParams(s: S): Record<string, Tensor> {
  let i = 0;
  const w = (name: string, shape: number[]) => randn(shape, { seed: 7, offset: i++ * 100_000_000, std: 0.02, requiresGrad: true, name });
  const ones = (name: string) => tensor(new Float32Array(s.dim).fill(1), [s.dim], { requiresGrad: true, name });
  const p: Record<string, Tensor> = { "embed_tokens.weight": w("embed", [s.vocab, s.dim]) };
  for (let l = 0; l < s.layers; l++) {
    const at = `layers.${l}`;
    p[`${at}.input_layernorm.weight`] = ones(`${at}.ln1`);
    p[`${at}.self_attn.q_proj.weight`] = w(`${at}.q`, [s.heads * hd, s.dim]);
    p[`${at}.self_attn.k_proj.weight`] = w(`${at}.k`, [s.kv * hd, s.dim]);
    p[`${at}.self_attn.v_proj.weight`] = w(`${at}.v`, [s.kv * hd, s.dim]);
    p[`${at}.self_attn.o_proj.weight`] = w(`${at}.o`, [s.dim, s.heads * hd]);
    p[`${at}.post_attention_layernorm.weight`] = ones(`${at}.ln2`);
    p[`${at}.mlp.gate_proj.weight`] = w(`${at}.gate`, [s.ffn, s.dim]);
    p[`${at}.mlp.up_proj.weight`] = w(`${at}.up`, [s.ffn, s.dim]);
    p[`${at}.mlp.down_proj.weight`] = w(`${at}.down`, [s.dim, s.ffn]);
  }
  p["norm.weight"] = ones("norm");
  p["lm_head.weight"] = w("head", [s.vocab, s.dim]);
  return p;
}

const params = buildParams(SHAPE);
const nParams = Object.values(params).reduce((a, t) => a + t.numel, 0);
const { batch: B, seq: T } = SHAPE;
const positions = tensor(Int32Array.from({ length: B * T }, (_, i) => i % T), [B, T], { dtype: "i32" });
const invFreq = tensor(ops.ropeInvFreq(hd, 10000), [hd / 2]);
const linear = (x: Tensor, w: Tensor) => ops.matmul(x, w, { transB: true });

function loss(ids: Int32Array): Tensor {
  const p = params;
  const targets = new Int32Array(B * T);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) targets[b * T + t] = t + 1 < T ? ids[b * T + t + 1]! : -100;
  let x = ops.embedding(p["embed_tokens.weight"]!, tensor(ids, [B, T], { dtype: "i32" }));
  for (let l = 0; l < SHAPE.layers; l++) {
    const w = (n: string) => p[`layers.${l}.${n}.weight`]!;
    const h = ops.rmsNorm(x, w("input_layernorm"), { eps: 1e-5 });
    const q = ops.rope(ops.reshape(linear(h, w("self_attn.q_proj")), [B, T, SHAPE.heads, hd]), positions, invFreq);
    const k = ops.rope(ops.reshape(linear(h, w("self_attn.k_proj")), [B, T, SHAPE.kv, hd]), positions, invFreq);
    const v = ops.reshape(linear(h, w("self_attn.v_proj")), [B, T, SHAPE.kv, hd]);
    const att = ops.reshape(ops.causalAttention(q, k, v), [B, T, SHAPE.dim]);
    x = ops.add(x, linear(att, w("self_attn.o_proj")));
    const h2 = ops.rmsNorm(x, w("post_attention_layernorm"), { eps: 1e-5 });
    x = ops.add(x, linear(ops.swiglu(linear(h2, w("mlp.gate_proj")), linear(h2, w("mlp.up_proj"))), w("mlp.down_proj")));
  }
  const logits = linear(ops.rmsNorm(x, p["norm.weight"]!, { eps: 1e-5 }), p["lm_head.weight"]!);
  return ops.crossEntropy(ops.reshape(logits, [B * T, SHAPE.vocab]), tensor(targets, [B * T], { dtype: "i32" }));
}

/** Random token batches (the peer trains on random ids too); the cursor is the batch count. */
function randomBatches(): ResumableBatches<Int32Array> {
  let n = 0;
  return {
    next() {
      const rng = new Philox(99n, BigInt(n++) * 1_000_000n);
      return Int32Array.from({ length: B * T }, () => rng.nextInt(SHAPE.vocab));
    },
    state: () => n,
    restore: () => {
      throw new Error("not resumable");
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const blas = blasInfo();
const alloc = cpuBackend.allocator;
const ROUNDS = Number(args.rounds ?? (args.quick ? 1 : 3));

/** One round of ours: a fresh train() (new optimizer) of WARMUP + MEASURED steps. */
async function lftRound() {
  alloc.resetPeak();
  const liveBefore = alloc.stats().liveBytes;
  const stamps: number[] = [];
  let t0 = performance.now();
  const result = await train({
    params,
    optimizer: { kind: "adamw", lr: 1e-4, weightDecay: 0.01 },
    steps: WARMUP + MEASURED,
    batches: randomBatches(),
    lossFn: (ids) => ({ loss: loss(ids), tokens: B * (T - 1) }),
    // No clipping: the peer does not clip (the loop still measures the gradient norm for its NaN guard).
    progress: false,
    handlers: [
      {
        name: "timer",
        onRunStart: () => void (t0 = performance.now()),
        onStep: () => void stamps.push(performance.now()),
      },
    ],
  });
  if (result.isErr()) throw result.error;
  const stepTimes = stamps.map((t, i) => (t - (i === 0 ? t0 : stamps[i - 1]!)) / 1000);
  const stepS = median(stepTimes.slice(WARMUP));
  return {
    tokens_per_s: Math.round(((B * T) / stepS) * 10) / 10,
    step_s: Math.round(stepS * 1e4) / 1e4,
    step_times_s: stepTimes.map((t) => Math.round(t * 1e4) / 1e4),
    peak_tensor_bytes: alloc.stats().peakBytes - liveBefore,
    loss_first: result.value.losses[0]!,
    loss_last: result.value.losses.at(-1)!,
  };
}

const python = "/usr/bin/python3";
const cli = ["--mode", "full", "--dim", String(SHAPE.dim), "--layers", String(SHAPE.layers), "--heads", String(SHAPE.heads), "--kv", String(SHAPE.kv), "--ffn", String(SHAPE.ffn), "--vocab", String(SHAPE.vocab), "--seq", String(T), "--batch", String(B), "--steps", String(MEASURED), "--threads", String(blas.threads)];
// The peer's OpenBLAS is given the kernels our binding chose (it would pick its own otherwise).
const peerCommand = `OPENBLAS_CORETYPE=${blas.corename} ${python} ${PEER} ${cli.join(" ")}`;

/** One round of the peer, after ours (not beside it: two processes would share the cores). */
function peerRound(): Record<string, unknown> & { tokens_per_s?: number; error?: string } {
  if (!existsSync(PEER)) return { error: `${PEER} not found` };
  const p = Bun.spawnSync([python, PEER, ...cli], { env: { ...process.env, OPENBLAS_CORETYPE: blas.corename }, stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) return { error: `peer exited ${p.exitCode}: ${p.stderr.toString().trim().split("\n").at(-1)} (install Debian's python3-torch: apt-get install -y python3-torch)` };
  return JSON.parse(p.stdout.toString().trim().split("\n").at(-1)!) as Record<string, unknown>;
}

// Interleaved rounds: on a shared machine load drifts, so each round's pair is measured close together.
const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);
const rounds: { lft: Awaited<ReturnType<typeof lftRound>>; peer: ReturnType<typeof peerRound> | null }[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const lft = await lftRound();
  const peer = args["no-peer"] ? null : peerRound();
  rounds.push({ lft, peer });
  console.error(`round ${r + 1}/${ROUNDS}: lft ${lft.tokens_per_s} tok/s, peer ${peer?.tokens_per_s ?? peer?.error ?? "skipped"}`);
}
const lftTps = median(rounds.map((r) => r.lft.tokens_per_s));
const peerOk = rounds.map((r) => r.peer).filter((p): p is ReturnType<typeof peerRound> & { tokens_per_s: number } => typeof p?.tokens_per_s === "number");
const peerTps = peerOk.length ? median(peerOk.map((p) => p.tokens_per_s)) : null;
const ratio = peerTps ? Math.round((lftTps / peerTps) * 100) / 100 : null;
const pairedRatios = rounds.filter((r) => r.peer?.tokens_per_s).map((r) => Math.round((r.lft.tokens_per_s / r.peer!.tokens_per_s!) * 100) / 100);
const ours = {
  tokens_per_s: lftTps,
  step_s: Math.round(((B * T) / lftTps) * 1e4) / 1e4,
  peak_tensor_bytes: Math.max(...rounds.map((r) => r.lft.peak_tensor_bytes)),
  bytes_per_param_peak: Math.round((Math.max(...rounds.map((r) => r.lft.peak_tensor_bytes)) / nParams) * 100) / 100,
  max_rss_bytes: process.resourceUsage().maxRSS * 1024,
  params: nParams,
  rounds: rounds.map((r) => r.lft),
};
const peer = args["no-peer"]
  ? { error: "skipped (--no-peer)" }
  : peerOk.length
    ? { peer: peerOk[0]!.peer, command: peerCommand, tokens_per_s: peerTps, step_s: Math.round(((B * T) / peerTps!) * 1e4) / 1e4, peak_rss_bytes: Math.max(...peerOk.map((p) => Number(p.peak_rss_bytes))), params: peerOk[0]!.params, rounds: rounds.map((r) => r.peer) }
    : { error: rounds[0]?.peer?.error ?? "no result", command: peerCommand };

function revision(): string {
  // Read from .git's files rather than by running git.
  try {
    const dir = join(import.meta.dir, "..", ".git");
    const head = readFileSync(join(dir, "HEAD"), "utf8").trim();
    if (!head.startsWith("ref: ")) return head.slice(0, 7);
    const ref = head.slice(5);
    const loose = join(dir, ref);
    if (existsSync(loose)) return readFileSync(loose, "utf8").trim().slice(0, 7);
    const packed = readFileSync(join(dir, "packed-refs"), "utf8").split("\n").find((l) => l.endsWith(` ${ref}`));
    return packed?.slice(0, 7) ?? "unknown";
  } catch {
    return "unknown";
  }
}

const body = {
  name: "train-step",
  date: new Date().toISOString(),
  revision: revision(),
  machine: machine(),
  blas,
  shape: SHAPE,
  method: "full-parameter, AdamW (fused), no clipping, fp32",
  measured_steps: MEASURED,
  rounds: ROUNDS,
  /** 1/5/15-minute load averages before and after: other work on the machine slows both sides. */
  load_average: { before: loadBefore, after: loadavg().map((x) => Math.round(x * 100) / 100), cores: machine().cores },
  lft: ours,
  peer,
  ratio_tokens_per_s_lft_over_pytorch: ratio,
  paired_ratios_per_round: pairedRatios,
  notes: [
    "lft: per round, the median onStep-to-onStep wall time of a fresh train() after 1 warmup step; tokens_per_s is the median over rounds; peak_tensor_bytes from the caching allocator above what was live before (grads, moments, activations; weights were allocated before)",
    "rounds alternate lft and the peer so both see similar machine load; paired_ratios_per_round shows the spread",
    "peer: median step of peer_torch_step.py on the same shape; torch 1.13 has no nn.RMSNorm, so the peer's norms are LayerNorm; its attention materialises T×T scores",
    "peer memory is peak RSS of the whole Python process; compare it with lft.max_rss_bytes, not with peak_tensor_bytes",
  ],
};
const dir = join(import.meta.dir, "results");
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, "train-step.json"), JSON.stringify(body, null, 2) + "\n");

console.log(`train step, ${JSON.stringify(SHAPE)}, ${(nParams / 1e6).toFixed(1)}M params, BLAS ${blas.corename} × ${blas.threads} threads`);
console.log(
  table([
    { impl: "lft", "tokens/s": ours.tokens_per_s, "step s": ours.step_s, "peak tensor MiB": (ours.peak_tensor_bytes / 2 ** 20).toFixed(1), "max RSS MiB": (ours.max_rss_bytes / 2 ** 20).toFixed(1) },
    ...(peerTps
      ? [{ impl: String((peer as { peer: string }).peer), "tokens/s": peerTps, "step s": String((peer as { step_s: number }).step_s), "peak tensor MiB": "-", "max RSS MiB": (Number((peer as { peak_rss_bytes: number }).peak_rss_bytes) / 2 ** 20).toFixed(1) }]
      : []),
  ]),
);
console.log(ratio !== null ? `ratio (lft / pytorch tokens/s, medians of ${ROUNDS} rounds): ${ratio}; per round ${pairedRatios.join(", ")}` : `peer: ${(peer as { error: string }).error}`);
console.log(`wrote bench/results/train-step.json`);

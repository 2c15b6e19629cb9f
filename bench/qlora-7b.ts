// The 0.6 bytes/parameter claim on this CPU: a Llama-2-7B-shaped model (13B with --shape 13b) whose linear
// weights are random NF4 written straight into their packed form (never a dense f32 matrix), QLoRA r8 on
// q_proj/v_proj, sequence 128, batch 1, gradient checkpointing, one AdamW step. Prints peak RSS (VmHWM)
// divided by the parameter count and the step time; `--write` records bench/results/qlora-<shape>.json.
// Never part of CI: run it by hand,  bun bench/qlora-7b.ts [--shape 7b|13b|tiny] [--write]
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { backward, blasInfo, type CausalLM, cpuBackend, empty, Linear, ops, tensor, tidy } from "../lft.ts";
import { dynamicMap, Quant4Weight, qlora } from "../plugins/methods/qlora/index.ts";
import { llama } from "../plugins/models/llama.ts";
import { AdamW } from "../plugins/optimizers/index.ts";
import { writeResults } from "./lib/results.ts";

const SHAPES = {
  tiny: { hidden_size: 256, intermediate_size: 688, num_hidden_layers: 2, num_attention_heads: 4, vocab_size: 1000 },
  "7b": { hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: 32, num_attention_heads: 32, vocab_size: 32000 },
  "13b": { hidden_size: 5120, intermediate_size: 13824, num_hidden_layers: 40, num_attention_heads: 40, vocab_size: 32000 },
} as const;

const args = process.argv.slice(2);
const shapeName = (args[args.indexOf("--shape") + 1] ?? "7b") as keyof typeof SHAPES;
const baseShape = args.includes("--shape") ? SHAPES[shapeName] : SHAPES["7b"];
if (!baseShape) throw new Error(`--shape must be one of ${Object.keys(SHAPES).join(", ")}`);
// --layers N: the same widths with fewer layers, to see where a step's memory goes in seconds (not a result).
const layersArg = args.includes("--layers") ? Number(args[args.indexOf("--layers") + 1]) : undefined;
const shape = layersArg === undefined ? baseShape : { ...baseShape, num_hidden_layers: layersArg };
const SEQ = 128;

function vmKiB(field: "VmHWM" | "VmRSS"): number {
  const m = readFileSync("/proc/self/status", "utf8").match(new RegExp(`${field}:\\s+(\\d+) kB`));
  return m ? Number(m[1]) : Number.NaN;
}

/** Memory at each phase of the run: allocator live/peak/cached bytes, process RSS and its peak so far. */
const phases: Record<string, { liveBytes: number; peakBytes: number; cachedBytes: number; rssBytes: number; peakRssBytes: number }> = {};
function phase(name: string): void {
  const s = cpuBackend.allocator.stats();
  phases[name] = {
    liveBytes: s.liveBytes,
    peakBytes: s.peakBytes,
    cachedBytes: s.cachedBytes,
    rssBytes: vmKiB("VmRSS") * 1024,
    peakRssBytes: vmKiB("VmHWM") * 1024,
  };
  const g = (b: number) => (b / 2 ** 20).toFixed(0).padStart(6);
  console.error(
    `${name.padEnd(16)} live ${g(s.liveBytes)} MiB  peak ${g(s.peakBytes)}  cached ${g(s.cachedBytes)}  RSS ${g(phases[name]!.rssBytes)}  peak RSS ${g(phases[name]!.peakRssBytes)}`,
  );
}

/**
 * xorshift32 bytes into one of two reusable host buffers (packed codes and absmax codes are alive together):
 * uploads copy them out, so the host never accumulates per-weight garbage that would inflate the peak RSS.
 */
let state = 0x9e3779b9;
const scratch: Uint32Array[] = [new Uint32Array(0), new Uint32Array(0)];
function randomBytes(n: number, slot: 0 | 1): Uint8Array {
  const words = Math.ceil(n / 4);
  if (scratch[slot]!.length < words) scratch[slot] = new Uint32Array(words);
  const buf = scratch[slot]!;
  for (let i = 0; i < words; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    buf[i] = state >>> 0;
  }
  return new Uint8Array(buf.buffer, 0, n);
}

const NESTED_CODE = dynamicMap();

/** A random NF4 weight [rows, cols] with double-quantised scales (absmax around 0.02). */
function randomNf4(rows: number, cols: number): Quant4Weight {
  const n = rows * cols;
  const nBlocks = Math.ceil(n / 64);
  const nested = {
    codes: randomBytes(nBlocks, 1),
    nestedAbsmax: new Float32Array(Math.ceil(nBlocks / 256)).fill(0.01),
    nestedCode: NESTED_CODE,
    offset: 0.02,
    blockSize: 256,
  };
  return Quant4Weight.fromParts(
    rows,
    cols,
    { type: "nf4", blockSize: 64, packed: randomBytes(Math.ceil(n / 2), 0), absmax: new Float32Array(0) },
    nested,
    cpuBackend,
  );
}

/** Random bf16 values of magnitude ~2^-6..2^-4 straight into a bf16 tensor, 256 rows at a time. */
function randomBf16(shape: readonly number[]): ReturnType<typeof empty> {
  const [rows, cols] = shape as [number, number];
  const t = empty([rows, cols], { dtype: "bf16", backend: cpuBackend });
  const chunkRows = 256;
  const chunk = empty([chunkRows, cols], { dtype: "bf16", backend: cpuBackend });
  for (let r0 = 0; r0 < rows; r0 += chunkRows) {
    const rs = Math.min(chunkRows, rows - r0);
    const bits = new Uint16Array(randomBytes(2 * chunkRows * cols, 0).buffer, 0, chunkRows * cols);
    for (let i = 0; i < bits.length; i++) {
      const r = bits[i]!;
      bits[i] = (r & 0x8000) | ((0x79 + ((r >> 7) & 1)) << 7) | (r & 0x7f);
    }
    cpuBackend.upload(chunk, bits);
    cpuBackend.copyRows(t, r0 * cols * 2, cols * 2, chunk, 0, cols * 2, rs, cols * 2);
  }
  chunk.dispose();
  return t;
}

function build(): { model: CausalLM; params: number } {
  const config = {
    model_type: "llama",
    ...shape,
    num_key_value_heads: shape.num_attention_heads,
    max_position_embeddings: 4096,
    rms_norm_eps: 1e-5,
    tie_word_embeddings: false,
  };
  const spec = llama.fromConfig(config, "bench")._unsafeUnwrap();
  const model = llama.build(spec);
  let params = 0;
  for (const [, m] of model.namedModules()) {
    if (!(m instanceof Linear)) continue;
    m.freezeWeight(randomNf4(m.outFeatures, m.inFeatures))._unsafeUnwrap();
    params += m.outFeatures * m.inFeatures;
    Bun.gc(true);
  }
  for (const path of model.missingParameters()) {
    const slot = model.parameterShapes().find((s) => s.name === path)!;
    const t =
      slot.shape.length === 2 ? randomBf16([...slot.shape]) : tensor(new Float32Array(slot.shape[0]!).fill(1), [...slot.shape], { backend: cpuBackend });
    model.setParameter(path, t)._unsafeUnwrap();
    params += t.numel;
  }
  scratch[0] = new Uint32Array(0);
  scratch[1] = new Uint32Array(0);
  Bun.gc(true);
  return { model, params };
}

const t0 = performance.now();
const { model, params } = build();
const loadS = (performance.now() - t0) / 1000;
const afterLoadKiB = vmKiB("VmRSS");
phase("built");
console.error(
  `built ${(params / 1e9).toFixed(2)}B parameters in ${loadS.toFixed(1)} s: RSS ${(afterLoadKiB / 2 ** 20).toFixed(2)} GiB, peak so far ${(vmKiB("VmHWM") / 2 ** 20).toFixed(2)} GiB`,
);
const applied = qlora
  .apply(model, { rank: 8, alpha: 16, targets: ["q_proj", "v_proj"], quant_type: "nf4", double_quant: true }, llama, { seed: 1 })
  ._unsafeUnwrap();
model.gradientCheckpointing = true;
const opt = new AdamW(Object.values(applied.params), { lr: 1e-4 });
const ids = Array.from({ length: SEQ + 1 }, (_, i) => (i * 7919) % shape.vocab_size);
phase("lora applied");
const t1 = performance.now();
const loss = tidy(() => {
  applied.beginForward();
  const logits = model.forward(tensor(ids.slice(0, SEQ), [1, SEQ], { dtype: "i32", backend: cpuBackend }));
  phase("forward");
  const l = ops.crossEntropy(ops.reshape(logits, [SEQ, shape.vocab_size]), tensor(ids.slice(1), [SEQ], { dtype: "i32", backend: cpuBackend }));
  phase("loss");
  backward(l);
  phase("backward");
  opt.update();
  phase("update");
  opt.zeroGrad();
  return l.item();
});
phase("step done");
const stepS = (performance.now() - t1) / 1000;
const peak = vmKiB("VmHWM") * 1024;
const quantBytes = model.namedModules().reduce((s, [, m]) => (m instanceof Linear && m.frozen ? s + m.frozen.bytes : s), 0);
const result = {
  shape: shapeName,
  config: shape,
  method: "qlora nf4 + double quantisation, r8 (alpha 16) on q_proj/v_proj, lm_head NF4 too, embeddings bf16, gradient checkpointing",
  seq: SEQ,
  batch: 1,
  parameters: params,
  trainable: applied.counts.trainable,
  peakRssBytes: peak,
  bytesPerParameter: Number((peak / params).toFixed(3)),
  rssAfterBuildBytes: afterLoadKiB * 1024,
  quantizedWeightBytes: quantBytes,
  allocatorPeakBytes: cpuBackend.allocator.stats().peakBytes,
  phases,
  buildS: Number(loadS.toFixed(1)),
  stepS: Number(stepS.toFixed(1)),
  loss: Number(loss.toFixed(4)),
  blas: blasInfo(),
  loadAverage: loadavg(),
};
console.log(JSON.stringify(result, null, 2));
console.log(
  `${shapeName}: ${(params / 1e9).toFixed(2)}B parameters, peak RSS ${(peak / 2 ** 30).toFixed(2)} GiB = ${(peak / params).toFixed(3)} bytes/parameter; step ${stepS.toFixed(1)} s (build ${loadS.toFixed(1)} s; load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")})`,
);
if (args.includes("--write")) console.log(`wrote ${writeResults(`qlora-${shapeName}`, result)}`);

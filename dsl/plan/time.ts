// Predicted step time: the step's FLOPs (flops.ts) over a rate. On the CPU each GEMM class is timed at
// the rate this machine reaches at its shape and the attention kernel at its geometry (probe.ts);
// elementwise work (norms, RoPE, SwiGLU, residuals, cross-entropy, the optimizer) is bytes over the
// measured bandwidth; every op pays the measured dispatch cost. On a named GPU: all FLOPs over the
// published dense rate × gpuEfficiency (devices.ts), with no separate elementwise term.
import { type Device, gpuEfficiency } from "./devices";
import type { StepFlops, TrainShape } from "./flops";
import type { ModelShape } from "./model-shape";
import type { MachineRates } from "./probe";

export interface StepTime {
  readonly seconds: number;
  readonly parts: Readonly<Record<string, number>>;
  /** How the number was reached, for the report. */
  readonly basis: string;
}

/** Ops one decoder layer runs per micro-batch: ~25 forward (7 matmuls, norms, RoPE, attention, SwiGLU, adds, reshapes), twice that backward. */
const opsPerLayerForward = 25;

export function stepTime(
  flops: StepFlops,
  model: ModelShape,
  train: TrainShape,
  trainableParams: number,
  device: Device,
  rates: () => MachineRates,
  bf16: boolean,
): StepTime {
  if (device.kind === "gpu") {
    const rate = (bf16 ? device.bf16Tflops : device.fp32Tflops) * 1e12 * gpuEfficiency;
    return {
      seconds: flops.total / rate,
      parts: { compute: flops.total / rate },
      basis: `${(flops.total / 1e9).toFixed(1)} GFLOP per step at ${gpuEfficiency * 100}% of the ${device.title}'s ${bf16 ? device.bf16Tflops : device.fp32Tflops} TFLOP/s ${bf16 ? "bf16" : "fp32"} dense peak (${device.source})`,
    };
  }
  const r = rates();
  const gemm = flops.gemms.reduce((a, g) => a + (2 * g.m * g.n * g.k * g.calls) / (r.gemm(g.m, g.n, g.k) * 1e9), 0);
  const a = flops.attentionShape;
  const attention = flops.attention / (r.attention(a.batch, a.seq, a.heads, a.kvHeads, a.headDim) * 1e9);
  // Elementwise traffic per token and layer, forward, in floats: two norms (read+write h each), RoPE
  // on q and k, two residual adds (3h each), SwiGLU (3 × intermediate); backward twice that.
  const q = model.heads * model.headDim;
  const kv = model.kvHeads * model.headDim;
  const perTokenLayer = 4 * model.hidden + 2 * (q + kv) + 6 * model.hidden + 3 * model.intermediate * model.expertsPerToken;
  const passes = 1 + 2 + (train.recompute ? 1 : 0);
  const layerBytes = 4 * perTokenLayer * flops.tokens * model.layers * passes;
  // Cross-entropy: the logits read and written by softmax forward and by its gradient.
  const lossBytes = 4 * 4 * flops.tokens * model.vocab;
  // AdamW-like update: parameter, gradient and two moments read, three written.
  const optimizerBytes = 28 * trainableParams;
  const elementwise = (layerBytes + lossBytes + optimizerBytes) / r.bandwidth;
  const opCount = train.accumulate * model.layers * opsPerLayerForward * (1 + 2 + (train.recompute ? 1 : 0));
  const overhead = opCount * r.opSeconds;
  const seconds = gemm + attention + elementwise + overhead;
  return {
    seconds,
    parts: { gemm, attention, elementwise, overhead },
    basis: `${(flops.total / 1e9).toFixed(2)} GFLOP per step at this machine's GEMM and attention rates at the model's shapes, elementwise work at ${(r.bandwidth / 1e9).toFixed(1)} GB/s, ${opCount} ops at ${(r.opSeconds * 1e6).toFixed(0)} µs; rates ${r.source}`,
  };
}

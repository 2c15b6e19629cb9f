// FLOPs of one optimizer step from the model's shape and the recipe's training settings, kept as GEMM
// classes (one per weight shape) so each can be timed at the rate this machine reaches at that shape.
// Forward: 2·m·n·k per GEMM (m = tokens of a micro-batch). Backward: the input gradient (dX = dY·Wᵀ)
// costs one forward wherever a gradient must flow further down, the weight gradient (dW = Xᵀ·dY) one
// more where the weight trains: full training 2× forward, a frozen base under LoRA/QLoRA 1×.
// Attention scores: causal, 2·s²·heads·head_dim per sequence and layer forward; its backward
// recomputes the scores (flash style), 2.5× forward. Activation checkpointing adds a forward of every
// layer; a stage with a frozen reference (DPO, KTO) adds a forward without gradients.
import type { ModelShape } from "./model-shape";

export interface TrainShape {
  /** Sequences per micro-batch and their length (the cutoff: an upper bound, shorter rows run faster). */
  readonly batch: number;
  readonly seq: number;
  readonly accumulate: number;
  /** Which base weights train: every one, none (adapters), or layers from this index up (freeze). */
  readonly baseTrains: "all" | "none" | { readonly fromLayer: number };
  /** Adapters (LoRA family): rank and the module names they wrap; absent for full/freeze. */
  readonly adapter?: { readonly rank: number; readonly targets: readonly string[] };
  readonly recompute: boolean;
  /** Sequences the stage runs per sample (DPO: chosen and rejected). */
  readonly sequencesPerSample: number;
  /** The stage runs a frozen reference forward per micro-batch (DPO, KTO with a reference). */
  readonly referenceForward: boolean;
}

export interface GemmClass {
  readonly label: string;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** GEMMs of this shape per optimizer step (forward, backward and recompute together). */
  readonly calls: number;
}

export interface StepFlops {
  readonly gemms: readonly GemmClass[];
  /** Attention scores and weighted sums, every layer, per step. */
  readonly attention: number;
  /** Tokens per optimizer step. */
  readonly tokens: number;
  /** Attention geometry of one micro-batch (the probe times the kernel at it). */
  readonly attentionShape: { readonly batch: number; readonly seq: number; readonly heads: number; readonly kvHeads: number; readonly headDim: number };
  readonly total: number;
}

const layerLinears = (s: ModelShape): { name: string; n: number; k: number }[] => [
  { name: "q_proj", n: s.heads * s.headDim, k: s.hidden },
  { name: "k_proj", n: s.kvHeads * s.headDim, k: s.hidden },
  { name: "v_proj", n: s.kvHeads * s.headDim, k: s.hidden },
  { name: "o_proj", n: s.hidden, k: s.heads * s.headDim },
  { name: "gate_proj", n: s.intermediate, k: s.hidden },
  { name: "up_proj", n: s.intermediate, k: s.hidden },
  { name: "down_proj", n: s.hidden, k: s.intermediate },
];

export function stepFlops(s: ModelShape, t: TrainShape): StepFlops {
  const sequences = t.batch * t.sequencesPerSample;
  const m = sequences * t.seq;
  const micro = t.accumulate;
  const fromLayer = t.baseTrains === "all" ? 0 : t.baseTrains === "none" ? 0 : Math.min(s.layers, t.baseTrains.fromLayer);
  // Layers whose input gradient is needed: every layer above the lowest one that trains something.
  const gradLayers = s.layers - fromLayer;
  const weightLayers = t.baseTrains === "none" ? 0 : gradLayers;
  const forwardsPerMicro = 1 + (t.recompute ? 1 : 0) + (t.referenceForward ? 1 : 0);
  const gemms: GemmClass[] = [];
  for (const lin of layerLinears(s)) {
    const visits = lin.name.endsWith("_proj") && ["gate_proj", "up_proj", "down_proj"].includes(lin.name) ? s.expertsPerToken : 1;
    const calls = micro * visits * (s.layers * forwardsPerMicro + gradLayers + weightLayers) - (t.recompute ? micro * visits * fromLayer : 0);
    gemms.push({ label: lin.name, m, n: lin.n, k: lin.k, calls });
  }
  // The LM head: forward (and the reference's), its input gradient, its weight gradient when the base trains.
  const headTrains = t.baseTrains === "all";
  gemms.push({ label: "lm_head", m, n: s.vocab, k: s.hidden, calls: micro * (1 + (t.referenceForward ? 1 : 0) + 1 + (headTrains ? 1 : 0)) });
  if (t.adapter !== undefined) {
    // Each adapter is two thin GEMMs (A: k→r, B: r→n), 2·m·r·(k + n): forward, recompute, both gradients.
    const wrapped = layerLinears(s).filter((l) => t.adapter!.targets.includes(l.name) || t.adapter!.targets.includes("all"));
    const widths = wrapped.reduce((a, l) => a + l.n + l.k, 0);
    // As one class: rank × the mean of (in + out) over the wrapped modules gives the same FLOPs.
    if (wrapped.length > 0)
      gemms.push({
        label: "adapters",
        m,
        n: t.adapter.rank,
        k: Math.round(widths / wrapped.length),
        calls: micro * s.layers * wrapped.length * (1 + (t.recompute ? 1 : 0) + 2),
      });
  }
  const attentionForward = 2 * sequences * t.seq * t.seq * s.heads * s.headDim * s.layers;
  const attention = micro * attentionForward * (forwardsPerMicro + (gradLayers / s.layers) * 2.5);
  const total = gemms.reduce((a, g) => a + 2 * g.m * g.n * g.k * g.calls, 0) + attention;
  return {
    gemms,
    attention,
    tokens: m * micro,
    attentionShape: { batch: sequences, seq: t.seq, heads: s.heads, kvHeads: s.kvHeads, headDim: s.headDim },
    total,
  };
}

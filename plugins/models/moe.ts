// A sparse mixture-of-experts feed-forward block as Mixtral's `block_sparse_moe`: a router `gate` scores
// every token, each token's top-k experts (gated MLPs w2(act(w1 x) * w3 x)) run on the tokens routed to
// them only, and their outputs are summed with the router weights. Built from differentiable ops, so
// gradients reach the router (through the chosen weights) and every expert (through its rows).
import { type FeedForward, type GatedActivation, Linear, Module, ModuleList, type Tensor, ops, tensor } from "../../core/index.ts";

export interface SparseMoeConfig {
  hiddenSize: number;
  /** each expert's inner size (Mixtral's intermediate_size) */
  intermediateSize: number;
  numExperts: number;
  /** experts per token (num_experts_per_tok) */
  topK: number;
  act: GatedActivation;
}

/** One expert: Mixtral's `MixtralBlockSparseTop2MLP` (w1 = gate, w3 = up, w2 = down). */
export class MoeExpert extends Module {
  readonly w1: Linear;
  readonly w2: Linear;
  readonly w3: Linear;
  constructor(
    hidden: number,
    inner: number,
    readonly act: GatedActivation,
  ) {
    super();
    this.w1 = this.addModule("w1", new Linear(hidden, inner));
    this.w2 = this.addModule("w2", new Linear(inner, hidden));
    this.w3 = this.addModule("w3", new Linear(hidden, inner));
  }

  /** x [n, hidden] -> [n, hidden] */
  forward(x: Tensor): Tensor {
    const g = this.w1.forward(x);
    const u = this.w3.forward(x);
    return this.w2.forward(this.act === "silu" ? ops.swiglu(g, u) : ops.mul(ops.geluTanh(g), u));
  }
}

/** For each row of scores [N, E], the k largest columns (ties to the lower index, as torch.topk). */
function topK(scores: ArrayLike<number>, E: number, k: number): Int32Array {
  const N = scores.length / E;
  const out = new Int32Array(N * k);
  const cols = Array.from({ length: E }, (_, e) => e);
  for (let n = 0; n < N; n++) {
    const row = (e: number) => scores[n * E + e]!;
    const best = [...cols].sort((a, b) => row(b) - row(a) || a - b);
    for (let j = 0; j < k; j++) out[n * k + j] = best[j]!;
  }
  return out;
}

const i32 = (a: ArrayLike<number>) => tensor(a, [a.length], { dtype: "i32" });

export class SparseMoeBlock extends Module implements FeedForward {
  readonly gate: Linear;
  readonly experts: ModuleList<MoeExpert>;

  constructor(readonly cfg: SparseMoeConfig) {
    super();
    if (!(cfg.topK >= 1 && cfg.topK <= cfg.numExperts)) throw new RangeError(`sparse MoE: top-k ${cfg.topK} must be within 1..${cfg.numExperts} experts`);
    this.gate = this.addModule("gate", new Linear(cfg.hiddenSize, cfg.numExperts));
    this.experts = this.addModule("experts", new ModuleList(Array.from({ length: cfg.numExperts }, () => new MoeExpert(cfg.hiddenSize, cfg.intermediateSize, cfg.act))));
  }

  /** x [..., hidden] -> [..., hidden] */
  forward(x: Tensor): Tensor {
    const { hiddenSize: H, numExperts: E, topK: k } = this.cfg;
    const N = x.numel / H;
    const x2 = ops.reshape(x, [N, H]);
    const logits = this.gate.forward(x2);
    // Routing is a discrete choice: made on the host from the logits (softmax keeps their order).
    const chosen = topK(logits.toArray(), E, k);
    // HF: softmax over all E, keep the top k, divide by their sum. The full softmax's denominator cancels,
    // so this is the softmax of the k chosen logits: the same weights and the same router gradient.
    const pickIds = i32(Array.from(chosen, (e, i) => Math.floor(i / k) * E + e));
    const weights = ops.softmax(ops.reshape(ops.embedding(ops.reshape(logits, [N * E, 1]), pickIds), [N, k]));
    pickIds.dispose();
    // Group (token, slot) pairs by expert; each expert runs once over its gathered rows.
    const outs: Tensor[] = [];
    const tokenOfRow: number[] = [];
    const slotOfRow: number[] = [];
    for (let e = 0; e < E; e++) {
      const tokens: number[] = [];
      chosen.forEach((c, slot) => {
        if (c !== e) return;
        tokens.push(Math.floor(slot / k));
        slotOfRow.push(slot);
      });
      if (!tokens.length) continue;
      const ids = i32(tokens);
      outs.push(this.experts.at(e).forward(ops.embedding(x2, ids)));
      ids.dispose();
      tokenOfRow.push(...tokens);
    }
    if (!outs.length) return ops.scale(x, 0); // no tokens (an empty batch): nothing was routed
    const y = outs.length === 1 ? outs[0]! : ops.concat(outs, 0);
    // Each row times its weight: [M, 1] @ ones [1, H] spreads the weight across the row.
    const slots = i32(slotOfRow);
    const ones = tensor(new Float32Array(H).fill(1), [1, H]);
    const w = ops.matmul(ops.embedding(ops.reshape(weights, [N * k, 1]), slots), ones);
    slots.dispose();
    ones.dispose();
    const tokens = i32(tokenOfRow);
    const out = ops.scatterAddRows(ops.mul(y, w), tokens, N);
    tokens.dispose();
    return ops.reshape(out, x.shape);
  }
}

// An independent float64 forward of transformers' Qwen2MoeForCausalLM and Qwen3MoeForCausalLM, written from
// modeling_qwen2_moe.py / modeling_qwen3_moe.py: pre-norm layers of GQA attention (Qwen2-MoE: q/k/v bias
// by qkv_bias; Qwen3-MoE: per-head q/k RMSNorm, attention_bias) and an `mlp` that is the sparse block on
// layers that are not in mlp_only_layers with (i + 1) % decoder_sparse_step == 0, else a dense MLP: the
// sparse block takes softmax(gate(x)) over all experts, keeps the top k (renormalised when norm_topk_prob),
// sums those experts' outputs with the weights, and (Qwen2-MoE) adds sigmoid(shared_expert_gate(x)) *
// shared_expert(x). Also the router load-balancing loss (load_balancing_loss_func) over given router logits.
// Reads config.json keys with the HF config classes' defaults and HF weight names; nothing from lft.
import type { HfConfig } from "../../../../core/index.ts";
import { act, linear, rmsNorm, rope, softmax, type Weights, w } from "./primitives.ts";

/** Which of the two Qwen MoE definitions a config is, from its model_type. */
const isQwen3 = (c: HfConfig) => c.model_type === "qwen3_moe";

/** Indices of the k largest entries (ties to the lower index, as torch.topk). */
export function topIndices(xs: readonly number[], k: number): number[] {
  return xs
    .map((v, i) => [v, i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => i);
}

function denseMlp(x: Float64Array, W: Weights, p: string): Float64Array {
  const g = linear(x, w(W, `${p}.gate_proj.weight`));
  const u = linear(x, w(W, `${p}.up_proj.weight`));
  return linear(
    g.map((v, i) => act("silu", v) * u[i]!),
    w(W, `${p}.down_proj.weight`),
  );
}

/** One token through a sparse block; its router logits go to `logitsOut`. */
function sparseMlp(x: Float64Array, W: Weights, p: string, c: HfConfig, logitsOut: number[][]): Float64Array {
  const E = (c.num_experts as number | undefined) ?? (isQwen3(c) ? 128 : 60);
  const k = (c.num_experts_per_tok as number | undefined) ?? (isQwen3(c) ? 8 : 4);
  const logits = [...linear(x, w(W, `${p}.gate.weight`))];
  if (logits.length !== E) throw new Error(`reference: router of ${logits.length} experts, config says ${E}`);
  logitsOut.push(logits);
  const probs = softmax(logits);
  const top = topIndices(probs, k);
  let weights = top.map((e) => probs[e]!);
  if (c.norm_topk_prob === true) {
    const s = weights.reduce((a, b) => a + b, 0);
    weights = weights.map((v) => v / s);
  }
  const out = new Float64Array(x.length);
  top.forEach((e, j) => {
    const y = denseMlp(x, W, `${p}.experts.${e}`);
    for (let i = 0; i < out.length; i++) out[i]! += weights[j]! * y[i]!;
  });
  if (!isQwen3(c)) {
    const gate = 1 / (1 + Math.exp(-linear(x, w(W, `${p}.shared_expert_gate.weight`))[0]!));
    const s = denseMlp(x, W, `${p}.shared_expert`);
    for (let i = 0; i < out.length; i++) out[i]! += gate * s[i]!;
  }
  return out;
}

/** Whether layer i's mlp is the sparse block. */
export function isSparse(c: HfConfig, i: number): boolean {
  const only = (c.mlp_only_layers as number[] | null | undefined) ?? [];
  const step = (c.decoder_sparse_step as number | undefined) ?? 1;
  const E = (c.num_experts as number | undefined) ?? 1;
  return !only.includes(i) && E > 0 && (i + 1) % step === 0;
}

/**
 * logits [row][t][vocab] for Qwen2-MoE / Qwen3-MoE; `routerLogits` (when given) receives each sparse
 * layer's router logits in transformers' order: layer by layer, each [B * T][E] row-major.
 */
export function qwenMoeForward(c: HfConfig, W: Weights, rows: number[][], routerLogits?: number[][][]): Float64Array[][] {
  const H = c.hidden_size as number;
  const L = c.num_hidden_layers as number;
  const nh = c.num_attention_heads as number;
  const nkv = (c.num_key_value_heads as number | undefined) ?? nh;
  const D = (c.head_dim as number | undefined) ?? H / nh;
  const eps = (c.rms_norm_eps as number | undefined) ?? 1e-6;
  const theta = (c.rope_theta as number | undefined) ?? 10000;
  const invFreq = Array.from({ length: D / 2 }, (_, i) => 1 / theta ** ((2 * i) / D));
  const qkvBias = isQwen3(c) ? c.attention_bias === true : c.qkv_bias !== false;
  const oBias = isQwen3(c) && c.attention_bias === true;
  // hidden states per row, per position
  let hs = rows.map((row) => row.map((id) => Float64Array.from(w(W, "model.embed_tokens.weight").subarray(id * H, (id + 1) * H))));
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}`;
    const layerLogits: number[][] = [];
    hs = hs.map((seq) => {
      const normed = seq.map((x) => rmsNorm(x, w(W, `${p}.input_layernorm.weight`), eps, false));
      const bias = (n: string) => (qkvBias ? w(W, `${p}.self_attn.${n}.bias`) : undefined);
      const heads = (v: Float64Array, n: number) => Array.from({ length: n }, (_, h) => v.slice(h * D, (h + 1) * D));
      const qs = normed.map((x, t) =>
        heads(linear(x, w(W, `${p}.self_attn.q_proj.weight`), bias("q_proj")), nh).map((q) =>
          rope(isQwen3(c) ? rmsNorm(q, w(W, `${p}.self_attn.q_norm.weight`), eps, false) : q, t, invFreq, 1),
        ),
      );
      const ks = normed.map((x, t) =>
        heads(linear(x, w(W, `${p}.self_attn.k_proj.weight`), bias("k_proj")), nkv).map((k) =>
          rope(isQwen3(c) ? rmsNorm(k, w(W, `${p}.self_attn.k_norm.weight`), eps, false) : k, t, invFreq, 1),
        ),
      );
      const vs = normed.map((x) => heads(linear(x, w(W, `${p}.self_attn.v_proj.weight`), bias("v_proj")), nkv));
      const attended = qs.map((qh, t) => {
        const o = new Float64Array(nh * D);
        qh.forEach((q, h) => {
          const g = Math.floor(h / (nh / nkv));
          const scores = Array.from({ length: t + 1 }, (_, s) => {
            let dot = 0;
            for (let d = 0; d < D; d++) dot += q[d]! * ks[s]![g]![d]!;
            return dot / Math.sqrt(D);
          });
          softmax(scores).forEach((a, s) => {
            for (let d = 0; d < D; d++) o[h * D + d]! += a * vs[s]![g]![d]!;
          });
        });
        return o;
      });
      const h1 = seq.map((x, t) => {
        const a = linear(attended[t]!, w(W, `${p}.self_attn.o_proj.weight`), oBias ? w(W, `${p}.self_attn.o_proj.bias`) : undefined);
        return x.map((v, i) => v + a[i]!);
      });
      return h1.map((x) => {
        const n = rmsNorm(x, w(W, `${p}.post_attention_layernorm.weight`), eps, false);
        const m = isSparse(c, l) ? sparseMlp(n, W, `${p}.mlp`, c, layerLogits) : denseMlp(n, W, `${p}.mlp`);
        return x.map((v, i) => v + m[i]!);
      });
    });
    if (routerLogits && isSparse(c, l)) routerLogits.push(layerLogits);
  }
  const head = c.tie_word_embeddings === true ? w(W, "model.embed_tokens.weight") : w(W, "lm_head.weight");
  return hs.map((seq) => seq.map((x) => linear(rmsNorm(x, w(W, "model.norm.weight"), eps, false), head)));
}

/**
 * transformers' load_balancing_loss_func over per-layer router logits [layer][token][E] with an optional
 * attention mask (one 0/1 per token, the same token order): E * sum_j sum_e tokens_per_expert[j][e] *
 * router_prob_per_expert[e], means over the unmasked rows of all layers concatenated.
 */
export function loadBalancingLoss(layers: number[][][], E: number, k: number, mask?: number[]): number {
  const rows = layers.flatMap((layer) => layer.map((logits, t) => ({ logits, m: mask ? mask[t]! : 1 })));
  const denom = rows.reduce((a, r) => a + r.m, 0);
  const tokensPerExpert = Array.from({ length: k }, () => new Array<number>(E).fill(0));
  const probPerExpert = new Array<number>(E).fill(0);
  for (const { logits, m } of rows) {
    const probs = softmax(logits);
    topIndices(probs, k).forEach((e, j) => {
      tokensPerExpert[j]![e]! += m / denom;
    });
    probs.forEach((p, e) => {
      probPerExpert[e]! += (m * p) / denom;
    });
  }
  let loss = 0;
  for (let j = 0; j < k; j++) for (let e = 0; e < E; e++) loss += tokensPerExpert[j]![e]! * probPerExpert[e]!;
  return loss * E;
}

/** The RefForward the family checks call. */
export const qwenMoeRef = (c: HfConfig, W: Weights, rows: number[][]) => qwenMoeForward(c, W, rows);

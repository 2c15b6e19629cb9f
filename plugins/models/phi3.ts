// The phi3 family (Phi-3 and Phi-3.5 mini/medium, Phi-4-mini): one fused `qkv_proj` and one fused
// `gate_up_proj` (gate first), a sliding window on every layer when the config sets one, and LongRoPE
// (`rope_scaling` type longrope, formerly su) for the 128k-context checkpoints.
import {
  type AttentionContext,
  attendHeads,
  ConfigReader,
  defineModelFamily,
  type FeedForward,
  gatedActivation,
  type HeadsConfig,
  type HfConfig,
  Linear,
  Module,
  modelFamilyPlugin,
  ops,
  type RopeScaling,
  type SelfAttention,
  type Tensor,
} from "../../core/index.ts";
import { LlamaForCausalLM, llamaAttentionConfig } from "./llama.ts";
import { type LlamaSpec, readLlamaConfig, readWindow } from "./llama-config.ts";

/** Phi3Config renames the older `su` and `yarn` types to longrope. */
const LONGROPE = ["longrope", "su", "yarn"];

/** The rope_scaling (or transformers 5 rope_parameters) object when it asks for LongRoPE. */
function longropeOf(c: HfConfig): Record<string, unknown> | null {
  for (const k of ["rope_scaling", "rope_parameters"]) {
    const s = c[k] as Record<string, unknown> | null | undefined;
    if (s && typeof s === "object" && LONGROPE.includes(String(s.rope_type ?? s.type))) return s;
  }
  return null;
}

/** The config without its LongRoPE entry, so the shared reader sees plain RoPE (theta kept). */
function phi3View(c: HfConfig): HfConfig {
  const s = longropeOf(c);
  if (!s) return c;
  const rest = { ...c, rope_scaling: null, rope_parameters: null };
  if (s === c.rope_parameters)
    return { ...rest, rope_theta: s.rope_theta ?? c.rope_theta, partial_rotary_factor: s.partial_rotary_factor ?? c.partial_rotary_factor };
  return rest;
}

/**
 * HF's `_compute_longrope_parameters` for Phi-3: the original context comes from
 * original_max_position_embeddings (class default 4096), the factor is max_position_embeddings over it,
 * and unless given, attention_factor = sqrt(1 + ln(factor) / ln(original)) (1 when factor <= 1).
 */
function readLongrope(r: ConfigReader, raw: Record<string, unknown>, rotaryDim: number, maxPositions: number): RopeScaling {
  const sub = new ConfigReader(raw as HfConfig, `${r.where} rope_scaling`);
  const factors = (key: string): number[] => {
    const v = raw[key];
    if (Array.isArray(v) && v.length === rotaryDim / 2 && v.every((x) => typeof x === "number" && x > 0)) return v as number[];
    sub.fail(`"${key}" must list ${rotaryDim / 2} positive numbers (one per rotary frequency), got ${JSON.stringify(v)}`);
    return new Array<number>(rotaryDim / 2).fill(1);
  };
  const shortFactor = factors("short_factor");
  const longFactor = factors("long_factor");
  const original = r.has("original_max_position_embeddings") ? r.int("original_max_position_embeddings") : sub.int("original_max_position_embeddings", 4096);
  const factor = maxPositions / original;
  const attentionFactor = sub.has("attention_factor") ? sub.num("attention_factor") : factor <= 1 ? 1 : Math.sqrt(1 + Math.log(factor) / Math.log(original));
  r.problems.push(...sub.problems);
  return { type: "longrope", shortFactor, longFactor, originalMaxPositionEmbeddings: original, attentionFactor };
}

/** Phi3Attention: one `qkv_proj` [(Hq + 2 Hkv) D, hidden] (q rows, then k, then v), no biases. */
export class Phi3Attention extends Module implements SelfAttention {
  readonly qkv_proj: Linear;
  readonly o_proj: Linear;
  private readonly heads: HeadsConfig;

  constructor(
    spec: LlamaSpec,
    readonly layerIndex: number,
  ) {
    super();
    this.heads = llamaAttentionConfig(spec, layerIndex);
    const { numHeads: hq, numKvHeads: hkv, headDim: d } = this.heads;
    this.qkv_proj = this.addModule("qkv_proj", new Linear(spec.hiddenSize, (hq + 2 * hkv) * d));
    this.o_proj = this.addModule("o_proj", new Linear(hq * d, spec.hiddenSize));
  }

  /** x [B, T, hidden] -> [B, T, hidden] */
  forward(x: Tensor, ctx: AttentionContext): Tensor {
    const { numHeads: hq, numKvHeads: hkv, headDim: d } = this.heads;
    const qkv = this.qkv_proj.forward(x);
    const [q, k, v] = [ops.slice(qkv, -1, 0, hq * d), ops.slice(qkv, -1, hq * d, (hq + hkv) * d), ops.slice(qkv, -1, (hq + hkv) * d, (hq + 2 * hkv) * d)];
    return this.o_proj.forward(attendHeads(this.heads, this.layerIndex, q, k, v, ctx));
  }
}

/** Phi3MLP: one `gate_up_proj` [2 I, hidden] (gate rows first), then down_proj. */
export class Phi3MLP extends Module implements FeedForward {
  readonly gate_up_proj: Linear;
  readonly down_proj: Linear;

  constructor(readonly spec: LlamaSpec) {
    super();
    this.gate_up_proj = this.addModule("gate_up_proj", new Linear(spec.hiddenSize, 2 * spec.intermediateSize));
    this.down_proj = this.addModule("down_proj", new Linear(spec.intermediateSize, spec.hiddenSize));
  }

  /** x [..., hidden] -> [..., hidden] */
  forward(x: Tensor): Tensor {
    const i = this.spec.intermediateSize;
    const gu = this.gate_up_proj.forward(x);
    return this.down_proj.forward(gatedActivation(this.spec.hiddenAct, ops.slice(gu, -1, 0, i), ops.slice(gu, -1, i, 2 * i)));
  }
}

export const phi3 = defineModelFamily<LlamaSpec>({
  name: "phi3",
  doc: "Phi-3, Phi-3.5 and Phi-4-mini (fused qkv_proj and gate_up_proj, sliding window, LongRoPE, partial rotary)",
  modelTypes: ["phi3"],
  fromConfig: (config, where) =>
    readLlamaConfig(config, "phi3", {
      where,
      view: phi3View,
      extend: (r, base) => {
        // Residual and embedding dropout have no place in lft's decoder: refuse rather than ignore them.
        for (const k of ["resid_pdrop", "embd_pdrop"])
          if (r.num(k, 0) !== 0) r.fail(`${k} ${String(r.config[k])} is not supported (no dropout in the decoder); set it to 0.0`);
        const raw = longropeOf(config);
        const scaling = raw ? readLongrope(r, raw, base.rope.rotaryDim, base.rope.maxPositionEmbeddings) : null;
        return {
          qkvBias: false,
          oBias: false,
          mlpBias: false,
          slidingWindows: new Array<number>(base.numLayers).fill(readWindow(r, 0)),
          rope: scaling ? { ...base.rope, scaling } : base.rope,
        };
      },
    }),
  build: (spec) => new LlamaForCausalLM(spec, { attention: (s, i) => new Phi3Attention(s, i), feedForward: (s) => ({ name: "mlp", module: new Phi3MLP(s) }) }),
  adapterTargets: ["qkv_proj", "o_proj", "gate_up_proj", "down_proj"],
  tiny: {
    tokenizer: "phi-3-mini",
    config: {
      architectures: ["Phi3ForCausalLM"],
      model_type: "phi3",
      attention_bias: false,
      attention_dropout: 0.0,
      bos_token_id: 1,
      embd_pdrop: 0.0,
      eos_token_id: 32000,
      hidden_act: "silu",
      hidden_size: 32,
      initializer_range: 0.02,
      intermediate_size: 64,
      // The 128k-context layout (Phi-3-mini-128k): LongRoPE over a 4k original context.
      max_position_embeddings: 131072,
      num_attention_heads: 4,
      num_hidden_layers: 2,
      num_key_value_heads: 2,
      original_max_position_embeddings: 4096,
      pad_token_id: 32000,
      resid_pdrop: 0.0,
      rms_norm_eps: 1e-5,
      rope_scaling: { type: "longrope", short_factor: [1.0, 1.05, 1.3, 2.1], long_factor: [1.1, 2.5, 9.0, 40.0] },
      rope_theta: 10000.0,
      sliding_window: 262144,
      tie_word_embeddings: false,
      torch_dtype: "float32",
      use_cache: true,
      vocab_size: 32064,
    },
  },
});

export default modelFamilyPlugin(phi3);

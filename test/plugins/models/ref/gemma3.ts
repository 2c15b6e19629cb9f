// An independent float64 forward of Gemma 3 text (transformers' modeling_gemma3.py, Gemma3ForCausalLM),
// written from the published definition: config.json keys with Gemma3TextConfig's defaults, HF weight
// names, plain loops. Local ("sliding_attention") layers attend within the window and rotate with
// rope_local_base_freq unscaled; global layers attend causally and rotate with rope_theta and rope_scaling.
import type { HfConfig } from "../../../../core/index.ts";
import { act, linear, rmsNorm, rope, softmax, type Weights, w } from "./primitives.ts";

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** theta^(-2i/dim), then the rope_type's change (Gemma 3 uses default and linear). */
function invFreq(dim: number, theta: number, params: Obj | null): number[] {
  const base = Array.from({ length: dim / 2 }, (_, i) => 1 / theta ** ((2 * i) / dim));
  const type = (params?.rope_type ?? params?.type ?? "default") as string;
  if (type === "default") return base;
  if (type === "linear") return base.map((f) => f / (params!.factor as number));
  throw new Error(`gemma3 reference: rope type ${type} is not written here`);
}

/** Gemma3TextConfig's value of `k`: absent -> the class default, null stays null. */
function key<T>(c: HfConfig, k: string, dflt: T): T | null {
  return c[k] === undefined ? dflt : (c[k] as T | null);
}

interface Layer {
  local: boolean;
  window: number;
  invFreq: number[];
}

function layersOf(c: HfConfig, headDim: number): Layer[] {
  const n = c.num_hidden_layers as number;
  const pattern = (c.sliding_window_pattern ?? c._sliding_window_pattern ?? 6) as number;
  const types = (c.layer_types as string[] | undefined) ?? Array.from({ length: n }, (_, i) => ((i + 1) % pattern ? "sliding_attention" : "full_attention"));
  // transformers 5: one rope_parameters entry per layer type; before: rope_theta + rope_scaling (global) and rope_local_base_freq.
  const perType = isObj(c.rope_parameters) && ("full_attention" in c.rope_parameters || "sliding_attention" in c.rope_parameters) ? c.rope_parameters : null;
  const globalTheta = (c.rope_theta as number | undefined) ?? 1_000_000;
  const localTheta = (c.rope_local_base_freq as number | undefined) ?? 10_000;
  let global: number[];
  let local: number[];
  if (perType) {
    const g = isObj(perType.full_attention) ? perType.full_attention : {};
    const l = isObj(perType.sliding_attention) ? perType.sliding_attention : {};
    global = invFreq(headDim, (g.rope_theta as number | undefined) ?? globalTheta, g);
    local = invFreq(headDim, (l.rope_theta as number | undefined) ?? localTheta, l);
  } else {
    global = invFreq(headDim, globalTheta, isObj(c.rope_scaling) ? c.rope_scaling : null);
    local = invFreq(headDim, localTheta, null);
  }
  const window = key<number>(c, "sliding_window", 4096) ?? 0;
  return types.map((t) => (t === "sliding_attention" ? { local: true, window, invFreq: local } : { local: false, window: 0, invFreq: global }));
}

/** logits [row][t][vocab] of Gemma3ForCausalLM for config `c` and weights W. */
export function gemma3Reference(c: HfConfig, W: Weights, rows: number[][]): Float64Array[][] {
  const hidden = c.hidden_size as number;
  const heads = (c.num_attention_heads as number | undefined) ?? 8;
  const kvHeads = (c.num_key_value_heads as number | undefined) ?? 4;
  const headDim = (c.head_dim as number | undefined) ?? 256;
  const vocab = c.vocab_size as number;
  const eps = (c.rms_norm_eps as number | undefined) ?? 1e-6;
  const scale = ((c.query_pre_attn_scalar as number | undefined) ?? 256) ** -0.5;
  const finalCap = key<number>(c, "final_logit_softcapping", 0) ?? 0;
  const bias = (c.attention_bias as boolean | undefined) ?? false;
  const tied = (c.tie_word_embeddings as boolean | undefined) ?? true;
  const layers = layersOf(c, headDim);
  // Gemma3TextScaledWordEmbedding multiplies by sqrt(hidden) held in the weights' dtype (f32 here).
  const embedScale = Math.fround(Math.sqrt(hidden));
  const E = w(W, "model.embed_tokens.weight");
  const norm = (x: Float64Array, name: string) => rmsNorm(x, w(W, name), eps, true);
  const b = (name: string) => (bias ? w(W, name) : undefined);

  return rows.map((ids) => {
    const T = ids.length;
    let xs = ids.map((id) => E.slice(id * hidden, (id + 1) * hidden).map((v) => v * embedScale));
    layers.forEach((layer, l) => {
      const p = `model.layers.${l}.`;
      const a = `${p}self_attn.`;
      const h = xs.map((x) => norm(x, `${p}input_layernorm.weight`));
      // Per position: q [heads][headDim], k and v [kvHeads][headDim]; q_norm/k_norm per head, then RoPE.
      const split = (v: Float64Array, n: number) => Array.from({ length: n }, (_, i) => v.slice(i * headDim, (i + 1) * headDim));
      const q = h.map((x, t) =>
        split(linear(x, w(W, `${a}q_proj.weight`), b(`${a}q_proj.bias`)), heads).map((v) => rope(norm(v, `${a}q_norm.weight`), t, layer.invFreq, 1)),
      );
      const k = h.map((x, t) =>
        split(linear(x, w(W, `${a}k_proj.weight`), b(`${a}k_proj.bias`)), kvHeads).map((v) => rope(norm(v, `${a}k_norm.weight`), t, layer.invFreq, 1)),
      );
      const v = h.map((x) => split(linear(x, w(W, `${a}v_proj.weight`), b(`${a}v_proj.bias`)), kvHeads));
      const attn = Array.from({ length: T }, (_, i) => {
        const out = new Float64Array(heads * headDim);
        for (let hd = 0; hd < heads; hd++) {
          const kv = Math.floor(hd / (heads / kvHeads));
          const keys: number[] = [];
          const scores: number[] = [];
          for (let j = 0; j <= i; j++) {
            if (layer.window > 0 && j <= i - layer.window) continue;
            let s = 0;
            for (let d = 0; d < headDim; d++) s += q[i]![hd]![d]! * k[j]![kv]![d]!;
            // Gemma3Attention never passes attn_logit_softcapping to the attention function: no cap here.
            s *= scale;
            keys.push(j);
            scores.push(s);
          }
          const pr = softmax(scores);
          keys.forEach((j, n) => {
            for (let d = 0; d < headDim; d++) out[hd * headDim + d]! += pr[n]! * v[j]![kv]![d]!;
          });
        }
        return out;
      });
      xs = xs.map((x, t) => {
        const o = norm(linear(attn[t]!, w(W, `${a}o_proj.weight`), b(`${a}o_proj.bias`)), `${p}post_attention_layernorm.weight`);
        const r = x.map((v, i) => v + o[i]!);
        const m = norm(r, `${p}pre_feedforward_layernorm.weight`);
        const gate = linear(m, w(W, `${p}mlp.gate_proj.weight`));
        const up = linear(m, w(W, `${p}mlp.up_proj.weight`));
        const down = linear(
          gate.map((g, i) => act("gelu_pytorch_tanh", g) * up[i]!),
          w(W, `${p}mlp.down_proj.weight`),
        );
        const f = norm(down, `${p}post_feedforward_layernorm.weight`);
        return r.map((v, i) => v + f[i]!);
      });
    });
    const head = tied ? E : w(W, "lm_head.weight");
    return xs.map((x) => {
      const logits = linear(norm(x, "model.norm.weight"), head);
      if (logits.length !== vocab) throw new Error(`gemma3 reference: ${logits.length} logits for vocab ${vocab}`);
      return finalCap > 0 ? logits.map((z) => finalCap * Math.tanh(z / finalCap)) : logits;
    });
  });
}

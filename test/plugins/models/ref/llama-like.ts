// An independent float64 forward of a Llama-layout decoder as transformers' modeling_llama.py writes it
// (pre-RMSNorm residual layers, GQA attention with rotate_half RoPE, SiLU-gated MLP, final norm, head or
// tied embeddings), with the switches the smollm3 / internlm3 / mistral3 references need: per-layer RoPE
// on/off, per-layer windows, bias per projection group, and a weight-name prefix. Plain loops over config
// keys and HF weight names; nothing from lft's model code.
import type { HfConfig } from "../../../../core/index.ts";
import { act, linear, rmsNorm, rope, softmax, type Weights, w } from "./primitives.ts";

export interface LlamaLikeOptions {
  /** The decoder's weight prefix: "model." ("language_model.model." in Mistral 3). */
  prefix: string;
  /** The untied head's weight name. */
  head: string;
  /** Whether layer i rotates q and k. */
  ropeOn: (layer: number) => boolean;
  /** Layer i's sliding window (0 = full causal). */
  window: (layer: number) => number;
  qkvBias: boolean;
  oBias: boolean;
  mlpBias: boolean;
  tied: boolean;
}

/** RoPE inverse frequencies: default, linear (positions / factor) and dynamic NTK (base grows past max_position_embeddings). */
export function invFrequencies(c: HfConfig, headDim: number, seqLen: number): number[] {
  const scaling = (c.rope_scaling ?? null) as { rope_type?: string; type?: string; factor?: number } | null;
  const type = scaling ? (scaling.rope_type ?? scaling.type ?? "default") : "default";
  let base = Number(c.rope_theta ?? 10000);
  const maxPos = Number(c.max_position_embeddings ?? 2048);
  const factor = Number(scaling?.factor ?? 1);
  if (type === "dynamic" && seqLen > maxPos) base *= ((factor * seqLen) / maxPos - (factor - 1)) ** (headDim / (headDim - 2));
  const out: number[] = [];
  for (let i = 0; i < headDim / 2; i++) out.push(1 / base ** ((2 * i) / headDim) / (type === "linear" ? factor : 1));
  if (type !== "default" && type !== "linear" && type !== "dynamic") throw new Error(`reference: rope type ${type}`);
  return out;
}

export function llamaLikeForward(c: HfConfig, W: Weights, rows: number[][], o: LlamaLikeOptions): Float64Array[][] {
  const H = Number(c.hidden_size);
  const hq = Number(c.num_attention_heads);
  const hkv = Number(c.num_key_value_heads ?? hq);
  const d = Number(c.head_dim ?? H / hq);
  const L = Number(c.num_hidden_layers);
  const eps = Number(c.rms_norm_eps ?? 1e-6);
  const kind = (c.hidden_act ?? "silu") === "silu" ? "silu" : "gelu_pytorch_tanh";
  const T = rows[0]!.length;
  const inv = invFrequencies(c, d, T);
  const p = o.prefix;
  const b = (name: string, on: boolean) => (on ? w(W, name) : undefined);
  const embed = w(W, `${p}embed_tokens.weight`);
  return rows.map((row) => {
    let xs = row.map((id) => embed.slice(id * H, (id + 1) * H));
    for (let l = 0; l < L; l++) {
      const lp = `${p}layers.${l}.`;
      const a = `${lp}self_attn.`;
      const hs = xs.map((x) => rmsNorm(x, w(W, `${lp}input_layernorm.weight`), eps, false));
      const head = (v: Float64Array, h: number) => v.slice(h * d, (h + 1) * d);
      const posed = (v: Float64Array, t: number) => (o.ropeOn(l) ? rope(v, t, inv, 1) : v);
      const qs = hs.map((x) => linear(x, w(W, `${a}q_proj.weight`), b(`${a}q_proj.bias`, o.qkvBias)));
      const ks = hs.map((x) => linear(x, w(W, `${a}k_proj.weight`), b(`${a}k_proj.bias`, o.qkvBias)));
      const vs = hs.map((x) => linear(x, w(W, `${a}v_proj.weight`), b(`${a}v_proj.bias`, o.qkvBias)));
      const window = o.window(l);
      const attended = qs.map((q, t) => {
        const out = new Float64Array(hq * d);
        for (let h = 0; h < hq; h++) {
          const g = Math.floor(h / (hq / hkv));
          const qh = posed(head(q, h), t);
          const keys: number[] = [];
          for (let j = 0; j <= t; j++) if (window === 0 || t - j < window) keys.push(j);
          const scores = keys.map((j) => {
            const kh = posed(head(ks[j]!, g), j);
            let s = 0;
            for (let i = 0; i < d; i++) s += qh[i]! * kh[i]!;
            return s / Math.sqrt(d);
          });
          const pr = softmax(scores);
          keys.forEach((j, n) => {
            const vh = head(vs[j]!, g);
            for (let i = 0; i < d; i++) out[h * d + i]! += pr[n]! * vh[i]!;
          });
        }
        return linear(out, w(W, `${a}o_proj.weight`), b(`${a}o_proj.bias`, o.oBias));
      });
      xs = xs.map((x, t) => x.map((v, i) => v + attended[t]![i]!));
      const m = `${lp}mlp.`;
      xs = xs.map((x) => {
        const n = rmsNorm(x, w(W, `${lp}post_attention_layernorm.weight`), eps, false);
        const gate = linear(n, w(W, `${m}gate_proj.weight`), b(`${m}gate_proj.bias`, o.mlpBias));
        const up = linear(n, w(W, `${m}up_proj.weight`), b(`${m}up_proj.bias`, o.mlpBias));
        const y = linear(
          gate.map((g, i) => act(kind, g) * up[i]!),
          w(W, `${m}down_proj.weight`),
          b(`${m}down_proj.bias`, o.mlpBias),
        );
        return x.map((v, i) => v + y[i]!);
      });
    }
    const headW = o.tied ? embed : w(W, o.head);
    return xs.map((x) => linear(rmsNorm(x, w(W, `${p}norm.weight`), eps, false), headW));
  });
}

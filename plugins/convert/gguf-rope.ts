// RoPE and its scaling in a GGUF file, as llama.cpp's convert_hf_to_gguf.py writes them and llama.cpp
// reads them: `linear` and `yarn` as <arch>.rope.* keys; Llama 3.1's `llama3` as a `rope_freqs.weight`
// tensor (head_dim/2 f32 divisors of each frequency, LlamaModel.generate_extra_tensors). Scalings llama.cpp
// would compute differently (dynamic NTK, LongRoPE, a YaRN with its own betas, attention factor or no
// truncation) are refused with the reason, rather than written into a file that would generate otherwise.
import { err, ok, type Result } from "neverthrow";
import { f32, type GgufValue, str, u32 } from "./gguf-file.ts";

type Json = Record<string, unknown>;

const num = (o: Json, key: string): number | undefined => (typeof o[key] === "number" ? (o[key] as number) : undefined);

/** The scaling block as the converter reads it: rope_parameters (transformers 5) or rope_scaling; {} when none. */
export function ropeParameters(config: Json): Json {
  const raw = (config.rope_parameters ?? config.rope_scaling ?? {}) as Json;
  return ((raw.full_attention as Json | undefined) ?? raw) as Json;
}

/** rope_type (or the older `type`), lower case; null for none/default. */
export function ropeScalingType(config: Json): string | null {
  const p = ropeParameters(config);
  const t = p.rope_type ?? p.type;
  return typeof t === "string" && t.toLowerCase() !== "default" ? t.toLowerCase() : null;
}

/** rope_theta from the scaling block (transformers 5) or the config. */
export function ropeTheta(config: Json): number | undefined {
  return num(ropeParameters(config), "rope_theta") ?? num(config, "rope_theta");
}

/** YaRN's mscale (0.1 * mscale * ln(factor) + 1 past a factor of 1), as transformers and llama.cpp. */
const yarnMscale = (factor: number, mscale = 1) => (factor <= 1 ? 1 : 0.1 * mscale * Math.log(factor) + 1);

/**
 * The <arch>.rope.scaling.* entries for the config's scaling; `llama3` is accepted only where the
 * architecture loads rope_freqs (llamaFreqs), and writes no key (the tensor carries it).
 */
export function ropeScalingKeys(arch: string, config: Json, llamaFreqs: boolean): Result<Map<string, GgufValue>, Error> {
  const m = new Map<string, GgufValue>();
  const type = ropeScalingType(config);
  if (type === null) return ok(m);
  const p = ropeParameters(config);
  const refuse = (why: string) => err(new Error(`config.json: rope_scaling of type "${type}" is not exported to GGUF: ${why}`));
  if (type === "linear") {
    const factor = num(p, "factor");
    if (factor === undefined) return refuse("it has no factor");
    m.set(`${arch}.rope.scaling.type`, str("linear"));
    m.set(`${arch}.rope.scaling.factor`, f32(factor));
    return ok(m);
  }
  if (type === "llama3") {
    if (!llamaFreqs) return refuse(`llama.cpp reads its rope_freqs tensor only for Llama-architecture files, not "${arch}"`);
    return ok(m);
  }
  if (type === "yarn") {
    const maxPositions = num(config, "max_position_embeddings");
    const original = num(p, "original_max_position_embeddings") ?? num(config, "original_max_position_embeddings") ?? maxPositions;
    if (original === undefined) return refuse("neither original_max_position_embeddings nor max_position_embeddings is set");
    const factor = num(p, "factor") ?? (maxPositions !== undefined ? maxPositions / original : undefined);
    if (factor === undefined || !(factor > 0)) return refuse("it has no positive factor");
    // llama.cpp reads no YaRN betas or attention factor for these architectures: it always uses 32/1,
    // truncated correction dims and an attention factor of 0.1 ln(factor) + 1 (llama_context's get_mscale).
    const betaFast = p.beta_fast ? (p.beta_fast as number) : 32;
    const betaSlow = p.beta_slow ? (p.beta_slow as number) : 1;
    if (betaFast !== 32 || betaSlow !== 1) return refuse(`llama.cpp uses beta_fast 32 and beta_slow 1 here (config: ${betaFast}, ${betaSlow})`);
    if (p.truncate === false) return refuse("llama.cpp always truncates the correction range (config: truncate false)");
    const mscale = num(p, "mscale") ?? 0;
    const mscaleAllDim = num(p, "mscale_all_dim") ?? 0;
    const given = num(p, "attention_factor") ?? num(p, "attn_factor");
    const attention = given ?? (mscale && mscaleAllDim ? yarnMscale(factor, mscale) / yarnMscale(factor, mscaleAllDim) : yarnMscale(factor));
    if (Math.abs(attention - yarnMscale(factor)) > 1e-6)
      return refuse(`llama.cpp scales attention by 0.1 ln(factor) + 1 = ${yarnMscale(factor)}, the config by ${attention}`);
    m.set(`${arch}.rope.scaling.type`, str("yarn"));
    m.set(`${arch}.rope.scaling.factor`, f32(factor));
    m.set(`${arch}.rope.scaling.original_context_length`, u32(original));
    // Written as the converter does when the config states them (llama.cpp ignores them here).
    const ext = num(p, "extrapolation_factor");
    if (ext !== undefined) m.set(`${arch}.rope.scaling.yarn_ext_factor`, f32(ext));
    if (given !== undefined) m.set(`${arch}.rope.scaling.yarn_attn_factor`, f32(given));
    if (num(p, "beta_fast") !== undefined) m.set(`${arch}.rope.scaling.yarn_beta_fast`, f32(betaFast));
    if (num(p, "beta_slow") !== undefined) m.set(`${arch}.rope.scaling.yarn_beta_slow`, f32(betaSlow));
    return ok(m);
  }
  if (type === "dynamic") return refuse("llama.cpp has no dynamic NTK scaling for these architectures (the converter writes none)");
  if (type === "longrope" || type === "su") return refuse("LongRoPE's short/long factor tensors are not written yet");
  return refuse("llama.cpp has no such scaling (exported: linear, llama3, yarn)");
}

/**
 * Llama 3.1's rope_freqs: for each of the head_dim/2 frequencies, the divisor llama.cpp applies to
 * theta^(-2i/d) (1 for short wavelengths, factor for long, 1 / ((1 - smooth) / factor + smooth) between);
 * null when the config's scaling is not llama3. Frequencies in f32, as the converter's torch code.
 */
export function llama3RopeFactors(config: Json): Float32Array | null {
  if (ropeScalingType(config) !== "llama3") return null;
  const p = ropeParameters(config);
  const base = ropeTheta(config) ?? 10000;
  const dim = num(config, "head_dim") ?? num(config, "hidden_size")! / num(config, "num_attention_heads")!;
  const factor = num(p, "factor") ?? 8;
  const low = num(p, "low_freq_factor") ?? 1;
  const high = num(p, "high_freq_factor") ?? 4;
  const old = num(p, "original_max_position_embeddings") ?? 8192;
  const lowWavelen = old / low;
  const highWavelen = old / high;
  const out = new Float32Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) {
    const freq = Math.fround(1 / Math.fround(base ** Math.fround((2 * i) / dim)));
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < highWavelen) out[i] = 1;
    else if (wavelen > lowWavelen) out[i] = factor;
    else {
      const smooth = (old / wavelen - low) / (high - low);
      out[i] = 1 / ((1 - smooth) / factor + smooth);
    }
  }
  return out;
}

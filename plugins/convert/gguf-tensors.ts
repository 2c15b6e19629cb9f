// Which tensors a GGUF export writes, and how each is made from the checkpoint, as convert_hf_to_gguf.py
// does: HF names -> GGUF names (the shared table plus the architecture's own), the architecture's edits,
// each layer's experts stacked into one [experts, rows, cols] tensor per projection (`ffn_*_exps`), and
// generated tensors (Llama 3.1's rope_freqs). Tensors are only described here; each is read when written.
import { err, ok, type Result } from "neverthrow";
import type { Checkpoint } from "../../core/index.ts";
import type { GgufArchitecture } from "./gguf-arch.ts";
import { llama3RopeFactors } from "./gguf-rope.ts";

type Json = Record<string, unknown>;

/** A tensor to write: its GGUF name, row-major shape, and its f32 values read on demand. */
export interface PlannedTensor {
  name: string;
  shape: readonly number[];
  load(): Result<Float32Array, Error>;
}

/** model.layers.N.<tail> -> blk.N.<tail> for the tensors most architectures share (TensorNameMap's entries). */
const LAYER_TENSORS: Record<string, string> = {
  "input_layernorm.weight": "attn_norm.weight",
  "self_attn.q_proj.weight": "attn_q.weight",
  "self_attn.q_proj.bias": "attn_q.bias",
  "self_attn.k_proj.weight": "attn_k.weight",
  "self_attn.k_proj.bias": "attn_k.bias",
  "self_attn.v_proj.weight": "attn_v.weight",
  "self_attn.v_proj.bias": "attn_v.bias",
  "self_attn.o_proj.weight": "attn_output.weight",
  "self_attn.q_norm.weight": "attn_q_norm.weight",
  "self_attn.k_norm.weight": "attn_k_norm.weight",
  "post_attention_layernorm.weight": "ffn_norm.weight",
  "mlp.gate_proj.weight": "ffn_gate.weight",
  "mlp.up_proj.weight": "ffn_up.weight",
  "mlp.down_proj.weight": "ffn_down.weight",
};

const GLOBAL_TENSORS: Record<string, string> = {
  "model.embed_tokens.weight": "token_embd.weight",
  "model.norm.weight": "output_norm.weight",
  "model.norm.bias": "output_norm.bias",
  "lm_head.weight": "output.weight",
};

/** One expert's projection: model.layers.L.(block_sparse_moe|mlp).experts.E.<projection>.weight. */
const EXPERT = /^model\.layers\.(\d+)\.(?:block_sparse_moe|mlp)\.experts\.(\d+)\.(w1|w2|w3|gate_proj|up_proj|down_proj)\.weight$/;
/** Stacked experts' names (Mixtral's w1 = gate, w3 = up, w2 = down). */
const EXPERT_STACKS: Record<string, string> = {
  w1: "ffn_gate_exps",
  w3: "ffn_up_exps",
  w2: "ffn_down_exps",
  gate_proj: "ffn_gate_exps",
  up_proj: "ffn_up_exps",
  down_proj: "ffn_down_exps",
};

/** The GGUF name of an HF weight for an architecture; null for what the converter skips (rotary caches). */
export function ggufTensorName(hfName: string, arch?: GgufArchitecture): Result<string | null, Error> {
  if (hfName.endsWith("rotary_emb.inv_freq")) return ok(null);
  const global = GLOBAL_TENSORS[hfName];
  if (global) return ok(global);
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(hfName);
  const tail = m ? (arch?.layerTensors?.[m[2]!] ?? LAYER_TENSORS[m[2]!]) : undefined;
  if (m && tail) return ok(`blk.${m[1]}.${tail}`);
  return err(new Error(`no GGUF tensor name for "${hfName}"`));
}

/** The stored tensor as f32 (F32, BF16 and F16 checkpoints). */
function asF32(bytes: Uint8Array, dtype: string, name: string): Result<Float32Array, Error> {
  const copy = bytes.slice();
  if (dtype === "F32") return ok(new Float32Array(copy.buffer, 0, copy.length / 4));
  if (dtype === "F16") return ok(Float32Array.from(new Float16Array(copy.buffer, 0, copy.length / 2)));
  if (dtype === "BF16") {
    const half = new Uint16Array(copy.buffer, 0, copy.length / 2);
    const bits = new Uint32Array(half.length);
    for (let i = 0; i < half.length; i++) bits[i] = half[i]! << 16;
    return ok(new Float32Array(bits.buffer));
  }
  return err(new Error(`${name}: stored as ${dtype}; a GGUF export reads F32, BF16 or F16 weights`));
}

/** Every tensor the file holds, in checkpoint order (a stacked tensor where its first expert was). */
export function planTensors(arch: GgufArchitecture, checkpoint: Checkpoint, config: Json): Result<PlannedTensor[], Error> {
  const tied = config.tie_word_embeddings === true;
  const read = (hfName: string): Result<{ data: Float32Array; shape: readonly number[] }, Error> =>
    checkpoint
      .info(hfName)
      .andThen((info) => checkpoint.bytes(hfName).andThen((b) => asF32(b, info.dtype, hfName).map((data) => ({ data, shape: info.shape }))));
  const order: string[] = [];
  const single = new Map<string, PlannedTensor>();
  const stacks = new Map<string, { layer: string; projection: string; experts: Map<number, string> }>();
  for (const hfName of checkpoint.names()) {
    if (arch.drop?.(hfName, config) || (tied && hfName === "lm_head.weight")) continue;
    const expert = EXPERT.exec(hfName);
    if (expert) {
      const [, layer, e, projection] = expert as unknown as [string, string, string, string];
      const key = `blk.${layer}.${EXPERT_STACKS[projection]}.weight`;
      if (!stacks.has(key)) {
        stacks.set(key, { layer, projection, experts: new Map() });
        order.push(key);
      }
      stacks.get(key)!.experts.set(Number(e), hfName);
      continue;
    }
    const named = ggufTensorName(hfName, arch);
    if (named.isErr()) return err(new Error(`${named.error.message} (model_type ${String(config.model_type)}, GGUF architecture ${arch.name})`));
    if (named.value === null) continue;
    const info = checkpoint.info(hfName);
    if (info.isErr()) return err(info.error);
    order.push(named.value);
    single.set(named.value, {
      name: named.value,
      shape: info.value.shape,
      load: () => read(hfName).map(({ data, shape }) => (arch.edit ? arch.edit(hfName, data, shape, config) : data)),
    });
  }
  const expected = Number(config.num_local_experts ?? config.num_experts ?? 0);
  const plan: PlannedTensor[] = [];
  const rope = llama3RopeFactors(config);
  if (rope) plan.push({ name: "rope_freqs.weight", shape: [rope.length], load: () => ok(rope) });
  for (const key of order) {
    const s = stacks.get(key);
    if (!s) {
      plan.push(single.get(key)!);
      continue;
    }
    const ids = [...s.experts.keys()].sort((a, b) => a - b);
    if (ids.length !== expected || ids.some((id, i) => id !== i))
      return err(new Error(`${key}: layer ${s.layer}'s ${s.projection} has experts ${ids.join(",")}, but config.json says ${expected}`));
    const info = checkpoint.info(s.experts.get(0)!);
    if (info.isErr()) return err(info.error);
    const [rows, cols] = info.value.shape as [number, number];
    plan.push({
      name: key,
      shape: [expected, rows, cols],
      load: () => {
        const out = new Float32Array(expected * rows * cols);
        for (let i = 0; i < expected; i++) {
          const one = read(s.experts.get(i)!);
          if (one.isErr()) return err(one.error);
          if (one.value.data.length !== rows * cols)
            return err(new Error(`${s.experts.get(i)}: shape ${one.value.shape.join("x")}, expert 0 has ${rows}x${cols}`));
          out.set(one.value.data, i * rows * cols);
        }
        return ok(out);
      },
    });
  }
  return ok(plan);
}

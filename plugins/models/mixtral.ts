// The mixtral family (Mixtral 8x7B, 8x22B): Mistral's attention with a sparse mixture of experts in place
// of the MLP (`block_sparse_moe`: a router `gate` scores every token, each token's top-k experts
// `experts.N.w1/w2/w3` run on the tokens routed to them only, their outputs summed with the router
// weights), and a sliding window only when the config sets one. The block is built from differentiable
// ops, so gradients reach the router (through the chosen weights) and every expert (through its rows).
import {
  type ConfigReader,
  defineModelFamily,
  type FeedForward,
  type GatedActivation,
  gatedActivation,
  Linear,
  Module,
  ModuleList,
  modelFamilyPlugin,
  ops,
  type Tensor,
  tensor,
} from "../../core/index.ts";
import { LlamaForCausalLM } from "./llama.ts";
import { type LlamaSpec, readLlamaConfig, readWindow } from "./llama-config.ts";

/** A sparse MoE block's sizes and routing. */
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
    return this.w2.forward(gatedActivation(this.act, g, u));
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
    this.experts = this.addModule(
      "experts",
      new ModuleList(Array.from({ length: cfg.numExperts }, () => new MoeExpert(cfg.hiddenSize, cfg.intermediateSize, cfg.act))),
    );
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

export interface MixtralSpec extends LlamaSpec {
  /** num_local_experts */
  numExperts: number;
  /** num_experts_per_tok */
  topK: number;
}

/** num_local_experts (8) and num_experts_per_tok (2); router jitter is refused (lft has no training-time noise there). */
function readMoeKeys(r: ConfigReader): Pick<MixtralSpec, "numExperts" | "topK"> {
  const numExperts = r.int("num_local_experts", 8);
  const topK = r.int("num_experts_per_tok", 2);
  if (topK > numExperts) r.fail(`num_experts_per_tok (${topK}) exceeds num_local_experts (${numExperts})`);
  if (r.num("router_jitter_noise", 0) !== 0) r.fail(`router_jitter_noise ${String(r.config.router_jitter_noise)} is not supported; set it to 0.0`);
  return { numExperts, topK };
}

function mixtralMoe(spec: MixtralSpec): { name: string; module: FeedForward } {
  const cfg = { hiddenSize: spec.hiddenSize, intermediateSize: spec.intermediateSize, numExperts: spec.numExperts, topK: spec.topK, act: spec.hiddenAct };
  return { name: "block_sparse_moe", module: new SparseMoeBlock(cfg) };
}

export const mixtral = defineModelFamily<MixtralSpec>({
  name: "mixtral",
  doc: "Mixtral 8x7B and 8x22B (sparse MoE, top-2 routing, GQA, optional sliding window); output_router_logits' auxiliary loss is not computed",
  modelTypes: ["mixtral"],
  fromConfig: (config, where) =>
    readLlamaConfig<MixtralSpec>(config, "mixtral", {
      where,
      extend: (r, base) => ({
        ...readMoeKeys(r),
        slidingWindows: new Array<number>(base.numLayers).fill(readWindow(r, 0)),
        qkvBias: false,
        oBias: false,
        mlpBias: false,
      }),
    }),
  build: (spec) => new LlamaForCausalLM(spec, { feedForward: mixtralMoe }),
  adapterTargets: ["q_proj", "k_proj", "v_proj", "o_proj", "w1", "w2", "w3", "gate"],
  tiny: {
    tokenizer: "mistral-7b",
    config: {
      architectures: ["MixtralForCausalLM"],
      model_type: "mixtral",
      attention_dropout: 0.0,
      bos_token_id: 1,
      eos_token_id: 2,
      hidden_act: "silu",
      hidden_size: 32,
      initializer_range: 0.02,
      intermediate_size: 48,
      max_position_embeddings: 32768,
      num_attention_heads: 4,
      num_experts_per_tok: 2,
      num_hidden_layers: 2,
      num_key_value_heads: 2,
      num_local_experts: 4,
      output_router_logits: false,
      rms_norm_eps: 1e-5,
      rope_theta: 1000000.0,
      router_aux_loss_coef: 0.02,
      router_jitter_noise: 0.0,
      sliding_window: null,
      tie_word_embeddings: false,
      torch_dtype: "float32",
      use_cache: true,
      vocab_size: 32000,
    },
  },
});

export default modelFamilyPlugin(mixtral);

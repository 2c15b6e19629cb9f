// planMemory: a run's peak memory by part, from the recipe's settings and the model's config.json
// alone. The family reads the config (its weight list with shapes), the method says what is frozen in
// which format and what trains, the optimizer its state bytes (`stateBytes` over shape-only
// parameters), the stage its extra sequences and copies; activations, logits and the KV cache are
// counted here from the block's sizes. The peak is the larger of two moments of a training step: the
// start of backward (every kept activation, the logits and their gradient) and the optimizer update
// (every gradient and state).
import { err, ok, type Result } from "neverthrow";
import { DEFAULT_CHUNK_BYTES, HALF_CHUNK_BYTES, WEIGHT_BLOCK_BYTES } from "../autograd/ops/linear-cross-entropy.ts";
import { familyByName } from "../nn/family.ts";
import type { ParamGroup } from "../optim/groups.ts";
import type { Registry } from "../registry/registry.ts";
import { sizeClass } from "../tensor/allocator.ts";
import { numel } from "../tensor/shape.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { adapterPendingBytes, type BlockShape, blockBackwardBytes, blockForwardBytes, f32Bytes } from "./activations.ts";
import type { MemoryPart, MemoryPlan, MethodMemory, PlanInput, PlanParam, StageMemory } from "./types.ts";

/** A planning error: what is wrong and where (the config file or the entry's name). */
export class PlanError extends Error {
  override readonly name = "PlanError";
}

function positiveInt(v: unknown): number | undefined {
  return typeof v === "number" && Number.isSafeInteger(v) && v > 0 ? v : undefined;
}

/** The decoder's sizes from config.json (HF keys); an error names the missing key. */
export function blockShape(config: Readonly<Record<string, unknown>>, where = "config.json"): Result<BlockShape, PlanError> {
  // Composite configs (Mistral 3, Gemma 3 4B+) nest the language model's keys in text_config.
  if (typeof config.text_config === "object" && config.text_config !== null)
    return blockShape(config.text_config as Record<string, unknown>, `${where} text_config`);
  const hidden = positiveInt(config.hidden_size);
  const layers = positiveInt(config.num_hidden_layers);
  const heads = positiveInt(config.num_attention_heads);
  const vocab = positiveInt(config.vocab_size);
  const intermediate = positiveInt(config.intermediate_size) ?? positiveInt(config.moe_intermediate_size);
  const missing = Object.entries({
    hidden_size: hidden,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    vocab_size: vocab,
    intermediate_size: intermediate,
  })
    .filter(([, v]) => v === undefined)
    .map(([k]) => k);
  if (missing.length || !hidden || !layers || !heads || !vocab || !intermediate)
    return err(new PlanError(`${where}: cannot plan memory without ${missing.map((k) => `"${k}"`).join(", ")} (a positive whole number)`));
  const kvHeads = positiveInt(config.num_key_value_heads) ?? heads;
  // MLA (DeepSeek): a cached key is qk_nope_head_dim + qk_rope_head_dim wide (values are padded to it);
  // a head_dim in such a config is transformers' alias of qk_rope_head_dim.
  const mla = config.kv_lora_rank ? (positiveInt(config.qk_nope_head_dim) ?? 128) + (positiveInt(config.qk_rope_head_dim) ?? 64) : undefined;
  const headDim = mla ?? positiveInt(config.head_dim) ?? Math.floor(hidden / heads);
  const qkNorm =
    config.model_type === "qwen3" ||
    config.model_type === "qwen3_moe" ||
    config.model_type === "gemma3_text" ||
    (config.model_type === "cohere" && config.use_qk_norm === true);
  return ok({ hidden, layers, heads, kvHeads, headDim, intermediate, vocab, qkNorm });
}

/**
 * Parameter groups over shape-only stand-ins, for an optimizer's `stateBytes`: those formulas read a
 * tensor's shape, numel, ndim and name only; nothing here has storage, and nothing else is called.
 */
export function shapeOnlyGroups(params: readonly PlanParam[]): ParamGroup[] {
  const standIns = params.map((p) => ({ shape: p.shape, numel: numel(p.shape), ndim: p.shape.length, dtype: "f32" }) as unknown as Tensor);
  return [{ name: "default", params: standIns, names: params.map((p) => p.name), lrScale: 1, weightDecay: 0 }];
}

const part = (name: string, bytes: number, detail: string): MemoryPart => ({ name, bytes, detail });

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(2)} MiB`;

/** Each tensor as the allocator reserves it. */
function paramBytes(params: readonly PlanParam[]): number {
  return params.reduce((n, p) => n + f32Bytes(numel(p.shape)), 0);
}

/** KV cache bytes for `batch` sequences of `tokens`: k and v per layer, from the prompt's length (at least 16) grown by doubling (core/nn/kv-cache.ts). */
function kvCacheBytes(s: BlockShape, batch: number, tokens: number, prompt = 16): number {
  let capacity = Math.max(16, prompt);
  while (capacity < tokens) capacity *= 2;
  return 2 * s.layers * f32Bytes(batch * capacity * s.kvHeads * s.headDim);
}

/** The run's peak memory by part; errors name the config key or the entry that cannot be planned. */
export function planMemory(input: PlanInput, registry: Pick<Registry, "get" | "list">): Result<MemoryPlan, PlanError> {
  const where = input.where ?? "config.json";
  if (!(Number.isSafeInteger(input.batch) && input.batch > 0)) return err(new PlanError(`plan: batch must be a whole number >= 1, got ${input.batch}`));
  if (!(Number.isSafeInteger(input.seqLen) && input.seqLen > 0))
    return err(new PlanError(`plan: the sequence length must be a whole number >= 1, got ${input.seqLen}`));
  const fam = familyByName(registry, input.family);
  if (fam.isErr()) return err(new PlanError(fam.error.message));
  const spec = fam.value.fromConfig(input.config, where);
  if (spec.isErr()) return err(new PlanError(spec.error.message));
  const shape = blockShape(input.config, where);
  if (shape.isErr()) return err(shape.error);
  const s0 = shape.value;
  const weights: PlanParam[] = fam.value.weightNames(spec.value).map((w) => ({ name: w.name, shape: w.shape }));

  const methodUse = input.method ?? { name: "full", options: {} };
  const methodEntry = registry.get("methods", methodUse.name);
  if (methodEntry.isErr()) return err(new PlanError(methodEntry.error.message));
  if (!methodEntry.value.memory) return err(new PlanError(`method "${methodUse.name}" declares no memory formula, so its memory cannot be planned`));
  const method = methodEntry.value.memory({
    spec: spec.value,
    weights,
    dtype: input.dtype,
    options: methodUse.options,
    adapterTargets: fam.value.adapterTargets,
  });
  if (method.isErr()) return err(new PlanError(`method "${methodUse.name}": ${method.error.message}`));
  const m: MethodMemory = method.value;
  const s: BlockShape = { ...s0, layers: m.layers ?? s0.layers };
  const frozenBytes = m.frozen.reduce((n, p) => n + p.bytes, 0);

  const stageUse = input.stage ?? { name: "sft", options: {} };
  const stageEntry = registry.get("stages", stageUse.name);
  if (stageEntry.isErr()) return err(new PlanError(stageEntry.error.message));
  const st: StageMemory = stageEntry.value.memory?.({
    spec: spec.value,
    options: stageUse.options,
    method: methodUse.name,
    frozenBytes,
    baseBytes: weights.reduce((n, w) => n + sizeClass((input.dtype === "f32" ? 4 : 2) * numel(w.shape)), 0),
    batch: input.batch,
    seqLen: input.seqLen,
  }) ?? { sequencesPerRow: 1, logits: true, fusedHead: true };

  const trainable = [...m.trainable, ...(st.trainable ?? [])];
  const trainableElements = trainable.reduce((n, p) => n + numel(p.shape), 0);
  const totalElements =
    weights.reduce((n, p) => n + numel(p.shape), 0) +
    trainableElements -
    m.trainable.filter((p) => weights.some((w) => w.name === p.name)).reduce((n, p) => n + numel(p.shape), 0);
  const counts = { trainable: trainableElements, total: totalElements };

  const fixed: MemoryPart[] = [...m.frozen];
  const trainableBytes = paramBytes(trainable);
  if (trainable.length) fixed.push(part("trainable", trainableBytes, `${trainable.length} f32 tensors, ${trainableElements} elements`));
  fixed.push(...(m.extra ?? []), ...(st.extra ?? []));

  const generate = (): MemoryPart[] => {
    if (!input.generation) return [];
    const { batch, tokens, prompt } = input.generation;
    const kv = kvCacheBytes(s, batch, tokens, prompt);
    return [
      part("kv-cache", kv, `${s.layers} layers x k and v, ${batch} x ${tokens} tokens x ${s.kvHeads} heads x ${s.headDim}, f32`),
      part("logits", f32Bytes(batch * s.vocab) * 2, `last-position logits and probabilities, ${batch} x ${s.vocab} f32`),
    ];
  };

  if (input.train === false) {
    const parts = [...fixed, ...generate()];
    return ok({ parts, peakBytes: sum(parts), phase: input.generation ? "generate" : "load", counts });
  }

  const optUse = input.optimizer ?? { name: "adamw", options: {} };
  const optEntry = registry.get("optimizers", optUse.name);
  if (optEntry.isErr()) return err(new PlanError(optEntry.error.message));
  const stateBytes = optEntry.value.stateBytes ? optEntry.value.stateBytes(shapeOnlyGroups(trainable), optUse.options, spec.value) : 0;
  const optimizer = part("optimizer", stateBytes, `${optUse.name} state over ${trainableElements} trainable elements`);

  // Every forward tensor of a micro-batch is live until its backward ends (one tidy scope each); the peak is at the start of
  // backward (the logits' gradient beside them) or at its end (every parameter gradient).
  const T = st.tokensPerRow ?? input.seqLen;
  const rows = input.batch * st.sequencesPerRow;
  const n = rows * T;
  const perBlock = blockForwardBytes(s, rows, T, m.linears);
  const recomputed = input.recompute ? Math.max(0, s.layers - m.firstLayerWithGrad) : 0;
  const blocks = (s.layers - recomputed) * perBlock + recomputed * f32Bytes(n * s.hidden) + (recomputed > 0 ? perBlock : 0);
  const activations = part(
    "activations",
    blocks + blockBackwardBytes(s, rows, T),
    recomputed > 0
      ? `recompute on: ${recomputed} block outputs of ${mib(f32Bytes(n * s.hidden))} + one block recomputed in backward (${mib(perBlock)})`
      : `${s.layers} blocks x ${mib(perBlock)} live until the step ends (${rows} rows x ${T} tokens)`,
  );
  // Ids, positions and targets (i32), the embedding output, the final norm (output + rstd), the loss.
  const edges = 3 * sizeClass(4 * n) + f32Bytes(n * s.hidden) * 2 + f32Bytes(n) + 512;
  const embedTrainable = trainable.some((p) => p.name.includes("embed_tokens"));
  const headAdapted = m.linears.some((l) => l.module === "lm_head" && l.adapterRank > 0);
  const fused = st.logits && st.fusedHead === true && !headAdapted && fam.value.build(spec.value).plainHead();
  const headTrainable = m.lmHeadTrainable || (spec.value.tieWordEmbeddings && embedTrainable);
  // The fused loss's chunk of logits lives only while the op runs in the forward, before any gradient.
  // A trained head's gradient is made by the op too, beside its chunk.
  const lossChunk = fused ? fusedChunkBytes(n, s, input.dtype !== "f32" && !headTrainable) + (headTrainable ? f32Bytes(s.vocab * s.hidden) : 0) : 0;
  const logitsBytes = fused ? 3 * f32Bytes(n) + f32Bytes(n * s.hidden) : st.logits ? f32Bytes(n * s.vocab) + 2 * f32Bytes(n) : f32Bytes(n) * 2;
  const logits = part(
    "logits",
    edges + logitsBytes,
    fused
      ? "output layer fused with cross-entropy: the hidden states' gradient it makes in the forward, embeddings and final norm"
      : st.logits
        ? `logits ${n} tokens x ${s.vocab} f32, cross-entropy's log-sum-exp, embeddings and final norm`
        : "value-head scores (no vocabulary logits)",
  );
  // A frozen half-precision lm_head is cast to a transient f32 copy for its input gradient (core/nn/linear.ts),
  // beside the logits' gradient.
  const halfHeadCast = input.dtype !== "f32" && !m.lmHeadTrainable ? f32Bytes(s.vocab * s.hidden) : 0;
  const startGrads =
    st.logits && !fused
      ? f32Bytes(n * s.vocab) + f32Bytes(n * s.hidden) + (m.lmHeadTrainable ? f32Bytes(s.vocab * s.hidden) : halfHeadCast)
      : f32Bytes(n * s.hidden);
  const declared = optEntry.value.gradientBytes?.(shapeOnlyGroups(trainable), optUse.options, spec.value);
  const endGrads = (declared ?? trainableBytes + (embedTrainable ? f32Bytes(s.vocab * s.hidden) : 0)) + f32Bytes(n * s.hidden);
  const adapters = m.linears.some((l) => l.adapterRank > 0);
  // LoRA adds its product through addmm, whose first input is the base output, so backward finishes a
  // layer's base path right after its adapters: one layer's gradients are pending at a time. DoRA's rescaling
  // (adds and muls) reaches every layer's adapter branch first. With recompute, only the block being
  // recomputed holds any.
  const pendingLayers = m.linears.some((l) => l.dora) && !input.recompute ? s.layers : 1;
  const pending = adapters ? (adapterPendingBytes(s, rows, T) / s.layers) * pendingLayers : 0;
  const midGrads = pending + f32Bytes(n * s.hidden);
  const gradients =
    midGrads > Math.max(startGrads, endGrads)
      ? part("gradients", midGrads, `mid-backward: ${pendingLayers > 1 ? "every layer's" : "a layer's"} pending SwiGLU, residual and q/k gradients`)
      : startGrads >= endGrads
        ? part(
            "gradients",
            startGrads,
            fused
              ? "at the start of backward: the final norm's input gradient"
              : `at the start of backward: the logits' gradient${m.lmHeadTrainable ? " and lm_head's" : halfHeadCast ? " and lm_head's f32 cast" : ""}`,
          )
        : part(
            "gradients",
            endGrads,
            `at the end of backward: every trainable tensor's gradient${embedTrainable ? " and the embedding's scatter buffer" : ""}`,
          );
  const refs = st.referenceForwards ?? 0;
  const policy = st.policyForwards ?? 0;
  const noGradBytes = refs * (s.layers * blockForwardBytes(s, rows, T, []) + edges + logitsBytes) + policy * (s.layers * perBlock + edges + logitsBytes);
  const reference =
    refs + policy > 0
      ? [
          part(
            "reference",
            noGradBytes,
            `${refs} reference and ${policy} policy forward(s) without gradients over the same ${rows} rows, live until the step ends`,
          ),
        ]
      : [];
  // Each micro-batch's forward and backward run in a scope of their own (core/train/step.ts), so
  // accumulation adds no activations: only the gradients carry over between micro-batches.
  // The loss chunk and the gradients never coexist: the larger of the two sets the peak.
  const chunkPart =
    lossChunk > gradients.bytes
      ? [
          part(
            "loss-chunk",
            lossChunk - gradients.bytes,
            `the fused loss's chunk of logits${headTrainable ? " and the head's gradient" : ""} (${mib(lossChunk)}) while it runs, beyond the gradients' peak`,
          ),
        ]
      : [];
  const trainParts = [...fixed, optimizer, activations, logits, ...reference, gradients, ...chunkPart];
  const trainPeak = sum(trainParts);
  const gen = generate();
  const genPeak = sum([...fixed, optimizer, ...gen]);
  if (gen.length && genPeak > trainPeak) return ok({ parts: [...fixed, optimizer, ...gen], peakBytes: genPeak, phase: "generate", counts });
  return ok({ parts: trainParts, peakBytes: trainPeak, phase: "train", counts });
}

/**
 * ops.linearCrossEntropy's transient bytes: one chunk of logits (256 MiB of rows, 512 MiB for a half weight)
 * and its row buffer, a half weight's f32 block and the block's logits. (The hidden states' gradient it
 * makes in the forward is in the logits part; a trained head's gradient is counted with the gradients.)
 */
function fusedChunkBytes(n: number, s: BlockShape, halfHead: boolean): number {
  const chunk = Math.max(1, Math.min(n, Math.floor((halfHead ? HALF_CHUNK_BYTES : DEFAULT_CHUNK_BYTES) / (s.vocab * 4))));
  const blockRows = Math.max(1, Math.min(s.vocab, Math.floor(WEIGHT_BLOCK_BYTES / (s.hidden * 4))));
  const blocks = halfHead ? f32Bytes(blockRows * s.hidden) + f32Bytes(chunk * blockRows) : 0;
  return f32Bytes(chunk * s.vocab) + f32Bytes(chunk) + blocks;
}

function sum(parts: readonly MemoryPart[]): number {
  return parts.reduce((n, p) => n + p.bytes, 0);
}

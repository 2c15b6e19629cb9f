// The value head a reward model (and later PPO's critic) puts on a causal LM: Linear(hidden -> 1) on the
// final hidden state of each sequence's last real token, as trl's AutoModelForCausalLMWithValueHead
// (`v_head.summary`) and LLaMA-Factory's reward trainer read it. Saved as `value_head.safetensors` with
// trl's key names beside the adapter or model, LLaMA-Factory's layout.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { type Backend, type Batch, type CausalLM, keep, openSafetensors, ops, rand, type Tensor, tensor, writeSafetensors } from "../../core/index.ts";

export const VALUE_HEAD_FILE = "value_head.safetensors";
export const VALUE_HEAD_WEIGHT = "v_head.summary.weight";
export const VALUE_HEAD_BIAS = "v_head.summary.bias";

export interface ValueHead {
  /** [1, hidden] f32. */
  readonly weight: Tensor;
  /** [1] f32. */
  readonly bias: Tensor;
}

/** The backend the model's weights live on (the head must sit beside them). */
export function modelBackend(model: CausalLM): Backend {
  const first = model.parameters()[0];
  if (!first) throw new Error("the model has no parameters");
  return first.backend;
}

/** A fresh trainable head, initialised as torch's nn.Linear: U(-1/sqrt(hidden), 1/sqrt(hidden)) from a seed. */
export function createValueHead(hidden: number, seed: number, backend: Backend): ValueHead {
  const bound = 1 / Math.sqrt(hidden);
  const weight = keep(rand([1, hidden], { seed, backend, low: -bound, high: bound }));
  // The bias draws past the weight's counters (an offset of `hidden` counters clears them whether a
  // counter yields one value or four), so the two never share a value.
  const bias = keep(rand([1], { seed, offset: hidden, backend, low: -bound, high: bound }));
  weight.requiresGrad = true;
  bias.requiresGrad = true;
  return { weight, bias };
}

export function disposeValueHead(head: ValueHead): void {
  head.weight.dispose();
  head.bias.dispose();
}

/**
 * Row index of each sequence's last real token in a right-padded batch (attention mask sum - 1, as
 * LLaMA-Factory gathers it); a row with no real token reads position 0.
 */
export function lastTokenPositions(batch: Pick<Batch, "batchSize" | "seqLen" | "attentionMask">): Int32Array {
  const { batchSize: N, seqLen: T, attentionMask } = batch;
  const out = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    let last = 0;
    for (let t = 0; t < T; t++) if (attentionMask[n * T + t] !== 0) last = t;
    out[n] = last;
  }
  return out;
}

/** hidden [N, T, H] and a position per row -> rewards [N] (the head on each row's hidden state there). */
export function valueHeadScores(head: ValueHead, hidden: Tensor, positions: Int32Array): Tensor {
  const [N, T, H] = hidden.shape as [number, number, number];
  if (positions.length !== N) throw new Error(`value head: ${positions.length} positions for ${N} rows`);
  const rows = Int32Array.from(positions, (p, n) => n * T + p);
  const picked = ops.embedding(ops.reshape(hidden, [N * T, H]), tensor(rows, [N], { dtype: "i32", backend: hidden.backend }));
  const scores = ops.add(ops.matmul(picked, head.weight, { transB: true }), head.bias);
  return ops.reshape(scores, [N]);
}

/** Rewards [N] of a right-padded batch: the model's final hidden states, read at each row's last real token. */
export function scoreBatch(model: CausalLM, head: ValueHead, batch: Batch): Tensor {
  const B = batch.batchSize;
  const T = batch.seqLen;
  const backend = head.weight.backend;
  const ids = tensor(batch.inputIds, [B, T], { dtype: "i32", backend });
  const positionIds = tensor(batch.positionIds, [B, T], { dtype: "i32", backend });
  const hidden = model.forward(ids, { positionIds, hiddenOnly: true });
  return valueHeadScores(head, hidden, lastTokenPositions(batch));
}

/** Writes value_head.safetensors into dir (trl's key names, f32); returns its path. */
export function saveValueHead(head: ValueHead, dir: string): Result<string, Error> {
  const path = join(dir, VALUE_HEAD_FILE);
  const w = writeSafetensors(
    path,
    [
      { name: VALUE_HEAD_WEIGHT, data: head.weight },
      { name: VALUE_HEAD_BIAS, data: head.bias },
    ],
    { format: "pt" },
  );
  return w.isErr() ? err(new Error(`${path}: ${w.error.message}`)) : ok(path);
}

/**
 * Reads dir/value_head.safetensors (lft's or LLaMA-Factory's; any float dtype, loaded as f32) for a
 * model of the given hidden size; a head from a model of another size is an error naming the file.
 */
export function loadValueHead(dir: string, hidden: number, backend: Backend): Result<ValueHead, Error> {
  const path = join(dir, VALUE_HEAD_FILE);
  if (!existsSync(path))
    return err(new Error(`${path}: no value head there; a reward model folder is what \`train rm\` writes (the adapter or model with ${VALUE_HEAD_FILE})`));
  const opened = openSafetensors(path);
  if (opened.isErr()) return err(new Error(`${path}: ${opened.error.message}`));
  const f = opened.value;
  try {
    const want: [string, number[]][] = [
      [VALUE_HEAD_WEIGHT, [1, hidden]],
      [VALUE_HEAD_BIAS, [1]],
    ];
    const loaded: Tensor[] = [];
    for (const [name, shape] of want) {
      const info = f.info(name);
      if (info.isErr()) return err(new Error(`${path}: no tensor "${name}" (found: ${f.names().join(", ") || "none"})`));
      const got = info.value.shape;
      if (got.join(",") !== shape.join(","))
        return err(
          new Error(
            `${path}: "${name}" is [${got.join(", ")}] but this model's hidden size needs [${shape.join(", ")}]: the value head was trained on a different base model`,
          ),
        );
      const t = f.tensor(name, { dtype: "f32", backend });
      if (t.isErr()) return err(new Error(`${path}: ${t.error.message}`));
      loaded.push(keep(t.value));
    }
    return ok({ weight: loaded[0]!, bias: loaded[1]! });
  } finally {
    f.close();
  }
}

// Adam-mini's partition of a parameter into blocks that share one second-moment value (Zhang et al.
// 2024, and the adam-mini package LLaMA-Factory calls): query and key weights per attention head; value,
// output-projection, MLP, embedding and output-head weights per output neuron (one row); everything
// else (norms, biases) one block for the whole tensor. Names are matched as the reference matches them.

const QK = ["q_proj.weight", "k_proj.weight", "wq.weight", "wk.weight"];
const PER_ROW = [
  "embed",
  "embd",
  "wte",
  "lm_head.weight",
  "output.weight",
  "v_proj.weight",
  "wv.weight",
  "o_proj.weight",
  "wo.weight",
  "c_proj.weight",
  "out_proj.weight",
  "feed_forward",
  "linear",
  "mlp",
];

export type BlockKind = "head" | "row" | "tensor";

export function blockKind(name: string, ndim: number): BlockKind {
  if (ndim === 2 && QK.some((s) => name.includes(s))) return "head";
  if (ndim === 2 && PER_ROW.some((s) => name.includes(s))) return "row";
  return "tensor";
}

/**
 * Entries per block of a parameter: a head's rows (headDim of them) for q/k, one row for per-row
 * weights, the whole tensor otherwise. `headDim` is needed only for q/k.
 */
export function blockSize(kind: BlockKind, shape: readonly number[], headDim: number | null): number {
  const numel = shape.reduce((a, b) => a * b, 1);
  if (kind === "tensor") return numel;
  if (kind === "row") return shape[1]!;
  return headDim! * shape[1]!;
}

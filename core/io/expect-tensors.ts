// Checks a checkpoint against the tensors a model expects (names, shapes from its config, dtypes) and
// reports every problem at once, each naming the file and tensor; unused tensors are warnings.
import { err, ok, type Result } from "neverthrow";
import { didYouMean, suggest } from "../registry/suggest.ts";
import { formatShape, type Shape, sameShape } from "../tensor/shape.ts";
import type { Checkpoint } from "./hf-checkpoint.ts";
import type { SafetensorsDType } from "./safetensors-dtype.ts";

export interface ExpectedTensor {
  name: string;
  shape: Shape;
  /** Stored dtypes the model accepts; any when omitted. */
  dtype?: SafetensorsDType | readonly SafetensorsDType[];
}

export interface TensorCheck {
  /** Tensors in the checkpoint the model does not use. */
  warnings: string[];
}

export class TensorCheckError extends Error {
  override name = "TensorCheckError";
  constructor(
    readonly checkpoint: string,
    readonly problems: readonly string[],
    readonly warnings: readonly string[],
  ) {
    super(
      `${checkpoint}: the checkpoint does not match the model (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n  ${problems.join("\n  ")}`,
    );
  }
}

function orList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`;
}

export function expectTensors(ckpt: Checkpoint, expected: readonly ExpectedTensor[]): Result<TensorCheck, TensorCheckError> {
  const wanted = new Set(expected.map((e) => e.name));
  const unused = ckpt.names().filter((n) => !wanted.has(n));
  const problems: string[] = [];
  for (const e of expected) {
    const info = ckpt.info(e.name);
    if (info.isErr()) {
      const hint = didYouMean(suggest(e.name, unused.length > 0 ? unused : ckpt.names()));
      problems.push(`${ckpt.path}: tensor "${e.name}" (shape ${formatShape(e.shape)}) is missing${hint}`);
      continue;
    }
    const { file, shape, dtype } = info.value;
    if (!sameShape(shape, e.shape)) problems.push(`${file}: tensor "${e.name}" has shape ${formatShape(shape)}, the model expects ${formatShape(e.shape)}`);
    const allowed: readonly SafetensorsDType[] = e.dtype === undefined ? [] : typeof e.dtype === "string" ? [e.dtype] : e.dtype;
    if (allowed.length > 0 && !allowed.includes(dtype))
      problems.push(`${file}: tensor "${e.name}" is stored as ${dtype}, the model expects ${orList(allowed)}`);
  }
  const warnings = unused.map((n) => `${ckpt.fileOf(n).unwrapOr(ckpt.path)}: tensor "${n}" is not used by the model`);
  return problems.length > 0 ? err(new TensorCheckError(ckpt.path, problems, warnings)) : ok({ warnings });
}

// The checks every collectives engine runs before native code: live contiguous f32 tensors whose
// element counts match what the collective needs, and a valid root rank.
import { err, ok, type Result } from "neverthrow";
import type { Tensor } from "../tensor/tensor.ts";
import { CollectiveError } from "./collectives.ts";

/** `t` is alive, f32 and non-empty. `what` names the call in the message. */
export function checkCollectiveTensor(what: string, t: Tensor): Result<void, CollectiveError> {
  if (t.disposed) return err(new CollectiveError("shape", `${what}: the tensor was disposed`));
  if (t.dtype !== "f32") return err(new CollectiveError("dtype", `${what}: expected an f32 tensor, got ${t.dtype}`));
  return ok(undefined);
}

/** output.numel = size × input.numel (allGather) or input.numel = size × output.numel (reduceScatter). */
export function checkGathered(what: string, part: Tensor, whole: Tensor, size: number): Result<void, CollectiveError> {
  const checked = checkCollectiveTensor(what, part).andThen(() => checkCollectiveTensor(what, whole));
  if (checked.isErr()) return checked;
  if (whole.numel !== part.numel * size) {
    return err(
      new CollectiveError("shape", `${what}: the gathered tensor must hold ${size} × ${part.numel} = ${size * part.numel} elements, it holds ${whole.numel}`),
    );
  }
  return ok(undefined);
}

export function checkRoot(what: string, root: number, size: number): Result<void, CollectiveError> {
  if (!Number.isInteger(root) || root < 0 || root >= size) {
    return err(new CollectiveError("rank", `${what}: root must be a rank in 0..${size - 1}, got ${root}`));
  }
  return ok(undefined);
}

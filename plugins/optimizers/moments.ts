// Adam-style moment state shared by the optimizers that keep it (adamw, adam_mini, badam, muon, the
// low-rank ones): reading the two moments back from a checkpoint, their size, and releasing them.
import { err, ok, type Result } from "neverthrow";
import { type HostTensor, slotData, type Tensor } from "../../core/index.ts";

/** A parameter's moments; `v` is null where a parameter keeps only one buffer (Muon's momentum). */
export interface Moments {
  readonly m: Tensor;
  readonly v: Tensor | null;
}

/** The "exp_avg" / "exp_avg_sq" slots (torch's names) of parameter `index`, checked against its shape. */
export function loadMoments(
  tensors: ReadonlyMap<string, HostTensor>,
  index: number,
  p: Tensor,
  name: string,
): Result<{ m: Float32Array; v: Float32Array }, Error> {
  const m = slotData(tensors, index, "exp_avg", p, name);
  if (m.isErr()) return err(m.error);
  const v = slotData(tensors, index, "exp_avg_sq", p, name);
  if (v.isErr()) return err(v.error);
  return ok({ m: m.value, v: v.value });
}

/** Bytes the moments in `state` hold (f32). */
export function momentBytes(state: ReadonlyMap<unknown, Moments>): number {
  let n = 0;
  for (const { m, v } of state.values()) n += (m.numel + (v?.numel ?? 0)) * 4;
  return n;
}

/** Releases the moments of each entry. */
export function releaseMoments(list: Iterable<Moments>): void {
  for (const { m, v } of list) {
    m.dispose();
    v?.dispose();
  }
}

/** Releases every moment in `state` and empties it. */
export function disposeMoments(state: Map<unknown, Moments>): void {
  releaseMoments(state.values());
  state.clear();
}

// The CUDA backend's optimizer ops: AdamW over many tensors in one launch (a table of chunks), and the
// non-finite count the training loop checks after each step — fused into AdamW's kernel as it writes the new
// values, a separate counting kernel otherwise. Each count is read back with one stream sync.
import type { Pointer } from "bun:ffi";
import { type AdamWHyper, adamwArgs, type Block, expectArray, type NativeArray } from "../../core/index.ts";
import { ADAM_CHUNK, type AdamWTensors, BLOCK, blocks, type CudaBackend, FLOATS, n, sfx } from "./backend-parts.ts";
import type { CudaDriver } from "./driver.ts";
import type { KernelModule } from "./kernels.ts";

/** What the optimizer ops need of the backend being built. */
export interface OptimizerOpsContext {
  readonly launch: KernelModule["launch"];
  readonly scratch: (bytes: number) => Block;
  readonly done: (...blocks: (Block | null)[]) => void;
  readonly driver: CudaDriver;
  readonly stream: Pointer | null;
}

type OptimizerOps = Pick<CudaBackend, "countNonFinite" | "adamwStep" | "adamwStepMulti">;

export function cudaOptimizerOps({ launch, scratch, done, driver, stream }: OptimizerOpsContext): OptimizerOps {
  /** Reads back a u64 counter the kernels just added to (the one sync of a non-finite check). */
  function readCount(counter: Block): number {
    const out = new BigUint64Array(1);
    driver.copyDtoH(out, counter.ptr, 8, stream);
    driver.streamSynchronize(stream);
    done(counter);
    return Number(out[0]!);
  }

  function zeroedCounter(): Block {
    const counter = scratch(8);
    driver.memset32(counter.ptr, 0, 2, stream);
    return counter;
  }

  function countNonFinite(x: NativeArray): number {
    expectArray("countNonFinite", "input", x, FLOATS);
    if (n(x) === 0) return 0;
    const counter = zeroedCounter();
    launch(`lft_count_nonfinite_${sfx(x)}`, [Math.min(blocks(n(x)), 1024), 1, 1], [BLOCK, 1, 1], 0, counter.ptr, x.ptr, n(x));
    return readCount(counter);
  }

  /** Returns how many new parameter values are NaN or ±Inf (counted by the kernel as it writes them). */
  function adamwStepMulti(list: readonly AdamWTensors[], h: AdamWHyper): number {
    const entries: [AdamWTensors, number, number][] = [];
    list.forEach((t) => {
      adamwArgs(t.p, t.g, t.m, t.v, h);
      for (let s = 0; s < n(t.p); s += ADAM_CHUNK) entries.push([t, s, Math.min(ADAM_CHUNK, n(t.p) - s)]);
    });
    if (entries.length === 0) return 0;
    const table = new BigInt64Array(6 * entries.length);
    for (const [i, [t, s, len]] of entries.entries())
      table.set([BigInt(t.p.ptr), BigInt(t.g.ptr), BigInt(t.m.ptr), BigInt(t.v.ptr), BigInt(s), BigInt(len)], 6 * i);
    const dev = scratch(table.byteLength);
    driver.copyHtoD(dev.ptr, table, table.byteLength, stream);
    const counter = zeroedCounter();
    launch(
      "lft_adamw_multi",
      [entries.length, 1, 1],
      [BLOCK, 1, 1],
      0,
      dev.ptr,
      h.lr,
      h.beta1,
      h.beta2,
      h.eps,
      h.weightDecay,
      1 - h.beta1 ** h.step,
      1 - h.beta2 ** h.step,
      counter.ptr,
    );
    done(dev);
    return readCount(counter);
  }

  return { countNonFinite, adamwStep: (p, g, m, v, h: AdamWHyper) => adamwStepMulti([{ p, g, m, v }], h), adamwStepMulti };
}

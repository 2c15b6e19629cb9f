// The one-rank engine: identities that still check their tensors, and refuse work once closed.
import { expect, test } from "bun:test";
import { singleCollectives, tensor, zeros } from "../../../core/index.ts";

test("single: all-reduce and broadcast leave values as they are; gather copies", () => {
  const c = singleCollectives();
  expect([c.engine, c.rank, c.size]).toEqual(["single", 0, 1]);
  const t = tensor([1, 2, 3]);
  expect(c.allReduce(t, "mean").isOk()).toBe(true);
  const pending = c.allReduceStart(t, "sum")._unsafeUnwrap();
  expect(pending.wait().isOk()).toBe(true);
  expect(c.broadcast(t, 0).isOk()).toBe(true);
  expect(Array.from(t.toArray())).toEqual([1, 2, 3]);
  const out = zeros([3]);
  expect(c.allGather(t, out).isOk()).toBe(true);
  expect(Array.from(out.toArray())).toEqual([1, 2, 3]);
});

test("single: wrong sizes, roots and a closed communicator are errors, not throws", () => {
  const c = singleCollectives();
  expect(c.allGather(tensor([1, 2]), zeros([3]))._unsafeUnwrapErr().reason).toBe("shape");
  expect(c.broadcast(tensor([1]), 1)._unsafeUnwrapErr().message).toContain("root must be a rank in 0..0");
  expect(c.allReduce(tensor([1], [1], { dtype: "i32" }), "sum")._unsafeUnwrapErr().reason).toBe("dtype");
  c.close();
  expect(c.barrier()._unsafeUnwrapErr().reason).toBe("closed");
});

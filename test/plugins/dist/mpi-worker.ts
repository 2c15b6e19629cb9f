// One rank of the MPI collectives test: runs each collective on rank-dependent data and writes what
// it got to <MPI_OUT>.rank<r>.json, with the messages of calls that must fail before reaching C.
import "../../../lft.ts";
import { writeFileSync } from "node:fs";
import { tensor, zeros } from "../../../core/index.ts";
import { openMpi } from "../../../ffi/mpi/mpi.ts";

const c = openMpi()._unsafeUnwrap();
const r = c.rank;
const values = (t: { toArray(): Float32Array | Int32Array }) => Array.from(t.toArray());
const sum = tensor([r + 1, 10 * (r + 1)]);
c.allReduce(sum, "sum")._unsafeUnwrap();
const mean = tensor([r + 1, 4]);
c.allReduceStart(mean, "mean")._unsafeUnwrap().wait()._unsafeUnwrap();
const gathered = zeros([2 * c.size]);
c.allGather(tensor([r, r + 0.5]), gathered)._unsafeUnwrap();
const scattered = zeros([2]);
c.reduceScatter(tensor(Array.from({ length: 2 * c.size }, (_, i) => i * (r + 1))), scattered, "sum")._unsafeUnwrap();
const root = tensor([r + 7, r + 8]);
c.broadcast(root, c.size - 1)._unsafeUnwrap();
const errors = [
  c.allGather(tensor([1, 2]), zeros([3]))._unsafeUnwrapErr().message,
  c.broadcast(tensor([1]), c.size)._unsafeUnwrapErr().message,
  c.allReduce(tensor([1], [1], { dtype: "i32" }), "sum")._unsafeUnwrapErr().message,
];
c.barrier()._unsafeUnwrap();
c.close();
const closed = c.barrier().isErr();
writeFileSync(
  `${process.env.MPI_OUT}.rank${r}.json`,
  JSON.stringify({
    rank: r,
    size: c.size,
    sum: values(sum),
    mean: values(mean),
    gathered: values(gathered),
    scattered: values(scattered),
    root: values(root),
    errors,
    closed,
  }),
);

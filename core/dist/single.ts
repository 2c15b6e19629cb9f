// The one-rank engine: every collective is the identity (a mean over one rank is the value itself),
// so the training loop calls collectives unconditionally and a single process pays nothing.
import { err, ok, type Result } from "neverthrow";
import { noGrad } from "../autograd/tape.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { checkCollectiveTensor, checkGathered, checkRoot } from "./check.ts";
import { CollectiveError, type Collectives, type Pending, type ReduceOp } from "./collectives.ts";

const done: Pending = { wait: () => ok(undefined) };

export function singleCollectives(): Collectives {
  let closed = false;
  const open = (what: string): Result<void, CollectiveError> =>
    closed ? err(new CollectiveError("closed", `${what}: the communicator is closed`)) : ok(undefined);
  return {
    engine: "single",
    rank: 0,
    size: 1,
    allReduce: (t: Tensor, _op: ReduceOp) => open("allReduce").andThen(() => checkCollectiveTensor("allReduce", t)),
    allReduceStart: (t: Tensor, _op: ReduceOp) =>
      open("allReduceStart")
        .andThen(() => checkCollectiveTensor("allReduceStart", t))
        .map(() => done),
    allGather: (input: Tensor, output: Tensor) =>
      open("allGather")
        .andThen(() => checkGathered("allGather", input, output, 1))
        .map(() => noGrad(() => output.storage.backend.copy(output, input))),
    reduceScatter: (input: Tensor, output: Tensor, _op: ReduceOp) =>
      open("reduceScatter")
        .andThen(() => checkGathered("reduceScatter", output, input, 1))
        .map(() => noGrad(() => output.storage.backend.copy(output, input))),
    broadcast: (t: Tensor, root: number) =>
      open("broadcast")
        .andThen(() => checkCollectiveTensor("broadcast", t))
        .andThen(() => checkRoot("broadcast", root, 1)),
    barrier: () => open("barrier"),
    abort(message: string): never {
      process.stderr.write(`lft: ${message}\n`);
      process.exit(1);
    },
    close: () => {
      closed = true;
      return ok(undefined);
    },
  };
}

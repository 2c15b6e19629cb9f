// Real NCCL on a GPU (one rank: what a one-GPU machine can check): the engine over the CUDA backend's
// stream with the library found as users will have it (nvidia-nccl wheel, CUDA image, LFT_NCCL_LIB).
// Skipped, with the reason, where the CUDA backend or libnccl is missing (as on the CI machine).
import { expect, test } from "bun:test";
import { Tensor } from "../../../core/index.ts";
import { loadNccl, ncclCollectives } from "../../../ffi/nccl/index.ts";
import { adamw, zeroOptimizer } from "../../../plugins/optimizers/index.ts";
import { gpu, gpuReason } from "../../cuda/gpu.ts";

const lib = gpu ? loadNccl() : null;
const reason = gpu === null ? `no CUDA backend: ${gpuReason}` : lib?.isErr() ? lib.error.message : null;
if (reason) console.log(`[nccl] GPU tests skipped: ${reason}`);

test.skipIf(reason !== null)("one rank over real NCCL: all-reduce, all-gather, broadcast on device memory; ZeRO-1 equals plain AdamW", () => {
  const nccl = lib!._unsafeUnwrap();
  const b = gpu!;
  console.log(`[nccl] ${nccl.path}, version ${nccl.version()._unsafeUnwrap()}`);
  const comm = ncclCollectives({
    nccl,
    rank: 0,
    size: 1,
    id: nccl.uniqueId()._unsafeUnwrap(),
    backend: b,
    stream: b.native.stream,
    synchronize: () => b.synchronize(),
  })._unsafeUnwrap();
  const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i));
  const t = Tensor.alloc(b, [1000], "f32");
  b.upload(t, values);
  comm.allReduce(t, "mean")._unsafeUnwrap();
  comm.allReduceStart(t, "sum")._unsafeUnwrap().wait()._unsafeUnwrap();
  expect([...(b.download(t) as Float32Array)]).toEqual([...values]);
  const out = Tensor.alloc(b, [1000], "f32");
  comm.allGather(t, out)._unsafeUnwrap();
  comm.broadcast(out, 0)._unsafeUnwrap();
  comm.barrier()._unsafeUnwrap();
  expect([...(b.download(out) as Float32Array)]).toEqual([...values]);

  // ZeRO-1 over the NCCL engine (one rank) updates exactly as plain AdamW on the same GPU.
  const make = () => {
    const p = Tensor.alloc(b, [10, 100], "f32");
    b.upload(p, values);
    p.requiresGrad = true;
    return p;
  };
  const step = (factory: ReturnType<typeof adamw>) => {
    const p = make();
    const opt = factory([{ name: "g", params: [p], names: ["p"], lrScale: 1, weightDecay: 0.1 }], { totalSteps: 3 })._unsafeUnwrap();
    for (let s = 0; s < 3; s++) {
      p.grad = Tensor.alloc(b, [10, 100], "f32", false);
      b.upload(
        p.grad,
        values.map((v) => v * (s + 1)),
      );
      opt.update();
      opt.zeroGrad();
    }
    const w = b.download(p) as Float32Array;
    opt.dispose();
    return [...w];
  };
  expect(step(zeroOptimizer(adamw({ lr: 0.01 }), comm))).toEqual(step(adamw({ lr: 0.01 })));
  comm.close()._unsafeUnwrap();
});

// The runtime demo (until the trainer lands): a two-layer network learns to classify a three-arm
// spiral with lft's autograd, fused cross-entropy and AdamW kernels. Run: make demo

import { Philox } from "../core/random/philox.ts";
import { backward, blasInfo, cpuBackend, ops, randn, type Tensor, tensor, tidy } from "../lft.ts";
import { AdamW } from "../plugins/optimizers/index.ts";

const CLASSES = 3;
const PER_CLASS = 200;
const HIDDEN = 64;
const STEPS = 300;

/** Points on three interleaved spiral arms with a little noise: not linearly separable. */
function spiral(seed: bigint): { x: Float32Array; y: Int32Array } {
  const rng = new Philox(seed);
  const n = CLASSES * PER_CLASS;
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let c = 0; c < CLASSES; c++) {
    for (let i = 0; i < PER_CLASS; i++) {
      const r = i / PER_CLASS;
      const t = c * 4 + r * 4 + (rng.nextFloat() - 0.5) * 0.4;
      const k = c * PER_CLASS + i;
      x[2 * k] = r * Math.sin(t);
      x[2 * k + 1] = r * Math.cos(t);
      y[k] = c;
    }
  }
  return { x, y };
}

function bar(frac: number, width = 30): string {
  const fill = Math.round(Math.max(0, Math.min(1, frac)) * width);
  return `${"█".repeat(fill)}${"░".repeat(width - fill)}`;
}

const blas = blasInfo();
console.log(`lft runtime demo — BLAS: ${blas.corename} (${blas.reason}), ${blas.threads} threads`);

const data = spiral(7n);
const x = tensor(data.x, [CLASSES * PER_CLASS, 2]);
const y = tensor(data.y, [CLASSES * PER_CLASS], { dtype: "i32" });
const params: Tensor[] = [
  randn([2, HIDDEN], { seed: 1, std: 1, requiresGrad: true, name: "w1" }),
  tensor(new Float32Array(HIDDEN), [HIDDEN], { requiresGrad: true, name: "b1" }),
  randn([HIDDEN, CLASSES], { seed: 2, std: 0.1, requiresGrad: true, name: "w2" }),
  tensor(new Float32Array(CLASSES), [CLASSES], { requiresGrad: true, name: "b2" }),
];
const [w1, b1, w2, b2] = params as [Tensor, Tensor, Tensor, Tensor];
const opt = new AdamW(params, { lr: 0.02 });

function forward(): Tensor {
  const h = ops.silu(ops.add(ops.matmul(x, w1), b1));
  return ops.add(ops.matmul(h, w2), b2);
}

function accuracy(logits: Tensor): number {
  const l = logits.toArray();
  let right = 0;
  for (let i = 0; i < data.y.length; i++) {
    const row = l.subarray(i * CLASSES, (i + 1) * CLASSES);
    if (row.indexOf(Math.max(...row)) === data.y[i]) right++;
  }
  return right / data.y.length;
}

let first = 0;
for (let step = 1; step <= STEPS; step++) {
  const { loss, acc } = tidy(() => {
    const logits = forward();
    const l = ops.crossEntropy(logits, y);
    backward(l);
    opt.update();
    opt.zeroGrad();
    return { loss: l.item(), acc: step % 50 === 0 || step === 1 ? accuracy(logits) : -1 };
  });
  if (step === 1) first = loss;
  if (acc >= 0) {
    const mem = cpuBackend.allocator.stats();
    console.log(
      `step ${String(step).padStart(3)}  loss ${loss.toFixed(4)}  ${bar(1 - loss / first)}  accuracy ${(acc * 100).toFixed(1)}%  live ${(mem.liveBytes / 1024).toFixed(0)} KiB`,
    );
  }
}
console.log("The loss falls and accuracy rises: autograd, the C kernels and AdamW work together.");

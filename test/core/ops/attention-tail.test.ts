// Queries shorter than keys (Tq < Tk): the queries are the last Tq positions of the sequence, as when
// decoding against a KV cache. The result must equal the last Tq rows of full attention, forward and
// backward, with windows and segment ids (left padding) too.
import { describe, expect, test } from "bun:test";
import { backward, ops, tensor, tidy } from "../../../core/index.ts";
import { expectClose } from "../../helpers/compare.ts";
import { randomArray } from "../../helpers/random.ts";

const { causalAttention, slice, sum, mul } = ops;

describe("causalAttention with Tq < Tk", () => {
  const cases = [
    { B: 1, Tk: 9, Tq: 1, Hq: 4, Hkv: 2, D: 8, window: 0, seg: false },
    { B: 2, Tk: 70, Tq: 5, Hq: 6, Hkv: 3, D: 16, window: 0, seg: false },
    { B: 1, Tk: 40, Tq: 3, Hq: 2, Hkv: 1, D: 8, window: 7, seg: false },
    { B: 2, Tk: 12, Tq: 4, Hq: 4, Hkv: 4, D: 8, window: 0, seg: true },
    // one query over several key tiles at vector-wide heads (the decoding step's dot-product path)
    { B: 2, Tk: 150, Tq: 1, Hq: 4, Hkv: 2, D: 40, window: 0, seg: true },
    { B: 1, Tk: 130, Tq: 1, Hq: 2, Hkv: 1, D: 64, window: 50, seg: false },
  ];
  for (const c of cases) {
    test(`B=${c.B} Tk=${c.Tk} Tq=${c.Tq} Hq=${c.Hq} Hkv=${c.Hkv} window=${c.window} seg=${c.seg}`, () => {
      tidy(() => {
        const qAll = randomArray(c.B * c.Tk * c.Hq * c.D, 1);
        const kAll = randomArray(c.B * c.Tk * c.Hkv * c.D, 2);
        const vAll = randomArray(c.B * c.Tk * c.Hkv * c.D, 3);
        const proj = randomArray(c.B * c.Tq * c.Hq * c.D, 4);
        // Left padding in batch row 0: the first 3 positions are padding (segment 0), the rest segment 1.
        const segIds = c.seg
          ? tensor(
              Array.from({ length: c.B * c.Tk }, (_, i) => (i < c.Tk && i % c.Tk < 3 ? 0 : 1)),
              [c.B, c.Tk],
              { dtype: "i32" },
            )
          : null;
        const opts = { window: c.window, segmentIds: segIds };

        const qFull = tensor(qAll, [c.B, c.Tk, c.Hq, c.D], { requiresGrad: true });
        const kFull = tensor(kAll, [c.B, c.Tk, c.Hkv, c.D], { requiresGrad: true });
        const vFull = tensor(vAll, [c.B, c.Tk, c.Hkv, c.D], { requiresGrad: true });
        const fullTail = slice(causalAttention(qFull, kFull, vFull, opts), 1, c.Tk - c.Tq, c.Tk);
        backward(sum(mul(fullTail, tensor(proj, fullTail.shape))));

        const qTailData = tensor(qAll, [c.B, c.Tk, c.Hq, c.D]);
        const qTail = slice(qTailData, 1, c.Tk - c.Tq, c.Tk);
        qTail.requiresGrad = true;
        const k = tensor(kAll, [c.B, c.Tk, c.Hkv, c.D], { requiresGrad: true });
        const v = tensor(vAll, [c.B, c.Tk, c.Hkv, c.D], { requiresGrad: true });
        const tail = causalAttention(qTail, k, v, opts);
        expect(tail.shape).toEqual([c.B, c.Tq, c.Hq, c.D]);
        backward(sum(mul(tail, tensor(proj, tail.shape))));

        // Same arithmetic on the same visible keys, only tiled differently: f32 rounding only.
        expectClose(tail.toArray(), fullTail.toArray(), 1e-5, "out");
        expectClose(qTail.grad!.toArray(), slice(qFull.grad!, 1, c.Tk - c.Tq, c.Tk).toArray(), 1e-4, "dq");
        expectClose(k.grad!.toArray(), kFull.grad!.toArray(), 1e-4, "dk");
        expectClose(v.grad!.toArray(), vFull.grad!.toArray(), 1e-4, "dv");
        for (const t of [qFull, kFull, vFull, qTail, k, v]) t.grad?.dispose();
      });
    });
  }
});

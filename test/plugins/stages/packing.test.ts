// Packing and batching: LLaMA-Factory's greedy knapsack, neat packing's restarting positions and
// segment ids, collation with -100 labels, and the attention kernel keeping packed samples apart.
import { describe, expect, test } from "bun:test";
import {
  type BatchResult,
  collate,
  collateKto,
  collatePairwise,
  type DataKind,
  type Example,
  greedyKnapsack,
  IGNORE_INDEX,
  ops,
  type ProcessContext,
  randn,
  type SampleOf,
  type SftExample,
  type TokenSeq,
  tensor,
} from "../../../core/index.ts";
import { createSlotEncoder } from "../../../plugins/data/index.ts";
import { processors } from "../../core/data/helpers/registry.ts";
import { byteTokenizer } from "../../core/data/helpers/tokenizer.ts";

const tok = byteTokenizer();
const source = { dataset: "t", file: "t.json", row: 1 };
/** One batch through the stage plugin's processor for `kind`, as the pipeline runs it. */
const build = <K extends DataKind>(kind: K, ex: Example[], c: ProcessContext, addsBos: boolean) =>
  processors[kind].build(ex, { ...c, addsBos }) as BatchResult<SampleOf[K]>;
const sft = (q: string, a: string): SftExample => ({
  kind: "sft",
  prompt: [{ role: "user", content: q }],
  response: { role: "assistant", content: a },
  system: "",
  tools: "",
  source,
});
function ctx(o: Partial<ProcessContext["options"]>): ProcessContext {
  const encoder = createSlotEncoder({ name: "p", doc: "t", user: ["{{content}}|"] }, tok)._unsafeUnwrap();
  return {
    encoder,
    tokenizer: tok,
    addsBos: false,
    options: { cutoffLen: 16, trainOnPrompt: false, maskHistory: false, packing: true, neatPacking: true, ...o },
  };
}

describe("greedy knapsack", () => {
  test("ascending lengths, each bin filled with the largest that still fits", () => {
    expect(greedyKnapsack([7, 3, 9, 2, 5, 8], 10)).toEqual([[9], [8, 2], [7, 3], [5]]);
    expect(greedyKnapsack([], 10)).toEqual([]);
  });
});

describe("neat packing", () => {
  // Lengths (prompt "x|" + reply + EOS): a=2+3+1=6, b=2+5+1=8, c=2+1+1=4, d=2+9+1=12.
  const examples: Example[] = [sft("a", "AAA"), sft("b", "BBBBB"), sft("c", "C"), sft("d", "DDDDDDDDD")];

  // Blocks are cutoff_len + 1 long, padded as LLaMA-Factory pads them (earlier lft made cutoff_len blocks).
  test("samples are binned into cutoff_len + 1 sequences; positions restart; segment ids 1..n, padding 0", () => {
    const packed = build("sft", examples, ctx({}), false).samples as TokenSeq[];
    // knapsack([6,8,4,12], 16) = [[12, 4], [8, 6]]
    expect(packed.length).toBe(2);
    const [first, second] = packed as [TokenSeq, TokenSeq];
    expect(tok.decode(first.inputIds)).toBe("d|DDDDDDDDD</s>c|C</s><pad>");
    expect(first.segmentIds).toEqual([...Array(12).fill(1), ...Array(4).fill(2), 0]);
    expect(first.positionIds).toEqual([...Array.from({ length: 12 }, (_, i) => i), 0, 1, 2, 3, 0]);
    expect(tok.decode(second.inputIds.slice(0, 14))).toBe("b|BBBBB</s>a|AAA</s>");
    expect(second.inputIds.slice(14)).toEqual([0, 0, 0]);
    expect(second.labels.slice(14)).toEqual([IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX]);
    expect(second.segmentIds).toEqual([...Array(8).fill(1), ...Array(6).fill(2), 0, 0, 0]);
    // Each packed sample keeps its own labels: the prompt "b|" masked, the reply learned.
    expect(second.labels.slice(0, 8)).toEqual([IGNORE_INDEX, IGNORE_INDEX, ...second.inputIds.slice(2, 8)]);
  });

  test("plain packing keeps restarting positions but no segments (samples may attend across)", () => {
    const packed = build("sft", examples, ctx({ neatPacking: false }), false).samples as TokenSeq[];
    expect(packed[0]!.segmentIds).toBeUndefined();
    expect(packed[0]!.positionIds!.slice(10, 14)).toEqual([10, 11, 0, 1]);
  });
});

describe("collation", () => {
  test("right padding with pad id, labels -100, mask 0; positions 0..n-1", () => {
    const b = collate(
      [
        { inputIds: [5, 6, 7], labels: [-100, 6, 7] },
        { inputIds: [8], labels: [8] },
      ],
      { padId: 0, padToMultipleOf: 4 },
    );
    expect([b.batchSize, b.seqLen]).toEqual([2, 4]);
    expect([...b.inputIds]).toEqual([5, 6, 7, 0, 8, 0, 0, 0]);
    expect([...b.labels]).toEqual([-100, 6, 7, -100, 8, -100, -100, -100]);
    expect([...b.attentionMask]).toEqual([1, 1, 1, 0, 1, 0, 0, 0]);
    expect([...b.positionIds]).toEqual([0, 1, 2, 0, 0, 0, 0, 0]);
    expect(b.segmentIds).toBeNull();
  });

  test("pairwise batches put chosen rows first; kto batches carry the tags", () => {
    const s = (n: number): TokenSeq => ({ inputIds: [n], labels: [n] });
    const p = collatePairwise(
      [
        { chosen: s(1), rejected: s(2) },
        { chosen: s(3), rejected: s(4) },
      ],
      { padId: 0 },
    );
    expect([...p.inputIds]).toEqual([1, 3, 2, 4]);
    const k = collateKto([{ seq: s(1), kl: s(9), desirable: false }], { padId: 0 });
    expect([[...k.batch.inputIds], [...k.kl.inputIds], [...k.desirable]]).toEqual([[1], [9], [0]]);
  });

  test("a neatly packed batch through causalAttention equals each sample run alone", () => {
    const packed = build("sft", [sft("c", "C"), sft("d", "DDDDDDDDD")], ctx({}), false).samples as TokenSeq[];
    const batch = collate(packed, { padId: 0 });
    const T = batch.seqLen;
    const [H, D] = [2, 8];
    const q = randn([1, T, H, D], { seed: 1n });
    const k = randn([1, T, H, D], { seed: 2n });
    const v = randn([1, T, H, D], { seed: 3n });
    const seg = tensor(batch.segmentIds!, [1, T], { dtype: "i32" });
    const out = ops.causalAttention(q, k, v, { segmentIds: seg }).toArray();
    // The second sample (segment 2) alone: its rows of q, k, v from its first position.
    const start = batch.segmentIds!.indexOf(2);
    const len = batch.segmentIds!.lastIndexOf(2) - start + 1;
    const rows = (t: Float32Array) => t.slice(start * H * D, (start + len) * H * D);
    const alone = ops
      .causalAttention(
        tensor(rows(q.toArray() as Float32Array), [1, len, H, D]),
        tensor(rows(k.toArray() as Float32Array), [1, len, H, D]),
        tensor(rows(v.toArray() as Float32Array), [1, len, H, D]),
      )
      .toArray();
    const packedRows = rows(out as Float32Array);
    // Same arithmetic per row apart from summation order inside the kernel's tiles: 1e-5 covers f32 rounding.
    for (let i = 0; i < alone.length; i++) expect(Math.abs(packedRows[i]! - alone[i]!)).toBeLessThan(1e-5);
  });
});

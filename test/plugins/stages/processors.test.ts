// The processors: LLaMA-Factory's cutoff rule, prompt masking, mask_history, train_on_prompt and
// efficient_eos on readable byte-level ids; pairwise and KTO pairing; pre-training blocks.
import { describe, expect, test } from "bun:test";
import {
  type BatchResult,
  type DataKind,
  type Example,
  IGNORE_INDEX,
  inferSeqlen,
  type KtoSample,
  type Message,
  type PairwiseSample,
  type ProcessContext,
  type SampleOf,
  type SftExample,
  type TokenSeq,
} from "../../../core/index.ts";
import { BOS, createSlotEncoder, EOS, type SlotTemplateSpec } from "../../../plugins/data/index.ts";
import { processors } from "../../core/data/helpers/registry.ts";
import { byteTokenizer } from "../../core/data/helpers/tokenizer.ts";

const tok = byteTokenizer();
const ids = (s: string) => [...new TextEncoder().encode(s)].map((b) => b + 3);
const M = (n: number) => new Array<number>(n).fill(IGNORE_INDEX);
const EOS_ID = 2;
const source = { dataset: "t", file: "t.json", row: 1 };
/** One batch through the stage plugin's processor for `kind`, as the pipeline runs it. */
const build = <K extends DataKind>(kind: K, ex: Example[], c: ProcessContext, addsBos: boolean) =>
  processors[kind].build(ex, { ...c, addsBos }) as BatchResult<SampleOf[K]>;

// A plain spec: "U:<q>\n" prompts, "<a>" + EOS replies.
const plain: SlotTemplateSpec = { name: "plain", doc: "test", user: ["U:{{content}}\n"], system: ["S:{{content}}\n"] };
function ctx(spec: SlotTemplateSpec, o: Partial<ProcessContext["options"]> = {}): ProcessContext {
  const encoder = createSlotEncoder(spec, tok)._unsafeUnwrap();
  return {
    encoder,
    tokenizer: tok,
    addsBos: false,
    options: { cutoffLen: 1000, trainOnPrompt: false, maskHistory: false, packing: false, neatPacking: false, ...o },
  };
}
const turns = (...t: string[]): Message[] => t.map((content, i) => ({ role: i % 2 === 0 ? "user" : "assistant", content }));
const sft = (t: string[], system = ""): SftExample => ({
  kind: "sft",
  prompt: turns(...t.slice(0, -1)),
  response: { role: "assistant", content: t.at(-1)! },
  system,
  tools: "",
  source,
});
const run = (c: ProcessContext, ex: Example[]) => build("sft", ex, c, false);

describe("inferSeqlen (LLaMA-Factory's source/target budget)", () => {
  test("short target: the source is cut; short source: the target is cut; else both in proportion", () => {
    expect(inferSeqlen(10, 5, 100)).toEqual([10, 5]);
    expect(inferSeqlen(100, 10, 50)).toEqual([40, 10]);
    expect(inferSeqlen(10, 100, 50)).toEqual([10, 40]);
    expect(inferSeqlen(60, 40, 50)).toEqual([30, 20]);
    expect(inferSeqlen(3, 7, 0)).toEqual([0, 0]);
  });
});

describe("supervised", () => {
  test("prompts masked, replies learned with their EOS, system in the first turn only", () => {
    const s = run(ctx(plain), [sft(["a", "b", "c", "d"], "sys")]).samples[0]!;
    const p1 = [...ids("S:sys\n"), ...ids("U:a\n")];
    expect(s.inputIds).toEqual([...p1, ...ids("b"), EOS_ID, ...ids("U:c\n"), ...ids("d"), EOS_ID]);
    expect(s.labels).toEqual([...M(p1.length), ...ids("b"), EOS_ID, ...M(4), ...ids("d"), EOS_ID]);
  });

  test("cutoff_len budgets turn by turn; a later turn gets what is left", () => {
    // pair 1: source "U:aaaa\n" (7), target "bb"+EOS (3); pair 2: source 7, target 3; cutoff 12.
    const s = run(ctx(plain, { cutoffLen: 12 }), [sft(["aaaa", "bb", "cccc", "dd"])]).samples[0]!;
    // pair 1 fits whole (10); pair 2 gets budget 2: target 3*2 >= 2, source 7*2 >= 2 → target int(2*3/10)=0, source 2.
    expect(s.inputIds).toEqual([...ids("U:aaaa\n"), ...ids("bb"), EOS_ID, ...ids("U:")]);
    expect(s.labels).toEqual([...M(7), ...ids("bb"), EOS_ID, ...M(2)]);
  });

  test("mask_history learns only the last reply and budgets from the last turn backwards", () => {
    const c = ctx(plain, { maskHistory: true, cutoffLen: 10 });
    const s = run(c, [sft(["aaaa", "bb", "cccc", "dd"])]).samples[0]!;
    // The last pair (10 tokens) takes the whole budget; the first pair is dropped.
    expect(s.inputIds).toEqual([...ids("U:cccc\n"), ...ids("dd"), EOS_ID]);
    expect(s.labels).toEqual([...M(7), ...ids("dd"), EOS_ID]);
    const all = run(ctx(plain, { maskHistory: true }), [sft(["a", "b", "c", "d"])]).samples[0]!;
    expect(all.labels).toEqual([...M(4), ...M(2), ...M(4), ...ids("d"), EOS_ID]);
  });

  test("train_on_prompt learns the prompt too", () => {
    const s = run(ctx(plain, { trainOnPrompt: true }), [sft(["a", "b"])]).samples[0]!;
    expect(s.labels).toEqual(s.inputIds);
  });

  test("efficient_eos: no EOS in the reply slot; the next prompt's first label is EOS (the first prompt's is not, as in LF); one EOS at the end", () => {
    const spec: SlotTemplateSpec = { ...plain, name: "eff", efficientEos: true, prefix: [BOS] };
    const s = run(ctx(spec), [sft(["a", "b", "c", "d"])]).samples[0]!;
    expect(s.inputIds).toEqual([1, ...ids("U:a\n"), ...ids("b"), ...ids("U:c\n"), ...ids("d"), EOS_ID]);
    expect(s.labels).toEqual([...M(5), ...ids("b"), EOS_ID, ...M(3), ...ids("d"), EOS_ID]);
  });

  test("a reply with nothing left to learn after cutoff is skipped and counted", () => {
    const r = run(ctx(plain, { cutoffLen: 1 }), [sft(["aaaaaaaa", "b"])]);
    expect(r.samples).toEqual([]);
    expect(r.bad.map((b) => [b.reason, b.detail])).toEqual([["empty-after-template", "no token left to learn after templating and cutoff_len 1"]]);
  });

  test("a function turn whose JSON is broken is a template error naming the row", () => {
    const ex: SftExample = {
      ...sft(["q", "a"]),
      prompt: [
        { role: "user", content: "q" },
        { role: "function", content: "{not json" },
        { role: "observation", content: "r" },
      ],
    };
    const r = run(ctx(plain), [ex]);
    expect(r.bad[0]!.reason).toBe("template-error");
    expect(r.bad[0]!.detail).toStartWith("function call is not valid JSON");
  });
});

describe("pairwise and kto", () => {
  test("pairwise: one prompt, both replies cut to the longer reply's budget", () => {
    const ex: Example = {
      kind: "pairwise",
      prompt: turns("q"),
      chosen: { role: "assistant", content: "good" },
      rejected: { role: "assistant", content: "no" },
      system: "",
      tools: "",
      source,
    };
    const [s] = build("pairwise", [ex], ctx(plain), false).samples as PairwiseSample[];
    expect(s!.chosen).toEqual({ inputIds: [...ids("U:q\n"), ...ids("good"), EOS_ID], labels: [...M(4), ...ids("good"), EOS_ID] });
    expect(s!.rejected).toEqual({ inputIds: [...ids("U:q\n"), ...ids("no"), EOS_ID], labels: [...M(4), ...ids("no"), EOS_ID] });
    // cutoff 6: target = max(5, 3) = 5; 10 >= 6, source 8 >= 6 → target int(6*5/9)=3, source 3.
    const [cut] = build("pairwise", [ex], ctx(plain, { cutoffLen: 6 }), false).samples as PairwiseSample[];
    expect(cut!.chosen.inputIds).toEqual([...ids("U:q"), ...ids("goo")]);
    expect(cut!.rejected.inputIds).toEqual([...ids("U:q"), ...ids("no"), EOS_ID]);
  });

  test("kto: each example is paired with the reply of its mirror in the batch for the KL term", () => {
    const kto = (q: string, a: string, desirable: boolean): Example => ({
      kind: "kto",
      prompt: turns(q),
      response: { role: "assistant", content: a },
      desirable,
      system: "",
      tools: "",
      source,
    });
    const out = build("kto", [kto("1", "A", true), kto("2", "B", false), kto("3", "C", true)], ctx(plain), false).samples as KtoSample[];
    expect(out.map((s) => s.desirable)).toEqual([true, false, true]);
    expect(out.map((s) => tok.decode(s.kl.inputIds))).toEqual(["U:1\nC</s>", "U:2\nB</s>", "U:3\nA</s>"]);
    expect(out[0]!.seq.labels).toEqual([...M(4), ...ids("A"), EOS_ID]);
  });
});

describe("pre-training", () => {
  const text = (t: string): Example => ({ kind: "text", text: t, source });
  test("packing: documents + EOS text concatenated and cut into cutoff_len blocks, the remainder dropped", () => {
    const c = ctx(plain, { cutoffLen: 4, packing: true });
    const r = build("pt", [text("abc"), text("defgh")], c, false);
    // "abc</s>defgh</s>" = 10 tokens → two blocks of 4, 2 dropped.
    expect(r.samples.map((s) => (s as TokenSeq).inputIds)).toEqual([[...ids("abc"), EOS_ID], ids("defg")]);
    expect((r.samples[0] as TokenSeq).labels).toEqual((r.samples[0] as TokenSeq).inputIds);
  });

  test("a tokenizer that adds BOS itself gets a BOS at the start of each block / document", () => {
    const c = ctx(plain, { cutoffLen: 4, packing: true });
    const packed = build("pt", [text("abcdefgh")], c, true).samples as TokenSeq[];
    expect(packed.map((s) => s.inputIds[0])).toEqual([1, 1]);
    const single = build("pt", [text("ab")], { ...c, options: { ...c.options, packing: false } }, true).samples as TokenSeq[];
    expect(single[0]!.inputIds).toEqual([1, ...ids("ab"), EOS_ID]);
  });

  test("pt reads a chat example's first prompt turn, as LLaMA-Factory does", () => {
    const r = build("pt", [sft(["instruction", "answer"])], ctx(plain, { packing: false }), false);
    expect((r.samples[0] as TokenSeq).inputIds).toEqual([...ids("instruction"), EOS_ID]);
  });

  test("the EOS text is the template's: replace_eos changes it", () => {
    const spec: SlotTemplateSpec = { name: "r", doc: "t", user: ["{{content}}"], stopWords: ["<pad>"], replaceEos: true };
    const c = ctx(spec, { packing: false });
    expect(c.encoder.eosId).toBe(0);
    expect((build("pt", [text("x")], c, false).samples[0] as TokenSeq).inputIds).toEqual([...ids("x"), 0]);
    expect(EOS).toEqual({ special: "eos" });
  });
});

describe("prompt-only samples (grpo; LLaMA-Factory's unsupervised processor)", () => {
  const promptRun = (c: ProcessContext, ex: Example[]) => build("prompt", ex, c, false);
  const eos: SlotTemplateSpec = { ...plain, assistant: ["{{content}}", EOS] };

  test("the templated prompt, nothing to learn in it, and the response text kept as the reference (no template markup)", () => {
    const out = promptRun(ctx(eos), [sft(["What?", "Paris"])]);
    expect(out.bad).toEqual([]);
    const s = out.samples[0]!;
    expect(s.prompt.inputIds).toEqual(ids("U:What?\n"));
    expect(s.prompt.labels).toEqual(M(ids("U:What?\n").length));
    expect(s.reference.inputIds).toEqual(ids("Paris"));
    expect(tok.decode(s.reference.inputIds)).toBe("Paris");
  });

  test("a prompt over cutoff_len keeps its end (where the reply starts); pairwise rows are not accepted", () => {
    const s = promptRun(ctx(eos, { cutoffLen: 4 }), [sft(["What?", "Paris"])]).samples[0]!;
    expect(s.prompt.inputIds).toEqual(ids("U:What?\n").slice(-4));
    const pair: Example = {
      kind: "pairwise",
      prompt: turns("Q"),
      chosen: { role: "assistant", content: "a" },
      rejected: { role: "assistant", content: "b" },
      system: "",
      tools: "",
      source,
    };
    expect(processors.prompt.accepts).not.toContain(pair.kind);
  });
});

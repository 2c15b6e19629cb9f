// The stage plugin registers pt and sft with their sample processors; a stage without one is for
// checking only and cannot run.
import { describe, expect, test } from "bun:test";
import { createRegistry, definePlugin, runnableStage } from "../../../core/index.ts";
import stages, { feedbackProcessor, pairwiseProcessor, pretrainProcessor, supervisedProcessor } from "../../../plugins/stages/index.ts";

describe("stages own their processors", () => {
  const registry = createRegistry();
  registry.use(stages)._unsafeUnwrap();

  test("pt and sft carry the pre-training and supervised processors; a runnable stage's data kind is its processor's", () => {
    expect(registry.get("stages", "pt")._unsafeUnwrap().processor).toBe(pretrainProcessor);
    expect(registry.get("stages", "sft")._unsafeUnwrap().processor).toBe(supervisedProcessor);
    const sft = runnableStage(registry.get("stages", "sft")._unsafeUnwrap())._unsafeUnwrap();
    expect([sft.dataKind, sft.processor]).toEqual(["sft", supervisedProcessor]);
  });

  test("what each processor takes, and how it packs", () => {
    expect(pretrainProcessor).toMatchObject({ kind: "pt", accepts: ["text", "sft", "pairwise", "kto"], packing: { byDefault: true, neat: false } });
    expect(supervisedProcessor).toMatchObject({ kind: "sft", accepts: ["sft"], packing: { byDefault: false, neat: true } });
    // The pairwise (dpo) and feedback (kto) processors never pack.
    expect(pairwiseProcessor).toMatchObject({ kind: "pairwise", accepts: ["pairwise"] });
    expect(feedbackProcessor).toMatchObject({ kind: "kto", accepts: ["kto"] });
    expect([pairwiseProcessor.packing, feedbackProcessor.packing]).toEqual([undefined, undefined]);
  });

  test("a stage registered without a processor is for checking only", () => {
    const r = createRegistry();
    r.use(definePlugin({ name: "dpo-names", setup: (api) => api.register.stages({ name: "dpo", doc: "names only" }) }))._unsafeUnwrap();
    expect(runnableStage(r.get("stages", "dpo")._unsafeUnwrap())._unsafeUnwrapErr().message).toBe(
      'stage "dpo" has no loss or sample processor: its plugin registers it for checking only',
    );
  });
});

// One batch of examples to samples, by data kind: the processor each training stage needs.
import type { DataKind, Example, KtoExample, PairwiseExample, SampleOf, SftExample } from "../types.ts";
import type { BatchResult, ProcessContext } from "./context.ts";
import { processFeedback } from "./feedback.ts";
import { processPackedSupervised } from "./packed.ts";
import { processPairwise } from "./pairwise.ts";
import { processPretrain } from "./pretrain.ts";
import { processSupervised } from "./supervised.ts";

export function processBatch<K extends DataKind>(kind: K, examples: readonly Example[], ctx: ProcessContext, addsBos: boolean): BatchResult<SampleOf[K]> {
  // The pipeline only hands a processor examples of the kind it accepts (checked per row).
  switch (kind) {
    case "pt":
      return processPretrain(examples, ctx, addsBos) as BatchResult<SampleOf[K]>;
    case "sft":
      return (ctx.options.packing ? processPackedSupervised(examples as SftExample[], ctx) : processSupervised(examples as SftExample[], ctx)) as BatchResult<
        SampleOf[K]
      >;
    case "pairwise":
      return processPairwise(examples as PairwiseExample[], ctx) as BatchResult<SampleOf[K]>;
    case "kto":
      return processFeedback(examples as KtoExample[], ctx) as BatchResult<SampleOf[K]>;
  }
  throw new Error(`unknown data kind ${String(kind)}`);
}

/** The example kind each data kind takes (pt takes any: it reads text or the first prompt turn). */
export function acceptsExample(kind: DataKind, ex: Example): boolean {
  switch (kind) {
    case "pt":
      return true;
    case "sft":
      return ex.kind === "sft";
    case "pairwise":
      return ex.kind === "pairwise";
    case "kto":
      return ex.kind === "kto";
  }
}

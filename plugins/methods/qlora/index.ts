// `method qlora`: LoRA on a frozen base quantised as bitsandbytes does (NF4/FP4 4-bit blockwise with
// double-quantised scales, or LLM.int8 rows). Options are LoRA's plus quant_type and double_quant; the
// formats, kernels' weight objects and the load hook are in the files beside this one.
import { err, ok, type Result } from "neverthrow";
import { type MethodEntry, MethodError, type MethodPayload } from "../../../core/index.ts";
import { checkOptions } from "../check-options.ts";
import { applyLora, loraOptions, loraSettings } from "../lora/index.ts";
import { qloraMemory } from "../plan-memory.ts";
import { bnb4bitStoredForm } from "./bnb-checkpoint.ts";
import { QloraMethod } from "./qlora-method.ts";
import { QUANT_TYPES, type QuantizeSettings, quantizeLinears, quantizeOnLoad } from "./quantize-model.ts";

export { BLOCK_4BIT, dequantize4, dequantizeAbsmax, doubleQuantize, NESTED_BLOCK, quantize4, quantizeInt8 } from "./blockwise.ts";
export { bnb4bitStoredForm, writeBnb4bitModel } from "./bnb-checkpoint.ts";
export { dynamicMap, FP4_CODE, NF4_CODE } from "./codebooks.ts";
export { QloraMethod } from "./qlora-method.ts";
export { type QuantizeSettings, type QuantType, quantizeLinears, quantizeOnLoad } from "./quantize-model.ts";
export { Int8Weight, Quant4Weight } from "./quantized-weight.ts";

export const qloraOptions = {
  ...loraOptions,
  quant_type: { type: "enum", values: QUANT_TYPES, default: "nf4", doc: "base weight storage: nf4 / fp4 (4-bit, blocks of 64) or int8 (LLM.int8 rows)" },
  double_quant: { type: "boolean", default: true, doc: "4-bit: quantise the absmax scales again to 8 bits (blocks of 256)" },
} as const;

/** The combinations QLoRA refuses, each with the option it is reported at. */
export function qloraProblems(o: Readonly<Record<string, unknown>>): { key: string; message: string }[] {
  const problems: { key: string; message: string }[] = [];
  const type = String(o.quant_type ?? "nf4");
  if (o.dora === true) problems.push({ key: "dora", message: `dora = true needs the dense base weight; it is not supported over a ${type} base` });
  if (o.init === "pissa") problems.push({ key: "init", message: `init = pissa rewrites the base weight; it is not supported over a ${type} base` });
  return problems;
}

export const qlora: MethodEntry & MethodPayload = {
  name: "qlora",
  doc: "LoRA over a frozen quantised base (bitsandbytes NF4/FP4 with double quantisation, or int8)",
  options: qloraOptions,
  optionProblems: qloraProblems,
  apply(model, options, family, ctx): Result<QloraMethod, MethodError> {
    const checked = checkOptions(qloraOptions, options, "qlora");
    if (checked.isErr()) return err(checked.error);
    const o = checked.value;
    const problems = qloraProblems(o).map((p) => p.message);
    if (problems.length) return err(new MethodError(`method "qlora": ${problems.join("; ")}`, problems));
    const q: QuantizeSettings = { type: o.quant_type, doubleQuant: o.double_quant };
    const n = quantizeLinears(model, q);
    if (n.isErr()) return err(new MethodError(`method "qlora": ${n.error.message}`));
    const applied = applyLora(model, loraSettings(o, family), family, ctx);
    if (applied.isErr()) return err(applied.error);
    return ok(new QloraMethod(applied.value, q));
  },
  memory(input) {
    const checked = checkOptions(qloraOptions, input.options, "qlora");
    return checked.isErr() ? err(checked.error) : qloraMemory({ ...input, options: checked.value });
  },
  loadHooks(options) {
    const checked = checkOptions(qloraOptions, options, "qlora");
    if (checked.isErr()) return null;
    const q: QuantizeSettings = { type: checked.value.quant_type, doubleQuant: checked.value.double_quant };
    return { transform: quantizeOnLoad(q), storedForm: bnb4bitStoredForm() };
  },
};

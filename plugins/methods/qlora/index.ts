// `method qlora`: LoRA on a frozen base quantised as bitsandbytes does (NF4/FP4 4-bit blockwise with
// double-quantised scales, or LLM.int8 rows). Options are LoRA's plus quant_type and double_quant; the
// formats, kernels' weight objects and the load hook are in the files beside this one.
import { err, ok, type Result } from "neverthrow";
import { type MethodEntry, MethodError, type MethodPayload } from "../../../core/index.ts";
import { checkOptions } from "../check-options.ts";
import { applyLora, loraOptions, loraSettings } from "../lora/index.ts";
import { QloraMethod } from "./qlora-method.ts";
import { QUANT_TYPES, type QuantizeSettings, type QuantType, quantizeLinears } from "./quantize-model.ts";

export { BLOCK_4BIT, dequantize4, dequantizeAbsmax, doubleQuantize, NESTED_BLOCK, quantize4, quantizeInt8 } from "./blockwise.ts";
export { dynamicMap, FP4_CODE, NF4_CODE } from "./codebooks.ts";
export { QloraMethod } from "./qlora-method.ts";
export { type QuantizeSettings, type QuantType, quantizeLinears, quantizeOnLoad } from "./quantize-model.ts";
export { Int8Weight, Quant4Weight } from "./quantized-weight.ts";

export const qloraOptions = {
  ...loraOptions,
  quant_type: { type: "enum", values: QUANT_TYPES, default: "nf4", doc: "base weight storage: nf4 / fp4 (4-bit, blocks of 64) or int8 (LLM.int8 rows)" },
  double_quant: { type: "boolean", default: true, doc: "4-bit: quantise the absmax scales again to 8 bits (blocks of 256)" },
} as const;

/** The combinations QLoRA refuses, each as a message naming the option. */
export function qloraProblems(o: { dora: boolean; init: string; quant_type: QuantType }): string[] {
  const problems: string[] = [];
  if (o.dora) problems.push(`dora = true needs the dense base weight; it is not supported over a ${o.quant_type} base`);
  if (o.init === "pissa") problems.push(`init = pissa rewrites the base weight; it is not supported over a ${o.quant_type} base`);
  return problems;
}

export const qlora: MethodEntry & MethodPayload = {
  name: "qlora",
  doc: "LoRA over a frozen quantised base (bitsandbytes NF4/FP4 with double quantisation, or int8)",
  options: qloraOptions,
  apply(model, options, family, ctx): Result<QloraMethod, MethodError> {
    const checked = checkOptions(qloraOptions, options, "qlora");
    if (checked.isErr()) return err(checked.error);
    const o = checked.value;
    const problems = qloraProblems(o);
    if (problems.length) return err(new MethodError(`method "qlora": ${problems.join("; ")}`, problems));
    const q: QuantizeSettings = { type: o.quant_type, doubleQuant: o.double_quant };
    const n = quantizeLinears(model, q);
    if (n.isErr()) return err(new MethodError(`method "qlora": ${n.error.message}`));
    const applied = applyLora(model, loraSettings(o, family), family, ctx);
    if (applied.isErr()) return err(applied.error);
    return ok(new QloraMethod(applied.value, q));
  },
};

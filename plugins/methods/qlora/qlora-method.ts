// QloraMethod: LoRA over a quantised base (core's AppliedMethod). Training, saving (a PEFT adapter) and
// dropout are LoRA's; merging first turns every quantised weight back into a dense f32 one (dequantise),
// then folds the adapters in, so export writes a plain f32/bf16 HF checkpoint.
import { ok, type Result } from "neverthrow";
import { type AppliedMethod, type CausalLM, type GroupRule, Linear, type MethodError, type RandomStream, type Tensor } from "../../../core/index.ts";
import type { LoraMethod } from "../lora/index.ts";
import type { QuantizeSettings } from "./quantize-model.ts";

export class QloraMethod implements AppliedMethod {
  readonly method = "qlora";

  constructor(
    readonly lora: LoraMethod,
    readonly quantize: QuantizeSettings,
  ) {}

  get model(): CausalLM {
    return this.lora.model;
  }
  get params(): Readonly<Record<string, Tensor>> {
    return this.lora.params;
  }
  get groups(): readonly GroupRule[] {
    return this.lora.groups;
  }
  /** Quantised weights count as parameters (their elements, not their bytes). */
  get counts(): { trainable: number; total: number } {
    const c = this.lora.counts;
    return { trainable: c.trainable, total: c.total + this.frozenElements() };
  }
  get training(): boolean {
    return this.lora.training;
  }
  set training(on: boolean) {
    this.lora.training = on;
  }

  /** Elements and bytes held in quantised form. */
  frozenElements(): number {
    return this.model.namedModules().reduce((s, [, m]) => (m instanceof Linear && m.frozen ? s + m.frozen.rows * m.frozen.cols : s), 0);
  }
  frozenBytes(): number {
    return this.model.namedModules().reduce((s, [, m]) => (m instanceof Linear && m.frozen ? s + m.frozen.bytes : s), 0);
  }

  beginForward(rng?: RandomStream): void {
    this.lora.beginForward(rng);
  }

  saveTrainable(dir: string): Result<string[], MethodError> {
    return this.lora.saveTrainable(dir);
  }

  merge(): Result<void, MethodError> {
    if (this.lora.isMerged) return ok(undefined);
    for (const [, m] of this.model.namedModules()) if (m instanceof Linear && m.frozen) m.thawWeight("f32");
    return this.lora.merge();
  }
}

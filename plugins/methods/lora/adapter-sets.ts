// A second LoRA adapter on the same base (model sharing, LLaMA-Factory's `reward_model_type: lora`):
// a PEFT folder's A and B matrices are loaded, frozen, into the LoraLinear slots the trained adapter
// already occupies, under a set name; while the runtime's `active` names the set, every slot computes
// base + scale·B·A with the set's matrices instead of the trained ones (a slot the set leaves out
// passes the base through). Shapes are checked against the base before anything is kept.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { keep, MethodError, openSafetensors, readJsonObject, type Tensor } from "../../../core/index.ts";
import type { LoraLinear } from "./lora-linear.ts";
import { settingsFromPeftConfig } from "./peft-config.ts";
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, peftKey } from "./peft-layout.ts";
import { loraScale } from "./settings.ts";

/** Loads dir's adapter into `adapters`' slots as set `name`; nothing is kept on any error. */
export function loadAdapterSet(adapters: ReadonlyMap<string, LoraLinear>, name: string, dir: string): Result<void, MethodError> {
  const cfgPath = join(dir, ADAPTER_CONFIG);
  const raw = readJsonObject(cfgPath, "PEFT adapter config");
  if (raw.isErr()) return err(new MethodError(raw.error.message));
  const settings = settingsFromPeftConfig(raw.value, cfgPath);
  if (settings.isErr()) return err(settings.error);
  const s = settings.value;
  if (s.dora)
    return err(new MethodError(`${cfgPath}: a DoRA adapter cannot be switched in beside the trained one (use_dora is not supported for a second adapter set)`));
  if (s.additionalTargets.length > 0)
    return err(
      new MethodError(`${cfgPath}: modules_to_save (${s.additionalTargets.join(", ")}) change base weights; a second adapter set can only hold LoRA matrices`),
    );
  const weightsPath = join(dir, ADAPTER_WEIGHTS);
  if (!existsSync(weightsPath)) return err(new MethodError(`${dir}: no ${ADAPTER_WEIGHTS}`));
  const opened = openSafetensors(weightsPath);
  if (opened.isErr()) return err(new MethodError(`${weightsPath}: ${opened.error.message}`));
  const file = opened.value;
  const scale = loraScale(s.alpha, s.rank, s.rslora);
  const loaded: { lora: LoraLinear; a: Tensor; b: Tensor }[] = [];
  try {
    const used = new Set<string>();
    const problems: string[] = [];
    const pairs: { lora: LoraLinear; aKey: string; bKey: string }[] = [];
    for (const [path, lora] of adapters) {
      const aKey = peftKey(path, "lora_A.weight");
      const bKey = peftKey(path, "lora_B.weight");
      if (!file.has(aKey) && !file.has(bKey)) continue;
      const want: [string, number[]][] = [
        [aKey, [s.rank, lora.base.inFeatures]],
        [bKey, [lora.base.outFeatures, s.rank]],
      ];
      for (const [key, shape] of want) {
        used.add(key);
        if (!file.has(key)) problems.push(`missing tensor "${key}"`);
        else {
          const got = file.info(key)._unsafeUnwrap().shape;
          if (got.join(",") !== shape.join(",")) problems.push(`tensor "${key}" is [${got.join(", ")}], this base needs [${shape.join(", ")}]`);
        }
      }
      pairs.push({ lora, aKey, bKey });
    }
    const foreign = file.names().filter((n) => !used.has(n));
    if (foreign.length > 0)
      problems.unshift(
        `${foreign.length} tensor(s) for layers the trained adapter does not cover (e.g. ${foreign.slice(0, 3).join(", ")}); train both adapters on the same target modules of the same base`,
      );
    if (pairs.length === 0 && problems.length === 0) problems.push("no LoRA tensor matches this model's adapted layers");
    if (problems.length > 0)
      return err(
        new MethodError(
          `${weightsPath}: ${problems.slice(0, 6).join("; ")}${problems.length > 6 ? `; … and ${problems.length - 6} more` : ""} (was it trained on a different base model?)`,
          problems,
        ),
      );
    for (const { lora, aKey, bKey } of pairs) {
      const backend = lora.base.backend;
      const a = keep(file.tensor(aKey, { dtype: "f32", backend })._unsafeUnwrap());
      const b = keep(file.tensor(bKey, { dtype: "f32", backend })._unsafeUnwrap());
      loaded.push({ lora, a, b });
    }
    dropAdapterSet(adapters, name);
    for (const { lora, a, b } of loaded) lora.sets.set(name, { a, b, scale });
    return ok(undefined);
  } catch (e) {
    for (const { a, b } of loaded) {
      a.dispose();
      b.dispose();
    }
    return err(new MethodError(`${weightsPath}: ${(e as Error).message}`));
  } finally {
    file.close();
  }
}

/** Frees set `name` from every slot. */
export function dropAdapterSet(adapters: ReadonlyMap<string, LoraLinear>, name: string): void {
  for (const lora of adapters.values()) {
    const set = lora.sets.get(name);
    if (!set) continue;
    set.a.dispose();
    set.b.dispose();
    lora.sets.delete(name);
  }
}

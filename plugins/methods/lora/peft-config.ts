// adapter_config.json (PEFT's LoraConfig) to lft's LoRA settings, refusing by name what lft does not
// reproduce. Used when an adapter is loaded onto a base and when one is switched in as a second set.
import { err, ok, type Result } from "neverthrow";
import { MethodError } from "../../../core/index.ts";
import type { LoraInit } from "./lora-linear.ts";
import type { LoraSettings } from "./settings.ts";

/** adapter_config.json -> settings, or every reason lft cannot reproduce the adapter. */
export function settingsFromPeftConfig(cfg: Readonly<Record<string, unknown>>, file: string): Result<LoraSettings, MethodError> {
  const problems: string[] = [];
  const get = (k: string) => cfg[k];
  const isEmpty = (v: unknown) => v === undefined || v === null || (typeof v === "object" && Object.keys(v as object).length === 0);
  if (get("peft_type") !== "LORA") problems.push(`peft_type is ${JSON.stringify(get("peft_type"))}; lft reads LORA adapters`);
  const r = get("r") ?? 8;
  if (!(typeof r === "number" && Number.isInteger(r) && r >= 1)) problems.push(`r must be a positive integer, found ${JSON.stringify(r)}`);
  const alpha = get("lora_alpha") ?? 8;
  if (!(typeof alpha === "number" && alpha > 0)) problems.push(`lora_alpha must be a positive number, found ${JSON.stringify(alpha)}`);
  const dropout = get("lora_dropout") ?? 0;
  if (!(typeof dropout === "number" && dropout >= 0 && dropout < 1)) problems.push(`lora_dropout must be in [0, 1), found ${JSON.stringify(dropout)}`);
  const tm = get("target_modules");
  let targets: string[] = [];
  let targetPattern: string | undefined;
  if (typeof tm === "string") targetPattern = tm;
  else if (Array.isArray(tm) && tm.every((t) => typeof t === "string") && tm.length > 0) targets = tm as string[];
  else problems.push(`target_modules must be a list of module names or a pattern, found ${JSON.stringify(tm)}`);
  const mts = get("modules_to_save") ?? [];
  if (!(Array.isArray(mts) && mts.every((t) => typeof t === "string")))
    problems.push(`modules_to_save must be null or a list of module names, found ${JSON.stringify(mts)}`);
  for (const k of ["use_rslora", "use_dora"]) {
    const v = get(k);
    if (v !== undefined && v !== null && typeof v !== "boolean") problems.push(`${k} must be true or false, found ${JSON.stringify(v)}`);
  }
  // Features whose weights or forward lft does not reproduce: refused, never ignored.
  if ((get("bias") ?? "none") !== "none") problems.push(`bias "${String(get("bias"))}" (trained biases) is not supported; only "none"`);
  if (get("fan_in_fan_out") === true) problems.push("fan_in_fan_out (GPT-2 Conv1D layout) is not supported");
  if (!isEmpty(get("rank_pattern")) || !isEmpty(get("alpha_pattern"))) problems.push("rank_pattern/alpha_pattern (per-layer ranks) are not supported");
  for (const k of ["layers_to_transform", "layer_replication", "exclude_modules", "trainable_token_indices", "target_parameters"]) {
    if (!isEmpty(get(k))) problems.push(`${k} is set; lft does not support it`);
  }
  for (const k of ["lora_bias", "use_qalora", "use_bdlora"]) if (get(k) === true) problems.push(`${k} is true; lft does not support it`);
  const initRaw = get("init_lora_weights") ?? true;
  let init: LoraInit = "none";
  let pissaIter = -1;
  if (initRaw === "pissa") init = "pissa";
  else if (typeof initRaw === "string" && /^pissa_niter_\d+$/.test(initRaw)) {
    init = "pissa";
    pissaIter = Number(initRaw.slice("pissa_niter_".length));
  } else if (typeof initRaw === "string" && !["gaussian"].includes(initRaw)) {
    // olora, loftq, corda, eva, orthogonal ... rewrite the base or need data lft does not have.
    problems.push(
      `init_lora_weights "${initRaw}" changes the base weights in a way lft does not reproduce; convert the adapter with PEFT (path_initial_model_for_weight_conversion) first`,
    );
  }
  if (problems.length > 0) return err(new MethodError(`${file}: ${problems.join("; ")}`, problems));
  return ok({
    rank: r as number,
    alpha: alpha as number,
    dropout: dropout as number,
    targets,
    ...(targetPattern === undefined ? {} : { targetPattern }),
    rslora: get("use_rslora") === true,
    dora: get("use_dora") === true,
    init,
    pissaIter,
    loraplusRatio: null,
    additionalTargets: mts as string[],
  });
}

// Attaching LoRA to a model: resolve the targets, freeze the base, wrap each target Linear in a
// LoraLinear, make the additional modules (PEFT's modules_to_save) trainable in f32, and hand back a
// LoraMethod that saves in PEFT's layout and merges. The lora method plugin and the PEFT loader both
// come through here, so a loaded adapter is built exactly like a trained one.
import { err, ok, type Result } from "neverthrow";
import { type ApplyContext, type CausalLM, MethodError, type Module, Tensor, TrainRng } from "../../../core/index.ts";
import { LoraLinear, type LoraRuntime } from "./lora-linear.ts";
import { LoraMethod } from "./lora-method.ts";
import { type AdapterTargets, type LoraSettings, loraScale, settingProblems } from "./settings.ts";
import { fullMatchRegExp, resolveLinearTargets, resolveModules } from "./targets.ts";

/** Replaces half-precision storage under `prefix` with f32 copies, so those parameters can train. */
function widenToF32(model: CausalLM, prefix: string): void {
  for (const [path, slot] of model.namedSlots()) {
    const t = slot.tensor;
    if (!t || t.dtype === "f32" || !(path === prefix || path.startsWith(`${prefix}.`))) continue;
    const wide = Tensor.alloc(t.backend, t.shape, "f32");
    t.backend.cast(wide, t);
    model.setParameter(path, wide)._unsafeUnwrap();
  }
}

/**
 * A rank the targets can hold. PiSSA's rank is at most min(in, out) of every target (it takes that many
 * singular vectors). Otherwise the rank is at most the largest min(in, out) among the targets: a rank
 * past every target's smaller side adds parameters and no expressiveness, and a huge one would allocate
 * adapters far beyond the model. (A narrow target such as Mixtral's router may still be outranked, as
 * PEFT allows.) Checked before anything is allocated.
 */
function rankProblems(s: LoraSettings, targets: readonly (readonly [string, { inFeatures: number; outFeatures: number }])[]): string[] {
  const side = ([, l]: readonly [string, { inFeatures: number; outFeatures: number }]) => Math.min(l.inFeatures, l.outFeatures);
  const shape = ([path, l]: readonly [string, { inFeatures: number; outFeatures: number }]) => `${path} [${l.outFeatures}, ${l.inFeatures}]`;
  if (s.init === "pissa") {
    const narrow = targets.find((t) => s.rank > side(t));
    return narrow === undefined ? [] : [`PiSSA rank ${s.rank} exceeds the smaller side of ${shape(narrow)}; lower rank to at most ${side(narrow)}`];
  }
  const widest = targets.reduce<(typeof targets)[number] | undefined>((best, t) => (best === undefined || side(t) > side(best) ? t : best), undefined);
  if (widest === undefined || s.rank <= side(widest)) return [];
  return [
    `rank ${s.rank} exceeds the smaller side of every target (the widest is ${shape(widest)}): a rank is at most min(in, out) = ${side(widest)} here; lower rank`,
  ];
}

/**
 * Attaches LoRA adapters to `model` per `s`. The whole base is frozen; adapters (and additional
 * modules) are trainable. Returns every problem at once.
 */
export function applyLora(model: CausalLM, s: LoraSettings, family: AdapterTargets, ctx: ApplyContext = {}): Result<LoraMethod, MethodError> {
  const fail = (problems: string[]) => err(new MethodError(`method "lora": ${problems.join("; ")}`, problems));
  const problems = settingProblems(s);
  if (problems.length > 0) return fail(problems);
  const wrapped = model.namedModules().filter(([, m]) => (m as { adapter?: unknown }).adapter);
  if (wrapped.length > 0) return fail([`the model already has adapters (${wrapped[0]![0]}, ...): merge them or load a fresh base`]);

  let spec: readonly string[] | RegExp = s.targets;
  if (s.targetPattern !== undefined) {
    const re = fullMatchRegExp(s.targetPattern);
    if (re.isErr()) return fail([re.error]);
    spec = re.value;
  }
  const targets = resolveLinearTargets(model, spec, family.adapterTargets);
  const extra = resolveModules(model, s.additionalTargets, "additional_target");
  const found = [...(targets.isErr() ? targets.error : []), ...(extra.isErr() ? extra.error : [])];
  if (targets.isOk() && extra.isOk()) {
    for (const [mp] of extra.value) {
      const clash = targets.value.find(([tp]) => tp === mp || tp.startsWith(`${mp}.`) || mp.startsWith(`${tp}.`));
      if (clash) found.push(`additional_target ${mp} overlaps the adapted layer ${clash[0]}: a module is either adapted or trained fully`);
    }
    found.push(...rankProblems(s, targets.value));
  }
  if (found.length > 0 || targets.isErr() || extra.isErr()) return fail(found);

  const seed = BigInt(ctx.seed ?? 0);
  const runtime: LoraRuntime = { training: true, disabled: false, active: null, bound: null, epoch: 0, fallback: new TrainRng(seed), model };
  const cfg = { rank: s.rank, scale: loraScale(s.alpha, s.rank, s.rslora), dropout: s.dropout, dora: s.dora };
  model.freeze();
  const adapters = new Map<string, LoraLinear>();
  targets.value.forEach(([path, linear], i) => {
    adapters.set(path, LoraLinear.fromBase(linear, cfg, runtime, { kind: s.init, seed, offset: BigInt(i) << 32n, pissaIter: s.pissaIter }));
  });
  const additional = new Map<string, Module>();
  for (const [path, module] of extra.value) {
    widenToF32(model, path);
    model.unfreeze((p) => p.startsWith(`${path}.`))._unsafeUnwrap();
    additional.set(path, module);
  }
  return ok(new LoraMethod(model, s, adapters, additional, runtime, ctx.baseModel ?? null));
}

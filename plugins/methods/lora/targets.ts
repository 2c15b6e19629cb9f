// Which modules a method wraps or trains, by name as PEFT matches `target_modules` and
// `modules_to_save`: a module path matches a name when it equals it or ends in "." + name
// (`q_proj` matches `model.layers.3.self_attn.q_proj`; `self_attn.q_proj` works too). A PEFT config may
// instead give one regular expression that must match the whole path.
import { err, ok, type Result } from "neverthrow";
import { type CausalLM, didYouMean, knownList, Linear, type Module, suggest } from "../../../core/index.ts";

/** Names (list) or one whole-path regular expression (a PEFT config's string form). */
export type TargetSpec = readonly string[] | RegExp;

export function matchesName(path: string, name: string): boolean {
  return path === name || path.endsWith(`.${name}`);
}

export function matchesSpec(path: string, spec: TargetSpec): boolean {
  return spec instanceof RegExp ? spec.test(path) : spec.some((n) => matchesName(path, n));
}

/** Python's re.fullmatch for the patterns PEFT configs carry (the syntax they use is common to both). */
export function fullMatchRegExp(pattern: string): Result<RegExp, string> {
  try {
    return ok(new RegExp(`^(?:${pattern})$`));
  } catch (e) {
    return err(`target pattern ${JSON.stringify(pattern)} is not a valid regular expression: ${(e as Error).message}`);
  }
}

/** `; did you mean "x"?` over distinct names (the registry's suggest may repeat one). */
export function hint(name: string, known: Iterable<string>): string {
  return didYouMean([...new Set(suggest(name, known))]);
}

function lastComponent(path: string): string {
  return path.slice(path.lastIndexOf(".") + 1);
}

/** The model's modules that are not the root, with paths. */
function modulesOf(model: CausalLM): [string, Module][] {
  return model.namedModules().filter(([p]) => p !== "");
}

/**
 * Linear layers matching `spec`. Every listed name must match at least one module, and every match
 * must be a Linear; problems name the known targets (`known`: the family's adapter targets).
 */
export function resolveLinearTargets(model: CausalLM, spec: TargetSpec, known: readonly string[], what = "target"): Result<[string, Linear][], string[]> {
  const modules = modulesOf(model);
  const problems: string[] = [];
  const linearNames = new Set(modules.filter(([, m]) => m instanceof Linear).map(([p]) => lastComponent(p)));
  const offered = [...new Set([...known, ...linearNames])];
  if (!(spec instanceof RegExp)) {
    for (const name of spec) {
      const hits = modules.filter(([p]) => matchesName(p, name));
      if (hits.length === 0) {
        problems.push(`unknown ${what} "${name}"${hint(name, offered)}; this model's adapter targets: ${knownList(known)}`);
        continue;
      }
      const notLinear = hits.filter(([, m]) => !(m instanceof Linear));
      if (notLinear.length > 0) {
        problems.push(
          `${what} "${name}" matches ${notLinear[0]![0]}, a ${notLinear[0]![1].constructor.name}, not a linear layer (adapters wrap linear layers; train whole modules with additional_target)`,
        );
      }
    }
  }
  const chosen = modules.filter(([p, m]) => m instanceof Linear && matchesSpec(p, spec)) as [string, Linear][];
  if (problems.length === 0 && chosen.length === 0)
    problems.push(`${what} pattern ${String(spec)} matches no linear layer of this model; its adapter targets: ${knownList(known)}`);
  return problems.length > 0 ? err(problems) : ok(chosen);
}

/**
 * Whole modules matching each name (for modules trained fully), outermost only: `embed_tokens` gives
 * `model.embed_tokens`. Unknown names are problems with a did-you-mean over the model's module names.
 */
export function resolveModules(model: CausalLM, names: readonly string[], what: string): Result<[string, Module][], string[]> {
  const modules = modulesOf(model);
  const problems: string[] = [];
  const chosen = new Map<string, Module>();
  const localNames = new Set(modules.map(([p]) => lastComponent(p)).filter((n) => !/^\d+$/.test(n)));
  for (const name of names) {
    const hits = modules.filter(([p]) => matchesName(p, name));
    if (hits.length === 0) {
      problems.push(`unknown ${what} "${name}"${hint(name, localNames)}`);
      continue;
    }
    for (const [p, m] of hits) chosen.set(p, m);
  }
  // A module inside another chosen one is already covered.
  const paths = [...chosen.keys()];
  const outer = paths.filter((p) => !paths.some((q) => q !== p && p.startsWith(`${q}.`)));
  return problems.length > 0 ? err(problems) : ok(outer.map((p) => [p, chosen.get(p)!]));
}

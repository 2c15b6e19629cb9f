// Which parameters a low-rank optimizer (GaLore, APOLLO) projects, from LLaMA-Factory's `*_target`:
// "all" (the default) is every Linear weight of the decoder — 2-D weights other than the token
// embedding and the output head, as LF's find_all_linear_modules excludes lm_head — and otherwise a
// comma-separated list of module-name fragments ("q_proj,v_proj"), a weight matching when its
// module name (the parameter name without ".weight") contains one of them. Only 2-D weights qualify.

const NOT_LINEAR = ["embed_tokens", "lm_head", "wte", "wpe", "embed_out", "output_layer"];

/** The target fragments of a `target` option; "all" gives null (every Linear weight). */
export function parseTargets(target: string): string[] | null {
  const parts = target
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  return parts.length === 0 || (parts.length === 1 && parts[0] === "all") ? null : parts;
}

/** Whether the parameter `name` of `shape` is projected. */
export function isTarget(name: string, shape: readonly number[], targets: readonly string[] | null): boolean {
  if (shape.length !== 2 || !name.endsWith(".weight")) return false;
  const module = name.slice(0, -".weight".length);
  if (targets === null) return !NOT_LINEAR.some((x) => module.split(".").includes(x)) && !/norm/.test(module.split(".").at(-1) ?? "");
  return targets.some((t) => module.includes(t));
}

// Finds and imports a plugin package (an npm name or a path) and picks out its plugin export.
// Registration itself is Registry.use's job; this file only turns "a specifier" into "a plugin".

import { err, ok, type Result } from "neverthrow";
import { describe } from "./options";
import { isPlugin, PLUGIN_BRAND, PluginError } from "./plugin";

export interface ImportedPlugin {
  readonly plugin: { readonly [PLUGIN_BRAND]: true };
  /** Absolute path of the module that was imported. */
  readonly resolved: string;
}

/**
 * `from` is the directory bare names and relative paths resolve against: the recipe's or the
 * user's project, not lft's own install, so a plugin installed beside the recipe is found.
 */
export async function importPlugin(specifier: string, from: string): Promise<Result<ImportedPlugin, PluginError>> {
  let resolved: string;
  try {
    resolved = Bun.resolveSync(specifier, from);
  } catch (cause) {
    const looksLikePath = /^(\.{1,2}[\\/]|[\\/]|[A-Za-z]:[\\/])/.test(specifier);
    const hint = looksLikePath ? "no such file or package directory" : `is it installed? (bun add ${specifier})`;
    return err(new PluginError("not-found", `plugin package "${specifier}" not found from ${from}: ${hint}`, { specifier, cause }));
  }

  let exports: Readonly<Record<string, unknown>>;
  try {
    exports = (await import(resolved)) as Readonly<Record<string, unknown>>;
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    return err(new PluginError("import-failed", `plugin package "${specifier}" (${resolved}) failed to load: ${detail}`, { specifier, cause }));
  }

  // The default export is the convention; a named `plugin` export covers modules that also
  // export helpers and keep their default for something else.
  for (const key of ["default", "plugin"]) {
    const value = exports[key];
    if (isPlugin(value)) return ok({ plugin: value, resolved });
  }
  const present = ["default", "plugin"].filter((key) => exports[key] !== undefined);
  if (present.length === 0) {
    const names = Object.keys(exports);
    return err(
      new PluginError(
        "no-export",
        `plugin package "${specifier}" (${resolved}) has no plugin export: expected \`export default definePlugin(...)\` or \`export const plugin = definePlugin(...)\`; its exports are: ${names.length > 0 ? names.join(", ") : "(none)"}`,
        { specifier },
      ),
    );
  }
  const found = present.map((key) => `export ${key} is ${describeExport(exports[key])}`).join("; ");
  return err(new PluginError("not-a-plugin", `plugin package "${specifier}" (${resolved}) exports no plugin made by definePlugin: ${found}`, { specifier }));
}

function describeExport(value: unknown): string {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    return keys.length > 0 ? `an object with keys ${keys.join(", ")}` : "an empty object";
  }
  return describe(value);
}

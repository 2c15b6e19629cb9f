// `lft plugins [recipe.lft]`: what is loaded and what each plugin registered. With a recipe, its
// `use` packages are added first, as their package.json declares them (--trust: imported, so a
// plugin package can be tried before a run).

import { dirname, resolve } from "node:path";
import type { CommandEntry, PluginInfo, Registry } from "../../core/index.ts";
import { type Collection, collectionWords } from "../blocks";
import { ExitCode, exitCodeFor } from "../exit-codes";
import { parseSource } from "../parse";
import { readSource } from "../pipeline";
import { loadUses } from "../plugins";
import { argsOrUsage, inspection, report } from "./common";

const usage = "[recipe.lft] [--trust]";

export const pluginsCommand: CommandEntry = {
  name: "plugins",
  doc: "list plugins and what each registers (with a recipe: its use packages, as declared; --trust: imported)",
  usage,
  scope: "both",
  async run(argv, io, session) {
    const args = argsOrUsage("plugins", usage, argv, { positional: [0, 1], flags: ["--trust"] }, io);
    if (typeof args === "number") return args;
    const { registry, mode } = await inspection(session, args.flags.has("--trust"));
    let status: number = ExitCode.ok;
    const [path] = args.positional;
    if (path !== undefined) {
      const text = readSource(path, io.cwd);
      if (text.isErr()) {
        report(io, [text.error], new Map());
        return ExitCode.ioError;
      }
      const parsed = parseSource(text.value, path);
      const problems = [...parsed.diagnostics, ...(await loadUses(parsed.recipe, registry, dirname(resolve(io.cwd, path)), mode))];
      report(io, problems, new Map([[path, text.value]]));
      status = exitCodeFor(problems);
    }
    io.stdout(describePlugins(registry));
    return status;
  },
};

export function describePlugins(registry: Registry): string {
  const lines: string[] = [];
  for (const plugin of registry.plugins()) lines.push(...describePlugin(plugin));
  return `${lines.join("\n")}\n`;
}

function describePlugin(plugin: PluginInfo): string[] {
  const from = plugin.source === undefined ? "built in" : plugin.source;
  const lines = [`${plugin.name}${plugin.version === undefined ? "" : ` ${plugin.version}`}  (${from})`];
  for (const [collection, names] of Object.entries(plugin.registered) as [Collection, readonly string[]][]) {
    const word = names.length === 1 ? collectionWords[collection].one : collectionWords[collection].many;
    lines.push(`  ${word}: ${names.join(", ")}`);
  }
  if (plugin.hooks.length > 0) lines.push(`  hooks: ${plugin.hooks.join(", ")}`);
  if (Object.keys(plugin.registered).length === 0 && plugin.hooks.length === 0) lines.push("  (registers nothing)");
  return lines;
}

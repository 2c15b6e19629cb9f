// Shared by the DSL tests: a registry holding the fake plugins, and an in-memory CommandIO.

import { type CommandIO, createRegistry, type Plugin, type Registry } from "../../core/index.ts";
import { lftPlugin } from "../../dsl/commands/index.ts";
import { fakePlugins } from "./fixtures/fake-plugins.ts";

/** lft's own plugin plus the fakes (or only lft's, for "nothing is available yet" cases). */
export function registryWith(plugins: readonly Plugin[] = fakePlugins): Registry {
  const registry = createRegistry();
  for (const plugin of [lftPlugin, ...plugins]) registry.use(plugin)._unsafeUnwrap();
  return registry;
}

export interface CapturedIO extends CommandIO {
  readonly out: () => string;
  readonly err: () => string;
}

export function captureIO(cwd: string): CapturedIO {
  let out = "";
  let err = "";
  return {
    stdout: (text) => {
      out += text;
    },
    stderr: (text) => {
      err += text;
    },
    cwd,
    out: () => out,
    err: () => err,
  };
}

export const repoRoot = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
export const examplesDir = `${repoRoot}/examples`;

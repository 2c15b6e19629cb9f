// Where the run store lives: one per user by default, so `lft runs` finds every run from any folder.
// `$LFT_HOME/runs.sqlite` when LFT_HOME is set (a relative LFT_HOME, e.g. `.lft`, gives a project its
// own store under the working folder), else `$XDG_DATA_HOME/lft/runs.sqlite`, else
// `~/.local/share/lft/runs.sqlite`.
import { homedir } from "node:os";
import { join, resolve } from "node:path";

export function lftHome(env: Readonly<Record<string, string | undefined>> = process.env, cwd = process.cwd()): string {
  const home = env.LFT_HOME?.trim();
  if (home) return resolve(cwd, home);
  const xdg = env.XDG_DATA_HOME?.trim();
  if (xdg) return join(resolve(cwd, xdg), "lft");
  return join(env.HOME?.trim() || homedir(), ".local", "share", "lft");
}

/** The run store file for a process working in `cwd`. */
export function runStorePath(env: Readonly<Record<string, string | undefined>> = process.env, cwd = process.cwd()): string {
  return join(lftHome(env, cwd), "runs.sqlite");
}

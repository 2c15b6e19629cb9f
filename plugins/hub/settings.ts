// The Hugging Face environment variables, read the way huggingface_hub reads them, so lft and
// transformers share one cache and one login: HF_HOME / HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export interface HubSettings {
  /** Where `models--org--name/` folders live. */
  readonly cacheDir: string;
  /** The Hub's base URL (HF_ENDPOINT, default https://huggingface.co). */
  readonly endpoint: string;
  readonly token?: string;
  /** HF_HUB_OFFLINE=1: the cache or nothing. */
  readonly offline: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

const truthy = (v: string | undefined) => v !== undefined && ["1", "on", "yes", "true"].includes(v.trim().toLowerCase());

export function hubSettings(env: Env = process.env): HubSettings {
  const home = env.HF_HOME ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "huggingface");
  const cacheDir = env.HF_HUB_CACHE ?? env.HUGGINGFACE_HUB_CACHE ?? join(home, "hub");
  // HF_TOKEN wins over the token file `huggingface-cli login` writes.
  const tokenFile = env.HF_TOKEN_PATH ?? join(home, "token");
  const token = env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN ?? (existsSync(tokenFile) ? readFileSync(tokenFile, "utf8").trim() : undefined);
  return {
    cacheDir,
    endpoint: (env.HF_ENDPOINT ?? "https://huggingface.co").replace(/\/+$/, ""),
    ...(token && { token }),
    offline: truthy(env.HF_HUB_OFFLINE) || truthy(env.TRANSFORMERS_OFFLINE),
  };
}

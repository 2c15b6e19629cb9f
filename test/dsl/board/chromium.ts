// Headless Chromium for the board's browser tests: Debian's /usr/bin/chromium (or LFT_CHROMIUM) driven
// by playwright-core. `skipReason` says why a test cannot run here (printed by the test, not hidden).

import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const chromiumPath = process.env.LFT_CHROMIUM ?? "/usr/bin/chromium";

export const skipReason: string | undefined = existsSync(chromiumPath)
  ? undefined
  : `Chromium not found at ${chromiumPath} (apt-get install chromium, or set LFT_CHROMIUM); the board's browser tests are skipped`;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
}

/** Polls `check` (a page read through Playwright) until it holds; fails naming `what` after `ms`. */
export async function until(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await Bun.sleep(50);
  }
}

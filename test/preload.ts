// Loaded by `bun test` before any test file (bunfig.toml [test] preload): registers the CPU backend as
// the default, as the CLI and lft.ts do at start-up, since core holds no backend of its own.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import "../lft.ts";

// No test reaches the real Hugging Face Hub: a model path like "models/x" is also a Hub id, and with
// HF_HUB_OFFLINE the hub plugin answers from the cache or not at all. Hub tests point HF_ENDPOINT at a
// local fake Hub and clear this.
process.env.HF_HUB_OFFLINE ??= "1";

// No test writes the user's run store (~/.local/share/lft): every run goes to a store in a temp folder.
// Tests that need a store of their own set LFT_HOME in the environment of the process they start.
process.env.LFT_HOME = mkdtempSync(join(tmpdir(), "lft-home-"));

// Loaded by `bun test` before any test file (bunfig.toml [test] preload): registers the CPU backend as
// the default, as the CLI and lft.ts do at start-up, since core holds no backend of its own.
import "../lft.ts";

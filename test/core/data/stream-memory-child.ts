// Child process of stream.test.ts: streams an 8 MB JSONL file through reading, conversion, templating and
// tokenising and prints the live-heap and RSS growth as JSON. A fresh process, so what other test files
// left in `bun test`'s shared process (freed pages, allocator arenas) cannot move the RSS it reports.
import "../../../lft.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { streamData } from "../../../core/index.ts";
import { dataOptions, dataRegistry, processors } from "./helpers/registry.ts";
import { byteTokenizer } from "./helpers/tokenizer.ts";
import { peakMemory, writeJsonl } from "./stream-memory.ts";

const dir = mkdtempSync(join(tmpdir(), "lft-stream-child-"));
try {
  writeFileSync(join(dir, "dataset_info.json"), JSON.stringify({ big: { file_name: "big.jsonl" } }));
  const rows = writeJsonl(join(dir, "big.jsonl"), 8, 200);
  const options = dataOptions({ dataset_dir: dir, dataset: ["big"], template: "default", cutoff_len: 128, streaming: true, buffer_size: 256 });
  const big = (await streamData({ registry: dataRegistry(), tokenizer: byteTokenizer(), processor: processors.sft, options }))._unsafeUnwrap();
  let count = 0;
  const mem = await peakMemory(async (tick) => {
    for await (const s of big.samples()) {
      count += s.inputIds.length > 0 ? 1 : 0;
      tick();
    }
  }, 10000);
  console.log(JSON.stringify({ rows, count, ...mem }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

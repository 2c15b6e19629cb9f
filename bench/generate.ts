// Generation speed at a 0.5B shape (Qwen2.5-0.5B's config, random weights): prompt processing and decode
// tokens/s for lft (f32 and bf16 weights) beside llama.cpp (node-llama-cpp's CPU build, run under Node)
// on the GGUF files `lft export --gguf` writes (f32, f16, q8_0), same prompt ids, same thread count.
// Run: node_modules/.bin/bun bench/generate.ts [--prompt 128] [--new 64] -> bench/results/generate.json
// Profiling decode: --layers N (fewer layers, same widths) --lft-only (no export, no llama.cpp, no JSON)
// separates the per-layer cost from the fixed per-token part (embedding, lm_head, sampling).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { blasInfo, createRegistry, familyByName, generateSteps, loadModel } from "../lft.ts";
import { makeTiny } from "../plugins/commands/index.ts";
import { GGUF_TYPES, openGgufSource } from "../plugins/convert/index.ts";
import { modelPlugins } from "../plugins/models/index.ts";
import { table, writeResults } from "./lib/results.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const PROMPT = arg("--prompt", 128);
const NEW = arg("--new", 64);
const THREADS = 2;
const LFT_ONLY = process.argv.includes("--lft-only");

/** Qwen2.5-0.5B's config.json (sizes, RoPE, tied embeddings), weights random. */
const QWEN25_05B = {
  architectures: ["Qwen2ForCausalLM"],
  model_type: "qwen2",
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151643,
  hidden_act: "silu",
  hidden_size: 896,
  initializer_range: 0.02,
  intermediate_size: 4864,
  max_position_embeddings: 32768,
  max_window_layers: 21,
  num_attention_heads: 14,
  num_hidden_layers: arg("--layers", 24),
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_scaling: null,
  rope_theta: 1000000.0,
  sliding_window: 32768,
  tie_word_embeddings: true,
  torch_dtype: "float32",
  use_cache: true,
  use_sliding_window: false,
  vocab_size: 151936,
};

interface Row {
  name: string;
  promptTokensPerS: number;
  decodeTokensPerS: number;
  promptS: number;
  decodeS: number;
  decoded: number;
}

const registry = createRegistry();
for (const p of modelPlugins) registry.use(p);
const work = mkdtempSync(join(tmpdir(), "lft-bench-generate-"));
try {
  const family = familyByName(registry, "qwen2")._unsafeUnwrap();
  const dir = join(work, "qwen2.5-0.5b-shape");
  console.log("writing random Qwen2.5-0.5B-shaped weights ...");
  const made = makeTiny({ ...family, tiny: { ...family.tiny, config: QWEN25_05B } }, dir, { seed: 1 })._unsafeUnwrap();
  const source = LFT_ONLY ? null : openGgufSource(dir)._unsafeUnwrap();
  const files = source
    ? GGUF_TYPES.map((type) => {
        const file = join(work, `model-${type}.gguf`);
        source.write(file, type)._unsafeUnwrap();
        return { name: `llama.cpp ${type}`, file };
      })
    : [];
  source?.close();
  // Random ids from the ordinary vocabulary (a fixed pattern, so every side sees the same prompt).
  const prompt = Array.from({ length: PROMPT }, (_, i) => (i * 7919 + 13) % 150000);

  const rows: Row[] = [];
  for (const dtype of ["f32", "bf16"] as const) {
    const { model } = loadModel(dir, registry, { dtype })._unsafeUnwrap();
    const run = (ids: number[], n: number): Row => {
      const steps = generateSteps(model, [ids], { maxNewTokens: n })._unsafeUnwrap();
      const t0 = performance.now();
      steps.next();
      const first = performance.now();
      while (!steps.next().done);
      const end = performance.now();
      return {
        name: `lft ${dtype}`,
        promptTokensPerS: ids.length / ((first - t0) / 1000),
        decodeTokensPerS: (n - 1) / ((end - first) / 1000),
        promptS: (first - t0) / 1000,
        decodeS: (end - first) / 1000,
        decoded: n - 1,
      };
    };
    run(prompt, 2); // warm-up at the full prompt length (weights and activation buffers touched), as on the llama.cpp side
    rows.push(run(prompt, NEW));
    model.dispose();
  }
  const fmt = (x: number) => x.toFixed(1);
  const show = () =>
    console.log(
      table(
        rows.map((r) => ({
          side: r.name,
          "prompt tok/s": fmt(r.promptTokensPerS),
          "decode tok/s": fmt(r.decodeTokensPerS),
          "prompt s": r.promptS.toFixed(2),
          "decode s": r.decodeS.toFixed(2),
        })),
      ),
    );
  if (LFT_ONLY) {
    show();
    console.log(`${QWEN25_05B.num_hidden_layers} layers: decode ${((1000 * rows[0]!.decodeS) / rows[0]!.decoded).toFixed(1)} ms/token (lft f32)`);
  } else {
    const child = spawnSync("node", [join(import.meta.dir, "lib/llama-cpp-generate.mjs")], {
      input: JSON.stringify({ files, prompt, newTokens: NEW, threads: THREADS }),
      encoding: "utf8",
      maxBuffer: 1 << 24,
    });
    if (child.status !== 0) throw new Error(`llama.cpp child failed: ${child.stderr}`);
    const llamaCpp = JSON.parse(child.stdout) as { rows: Row[] };
    rows.push(...llamaCpp.rows);

    const f32 = (name: string) => rows.find((r) => r.name === name)!;
    const ratios = {
      decodeLlamaCppF32OverLftF32: f32("llama.cpp f32").decodeTokensPerS / f32("lft f32").decodeTokensPerS,
      promptLftF32OverLlamaCppF32: f32("lft f32").promptTokensPerS / f32("llama.cpp f32").promptTokensPerS,
    };
    show();
    console.log(
      `llama.cpp f32 decode / lft f32 decode: ${ratios.decodeLlamaCppF32OverLftF32.toFixed(2)}x (goal <= 1.5); lft f32 prompt / llama.cpp f32 prompt: ${ratios.promptLftF32OverLlamaCppF32.toFixed(2)} (goal >= 1)`,
    );
    const path = writeResults("generate", {
      shape: {
        config: "Qwen2.5-0.5B (random weights)",
        layers: QWEN25_05B.num_hidden_layers,
        parameters: made.parameters,
        promptTokens: PROMPT,
        newTokens: NEW,
        threads: THREADS,
      },
      blas: blasInfo(),
      loadAverage: loadavg(),
      note: "loaded: measured while other jobs shared the machine unless the load average says otherwise",
      rows,
      ratios,
    });
    console.log(`wrote ${path}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

// `lft plan` end to end (the CLI in a subprocess, config-only model folders: no weights are needed):
// the table, --fit suggestions that are each re-planned here and really fit, "nothing fits", and the
// located errors for an unknown device, a bad size and an unreadable config. Then the pieces in
// process: sizes, devices, and the FLOPs the time model counts.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExitCode } from "../../core/index.ts";
import { deviceNamed } from "../../dsl/plan/devices.ts";
import { stepFlops, type TrainShape } from "../../dsl/plan/flops.ts";
import { modelShapeOf } from "../../dsl/plan/model-shape.ts";
import { formatBytes, parseSize } from "../../dsl/plan/size.ts";
import { repoRoot } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "lft-plan-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const llama7b = {
  model_type: "llama",
  hidden_size: 4096,
  intermediate_size: 11008,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 32,
  vocab_size: 32000,
  max_position_embeddings: 4096,
  torch_dtype: "bfloat16",
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
};
mkdirSync(join(dir, "l7b"));
writeFileSync(join(dir, "l7b", "config.json"), JSON.stringify(llama7b));
mkdirSync(join(dir, "broken"));
writeFileSync(join(dir, "broken", "config.json"), "{ not json");
writeFileSync(join(dir, "d.json"), JSON.stringify([{ instruction: "a", output: "b" }]));

function recipe(name: string, model: string, method: string, train: string, dtype = "bf16"): string {
  writeFileSync(
    join(dir, name),
    `model llama "${model}" { dtype = ${dtype}, template = default }\ndataset alpaca "d.json"\n${method}\ntrain sft for 100 steps { ${train} }\n`,
  );
  return name;
}

function lft(...argv: string[]): { code: number; out: string; err: string } {
  const run = Bun.spawnSync([process.execPath, `${repoRoot}/dsl/cli.ts`, ...argv], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: "1", LFT_HOME: join(dir, "home") },
  });
  return { code: run.exitCode, out: run.stdout.toString(), err: run.stderr.toString() };
}

/** The peak line of a plan table, in bytes. */
function peakOf(out: string): number {
  const m = /^ {2}peak +([\d.]+ \w+)/m.exec(out);
  expect(m).not.toBeNull();
  return parseSize(m![1]!.replace(" ", ""))._unsafeUnwrap();
}

const lora7b = recipe("lora7b.lft", "l7b", "method lora { rank = 8, alpha = 16, targets = [all] }", "batch = 4, cutoff = 2048, lr = 1e-4");

describe("lft plan", () => {
  test("prints the parts, the peak and the step time on a named GPU", () => {
    const r = lft("plan", lora7b, "--device", "a100-80g");
    expect(r.err).toBe("");
    expect(r.code).toBe(ExitCode.ok);
    for (const part of ["weights", "trainable", "optimizer", "activations", "logits"])
      expect(r.out).toMatch(new RegExp(`^ {2}${part} +[\\d.]+ (KiB|MiB|GiB)`, "m"));
    expect(r.out).toContain("memory at the peak (train)");
    expect(r.out).toMatch(/time: ~[\d.]+ s per step on an NVIDIA A100 SXM 80GB; 100 steps ≈ [\d.]+ min/);
    expect(r.out).toContain("312 TFLOP/s bf16 dense peak (NVIDIA A100 Tensor Core GPU datasheet)");
    // 7B in bf16: 6.7 billion parameters × 2 bytes.
    const weights = /^ {2}weights +([\d.]+) GiB/m.exec(r.out);
    expect(Number(weights![1])).toBeGreaterThan(12);
    expect(Number(weights![1])).toBeLessThan(13);
    // Over the A100's 80 GiB: said, with the flag that helps.
    expect(peakOf(r.out)).toBeGreaterThan(80 * 2 ** 30);
    expect(r.out).toContain("does not fit");
  });

  test("--fit: every suggestion, re-planned with its --set changes, fits; ordered least change first", () => {
    const limit = 80 * 2 ** 30;
    const r = lft("plan", lora7b, "--device", "h100", "--fit", "80GiB");
    expect(r.code).toBe(ExitCode.ok);
    expect(r.out).toContain("changes that fit, least change first");
    const suggestions = [...r.out.matchAll(/^ {2}\d+\. (.+): peak ([\d.]+ \w+).*\n {5}(.+)$/gm)];
    expect(suggestions.length).toBeGreaterThanOrEqual(2);
    expect(suggestions[0]![1]).toBe("turn activation checkpointing on");
    for (const [, , peak, sets] of suggestions) {
      const again = lft("plan", lora7b, "--device", "h100", ...sets!.split(" "));
      expect(again.code).toBe(ExitCode.ok);
      const replanned = peakOf(again.out);
      expect(replanned).toBeLessThanOrEqual(limit);
      expect(formatBytes(replanned)).toBe(peak!);
    }
  });

  test("--fit with full fine-tuning offers QLoRA; a recipe that fits says so", () => {
    const full = recipe("full7b.lft", "l7b", "method full", "batch = 8, cutoff = 512, lr = 1e-5", "f32");
    const r = lft("plan", full, "--device", "h100", "--fit", "40GiB");
    expect(r.code).toBe(ExitCode.ok);
    expect(r.out).toContain("method qlora instead of full");
    expect(r.out).toContain("--set method.name=qlora");
    // Full training keeps the base's gradients and AdamW's two moments: over 3× the f32 weights.
    expect(peakOf(r.out)).toBeGreaterThan(3 * 25 * 2 ** 30);
    // At 100 GiB the low-memory optimizers are the changes that fit full training, each re-planned.
    const optimizers = lft("plan", full, "--device", "h100", "--fit", "100GiB");
    for (const name of ["galore", "badam"]) {
      expect(optimizers.out).toContain(`optimizer ${name} instead of adamw`);
      expect(peakOf(lft("plan", full, "--device", "h100", "--set", `train.optimizer=${name}`).out)).toBeLessThanOrEqual(100 * 2 ** 30);
    }
    const fitsAsIs = lft("plan", full, "--device", "h100", "--fit", "1TiB");
    expect(fitsAsIs.out).toMatch(/fits in 1\.00 TiB: the peak is/);
  });

  test("nothing fits: said, exit 3", () => {
    const r = lft("plan", lora7b, "--device", "h100", "--fit", "1GiB");
    expect(r.code).toBe(ExitCode.notAvailable);
    expect(r.out).toContain("no change lft can suggest fits");
  });

  test("an unknown device and a bad size are usage errors that say what is known", () => {
    const device = lft("plan", lora7b, "--device", "h10");
    expect(device.code).toBe(ExitCode.usage);
    expect(device.err).toContain('unknown device "h10"');
    expect(device.err).toContain("did you mean");
    expect(device.err).toContain("rtx4090");
    const size = lft("plan", lora7b, "--fit", "24 parsecs");
    expect(size.code).toBe(ExitCode.usage);
    expect(size.err).toContain('--fit: "24 parsecs" is not a memory size');
  });

  test("an unreadable config: located at the model block, exit 5, no stack trace", () => {
    const bad = recipe("broken.lft", "broken", "method lora", "batch = 1");
    const r = lft("plan", bad, "--device", "h100");
    expect(r.code).toBe(ExitCode.ioError);
    expect(r.err).toMatch(/^broken\.lft:1:13: plan: .*broken\/config\.json: not valid JSON/);
    expect(r.err).not.toContain("    at ");
    const missing = recipe("missing.lft", "nowhere", "method lora", "batch = 1");
    expect(lft("plan", missing).err).toContain("no model folder");
  });
});

describe("plan pieces", () => {
  test("sizes: binary bare letters, decimal GB, refused garbage", () => {
    expect(parseSize("24GiB")._unsafeUnwrap()).toBe(24 * 2 ** 30);
    expect(parseSize("24G")._unsafeUnwrap()).toBe(24 * 2 ** 30);
    expect(parseSize("1.5 GB")._unsafeUnwrap()).toBe(1.5e9);
    expect(parseSize("800MiB")._unsafeUnwrap()).toBe(800 * 2 ** 20);
    for (const bad of ["", "GiB", "-1GiB", "0GiB", "24 GiBs", "1e3GB"]) expect(parseSize(bad).isErr()).toBe(true);
  });

  test("devices: the table and the CPU", () => {
    expect(deviceNamed("H100")._unsafeUnwrap()).toMatchObject({ kind: "gpu", bf16Tflops: 989.4 });
    expect(deviceNamed("cpu")._unsafeUnwrap().kind).toBe("cpu");
    expect(deviceNamed("tpu").isErr()).toBe(true);
  });

  test("FLOPs: full training is 3 forwards, a frozen base 2, checkpointing one more", () => {
    const shape = modelShapeOf(llama7b)._unsafeUnwrap();
    const base: TrainShape = { batch: 1, seq: 512, accumulate: 1, baseTrains: "all", recompute: false, sequencesPerSample: 1, referenceForward: false };
    const layerFlops = (t: TrainShape) =>
      stepFlops(shape, t)
        .gemms.filter((g) => g.label.endsWith("_proj"))
        .reduce((a, g) => a + 2 * g.m * g.n * g.k * g.calls, 0);
    const forward = 2 * 512 * 32 * (4096 * 4096 * 4 + 3 * 4096 * 11008);
    expect(layerFlops(base)).toBe(3 * forward);
    expect(layerFlops({ ...base, baseTrains: "none" })).toBe(2 * forward);
    expect(layerFlops({ ...base, baseTrains: "none", recompute: true })).toBe(3 * forward);
    expect(layerFlops({ ...base, accumulate: 4 })).toBe(12 * forward);
    // Freeze of the top 2 layers: 32 forwards, 2 input and 2 weight gradients.
    expect(layerFlops({ ...base, baseTrains: { fromLayer: 30 } })).toBe((forward / 32) * 36);
    // 6·N·tokens, the usual rule, within the attention and head terms.
    const total = stepFlops(shape, base).total;
    expect(total / (6 * 6.74e9 * 512)).toBeGreaterThan(0.95);
    expect(total / (6 * 6.74e9 * 512)).toBeLessThan(1.2);
    expect(modelShapeOf({ ...llama7b, hidden_size: "big" })._unsafeUnwrapErr()).toContain('"hidden_size"');
  });
});

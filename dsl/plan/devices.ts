// The devices a plan can be made for: this machine's CPU (timed by a probe, see probe.ts) or a named GPU
// with its published dense peak rates and memory. Sources: NVIDIA's datasheets and whitepapers (dense
// figures, no structured sparsity; fp32 = the CUDA cores' rate, what an SGEMM without TF32 reaches).
import { totalmem } from "node:os";
import { err, ok, type Result } from "neverthrow";
import { didYouMean, suggest } from "../../core/index.ts";

export interface GpuDevice {
  readonly kind: "gpu";
  readonly name: string;
  readonly title: string;
  /** Dense peak TFLOP/s with bf16/f16 inputs (f32 accumulation) and with f32 inputs. */
  readonly bf16Tflops: number;
  readonly fp32Tflops: number;
  readonly memoryBytes: number;
  readonly source: string;
}
export interface CpuDevice {
  readonly kind: "cpu";
  readonly name: "cpu";
  readonly title: string;
  readonly memoryBytes: number;
}
export type Device = GpuDevice | CpuDevice;

/**
 * The share of a GPU's peak a fine-tuning step reaches (model FLOPs utilisation). 0.4: published
 * Llama training runs report 38-50 % MFU on A100/H100 at large batch; fine-tuning at small batch and
 * short sequences reaches less, so the plan's GPU times are optimistic below a few thousand tokens per step.
 */
export const gpuEfficiency = 0.4;

const GB = 1e9;
const GiB = 2 ** 30;
const gpus: readonly GpuDevice[] = [
  {
    kind: "gpu",
    name: "h100",
    title: "NVIDIA H100 SXM 80GB",
    bf16Tflops: 989.4,
    fp32Tflops: 66.9,
    memoryBytes: 80 * GB,
    source: "NVIDIA H100 Tensor Core GPU datasheet",
  },
  {
    kind: "gpu",
    name: "h100-pcie",
    title: "NVIDIA H100 PCIe 80GB",
    bf16Tflops: 756.5,
    fp32Tflops: 51.2,
    memoryBytes: 80 * GB,
    source: "NVIDIA H100 Tensor Core GPU datasheet",
  },
  {
    kind: "gpu",
    name: "h200",
    title: "NVIDIA H200 SXM 141GB",
    bf16Tflops: 989.4,
    fp32Tflops: 66.9,
    memoryBytes: 141 * GB,
    source: "NVIDIA H200 Tensor Core GPU datasheet",
  },
  {
    kind: "gpu",
    name: "a100-80g",
    title: "NVIDIA A100 SXM 80GB",
    bf16Tflops: 312,
    fp32Tflops: 19.5,
    memoryBytes: 80 * GiB,
    source: "NVIDIA A100 Tensor Core GPU datasheet",
  },
  {
    kind: "gpu",
    name: "a100-40g",
    title: "NVIDIA A100 SXM 40GB",
    bf16Tflops: 312,
    fp32Tflops: 19.5,
    memoryBytes: 40 * GiB,
    source: "NVIDIA A100 Tensor Core GPU datasheet",
  },
  { kind: "gpu", name: "l40s", title: "NVIDIA L40S 48GB", bf16Tflops: 362.05, fp32Tflops: 91.6, memoryBytes: 48 * GB, source: "NVIDIA L40S datasheet" },
  { kind: "gpu", name: "l4", title: "NVIDIA L4 24GB", bf16Tflops: 121, fp32Tflops: 30.3, memoryBytes: 24 * GB, source: "NVIDIA L4 datasheet" },
  { kind: "gpu", name: "a10g", title: "NVIDIA A10G 24GB", bf16Tflops: 125, fp32Tflops: 31.2, memoryBytes: 24 * GB, source: "NVIDIA A10 datasheet" },
  {
    kind: "gpu",
    name: "rtx4090",
    title: "NVIDIA GeForce RTX 4090 24GB",
    bf16Tflops: 165.2,
    fp32Tflops: 82.6,
    memoryBytes: 24 * GiB,
    source: "NVIDIA Ada Lovelace architecture whitepaper, appendix table",
  },
  {
    kind: "gpu",
    name: "rtx3090",
    title: "NVIDIA GeForce RTX 3090 24GB",
    bf16Tflops: 71,
    fp32Tflops: 35.6,
    memoryBytes: 24 * GiB,
    source: "NVIDIA Ampere GA102 whitepaper",
  },
];

export const deviceNames: readonly string[] = ["cpu", ...gpus.map((g) => g.name)];

/** The device a name picks; an unknown name lists the known ones. */
export function deviceNamed(name: string): Result<Device, string> {
  const key = name.trim().toLowerCase();
  if (key === "cpu") return ok({ kind: "cpu", name: "cpu", title: "this machine's CPU", memoryBytes: totalmem() });
  const gpu = gpus.find((g) => g.name === key);
  if (gpu !== undefined) return ok(gpu);
  return err(`unknown device "${name}"${didYouMean(suggest(key, deviceNames))}; known: ${deviceNames.join(", ")}`);
}

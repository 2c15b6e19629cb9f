// The CUDA backend's entry: probeCuda() says whether it can run here (true, or the first reason it cannot:
// no driver library, no device, no fatbin, no code for this GPU or a driver that cannot load it, no
// cuBLAS), once per process; cudaBackend() opens device 0 once and returns the same backend after.
import { existsSync, readFileSync } from "node:fs";
import { type CudaBackend, type CudaBackendOptions, openCudaBackend } from "./backend.ts";
import { loadCublas } from "./cublas.ts";
import { CudaError, loadDriver } from "./driver.ts";
import { parseFatbin } from "./fatbin.ts";
import { FATBIN_PATH } from "./kernels.ts";

export type { CudaBackend, CudaBackendOptions } from "./backend.ts";

let probed: true | string | undefined;

/** true when device 0 can run lft's kernels, else why not (one line, naming files and error codes). */
export function probeCuda(fatbinPath = FATBIN_PATH): true | string {
  if (probed !== undefined) return probed;
  probed = probeOnce(fatbinPath);
  return probed;
}

function probeOnce(fatbinPath: string): true | string {
  const d = loadDriver();
  if (!d.ok) return d.reason;
  try {
    d.driver.init();
    const count = d.driver.deviceCount();
    if (count === 0) return `no CUDA device found (driver ${d.path})`;
    const info = d.driver.deviceInfo(0);
    if (!existsSync(fatbinPath)) return `the CUDA kernels are not built: ${fatbinPath} is missing (run \`make cuda\`)`;
    const sm = info.computeCapability[0] * 10 + info.computeCapability[1];
    const image = new Uint8Array(readFileSync(fatbinPath));
    const archs = parseFatbin(image).cubins.map((c) => c.sm);
    if (!archs.includes(sm)) return `${info.name} is sm_${sm}; ${fatbinPath} has code for ${archs.map((a) => `sm_${a}`).join(", ")} only`;
    // Load the module once: a driver too old for this nvcc's cubins fails here, not later in open().
    d.driver.retainPrimaryContext(0);
    try {
      d.driver.unloadModule(d.driver.loadModule(image));
    } finally {
      d.driver.releasePrimaryContext(0);
    }
  } catch (e) {
    if (e instanceof CudaError) return `${e.message} (driver ${d.path})`;
    throw e;
  }
  const b = loadCublas();
  if (!b.ok) return b.reason;
  return true;
}

let opened: CudaBackend | null = null;

/**
 * The device a rank of a data-parallel job uses: its rank on this node (mpirun, srun, LFT_LOCAL_RANK), so
 * N ranks on a node with N GPUs take one each; 0 outside a launcher.
 */
export function localRankOrdinal(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const v = env.OMPI_COMM_WORLD_LOCAL_RANK ?? env.MPI_LOCALRANKID ?? env.SLURM_LOCALID ?? env.LFT_LOCAL_RANK;
  const n = Number(v);
  return v !== undefined && Number.isInteger(n) && n >= 0 ? n : 0;
}

/** The CUDA backend on this rank's device (opened on first use). Throws with the probe's reason when it cannot run. */
export function cudaBackend(opts: CudaBackendOptions = {}): CudaBackend {
  if (opened) return opened;
  const ok = probeCuda(opts.fatbinPath);
  if (ok !== true) throw new Error(`cuda backend unavailable: ${ok}`);
  opened = openCudaBackend({ ...opts, ordinal: opts.ordinal ?? localRankOrdinal() });
  return opened;
}

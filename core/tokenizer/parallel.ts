// parallelEncode: encodes a large corpus with several Bun Workers, each holding its own copy of the
// tokenizer (loaded from the folder). Texts are cut into contiguous ranges of about equal character count,
// so the ids come back in input order and equal a sequential encode's exactly.
import { availableParallelism } from "node:os";
import { err, ok, type Result } from "neverthrow";
import type { EncodeJob, EncodeReply } from "./encode-worker.ts";

export interface ParallelEncodeOptions {
  /** Number of workers; default: the machine's cores. Capped at the number of texts. */
  workers?: number;
  /** Default true, as for Tokenizer.encode. */
  addSpecialTokens?: boolean;
}

/** Splits [0, n) into `parts` contiguous ranges of roughly equal total weight. */
export function balancedRanges(weights: readonly number[], parts: number): Array<[number, number]> {
  const total = weights.reduce((a, b) => a + b, 0);
  const ranges: Array<[number, number]> = [];
  let start = 0;
  let acc = 0;
  for (let p = 1; p <= parts && start < weights.length; p++) {
    const target = (total * p) / parts;
    let end = start;
    while (end < weights.length && (acc + weights[end]! <= target || end === start || p === parts)) acc += weights[end++]!;
    ranges.push([start, end]);
    start = end;
  }
  return ranges;
}

function runWorker(job: EncodeJob): Promise<Result<number[][], Error>> {
  return new Promise((resolve) => {
    const worker = new Worker(new URL("./encode-worker.ts", import.meta.url).href);
    worker.onmessage = (event: MessageEvent<EncodeReply>) => {
      worker.terminate();
      const reply = event.data;
      if (!reply.ok) {
        resolve(err(new Error(reply.message)));
        return;
      }
      const out: number[][] = new Array(job.texts.length);
      for (let i = 0; i < job.texts.length; i++) out[i] = Array.from(reply.ids.subarray(reply.offsets[i]!, reply.offsets[i + 1]!));
      resolve(ok(out));
    };
    worker.onerror = (event: ErrorEvent) => {
      worker.terminate();
      resolve(err(new Error(`tokenizer worker for ${job.dir} failed: ${event.message}`)));
    };
    worker.postMessage(job);
  });
}

export async function parallelEncode(dir: string, texts: readonly string[], opts: ParallelEncodeOptions = {}): Promise<Result<number[][], Error>> {
  const requested = opts.workers ?? availableParallelism();
  if (!Number.isInteger(requested) || requested < 1) return err(new Error(`parallelEncode: workers must be a positive integer, got ${requested}`));
  if (texts.length === 0) return ok([]);
  const ranges = balancedRanges(
    texts.map((t) => t.length + 16),
    Math.min(requested, texts.length),
  );
  const addSpecialTokens = opts.addSpecialTokens ?? true;
  const results = await Promise.all(ranges.map(([s, e]) => runWorker({ dir, texts: texts.slice(s, e), addSpecialTokens })));
  const out: number[][] = [];
  for (const r of results) {
    if (r.isErr()) return err(r.error);
    for (const ids of r.value) out.push(ids);
  }
  return ok(out);
}

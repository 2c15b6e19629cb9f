// The MPI engine's collectives on 2 ranks (mpirun): sums, means, gathers, scatters and broadcasts
// give the exact values, and bad sizes, roots and dtypes are errors before C.
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRegistry } from "../../../core/index.ts";
import dist, { chooseEngine } from "../../../plugins/dist/index.ts";
import { mpiMissing, runRanks } from "./mpi-env.ts";

const missing = mpiMissing();

test("mpirun and srun select the mpi engine", () => {
  const registry = createRegistry();
  registry.use(dist)._unsafeUnwrap();
  expect(chooseEngine(registry, undefined, { OMPI_COMM_WORLD_SIZE: "2" })).toBe("mpi");
  expect(chooseEngine(registry, undefined, { PMI_SIZE: "4" })).toBe("mpi");
  expect(chooseEngine(registry, undefined, {})).toBe("single");
});

test.skipIf(missing !== null)(
  `MPI collectives on 2 ranks${missing ? ` (skipped: ${missing})` : ""}`,
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "lft-mpi-"));
    try {
      const r = await runRanks(2, join(import.meta.dir, "mpi-worker.ts"), { MPI_OUT: join(dir, "out") });
      expect(r.stderr).not.toContain("error");
      expect(r.code).toBe(0);
      const got = [0, 1].map((rank) => JSON.parse(readFileSync(join(dir, `out.rank${rank}.json`), "utf8")));
      for (const [rank, g] of got.entries()) {
        expect(g.size).toBe(2);
        expect(g.sum).toEqual([3, 30]);
        expect(g.mean).toEqual([1.5, 4]);
        expect(g.gathered).toEqual([0, 0.5, 1, 1.5]);
        // input i·(r+1) summed over r = 0, 1 is 3i; rank r keeps elements 2r, 2r+1.
        expect(g.scattered).toEqual([3 * 2 * rank, 3 * (2 * rank + 1)]);
        expect(g.root).toEqual([8, 9]);
        expect(g.errors[0]).toContain("must hold 2 × 2 = 4 elements, it holds 3");
        expect(g.errors[1]).toContain("root must be a rank in 0..1, got 2");
        expect(g.errors[2]).toContain("expected an f32 tensor, got i32");
        expect(g.closed).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  60_000,
);

// The one-rank engine as a registry entry: what a run uses when no launcher started it.
import { ok } from "neverthrow";
import { type CollectivesEntry, singleCollectives } from "../../core/index.ts";

export const singleEngine: CollectivesEntry = {
  name: "single",
  doc: "one process, no communication (the default outside mpirun/srun)",
  launchedBy: () => false,
  available: () => true,
  open: () => ok(singleCollectives()),
};

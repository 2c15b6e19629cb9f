// Data parallelism: collectives engines (registry collection `collectives`) and how a run picks one.
// Third-party engines register with `api.register.collectives({ name, launchedBy, available, open })`.
import { definePlugin } from "../../core/index.ts";
import { launchCommand } from "./launch.ts";
import { mpiEngine } from "./mpi.ts";
import { ncclEngine } from "./nccl.ts";
import { singleEngine } from "./single.ts";

export { launchCommand } from "./launch.ts";
export { deadRank, type LaunchPlan, mpirunCommand, parseLaunch } from "./launch-args.ts";
export { mpiEngine } from "./mpi.ts";
export { exchangeUniqueId, type NcclWorld, ncclEngine, ncclWorld } from "./nccl.ts";
export { chooseEngine, openCollectives } from "./select.ts";
export { singleEngine } from "./single.ts";

export default definePlugin({
  name: "lft-dist",
  setup(api) {
    // NCCL before MPI: under mpirun with a usable GPU, gradients go over NCCL (launchedBy checks both).
    api.register.collectives(ncclEngine);
    api.register.collectives(singleEngine);
    api.register.collectives(mpiEngine);
    api.register.commands(launchCommand);
  },
});

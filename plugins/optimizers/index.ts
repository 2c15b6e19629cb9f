// lft's built-in optimizers, registered at the `optimizers` hook point: `train { optimizer = adamw }`
// (the default), `optimizer = sgd`, and the low-rank `optimizer = galore` and `optimizer = apollo`. A third-party optimizer registers the same way from its own
// package (an OptimizerEntry: an option schema, build, stateBytes).
import { definePlugin } from "../../core/index.ts";
import { adamwEntry } from "./adamw.ts";
import { apolloEntry } from "./apollo/apollo.ts";
import { galoreEntry } from "./galore/galore.ts";
import { sgdEntry } from "./sgd.ts";

export { AdamW, type AdamWOptions, adamw, adamwEntry, adamwOptions } from "./adamw.ts";
export { type ApolloOptions, apolloEntry, apolloOptions, apolloVariant } from "./apollo/apollo.ts";
export { type GaloreOptions, galoreEntry, galoreOptions, galoreVariant } from "./galore/galore.ts";
export { LowRankAdamW, type LowRankSettings, type LowRankVariant, lowRankStateBytes } from "./lowrank/lowrank-adamw.ts";
export { SGD, type SGDOptions, sgd, sgdEntry, sgdOptions } from "./sgd.ts";

export default definePlugin({
  name: "lft-optimizers",
  setup(api) {
    api.register.optimizers(adamwEntry);
    api.register.optimizers(sgdEntry);
    api.register.optimizers(galoreEntry);
    api.register.optimizers(apolloEntry);
  },
});

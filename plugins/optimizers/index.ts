// lft's built-in optimizers, registered at the `optimizers` hook point: `train { optimizer = adamw }`
// (the default), `optimizer = sgd`, the memory-saving badam, adam_mini and muon, and the low-rank galore and
// apollo. A third-party optimizer registers the same way from its own package (an OptimizerEntry: an option
// schema, build, stateBytes).
import { definePlugin } from "../../core/index.ts";
import { adamMiniEntry } from "./adam-mini/index.ts";
import { adamwEntry } from "./adamw.ts";
import { apolloEntry } from "./apollo/apollo.ts";
import { badamEntry } from "./badam/index.ts";
import { galoreEntry } from "./galore/galore.ts";
import { muonEntry } from "./muon/index.ts";
import { sgdEntry } from "./sgd.ts";

export { AdamMini, adamMiniEntry, adamMiniOptions, blockKind, blockSize, buildAdamMini, headDimOf } from "./adam-mini/index.ts";
export { AdamW, type AdamWOptions, adamw, adamwEntry, adamwOptions } from "./adamw.ts";
export { type ApolloOptions, apolloEntry, apolloOptions, apolloVariant } from "./apollo/apollo.ts";
export { BlockAdam, badamEntry, badamOptions, blockAt, maskOf, maskSize, partitionBlocks, RatioAdam } from "./badam/index.ts";
export { type GaloreOptions, galoreEntry, galoreOptions, galoreVariant } from "./galore/galore.ts";
export { LowRankAdamW, type LowRankSettings, type LowRankVariant, lowRankStateBytes } from "./lowrank/lowrank-adamw.ts";
export { Muon, muonEntry, muonLr, muonOptions, NS_COEFFICIENTS, orthogonalise, usesMuon } from "./muon/index.ts";
export { SGD, type SGDOptions, sgd, sgdEntry, sgdOptions } from "./sgd.ts";
export { type ZeroLayout, ZeroOptimizer, type ZeroPiece, zeroLayout, zeroOptimizer } from "./zero.ts";

export default definePlugin({
  name: "lft-optimizers",
  setup(api) {
    api.register.optimizers(adamwEntry);
    api.register.optimizers(sgdEntry);
    api.register.optimizers(badamEntry);
    api.register.optimizers(adamMiniEntry);
    api.register.optimizers(muonEntry);
    api.register.optimizers(galoreEntry);
    api.register.optimizers(apolloEntry);
  },
});

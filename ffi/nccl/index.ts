// NCCL for lft: the library binding, the collectives engine over it, and the unique-id rendezvous.
export { MIN_NCCL_VERSION, type NcclEngineOptions, ncclCollectives } from "./engine.ts";
export { type DeviceBuffer, loadNccl, NCCL_DTYPE, NCCL_OP, NCCL_SYMBOLS, Nccl, openNcclAt, UNIQUE_ID_BYTES } from "./nccl.ts";
export { broadcastId, parseRendezvous, type RendezvousOptions, tcpRendezvous } from "./rendezvous.ts";

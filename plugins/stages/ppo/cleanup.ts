// What a PPO run loaded beside its prepared modules (the reward adapter set, the reward head) is freed
// with them: the batch source registers it here and the prepared modules' dispose runs it.
import type { StagePrepared } from "../../../core/index.ts";

const registered = new WeakMap<StagePrepared, (() => void)[]>();

export function onDispose(prepared: StagePrepared | undefined, fn: () => void): void {
  if (!prepared) return;
  const list = registered.get(prepared) ?? [];
  list.push(fn);
  registered.set(prepared, list);
}

export function runDisposers(prepared: StagePrepared): void {
  for (const fn of registered.get(prepared) ?? []) fn();
  registered.delete(prepared);
}

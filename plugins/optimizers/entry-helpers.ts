// What optimizer entries share around build(): the "below 1" check on decay rates (betas, momentum),
// the element count behind stateBytes, and the factory a caller from code gets (`adamw({ lr })`).
import { err, ok, type Result } from "neverthrow";
import { type OptimizerEntry, type OptimizerFactory, optimizerFactory, type ParamGroup } from "../../core/index.ts";

/** Each of `keys` must be below 1 (the schema already holds it in [0, 1]); the error names the optimizer. */
export function checkBelowOne<K extends string>(kind: string, o: Readonly<Record<K, number>>, keys: readonly K[]): Result<void, Error> {
  for (const k of keys) if (!(o[k] < 1)) return err(new Error(`optimizer "${kind}": ${k} must be in [0, 1), found ${o[k]}`));
  return ok(undefined);
}

/** Entries across all groups' parameters. */
export function totalNumel(groups: readonly ParamGroup[]): number {
  return groups.reduce((n, g) => n + g.params.reduce((m, p) => m + p.numel, 0), 0);
}

/** The factory train() takes for `entry` from code: lr plus the options given (undefined ones left to the defaults). */
export function codeFactory(entry: OptimizerEntry, o: { lr: number } & Readonly<Record<string, unknown>>): OptimizerFactory {
  const { lr, ...rest } = o;
  return optimizerFactory(entry, lr, Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)));
}

// Learning-rate schedules as pure functions of the optimizer step, with HF transformers' formulas
// (get_{constant,linear,cosine}_schedule_with_warmup, cosine_with_min_lr): `lrAt(s)` is the rate
// for the update that follows s completed updates, so the first update uses lrAt(0) (0 under warmup).
// A schedule has no hidden state: resuming at step s only needs s.
import { err, ok, type Result } from "neverthrow";

export type ScheduleKind = "constant" | "linear" | "cosine";

export interface ScheduleSpec {
  readonly kind: ScheduleKind;
  /** Steps of linear warmup from 0 to lr. Give this or warmupRatio, not both. */
  readonly warmupSteps?: number;
  /** Fraction of totalSteps spent warming up (rounded up, as HF). */
  readonly warmupRatio?: number;
  /** Floor the decay approaches (linear, cosine): the decay runs from lr down to minLr. */
  readonly minLr?: number;
}

export interface Schedule {
  readonly spec: ScheduleSpec;
  readonly lr: number;
  readonly totalSteps: number;
  readonly warmupSteps: number;
  /** Learning rate for the update after `step` completed updates. */
  lrAt(step: number): number;
}

const KINDS: readonly ScheduleKind[] = ["constant", "linear", "cosine"];

export function makeSchedule(spec: ScheduleSpec, lr: number, totalSteps: number): Result<Schedule, Error> {
  if (!KINDS.includes(spec.kind)) return err(new Error(`schedule: unknown kind "${String(spec.kind)}"; known: ${KINDS.join(", ")}`));
  if (!(Number.isFinite(lr) && lr >= 0)) return err(new Error(`schedule: lr must be a finite number >= 0, found ${lr}`));
  if (!(Number.isInteger(totalSteps) && totalSteps > 0)) return err(new Error(`schedule: total steps must be a positive integer, found ${totalSteps}`));
  if (spec.warmupSteps !== undefined && spec.warmupRatio !== undefined) return err(new Error("schedule: give warmupSteps or warmupRatio, not both"));
  if (spec.warmupSteps !== undefined && !(Number.isInteger(spec.warmupSteps) && spec.warmupSteps >= 0))
    return err(new Error(`schedule: warmupSteps must be an integer >= 0, found ${spec.warmupSteps}`));
  if (spec.warmupRatio !== undefined && !(spec.warmupRatio >= 0 && spec.warmupRatio <= 1))
    return err(new Error(`schedule: warmupRatio must be in [0, 1], found ${spec.warmupRatio}`));
  const minLr = spec.minLr ?? 0;
  if (spec.minLr !== undefined) {
    if (spec.kind === "constant") return err(new Error("schedule: minLr has no effect on a constant schedule; use linear or cosine, or drop minLr"));
    if (!(minLr >= 0 && minLr <= lr)) return err(new Error(`schedule: minLr must be in [0, lr = ${lr}], found ${minLr}`));
  }
  const warmup = spec.warmupSteps ?? Math.ceil((spec.warmupRatio ?? 0) * totalSteps);
  const minRate = lr > 0 ? minLr / lr : 0;
  const decay = (progress: number): number => {
    if (spec.kind === "linear") return Math.max(0, 1 - progress);
    return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
  };
  const lrAt = (step: number): number => {
    if (step < warmup) return (lr * step) / Math.max(1, warmup);
    if (spec.kind === "constant") return lr;
    const progress = Math.min(1, (step - warmup) / Math.max(1, totalSteps - warmup));
    return lr * (decay(progress) * (1 - minRate) + minRate);
  };
  return ok({ spec, lr, totalSteps, warmupSteps: warmup, lrAt });
}

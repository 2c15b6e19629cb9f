// trainer_state.json carries HF's log_history beside lft's own histories; reading it back ignores it,
// so a resumed run sees exactly the state that was saved.
import { expect, test } from "bun:test";
import { freshState, logHistory, stateFromJson, stateToJson } from "../../../core/train/trainer-state.ts";

const state = () => {
  const s = freshState("run-1", 4, ["a", "b"]);
  s.step = 2;
  s.lossHistory.push(
    { step: 1, loss: 2.5, lr: 1e-3, tokens: 10, gradNorm: 0.5, skipped: false },
    { step: 2, loss: Number.NaN, lr: 9e-4, tokens: 10, gradNorm: Number.NaN, skipped: true },
  );
  s.evalHistory.push({ step: 2, split: "holdout", metrics: { loss: 2.25 } });
  return s;
};

test("log_history has one entry per step (losses, learning rates) and the evaluations with eval_ names", () => {
  const json = stateToJson(state()) as { log_history: unknown; global_step: number; max_steps: number };
  expect(json.global_step).toBe(2);
  expect(json.max_steps).toBe(4);
  expect(json.log_history).toEqual([
    { grad_norm: 0.5, learning_rate: 1e-3, loss: 2.5, step: 1 },
    { learning_rate: 9e-4, loss: null, step: 2 },
    { eval_loss: 2.25, step: 2 },
  ]);
  expect(logHistory(state())).toEqual(json.log_history as ReturnType<typeof logHistory>);
});

test("reading trainer_state.json back gives the saved state (log_history is derived, not read)", () => {
  const text = JSON.stringify(stateToJson(state()));
  const back = stateFromJson(JSON.parse(text), "trainer_state.json")._unsafeUnwrap();
  expect(JSON.stringify(stateToJson(back))).toBe(text);
  expect(back.lossHistory[0]!.loss).toBe(2.5);
  expect(Number.isNaN(back.lossHistory[1]!.loss)).toBe(true);
});

// Pointwise activations with their backward: silu, geluTanh (GPT-2 / Gemma's tanh approximation),
// swiglu (the fused silu(gate) * up of Llama-style MLPs), tanh, softcap = cap * tanh(x / cap) and clamp. silu,
// geluTanh and swiglu save their inputs; tanh and softcap save their output, from which the derivative
// follows (1 - (y / cap)^2), so a soft-capped logits tensor costs one extra tensor, not two.
import { expectArray } from "../../backend/check.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { defineOp } from "../tape.ts";
import { allocLike } from "./alloc.ts";

/** silu(x) = x * sigmoid(x) */
export const silu = defineOp<[Tensor], { x: Tensor }>({
  name: "silu",
  forward(ctx, x) {
    expectArray("silu", "input", x, "f32");
    const out = allocLike(x);
    x.backend.siluForward(out, x);
    ctx.state = { x: ctx.save(x) };
    return out;
  },
  backward(ctx, g) {
    const { x } = ctx.state;
    const dx = allocLike(x);
    g.backend.siluBackward(dx, g, x);
    return [dx];
  },
});

/** gelu with the tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
export const geluTanh = defineOp<[Tensor], { x: Tensor }>({
  name: "geluTanh",
  forward(ctx, x) {
    expectArray("gelu", "input", x, "f32");
    const out = allocLike(x);
    x.backend.geluTanhForward(out, x);
    ctx.state = { x: ctx.save(x) };
    return out;
  },
  backward(ctx, g) {
    const { x } = ctx.state;
    const dx = allocLike(x);
    g.backend.geluTanhBackward(dx, g, x);
    return [dx];
  },
});

/** swiglu(gate, up) = silu(gate) * up, same shapes; one kernel, so silu(gate) is never stored. */
export const swiglu = defineOp<[Tensor, Tensor], { gate: Tensor; up: Tensor }>({
  name: "swiglu",
  forward(ctx, gate, up) {
    expectArray("swiglu", "gate", gate, "f32");
    expectArray("swiglu", "up", up, "f32", gate.shape);
    const out = allocLike(gate);
    gate.backend.swigluForward(out, gate, up);
    ctx.state = { gate: ctx.save(gate), up: ctx.save(up) };
    return out;
  },
  backward(ctx, g) {
    const { gate, up } = ctx.state;
    const dgate = allocLike(gate);
    const dup = allocLike(up);
    g.backend.swigluBackward(dgate, dup, g, gate, up);
    // The kernel writes both; a gradient nobody asked for is dropped here rather than returned.
    if (!ctx.needsGrad[0]) dgate.dispose();
    if (!ctx.needsGrad[1]) dup.dispose();
    return [ctx.needsGrad[0] ? dgate : null, ctx.needsGrad[1] ? dup : null];
  },
});

/**
 * min(max(x, lo), hi) elementwise; lo may be -Infinity, hi +Infinity (a one-sided clamp). The gradient
 * passes where x was kept (lo <= x <= hi), as torch.clamp's. Saves x.
 */
export const clamp = defineOp<[Tensor, number, number], { x: Tensor; lo: number; hi: number }>({
  name: "clamp",
  forward(ctx, x, lo, hi) {
    expectArray("clamp", "input", x, "f32");
    const out = allocLike(x);
    x.backend.clampForward(out, x, lo, hi);
    ctx.state = { x: ctx.save(x), lo, hi };
    return out;
  },
  backward(ctx, g) {
    const { x, lo, hi } = ctx.state;
    const dx = allocLike(x);
    g.backend.clampBackward(dx, g, x, lo, hi);
    return [dx];
  },
});

/** One kernel pair for both tanh ops: out = cap * tanh(x / cap); the backward reads the output. */
const cappedTanh = defineOp<[Tensor, number], { y: Tensor; cap: number }>({
  name: "tanh",
  forward(ctx, x, cap) {
    expectArray("tanh", "input", x, "f32");
    const out = allocLike(x);
    x.backend.tanhForward(out, x, cap);
    ctx.state = { y: ctx.save(out), cap };
    return out;
  },
  backward(ctx, g) {
    const { y, cap } = ctx.state;
    const dx = allocLike(y);
    g.backend.tanhBackward(dx, g, y, cap);
    return [dx];
  },
});

/** tanh(x), accurate to ~2e-7 relative also for small |x|. */
export function tanh(x: Tensor): Tensor {
  return cappedTanh(x, 1);
}

/** cap * tanh(x / cap) (Gemma 2's logit soft-cap), fused: allocates only its output. cap > 0. */
export function softcap(x: Tensor, cap: number): Tensor {
  if (!(Number.isFinite(cap) && cap > 0)) throw new RangeError(`softcap: cap must be a finite number > 0, got ${cap}`);
  return cappedTanh(x, cap);
}

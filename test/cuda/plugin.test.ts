// The cuda backend plugin registers everywhere; where it cannot run, available() gives the reason and
// device selection falls back to (auto) or fails with (cuda) exactly that reason; where it can, auto picks it.
import { expect, test } from "bun:test";
import { probeCuda } from "../../ffi/cuda/index.ts";
import { cpuBackend, createRegistry, selectBackend } from "../../lft.ts";
import cpuPlugin from "../../plugins/backends/cpu.ts";
import cudaPlugin from "../../plugins/backends/cuda.ts";

// The two backend plugins alone: what is under test is the choice between them.
function registry() {
  const r = createRegistry();
  expect(r.use(cpuPlugin).isOk()).toBe(true);
  expect(r.use(cudaPlugin).isOk()).toBe(true);
  return r;
}

test("the cuda backend registers with priority 100 and reports availability without opening a device", () => {
  const entry = registry().get("backends", "cuda")._unsafeUnwrap();
  expect(entry.priority).toBe(100);
  const a = entry.available();
  expect(a === true || (typeof a === "string" && a.length > 10)).toBe(true);
  expect(a).toBe(probeCuda());
  console.log(`[cuda] available(): ${a === true ? "true" : a}`);
});

test("device selection: auto falls back to the CPU with cuda's reason, or picks cuda when it can run", () => {
  const r = registry();
  const a = probeCuda();
  if (a === true) {
    expect(selectBackend(r, "auto")._unsafeUnwrap().name).toBe("cuda");
    expect(selectBackend(r, "cuda")._unsafeUnwrap().name).toBe("cuda");
  } else {
    expect(selectBackend(r, "auto")._unsafeUnwrap()).toBe(cpuBackend);
    expect(selectBackend(r, "cuda")._unsafeUnwrapErr().message).toBe(`device cuda is not available: ${a}`);
  }
});

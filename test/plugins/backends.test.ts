// Backends are plugins: the built-in CPU backend registers, `device = cpu` and `auto` select it, and a
// GPU backend that is present but finds no device is skipped by `auto` and named with its reason.
import { expect, test } from "bun:test";
import { cpuBackend, createRegistry, definePlugin, selectBackend } from "../../lft.ts";
import { builtinPlugins } from "../../plugins/index.ts";

function registryWithBuiltins() {
  const r = createRegistry();
  for (const p of builtinPlugins) expect(r.use(p).isOk()).toBe(true);
  return r;
}

test("device cpu and device auto select the CPU backend when it is the only one", () => {
  const r = registryWithBuiltins();
  expect(selectBackend(r, "cpu")._unsafeUnwrap()).toBe(cpuBackend);
  expect(selectBackend(r, "auto")._unsafeUnwrap()).toBe(cpuBackend);
});

test("auto prefers an available higher-priority backend and skips an unavailable one, saying why", () => {
  const r = registryWithBuiltins();
  const fake = { ...cpuBackend, name: "fake-gpu" };
  r.use(
    definePlugin({
      name: "no-gpu",
      setup: (api) =>
        api.register.backends({ name: "fake-gpu", priority: 100, available: () => "no CUDA device found (libcuda.so.1 not loadable)", open: () => cpuBackend }),
    }),
  );
  expect(selectBackend(r, "auto")._unsafeUnwrap()).toBe(cpuBackend);
  const chosen = selectBackend(r, "fake-gpu");
  expect(chosen.isErr()).toBe(true);
  expect(chosen._unsafeUnwrapErr().message).toBe("device fake-gpu is not available: no CUDA device found (libcuda.so.1 not loadable)");
  r.use(definePlugin({ name: "fake", setup: (api) => api.register.backends({ name: "fake", priority: 50, available: () => true, open: () => fake }) }));
  expect(selectBackend(r, "auto")._unsafeUnwrap()).toBe(fake);
});

test("an unknown device name gets a did-you-mean", () => {
  const r = registryWithBuiltins();
  const e = selectBackend(r, "cpuu");
  expect(e._unsafeUnwrapErr().message).toContain('did you mean "cpu"');
});

// Engine choice: named > launched-by > single; unknown names list the known ones.
import { expect, test } from "bun:test";
import { ok } from "neverthrow";
import { type CollectivesEntry, createRegistry, definePlugin, singleCollectives } from "../../../core/index.ts";
import dist, { chooseEngine, openCollectives } from "../../../plugins/dist/index.ts";

const fake: CollectivesEntry = { name: "fake", launchedBy: (env) => env.FAKE_SIZE !== undefined, available: () => true, open: () => ok(singleCollectives()) };

test("the launcher's engine is chosen unless one is named", () => {
  const registry = createRegistry();
  registry.use(dist)._unsafeUnwrap();
  registry.use(definePlugin({ name: "fake-engine", setup: (api) => api.register.collectives(fake) }))._unsafeUnwrap();
  expect(chooseEngine(registry, undefined, {})).toBe("single");
  expect(chooseEngine(registry, "auto", { FAKE_SIZE: "2" })).toBe("fake");
  expect(chooseEngine(registry, "single", { FAKE_SIZE: "2" })).toBe("single");
  expect(openCollectives(registry, undefined, {})._unsafeUnwrap().engine).toBe("single");
  const unknown = openCollectives(registry, "mpl", {})._unsafeUnwrapErr();
  expect(unknown.message).toContain("mpl");
  expect(unknown.message).toContain("fake");
});

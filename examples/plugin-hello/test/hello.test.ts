// The package's own test: run it where the package is installed beside lft (lft is a peer
// dependency): `bun test` in node_modules/lft-plugin-hello, or `npm test` there.

import { expect, test } from "bun:test";
import { createRegistry, fileDatasetAttr, validateOptions } from "lft/core/index.ts";
import plugin, { greetingRate, helloFormat } from "../index.ts";

test("registers a dataset format, a metric and a command", () => {
  const registry = createRegistry();
  const info = registry.use(plugin)._unsafeUnwrap();
  expect(info.registered).toEqual({ datasets: ["hello"], metrics: ["greeting_rate"], commands: ["hello"] });
});

test("the format turns a name into a greeting exercise, and reports a bad row", () => {
  const attr = fileDatasetAttr("names.jsonl", { formatting: "hello" });
  expect(helloFormat.convert({ name: "Ada" }, attr)._unsafeUnwrap()).toEqual({
    kind: "sft",
    prompt: [{ role: "user", content: "Say hello to Ada." }],
    response: { role: "assistant", content: "Hello, Ada!" },
    system: "",
    tools: "",
  });
  expect(helloFormat.convert({ nom: "Ada" }, attr)._unsafeUnwrapErr().detail).toBe('missing column "name"');
  const who = fileDatasetAttr("names.jsonl", { formatting: "hello", columns: { prompt: "who" } });
  expect(helloFormat.convert({ who: "Grace" }, who)._unsafeUnwrap()).toMatchObject({ response: { content: "Hello, Grace!" } });
});

test("the metric counts predictions that open with a greeting", () => {
  const options = validateOptions(greetingRate.options ?? {}, {}, 'metric "greeting_rate"')._unsafeUnwrap();
  const score = greetingRate.compute({ predictions: ["Hello, Ada!", "hi there", "Goodbye", "  hey"], references: ["", "", "", ""] }, options);
  expect(score).toBe(0.75);
});

test("the command greets through the session's io", async () => {
  const registry = createRegistry();
  registry.use(plugin)._unsafeUnwrap();
  let out = "";
  const io = {
    stdout: (t: string) => {
      out += t;
    },
    stderr: () => undefined,
    cwd: ".",
  };
  const status = await registry.get("commands", "hello")._unsafeUnwrap().run(["Ada"], io, { registry, mode: "repl" });
  expect([status, out]).toEqual([0, "Hello, Ada! (1 plugins loaded, in the repl)\n"]);
});

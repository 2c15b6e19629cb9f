// lft api --adapter: a LoRA adapter trained by a recipe is served on its base, with the template the run
// remembered (no --template given), and answers what `lft chat --adapter` answers for the same prompt.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { CommandEntry } from "../../../core/index.ts";
import { ExitCode } from "../../../dsl/exit-codes.ts";
import { openServedModel } from "../../../plugins/runner/index.ts";
import { IDENTITY, lft, STORIES, scratch } from "../runner/helpers.ts";
import { client, quietIO, registry, serve } from "./helpers.ts";

const { dir, cleanup } = scratch("api-adapter");
afterAll(cleanup);

test("an adapter is served with its remembered template and answers as lft chat --adapter does", async () => {
  const trained = await lft(
    dir,
    "train.lft",
    `model llama "${STORIES}" { template = default }
dataset alpaca "${IDENTITY}"
method lora { rank = 4, alpha = 8 }
train sft for 6 steps { lr = 5e-3, batch = 4, output = "run" }
`,
  );
  expect(trained.code).toBe(ExitCode.ok);
  const io = { ...quietIO, cwd: dir };
  const model = openServedModel({ path: STORIES, adapter: "run", device: "cpu" }, registry, io)._unsafeUnwrap();
  const server = serve(model);
  try {
    expect(model.describe).toBe("template default");
    const r = await client(server).chat.completions.create({
      model: "stories260K",
      messages: [{ role: "user", content: "Who are you?" }],
      temperature: 0,
      max_tokens: 20,
    });
    let out = "";
    const chat = registry.get("commands", "chat")._unsafeUnwrap() as CommandEntry;
    const code = await chat.run(
      [STORIES, "--adapter", join(dir, "run"), "--prompt", "Who are you?", "--max-tokens", "20"],
      { ...io, stdout: (s) => (out += s) },
      { registry, mode: "cli" },
    );
    expect(code).toBe(0);
    expect(out).toContain("template default");
    expect(out.slice(out.indexOf("> Who are you?\n") + 15, -1)).toBe(r.choices[0]!.message.content!);
    // The adapter is really on: the base model with the same template answers otherwise.
    const base = openServedModel({ path: STORIES, template: "default", device: "cpu" }, registry, io)._unsafeUnwrap();
    const baseServer = serve(base);
    try {
      const b = await client(baseServer).chat.completions.create({
        model: "stories260K",
        messages: [{ role: "user", content: "Who are you?" }],
        temperature: 0,
        max_tokens: 20,
      });
      expect(b.choices[0]!.message.content).not.toBe(r.choices[0]!.message.content!);
    } finally {
      await baseServer.stop();
      base.close();
    }
  } finally {
    await server.stop();
    model.close();
  }
}, 60_000);

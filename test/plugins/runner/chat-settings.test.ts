// Adapters and exports remember how to chat with them: a train run writes lft_chat.json (template,
// system prompt, generation settings) beside PEFT's untouched files, an export also records the template
// in tokenizer_config.json, and `lft chat --adapter DIR` (the real CLI process) and a model block's
// `adapter = "DIR"` use the trained template without `template = ...`.
import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { renderChatTemplate } from "../../../core/index.ts";
import { ExitCode } from "../../../dsl/exit-codes.ts";
import { chatAnswers, IDENTITY, lft, REPO, STORIES, scratch } from "./helpers.ts";

const { dir, cleanup } = scratch("chat-settings");
afterAll(cleanup);

const recipe = `model llama "${STORIES}" { template = default }
dataset alpaca "${IDENTITY}"
method lora { rank = 8, alpha = 16, targets = [all], additional_target = [embed_tokens] }
train sft for 20 epochs { lr = 5e-3, batch = 4, warmup = 10%, scheduler = cosine, output = "run" }
chat "Who are you?" { temperature = 0, max_new_tokens = 32 }
export "merged" { merge = true }
`;

test("a trained adapter and its merged export remember the template; chat --adapter uses it", async () => {
  const trained = await lft(dir, "train.lft", recipe);
  expect(trained.code).toBe(ExitCode.ok);
  const settings = JSON.parse(readFileSync(join(dir, "run/lft_chat.json"), "utf8"));
  expect(settings).toEqual({ template: "default", generation: { max_new_tokens: 32, temperature: 0, top_p: 1 } });
  // PEFT's own config carries no lft keys.
  expect(readFileSync(join(dir, "run/adapter_config.json"), "utf8")).not.toContain("lft");
  expect(JSON.parse(readFileSync(join(dir, "merged/lft_chat.json"), "utf8")).template).toBe("default");
  const tokenizerConfig = JSON.parse(readFileSync(join(dir, "merged/tokenizer_config.json"), "utf8"));
  expect(tokenizerConfig.lft_template).toBe("default");
  // The Jinja form renders what the slot template does (transformers' apply_chat_template reads it).
  const rendered = renderChatTemplate(
    tokenizerConfig.chat_template,
    [
      { role: "system", content: "S" },
      { role: "user", content: "hi" },
      { role: "assistant", content: "yo" },
      { role: "user", content: "q" },
    ],
    { eosToken: "</s>" },
  );
  expect(rendered._unsafeUnwrap()).toBe("System: S</s>\nHuman: hi</s>\nAssistant:yo</s>\nHuman: q</s>\nAssistant:");

  const cli = Bun.spawnSync([process.execPath, join(REPO, "dsl/cli.ts"), "chat", STORIES, "--adapter", "run", "--prompt", "Who are you?"], {
    cwd: dir,
    env: { ...process.env, LFT_HISTORY: join(dir, ".history") },
  });
  const out = cli.stdout.toString();
  expect(cli.exitCode).toBe(0);
  expect(out).toContain("template default");
  expect(chatAnswers(out, "Who are you?")[0]).toContain("Pip");

  // A recipe's model block loading the adapter (as the REPL does) picks it up too; so does the merged folder.
  const reused = await lft(dir, "reuse.lft", `model llama "${STORIES}" { adapter = "run" }\nchat "Who are you?" { max_new_tokens = 32 }\n`);
  expect(reused.out).toContain("template default");
  expect(chatAnswers(reused.out, "Who are you?")[0]).toContain("Pip");
  const merged = await lft(dir, "merged.lft", `model llama "merged"\nchat "Who are you?" { max_new_tokens = 32 }\n`);
  expect(merged.out).toContain("template default");
  expect(chatAnswers(merged.out, "Who are you?")[0]).toContain("Pip");
});

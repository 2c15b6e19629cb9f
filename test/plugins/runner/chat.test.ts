// Chat without a template (a base model continues raw text, as it was pre-trained), with the
// tokenizer's own chat template (prompts as training rendered them), the interactive loop (/clear,
// /exit, end of input), and the REPL: the live model survives between statements, a second train
// continues the first, and a changed method reloads the base.
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ok } from "neverthrow";
import { lftPlugin } from "../../../dsl/commands/index.ts";
import { ExitCode } from "../../../dsl/exit-codes.ts";
import { checkSource } from "../../../dsl/pipeline.ts";
import { ReplState } from "../../../dsl/repl/state.ts";
import { openSession } from "../../../dsl/session.ts";
import { chatAction } from "../../../plugins/runner/chat.ts";
import { ensureModel } from "../../../plugins/runner/model.ts";
import { captureIO, chatAnswers, IDENTITY, lft, STORIES, scratch } from "./helpers.ts";

const { dir, cleanup } = scratch("chat");
afterAll(cleanup);

describe("chat", () => {
  test("without a template the base model continues the raw prompt after BOS, greedily or sampled", async () => {
    const r = await lft(
      dir,
      "raw.lft",
      `model llama "${STORIES}"\nchat "Once upon a time" { temperature = 0, max_new_tokens = 24 }\nchat "Once upon a time" { max_new_tokens = 24, seed = 3 }\n`,
    );
    expect(r.code).toBe(ExitCode.ok);
    expect(r.out).toContain("chat · base model · raw text (the model has no chat template; set model { template = ... } for one) · greedy\n");
    expect(r.out).toContain("· temperature 0.7, seed 3\n");
    // The model card's greedy story (examples/models/README.md) starts this way.
    const [greedy, sampled] = chatAnswers(r.out, "Once upon a time");
    expect(greedy).toStartWith(", there was a little girl named Lily.");
    // Seeded sampling is reproducible; with seed 3 it leaves the greedy path within 24 tokens.
    expect(sampled).not.toBe(greedy);
  });

  test("with the tokenizer's chat template, chat prompts as training did: a short SFT run answers with the name", async () => {
    // stories260K with a small Q:/A: chat template added to its tokenizer_config.json, and no template option.
    const model = join(dir, "chatty");
    cpSync(STORIES, model, { recursive: true });
    const config = JSON.parse(readFileSync(join(model, "tokenizer_config.json"), "utf8")) as Record<string, unknown>;
    config.chat_template =
      "{% for m in messages %}{% if m['role'] == 'user' %}{{ 'Q: ' + m['content'] + '\\n' }}{% elif m['role'] == 'assistant' %}{{ 'A: ' + m['content'] + eos_token + '\\n' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ 'A: ' }}{% endif %}";
    writeFileSync(join(model, "tokenizer_config.json"), JSON.stringify(config));
    const ask = 'chat "Who are you?" { temperature = 0, max_new_tokens = 16 }';
    const r = await lft(
      dir,
      "chatty.lft",
      `model llama "chatty"\ndataset alpaca "${IDENTITY}"\nmethod lora { targets = [all], additional_target = [embed_tokens] }\n${ask}\ntrain sft for 30 steps { lr = 5e-3, batch = 4, log_every = 1000 }\n${ask}\n`,
    );
    expect(r.code).toBe(ExitCode.ok);
    expect(r.out).toContain("template hf,");
    expect(r.out).toContain("chat · after sft 30 steps · the tokenizer's chat template · greedy\n");
    const [before, after] = chatAnswers(r.out, "Who are you?");
    expect(before).not.toContain("Pip");
    expect(after).toStartWith("I am Pip");
  });

  test("interactive: one reply per line, /clear forgets, /exit leaves before the lines after it", async () => {
    const io = captureIO(dir);
    const { session } = await openSession({ mode: "cli", io, core: lftPlugin, projectPlugins: false });
    const checked = (await checkSource(`model llama "${STORIES}" { template = default }\nchat\n`, "chat.lft", session.registry, dir))._unsafeUnwrap();
    const recipe = checked.checked.recipe;
    const state = ensureModel(recipe, recipe.model!, session.registry, session.live, io)._unsafeUnwrap();
    const scope = { recipe, registry: session.registry, io, signal: new AbortController().signal, state };
    async function* lines(...xs: string[]) {
      yield* xs;
    }
    const options = { temperature: 0, max_new_tokens: 6 };
    const ended = await chatAction({ action: "chat", options }, scope, lines("Who are you?", "", "/clear", "hi", "/exit", "never answered"));
    expect(ended).toEqual(ok("done"));
    const out = io.out();
    expect(out).toContain("chat · base model · template default · greedy · /exit or end of input leaves, /clear forgets the conversation\n");
    expect(out.match(/assistant> /g)).toHaveLength(2);
    expect(out).toContain("(conversation cleared)\n");
    expect(out).not.toContain("never answered");
    // End of input ends the conversation too.
    const before = io.out().length;
    expect(await chatAction({ action: "chat", options }, scope, lines("hi"))).toEqual(ok("done"));
    expect(
      io
        .out()
        .slice(before)
        .match(/assistant> /g),
    ).toHaveLength(1);
    state.model.dispose();
  });
});

describe("the REPL keeps the runner's state between statements", () => {
  test("load once, train twice, chat, then a new method reloads the base", async () => {
    const io = captureIO(dir);
    const { session } = await openSession({ mode: "repl", io, core: lftPlugin, projectPlugins: false });
    const repl = new ReplState(session, dir);
    const say = async (text: string) => expect(await repl.evaluate(text)).toBe(ExitCode.ok);
    await say(`model llama "${STORIES}" { template = default }`);
    await say(`dataset alpaca "${IDENTITY}"`);
    await say("method lora { targets = [all] }");
    await say("train sft for 10 steps { lr = 5e-3, batch = 4, log_every = 1000 }");
    await say("train sft for 10 steps { lr = 5e-3, batch = 4, log_every = 1000 }");
    await say('chat "Who are you?" { temperature = 0, max_new_tokens = 4 }');
    const out = io.out();
    expect(out.match(/^model llama /gm)).toHaveLength(1);
    expect(out.match(/^method lora: /gm)).toHaveLength(1);
    expect(out.match(/^data: /gm)).toHaveLength(1);
    expect(out).toContain("chat · after sft 10 steps, then sft 10 steps · template default · greedy\n");
    expect(session.live.get("model")).toBeDefined();
    await say("method full");
    expect(io.out()).toContain("method changed from lora to full: reloading the base model (weights trained so far are dropped)\n");
    expect(io.out().match(/^model llama /gm)).toHaveLength(2);
    expect(io.out()).toContain("method full: 260,032 of 260,032 parameters trainable (100.00%)\n");
  });
});

// The glm4 template with tools, against the text LLaMA-Factory's glm4 declaration renders (written out
// by hand from template.py and GLM4ToolUtils): the tool prompt after the system text, each tool as an
// indented JSON section, a call as its name, a newline and its arguments, the observation slot, and EOS
// only at the end (efficient_eos).
import { expect, test } from "bun:test";
import type { Message } from "../../../../core/index.ts";
import { dataRegistry } from "../../../core/data/helpers/registry.ts";
import { fixtureTokenizer } from "../../../core/data/helpers/tokenizer.ts";

const tool = { name: "get_weather", description: "Weather for a city", parameters: { type: "object", properties: { city: { type: "string" } } } };

test("glm4: tool prompt in the system turn, a one-line-name call, the observation slot", async () => {
  const tok = await fixtureTokenizer("llama3");
  const enc = dataRegistry().get("templates", "glm4")._unsafeUnwrap().create(tok, {})._unsafeUnwrap();
  const messages: Message[] = [
    { role: "user", content: "Weather in Paris?" },
    { role: "function", content: JSON.stringify({ name: "get_weather", arguments: { city: "Paris" } }) },
    { role: "observation", content: "sunny" },
    { role: "assistant", content: "It is sunny." },
  ];
  const pairs = enc.encodeMultiturn(messages, "Be brief.", JSON.stringify([tool]))._unsafeUnwrap();
  const body =
    '{\n    "name": "get_weather",\n    "description": "Weather for a city",\n    "parameters": {\n        "type": "object",\n        "properties": {\n            "city": {\n                "type": "string"\n            }\n        }\n    }\n}';
  const toolText =
    "你是一个名为 ChatGLM 的人工智能助手。你是基于智谱 AI 公司训练的语言模型 GLM-4 模型开发的，你的任务是针对用户的问题和要求提供适当的答复和支持。\n\n# 可用工具" +
    `\n\n## get_weather\n\n${body}\n在调用上述函数时，请使用 Json 格式表示调用的参数。`;
  expect(pairs.flatMap(([p, r]) => [tok.decode(p), tok.decode(r)])).toEqual([
    `[gMASK]<sop><|system|>\nBe brief.${toolText}<|user|>\nWeather in Paris?<|assistant|>`,
    'get_weather\n{"city": "Paris"}',
    "<|observation|>\nsunny<|assistant|>",
    "\nIt is sunny.",
  ]);
  expect(enc.efficientEos).toBe(true);
});

test("glm4: two calls in one function message are refused with LLaMA-Factory's reason", async () => {
  const tok = await fixtureTokenizer("llama3");
  const enc = dataRegistry().get("templates", "glm4")._unsafeUnwrap().create(tok, {})._unsafeUnwrap();
  const two = JSON.stringify([
    { name: "a", arguments: {} },
    { name: "b", arguments: {} },
  ]);
  const r = enc.encodeMultiturn(
    [
      { role: "user", content: "x" },
      { role: "function", content: two },
    ],
    "",
    "",
  );
  expect(r._unsafeUnwrapErr()).toContain("GLM-4 does not support parallel functions");
});

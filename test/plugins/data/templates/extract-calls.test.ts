// Reading function calls back from a reply (LLaMA-Factory's tool extractors): what each tool format writes
// with formatCalls reads back as the same calls, LF's own example texts parse, and plain text is no call.
import { expect, test } from "bun:test";
import { extractCalls, type FunctionCall, TOOL_FORMATS, TOOL_UTILS } from "../../../../plugins/data/index.ts";

const calls: FunctionCall[] = [
  { name: "get_weather", arguments: JSON.stringify({ city: "Paris", days: 3 }) },
  { name: "search", arguments: JSON.stringify({ query: "bun", filters: { lang: "ts" } }) },
];

test("every tool format reads back the calls it writes (one call and two)", () => {
  for (const format of TOOL_FORMATS) {
    // GLM-4 writes one call per reply (LLaMA-Factory refuses parallel calls for it).
    for (const list of format === "glm4" ? [calls.slice(0, 1)] : [calls.slice(0, 1), calls]) {
      const written = TOOL_UTILS[format].formatCalls(list);
      const read = extractCalls(format, written);
      expect({ format, read: read?.map((c) => ({ name: c.name, arguments: JSON.parse(c.arguments) })) }).toEqual({
        format,
        read: list.map((c) => ({ name: c.name, arguments: JSON.parse(c.arguments) })),
      });
    }
  }
});

test("LLaMA-Factory's reply shapes parse; plain text and broken JSON are no call", () => {
  expect(extractCalls("default", 'Action: calc\nAction Input: {"x": 1}')).toEqual([{ name: "calc", arguments: '{"x":1}' }]);
  expect(extractCalls("qwen", 'Sure.\n<tool_call>\n{"name": "calc", "arguments": {"x": 1}}\n</tool_call>')).toEqual([{ name: "calc", arguments: '{"x":1}' }]);
  expect(extractCalls("llama3", '{"name": "calc", "parameters": {"x": 1}}')).toEqual([{ name: "calc", arguments: '{"x":1}' }]);
  expect(extractCalls("mistral", '[{"name": "calc", "arguments": {"x": 1}}]')).toEqual([{ name: "calc", arguments: '{"x":1}' }]);
  expect(
    extractCalls("qwen3_5", "<tool_call>\n<function=calc>\n<parameter=x>\n1\n</parameter>\n<parameter=s>\nhi there\n</parameter>\n</function>\n</tool_call>"),
  ).toEqual([{ name: "calc", arguments: '{"x":1,"s":"hi there"}' }]);
  expect(extractCalls("glm4", 'calc\n{"x": 1}')).toEqual([{ name: "calc", arguments: '{"x":1}' }]);
  expect(extractCalls("glm4", "Paris\nIt is sunny.")).toBeNull();
  for (const format of TOOL_FORMATS) expect(extractCalls(format, "It is sunny in Paris.")).toBeNull();
  expect(extractCalls("default", "Action: calc\nAction Input: {x: 1}")).toBeNull();
  expect(extractCalls("llama3", '{"name": "calc"}')).toBeNull();
});

test("glm4 refuses two calls in one reply, as LLaMA-Factory does", () => {
  expect(() => TOOL_UTILS.glm4.formatCalls(calls)).toThrow("GLM-4 does not support parallel functions");
});

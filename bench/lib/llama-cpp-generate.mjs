// Node child of bench/generate.ts (node-llama-cpp does not load under Bun): for each GGUF file, loads it
// with llama.cpp's CPU build and times greedy generation from the given prompt ids: prompt processing
// (evaluating the prompt up to the first sampled token) and decode (each later token).
// stdin: { files, prompt, newTokens, threads }; stdout: one JSON row per file.
const { getLlama } = await import("node-llama-cpp");
const { files, prompt, newTokens, threads } = JSON.parse(await new Response(process.stdin).text());
const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });

async function timed(model, ids, n) {
  const context = await model.createContext({ contextSize: ids.length + n + 8, batchSize: ids.length, threads });
  const t0 = performance.now();
  let first = 0;
  let count = 0;
  for await (const _ of context.getSequence().evaluate(ids, { temperature: 0 })) {
    count++;
    if (count === 1) first = performance.now();
    if (count >= n) break;
  }
  const end = performance.now();
  await context.dispose();
  return { promptS: (first - t0) / 1000, decodeS: (end - first) / 1000, decoded: count - 1 };
}

const rows = [];
for (const { name, file } of files) {
  const model = await llama.loadModel({ modelPath: file });
  await timed(model, prompt, 2); // warm-up at the full prompt length: mapped weights touched, threads started
  const r = await timed(model, prompt, newTokens);
  rows.push({ name, promptTokensPerS: prompt.length / r.promptS, decodeTokensPerS: r.decoded / r.decodeS, ...r });
  await model.dispose();
}
console.log(JSON.stringify({ rows, llamaCppBuild: llama.buildType ?? null, llamaCppCpu: llama.cpuMathCores ?? null }));

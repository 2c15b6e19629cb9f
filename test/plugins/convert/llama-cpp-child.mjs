// Runs under Node (node-llama-cpp does not load under Bun): reads a JSON list of jobs on stdin, each
// { file, prompt: ids, n, text? }, and prints for each llama.cpp's greedy continuation of the ids
// (fed as ids, so no tokenizer is involved) and, when text is given, llama.cpp's tokenization of it.
const { getLlama } = await import("node-llama-cpp");
const jobs = JSON.parse(await new Response(process.stdin).text());
const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
const results = [];
for (const job of jobs) {
  const model = await llama.loadModel({ modelPath: job.file }).catch((e) => {
    console.error(`${job.file}: ${e.message}`);
    process.exit(1);
  });
  const context = await model.createContext({ contextSize: 256, batchSize: 256, threads: 1 });
  const tokens = [];
  for await (const t of context.getSequence().evaluate(job.prompt, { temperature: 0 })) {
    tokens.push(t);
    if (tokens.length >= job.n) break;
  }
  results.push({ file: job.file, tokens, textIds: job.text === undefined ? null : model.tokenize(job.text) });
  await context.dispose();
  await model.dispose();
}
console.log(JSON.stringify(results));

// Runs under Node (node-llama-cpp does not load under Bun): reads a JSON list of jobs on stdin, each
// { file, prompt: ids, n, probabilities, text? }, and prints for each llama.cpp's greedy continuation of
// the ids (fed as ids, so no tokenizer is involved), when asked at each step its TOP most probable next
// tokens with their probabilities (softmax of its logits: temperature 0 only picks the token; costs
// ~50 ms a step for a 32k vocabulary), and, when text is given, llama.cpp's tokenization of it.
const TOP = 8;
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
  const top = [];
  for await (const out of context.getSequence().evaluateWithMetadata(job.prompt, { probabilities: job.probabilities }, { temperature: 0 })) {
    tokens.push(out.token);
    if (job.probabilities) top.push([...out.probabilities.entries()].slice(0, TOP));
    if (tokens.length >= job.n) break;
  }
  results.push({ file: job.file, tokens, top, textIds: job.text === undefined ? null : model.tokenize(job.text) });
  await context.dispose();
  await model.dispose();
}
console.log(JSON.stringify(results));

// The official `openai` Node SDK against mediagate, with only baseURL and the key changed.
// Usage: node openai_sdk.mjs <base url> <key>. Prints one JSON object of what it saw;
// tests/e2e/test_node_sdks.py checks it (and this exits non-zero on any thrown error).
import OpenAI, { NotFoundError } from "openai";

const [baseURL, apiKey] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
const said = [{ role: "user", content: "tell me about foxes" }];
const schema = {
  type: "object",
  properties: { name: { type: "string" }, age: { type: "integer", minimum: 0 } },
  required: ["name", "age"],
};
const out = {};

const plain = await client.chat.completions.create({ model: "gpt-4o-mini", messages: said });
out.plain = { content: plain.choices[0].message.content, usage: plain.usage };

let streamed = "";
let usage = null;
const stream = await client.chat.completions.create({
  model: "gpt-4o", messages: said, stream: true, stream_options: { include_usage: true },
});
for await (const chunk of stream) {
  streamed += chunk.choices[0]?.delta?.content ?? "";
  if (chunk.usage) usage = chunk.usage;
}
out.stream = { content: streamed, usage };

const tool = { type: "function", function: { name: "lookup", parameters: schema } };
const called = await client.chat.completions.create({
  model: "gpt-4o-mini", messages: said, tools: [tool], tool_choice: "required",
});
out.tool = called.choices[0].message.tool_calls?.[0]?.function ?? null;

const structured = await client.chat.completions.create({
  model: "gpt-4.1", messages: said,
  response_format: { type: "json_schema", json_schema: { name: "p", schema } },
});
out.json_schema = structured.choices[0].message.content;

const legacy = await client.completions.create({
  model: "gpt-3.5-turbo-instruct", prompt: "Once", max_tokens: 5,
});
out.completion = { text: legacy.choices[0].text, usage: legacy.usage };

const response = await client.responses.create({ model: "gpt-4o-mini", input: "foxes" });
out.response = { status: response.status, text: response.output_text, usage: response.usage };

const vectors = await client.embeddings.create({
  model: "text-embedding-3-small", input: ["red fox", "red dog"], dimensions: 16,
});
out.embeddings = vectors.data.map((d) => d.embedding.length);

try {
  await client.chat.completions.create({ model: "nope-9", messages: said });
  out.unknown = "no error";
} catch (err) {
  out.unknown = { notFound: err instanceof NotFoundError, status: err.status, message: err.message };
}
console.log(JSON.stringify(out));

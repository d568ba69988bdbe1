// The official `@anthropic-ai/sdk` Node SDK against mediagate, with only baseURL and the key
// changed. Usage: node anthropic_sdk.mjs <base url> <key>. Prints one JSON object of what it
// saw; tests/e2e/test_node_sdks.py checks it.
import Anthropic from "@anthropic-ai/sdk";

const [baseURL, apiKey] = process.argv.slice(2);
const client = new Anthropic({ baseURL, apiKey, maxRetries: 0 });
const messages = [{ role: "user", content: "tell me about foxes" }];
const tool = {
  name: "get_weather",
  input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};
const out = {};

const plain = await client.messages.create({ model: "claude-sonnet-4-5", max_tokens: 64, messages });
out.plain = { text: plain.content[0].text, stop: plain.stop_reason, usage: plain.usage };

const stream = client.messages.stream({ model: "claude-haiku-4-5", max_tokens: 64, messages });
let streamed = "";
stream.on("text", (t) => { streamed += t; });
const final = await stream.finalMessage();
out.stream = { text: streamed, final: final.content[0].text, usage: final.usage };

const called = await client.messages.create({
  model: "claude-sonnet-4-5", max_tokens: 100, messages, tools: [tool], tool_choice: { type: "any" },
});
out.tool = called.content.find((b) => b.type === "tool_use") ?? null;
out.tool_stop = called.stop_reason;

try {
  await client.messages.create({ model: "claude-nope-9", max_tokens: 9, messages });
  out.unknown = "no error";
} catch (err) {
  out.unknown = { notFound: err instanceof Anthropic.NotFoundError, status: err.status, message: err.message };
}
console.log(JSON.stringify(out));

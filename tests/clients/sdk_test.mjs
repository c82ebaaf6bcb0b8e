// The official `openai` SDK (npm, 7.x) against a running `gossamer serve` on the bundled
// gpt-oss-nano: a third-party client that no one here wrote judges the wire formats.
// Usage: node sdk_test.mjs BASE_URL PHASE [STATE_FILE]
//   PHASE main     every scenario on one server (max-running >= 16)
//   PHASE store    creates a stored response, writes its id and text to STATE_FILE
//   PHASE restore  continues STATE_FILE's response after a server restart
//   PHASE limit    a server with --max-running 1 --max-queue 0 answers 429
// Prints "ok NAME" per scenario; exits 1 at the first failure.
import OpenAI from 'openai';
import fs from 'node:fs';

const [baseURL, phase, stateFile] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0 });
const model = 'gpt-oss-nano';
const instructions =
  "Answer the user's question. Use the python tool for any calculation and answer in one sentence.";

function check(condition, what, detail) {
  if (!condition) {
    console.error(`FAILED: ${what}${detail === undefined ? '' : ': ' + JSON.stringify(detail).slice(0, 2000)}`);
    process.exit(1);
  }
}
// The answer text of a response object (streamed objects do not get output_text).
function outputText(response) {
  return response.output.filter((i) => i.type === 'message')
    .flatMap((i) => i.content.filter((c) => c.type === 'output_text').map((c) => c.text)).join('');
}
async function scenario(name, body) {
  const t0 = Date.now();
  await body();
  console.log(`ok ${name} (${Date.now() - t0} ms)`);
}

const multiply = {
  type: 'function',
  name: 'multiply',
  description: 'Multiplies two integers.',
  parameters: {
    type: 'object',
    properties: { a: { type: 'integer' }, b: { type: 'integer' } },
    required: ['a', 'b'],
  },
};

async function mainPhase() {
  await scenario('models', async () => {
    const list = await client.models.list();
    check(list.data.length === 1 && list.data[0].id === model, 'models.list', list.data);
  });

  await scenario('responses: plain', async () => {
    const r = await client.responses.create({
      model, instructions, input: 'What is 3921 * 47?', reasoning: { effort: 'low' }, temperature: 0,
    });
    check(r.status === 'completed', 'status', r);
    check(typeof r.output_text === 'string', 'output_text', r);
    check(r.usage.input_tokens > 0 && r.usage.output_tokens > 0, 'usage', r.usage);
    check(r.usage.input_tokens_details.cached_tokens >= 0, 'cached_tokens', r.usage);
  });

  await scenario('responses: code_interpreter runs in the sandbox', async () => {
    const r = await client.responses.create({
      model, instructions, input: 'What is 3921 * 47?', reasoning: { effort: 'low' }, temperature: 0,
      tools: [{ type: 'code_interpreter', container: { type: 'auto' } }],
    });
    const call = r.output.find((i) => i.type === 'code_interpreter_call');
    check(call && call.outputs[0].logs.includes('184287'), 'code_interpreter_call', r.output);
    check(r.output_text.includes('184287'), 'answer', r.output_text);
  });

  await scenario('responses: streamed events in order', async () => {
    const stream = await client.responses.create({
      model, instructions, input: 'What is 3921 * 47?', reasoning: { effort: 'low' }, temperature: 0,
      tools: [{ type: 'code_interpreter', container: { type: 'auto' } }], stream: true,
    });
    const types = [];
    let text = '';
    let last;
    let seq = -1;
    for await (const e of stream) {
      types.push(e.type);
      check(e.sequence_number === seq + 1, 'sequence_number', e);
      seq = e.sequence_number;
      if (e.type === 'response.output_text.delta') text += e.delta;
      last = e;
    }
    check(types[0] === 'response.created' && types[1] === 'response.in_progress', 'first events', types);
    check(last.type === 'response.completed', 'last event', types);
    check(types.includes('response.reasoning_text.delta'), 'reasoning deltas', types);
    check(types.includes('response.code_interpreter_call_code.delta'), 'code deltas', types);
    const final = outputText(last.response);
    check(text === final && text.includes('184287'), 'deltas add up', [text, final]);
  });

  await scenario('responses: a function tool, then its output through previous_response_id', async () => {
    const r = await client.responses.create({
      model, instructions: 'Use the multiply function.', input: 'What is 12 * 34?', temperature: 0,
      tools: [multiply], tool_choice: { type: 'function', name: 'multiply' }, store: true,
    });
    const call = r.output.find((i) => i.type === 'function_call');
    check(call && call.name === 'multiply' && call.call_id.startsWith('call_'), 'function_call', r.output);
    JSON.parse(call.arguments.length ? call.arguments : '{}');  // throws if not JSON
    const next = await client.responses.create({
      model, previous_response_id: r.id, temperature: 0, tools: [multiply],
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '408' }],
    });
    check(next.status === 'completed' && next.previous_response_id === r.id, 'continued', next);
    check(next.usage.input_tokens_details.cached_tokens > 0, 'prefix reused', next.usage);
    // The same conversation sent back by a stateless client (no previous_response_id).
    const stateless = await client.responses.create({
      model, instructions: 'Use the multiply function.', temperature: 0, tools: [multiply], store: false,
      input: [
        { role: 'user', content: 'What is 12 * 34?' },
        { type: 'function_call', call_id: call.call_id, name: 'multiply', arguments: call.arguments },
        { type: 'function_call_output', call_id: call.call_id, output: '408' },
      ],
    });
    check(stateless.status === 'completed', 'stateless continuation', stateless);
    const got = await client.responses.retrieve(r.id);
    check(got.id === r.id && got.output.length === r.output.length, 'retrieve', got);
  });

  await scenario('responses: errors in OpenAI shape', async () => {
    for (const [body, status, param] of [
      [{ model: 'no-such-model', input: 'hi' }, 404, 'model'],
      [{ model, input: 'hi', temperature: 7 }, 400, 'temperature'],
      [{ model, input: [{ type: 'input_image_file' }] }, 400, 'input[0].type'],
      [{ model, input: 'hi', previous_response_id: 'resp_nope' }, 404, 'previous_response_id'],
    ]) {
      try {
        await client.responses.create(body);
        check(false, 'expected an error', body);
      } catch (e) {
        check(e.status === status, `status for ${JSON.stringify(body)}`, [e.status, e.error]);
        check(e.error && e.error.param === param && typeof e.error.message === 'string', 'error shape', e.error);
      }
    }
  });

  await scenario('structured outputs: sampled under the schema, always valid', async () => {
    const schema = {
      type: 'object',
      properties: {
        product: { type: 'integer' },
        unit: { type: 'string', enum: ['none', 'kg'] },
        checks: { type: 'array', items: { type: 'boolean' } },
      },
      required: ['product', 'unit'],
      additionalProperties: false,
    };
    for (const [i, temperature] of [0, 1, 1].entries()) {
      const r = await client.responses.create({
        model, input: 'What is 3921 * 47? Answer as JSON.', temperature, seed: i, store: false,
        text: { format: { type: 'json_schema', name: 'answer', schema, strict: true } },
      });
      const doc = JSON.parse(r.output_text);  // throws if it is not JSON
      check(Number.isInteger(doc.product) && ['none', 'kg'].includes(doc.unit), 'valid under the schema', doc);
      check(Object.keys(doc).every((k) => k in schema.properties), 'no other keys', doc);
    }
    const c = await client.chat.completions.create({
      model, temperature: 1, messages: [{ role: 'user', content: 'Give me a JSON list of two colours.' }],
      response_format: { type: 'json_schema', json_schema: { name: 'colours', schema: { type: 'array', items: { type: 'string', enum: ['red', 'green', 'blue'] } } } },
    });
    const list = JSON.parse(c.choices[0].message.content);
    check(Array.isArray(list) && list.every((x) => typeof x === 'string'), 'chat response_format', list);
    // A strict function's arguments follow its parameters.
    const f = await client.responses.create({
      model, input: 'What is 12 * 34?', temperature: 1, store: false,
      tools: [{ ...multiply, strict: true, parameters: { ...multiply.parameters, additionalProperties: false } }],
      tool_choice: { type: 'function', name: 'multiply' },
    });
    const call = f.output.find((i) => i.type === 'function_call');
    const args = JSON.parse(call.arguments);
    check(Number.isInteger(args.a) && Number.isInteger(args.b) && Object.keys(args).length === 2, 'strict arguments', args);
  });

  await scenario('chat: plain, streamed, tools', async () => {
    const c = await client.chat.completions.create({
      model, temperature: 0, reasoning_effort: 'low',
      messages: [{ role: 'system', content: instructions }, { role: 'user', content: 'What is 3921 * 47?' }],
    });
    check(c.choices[0].finish_reason && c.usage.prompt_tokens > 0, 'chat completion', c);
    check(typeof c.choices[0].message.reasoning_content === 'string', 'reasoning_content', c.choices[0].message);
    const stream = await client.chat.completions.create({
      model, temperature: 0, stream: true, stream_options: { include_usage: true },
      max_completion_tokens: 12, messages: [{ role: 'user', content: 'Say hello.' }],
    });
    let chunks = 0;
    let usage;
    let finish;
    for await (const ch of stream) {
      chunks++;
      if (ch.usage) usage = ch.usage;
      if (ch.choices[0]?.finish_reason) finish = ch.choices[0].finish_reason;
    }
    check(chunks > 2 && usage && usage.completion_tokens > 0 && finish, 'chat stream', { chunks, usage, finish });
    const t = await client.chat.completions.create({
      model: model, temperature: 0,
      tools: [{ type: 'function', function: { name: 'multiply', parameters: multiply.parameters } }],
      tool_choice: { type: 'function', function: { name: 'multiply' } },
      messages: [{ role: 'user', content: 'What is 12 * 34?' }],
    });
    const tc = t.choices[0].message.tool_calls;
    check(t.choices[0].finish_reason === 'tool_calls' && tc && tc[0].function.name === 'multiply', 'tool_calls', t.choices[0]);
    const after = await client.chat.completions.create({
      model, temperature: 0,
      messages: [
        { role: 'user', content: 'What is 12 * 34?' },
        t.choices[0].message,
        { role: 'tool', tool_call_id: tc[0].id, content: '408' },
      ],
    });
    check(after.choices[0].message.role === 'assistant', 'after the tool result', after.choices[0]);
  });

  await scenario('16 concurrent streams', async () => {
    const runs = Array.from({ length: 16 }, async (_, i) => {
      const stream = await client.responses.create({
        model, instructions, input: `What is ${100 + i} * 7?`, temperature: 0, stream: true,
        tools: [{ type: 'code_interpreter', container: { type: 'auto' } }], store: false,
      });
      let last;
      for await (const e of stream) last = e;
      return last;
    });
    const done = await Promise.all(runs);
    for (const [i, last] of done.entries()) {
      check(last.type === 'response.completed', `stream ${i}`, last);
      check(outputText(last.response).includes(String((100 + i) * 7)), `stream ${i} answer`, last.response.output);
    }
  });

  await scenario('a client that disconnects cancels its generation', async () => {
    const controller = new AbortController();
    const stream = await client.responses.create(
      { model, input: 'Tell me a long story.', stream: true, max_output_tokens: 4000, store: false },
      { signal: controller.signal });
    let n = 0;
    try {
      for await (const e of stream) if (e.type.endsWith('.delta') && ++n === 3) controller.abort();
    } catch (e) {
      check(e.name === 'APIUserAbortError' || e.name === 'AbortError', 'abort', e.name);
    }
    let metrics = '';
    for (let i = 0; i < 300; i++) {
      metrics = await (await fetch(baseURL.replace(/\/v1$/, '') + '/metrics')).text();
      if (/gossamer_running_requests 0/.test(metrics) && /status="499"/.test(metrics)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    check(/gossamer_running_requests 0/.test(metrics) && /endpoint="\/v1\/responses",status="499"/.test(metrics),
      'cancelled and counted', metrics.split('\n').filter((l) => /running|499/.test(l)));
  });
}

async function storePhase() {
  const r = await client.responses.create({
    model, instructions, input: 'What is 3921 * 47?', temperature: 0, store: true,
    tools: [{ type: 'code_interpreter', container: { type: 'auto' } }],
  });
  check(r.status === 'completed', 'stored', r);
  fs.writeFileSync(stateFile, JSON.stringify({ id: r.id, text: r.output_text }));
  console.log('ok stored ' + r.id);
}

async function restorePhase() {
  const { id, text } = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  const got = await client.responses.retrieve(id);
  check(got.output_text === text, 'retrieved after restart', [got.output_text, text]);
  const next = await client.responses.create({
    model, previous_response_id: id, temperature: 0, input: 'And what is 3921 * 48?',
    tools: [{ type: 'code_interpreter', container: { type: 'auto' } }],
  });
  check(next.status === 'completed' && next.previous_response_id === id, 'continued after restart', next);
  check(next.output_text.length > 0, 'second turn answer', next.output);
  // The stored conversation came back verbatim: the first turn's answer is in the prompt.
  check(next.usage.input_tokens > got.usage.input_tokens, 'history in the prompt', [next.usage, got.usage]);
  console.log('ok previous_response_id across a restart');
}

async function limitPhase() {
  const slow = client.responses.create({ model, input: 'Tell me a long story.', max_output_tokens: 300, store: false });
  // Wait until the server has admitted it (however loaded the machine is).
  for (let i = 0; i < 600; i++) {
    const m = await (await fetch(baseURL.replace(/\/v1$/, '') + '/metrics')).text();
    if (/gossamer_running_requests 1/.test(m)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    await client.responses.create({ model, input: 'hi', store: false });
    check(false, 'expected 429');
  } catch (e) {
    check(e.status === 429 && e.headers.get('retry-after') === '1', '429 with Retry-After', [e.status, e.error]);
  }
  await slow;
  console.log('ok 429 beyond --max-queue');
}

const phases = { main: mainPhase, store: storePhase, restore: restorePhase, limit: limitPhase };
await phases[phase]();

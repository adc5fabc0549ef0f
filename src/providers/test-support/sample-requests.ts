/**
 * Realistic request bodies, one per message format: a system prompt, several turns, text parts
 * beside an image, tool calls and their results. Each call returns a fresh copy to rewrite.
 */

/** OpenAI chat completions (`ChatCompletionCreateParams`). */
export const chatRequest = () => ({
  model: 'gpt-4o',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'developer', content: [{ type: 'text', text: 'Answer in English.' }] },
    {
      role: 'user',
      name: 'alice',
      content: [
        { type: 'text', text: 'What is in this picture?' },
        { type: 'image_url', image_url: { url: 'https://example.test/cat.png', detail: 'low' } },
        { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
        { type: 'text', text: 'And the weather in Paris?' },
      ],
    },
    {
      role: 'assistant',
      content: 'A cat. Checking.',
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
    },
    { role: 'tool', tool_call_id: 'call_1', content: '18C and sunny' },
    { role: 'assistant', content: [{ type: 'refusal', refusal: 'I cannot say more.' }], refusal: 'I cannot say more.' },
    { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: 'humidity 40%' }] },
    { role: 'user', content: 'Thanks!' },
  ],
  tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object' } } }],
  max_completion_tokens: 300,
});

/** OpenAI Responses (`ResponseCreateParams`): instructions, then input items of every kind. */
export const responsesRequest = () => ({
  model: 'gpt-4.1',
  instructions: 'You are terse.',
  input: [
    { role: 'developer', content: 'Use metric units.' },
    {
      type: 'message',
      role: 'user',
      content: [
        { type: 'input_text', text: 'What is in this picture?' },
        { type: 'input_image', image_url: 'https://example.test/cat.png', detail: 'auto' },
        { type: 'input_file', file_id: 'file_1' },
        { type: 'input_text', text: 'And the weather in Paris?' },
      ],
    },
    { type: 'message', id: 'msg_0', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'A cat.', annotations: [] }] },
    { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'Needs the weather.' }] },
    { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
    { type: 'function_call_output', call_id: 'call_1', output: '18C and sunny' },
    { type: 'custom_tool_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: 'humidity 40%' }] },
    { type: 'item_reference', id: 'msg_earlier' },
    { role: 'user', content: 'Thanks!' },
  ],
  tools: [{ type: 'function', name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object' } }],
  max_output_tokens: 500,
});

/** An Anthropic image block, which holds no text. */
export const image = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } };

/** Anthropic messages (`MessageCreateParams`): system blocks, tool results, documents. */
export const messagesRequest = () => ({
  model: 'claude-sonnet-4-6',
  max_tokens: 1024,
  system: [
    { type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } },
    { type: 'text', text: 'Use metric units.' },
  ],
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'What is in this picture?' }, image, { type: 'text', text: 'And the weather in Paris?' }] },
    {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'Needs the weather.', signature: 'sig' },
        { type: 'text', text: 'A cat. Checking.' },
        { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'toolu_2', name: 'search', input: { q: 'Paris' } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_1', content: '18C and sunny' },
        {
          type: 'tool_result',
          tool_use_id: 'toolu_2',
          content: [
            { type: 'text', text: 'humidity 40%' },
            image,
            { type: 'search_result', source: 'https://example.test/paris', title: 'Paris', content: [{ type: 'text', text: 'Paris is mild.' }] },
          ],
        },
        { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'Quarterly notes.' }, title: 'Notes' },
        { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } },
      ],
    },
    { role: 'assistant', content: 'Noted.' },
    { role: 'user', content: 'Thanks!' },
  ],
  tools: [{ name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object' } }],
});

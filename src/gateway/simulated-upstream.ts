/**
 * The simulated OpenAI and Anthropic upstream that the tests run against, shipped for
 * `llm-ledger demo`: both wire formats (JSON and SSE) on 127.0.0.1 and a free port, offline,
 * with scripted misbehaviour per request (`x-fake-scenario`: error-500, tool, stall, ...).
 */
export { startFakeUpstream as startSimulatedUpstream, type FakeUpstream as SimulatedUpstream } from '../providers/test-support/fake-upstream.js';

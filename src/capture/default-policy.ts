import { defaultConfig } from '../config/schema.js';
import { compileCapturePolicy, type CapturePolicy, type ContentDigester } from './policy.js';

/** The policy with no configuration at all: digests of prompts and responses, nothing stored. */
export function defaultCapturePolicy(digester: ContentDigester): CapturePolicy {
  return compileCapturePolicy(defaultConfig(process.cwd()).capture, { digester });
}

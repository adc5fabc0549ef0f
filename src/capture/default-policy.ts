import { BUILTIN_DETECTORS } from './pii.js';
import { compileCapturePolicy, type CapturePolicy, type CapturePolicyConfig, type ContentDigester } from './policy.js';

/**
 * The `capture` section with nothing configured: the defaults of the configuration schema
 * (src/config/schema.ts), written out here so that capture needs nothing from config, the layer
 * above it. default-policy.test.ts holds the two equal.
 */
export const DEFAULT_CAPTURE_CONFIG: Readonly<CapturePolicyConfig> = {
  prompts: 'hash',
  responses: 'hash',
  headers: 'none',
  allowPlaintext: false,
  excludeModels: [],
  maxBodySize: 1_048_576,
  headersAllow: [],
  // Off: no class stores content, so there is nothing to redact.
  pii: { enabled: false, detectors: [...BUILTIN_DETECTORS], custom: [] },
};

/** The policy with no configuration at all: digests of prompts and responses, nothing stored. */
export function defaultCapturePolicy(digester: ContentDigester): CapturePolicy {
  return compileCapturePolicy(DEFAULT_CAPTURE_CONFIG, { digester });
}

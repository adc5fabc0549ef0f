import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config/schema.js';
import { DEFAULT_CAPTURE_CONFIG } from './default-policy.js';

describe('DEFAULT_CAPTURE_CONFIG', () => {
  it('is the capture section the configuration schema gives when nothing is configured', () => {
    expect(DEFAULT_CAPTURE_CONFIG).toEqual(defaultConfig(process.cwd()).capture);
    expect(DEFAULT_CAPTURE_CONFIG).toEqual(defaultConfig('/elsewhere').capture);
  });
});

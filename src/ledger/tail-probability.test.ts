import { describe, expect, it } from 'vitest';
import { binomialUpperTail, logGamma, normalUpperTail } from './tail-probability.js';

describe('tail probabilities', () => {
  it('gives the standard normal upper tail', () => {
    expect(normalUpperTail(0)).toBeCloseTo(0.5, 7);
    expect(normalUpperTail(1.959964)).toBeCloseTo(0.025, 6);
    expect(normalUpperTail(3)).toBeCloseTo(0.0013499, 6);
    expect(normalUpperTail(-3)).toBeCloseTo(0.9986501, 6);
  });

  it('gives ln of the gamma function', () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    expect(logGamma(101)).toBeCloseTo(363.73937555556347, 9);
  });

  it('sums the binomial upper tail exactly', () => {
    // P(X >= 3) for Binomial(10, 0.1) = 1 - P(0) - P(1) - P(2).
    const p = (k: number) => [0.3486784401, 0.387420489, 0.1937102445][k]!;
    expect(binomialUpperTail(3, 10, 0.1)).toBeCloseTo(1 - p(0) - p(1) - p(2), 10);
    expect(binomialUpperTail(10, 10, 0.5)).toBeCloseTo(1 / 1024, 12);
    expect(binomialUpperTail(0, 10, 0.5)).toBe(1);
    expect(binomialUpperTail(11, 10, 0.5)).toBe(0);
  });

  it('stays fast and finite for a million trials', () => {
    const started = performance.now();
    const tail = binomialUpperTail(1200, 1_000_000, 0.001);
    expect(tail).toBeGreaterThan(0);
    expect(tail).toBeLessThan(1e-8);
    expect(performance.now() - started).toBeLessThan(50);
  });
});

import { describe, expect, it } from 'vitest';
import { formatBytes, formatCpu, isQuantity, parseQuantity } from '../../lib/quantity';

describe('quantities', () => {
  it.each([
    ['500m', 0.5],
    ['2', 2],
    ['1.5', 1.5],
    ['512Mi', 512 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['1G', 1e9],
    ['1e3', 1000],
    ['100k', 100_000],
    ['.5', 0.5],
  ])('parses %s', (text, value) => {
    expect(parseQuantity(text)).toBeCloseTo(value, 9);
  });

  it.each(['', '128MB', 'Gi', '1.2.3', 'ten', '1 Gi', '-1'])('rejects %j', (text) => {
    expect(isQuantity(text)).toBe(false);
  });

  it('formats', () => {
    expect(formatCpu(1.5)).toBe('1500m');
    expect(formatCpu(2)).toBe('2');
    expect(formatBytes(3 * 2 ** 30)).toBe('3Gi');
    expect(formatBytes(1536 * 2 ** 20)).toBe('1536Mi');
  });
});

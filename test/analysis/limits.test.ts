import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { effectiveLimit, normalizeLimit, type LimitReadings } from '../../src/analysis/limits.js';

const MIB = 2 ** 20;
const GIB = 2 ** 30;

/** What `process.constrainedMemory()` returns where no limit is set: 2^64 - 1. */
const UINT64_MAX = 2n ** 64n - 1n;

/** What cgroup v1 `memory.limit_in_bytes` reports without a limit: 2^63 rounded down to a 4 KiB page. */
const CGROUP_V1_UNLIMITED = 9223372036854771712;

const NO_READINGS: LimitReadings = { cgroupV2Bytes: null, cgroupV1Bytes: null, constrainedMemoryBytes: null, configuredBytes: null };

describe('normalizeLimit', () => {
  it('maps readings that mean no limit to null', () => {
    const cases: Array<[string, number | bigint | null | undefined]> = [
      ['null', null],
      ['undefined', undefined],
      ['0', 0],
      ['0n', 0n],
      ['-1', -1],
      ['-512 MiB', -512 * MIB],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['2^62', 2 ** 62],
      ['2^63', 2 ** 63],
      ['cgroup v1 unlimited', CGROUP_V1_UNLIMITED],
      ['UINT64 max as bigint', UINT64_MAX],
      ['UINT64 max as number', Number(UINT64_MAX)],
    ];

    for (const [name, value] of cases) {
      assert.equal(normalizeLimit(value), null, name);
    }
  });

  it('keeps real limits unchanged', () => {
    const cases: Array<[number | bigint, number]> = [
      [1, 1],
      [512 * MIB, 512 * MIB],
      [4 * GIB, 4 * GIB],
      [BigInt(2 * GIB), 2 * GIB],
      [2 ** 62 - 2 ** 20, 2 ** 62 - 2 ** 20],
    ];

    for (const [value, expected] of cases) {
      assert.equal(normalizeLimit(value), expected, `value ${value}`);
    }
  });
});

describe('effectiveLimit', () => {
  it('returns null limit and source without readings', () => {
    assert.deepEqual(effectiveLimit(NO_READINGS), { limitBytes: null, source: null });
  });

  it('returns null when every reading means no limit', () => {
    const readings: LimitReadings = {
      cgroupV2Bytes: null,
      cgroupV1Bytes: CGROUP_V1_UNLIMITED,
      constrainedMemoryBytes: Number(UINT64_MAX),
      configuredBytes: 0,
    };

    assert.deepEqual(effectiveLimit(readings), { limitBytes: null, source: null });
  });

  it('names the source of a single limit', () => {
    const cases: Array<[keyof LimitReadings, string]> = [
      ['cgroupV2Bytes', 'cgroup-v2'],
      ['cgroupV1Bytes', 'cgroup-v1'],
      ['constrainedMemoryBytes', 'constrained-memory'],
      ['configuredBytes', 'configured'],
    ];

    for (const [field, source] of cases) {
      const result = effectiveLimit({ ...NO_READINGS, [field]: 256 * MIB });
      assert.deepEqual(result, { limitBytes: 256 * MIB, source }, field);
    }
  });

  it('picks the smallest limit and names its source', () => {
    const cases: Array<[LimitReadings, number, string]> = [
      [{ cgroupV2Bytes: 1 * GIB, cgroupV1Bytes: null, constrainedMemoryBytes: 1 * GIB, configuredBytes: 512 * MIB }, 512 * MIB, 'configured'],
      [{ cgroupV2Bytes: 300 * MIB, cgroupV1Bytes: null, constrainedMemoryBytes: 1 * GIB, configuredBytes: 512 * MIB }, 300 * MIB, 'cgroup-v2'],
      [{ cgroupV2Bytes: null, cgroupV1Bytes: 200 * MIB, constrainedMemoryBytes: 1 * GIB, configuredBytes: null }, 200 * MIB, 'cgroup-v1'],
      [{ cgroupV2Bytes: 2 * GIB, cgroupV1Bytes: null, constrainedMemoryBytes: 768 * MIB, configuredBytes: 1 * GIB }, 768 * MIB, 'constrained-memory'],
    ];

    for (const [readings, limitBytes, source] of cases) {
      assert.deepEqual(effectiveLimit(readings), { limitBytes, source }, `expected ${source}`);
    }
  });

  it('skips unlimited readings when picking the smallest', () => {
    const readings: LimitReadings = {
      cgroupV2Bytes: null,
      cgroupV1Bytes: CGROUP_V1_UNLIMITED,
      constrainedMemoryBytes: Number(UINT64_MAX),
      configuredBytes: 64 * MIB,
    };

    assert.deepEqual(effectiveLimit(readings), { limitBytes: 64 * MIB, source: 'configured' });
  });

  it('keeps the first source on a tie', () => {
    const readings: LimitReadings = { cgroupV2Bytes: 512 * MIB, cgroupV1Bytes: null, constrainedMemoryBytes: 512 * MIB, configuredBytes: 512 * MIB };

    assert.deepEqual(effectiveLimit(readings), { limitBytes: 512 * MIB, source: 'cgroup-v2' });
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatBytes, formatDurationMs, parseBytes, parseDurationMs } from '../../src/util/size.js';

const KIB = 2 ** 10;
const MIB = 2 ** 20;
const GIB = 2 ** 30;

describe('parseBytes', () => {
  it('parses binary units', () => {
    const cases: Array<[string, number]> = [
      ['512MiB', 512 * MIB],
      ['2GiB', 2 * GIB],
      ['4KiB', 4 * KIB],
      ['1TiB', 2 ** 40],
      ['0.5MiB', 0.5 * MIB],
    ];

    for (const [input, expected] of cases) {
      assert.equal(parseBytes(input), expected, input);
    }
  });

  it('parses decimal units', () => {
    const cases: Array<[string, number]> = [
      ['1.5GB', 1_500_000_000],
      ['300MB', 300_000_000],
      ['10kB', 10_000],
      ['2TB', 2e12],
    ];

    for (const [input, expected] of cases) {
      assert.equal(parseBytes(input), expected, input);
    }
  });

  it('reads bare k, m and g as binary units', () => {
    assert.equal(parseBytes('256m'), 256 * MIB);
    assert.equal(parseBytes('64k'), 64 * KIB);
    assert.equal(parseBytes('3g'), 3 * GIB);
  });

  it('ignores case and surrounding spaces', () => {
    assert.equal(parseBytes('512mib'), 512 * MIB);
    assert.equal(parseBytes('512MIB'), 512 * MIB);
    assert.equal(parseBytes(' 512 MiB '), 512 * MIB);
  });

  it('reads a string without unit as bytes', () => {
    assert.equal(parseBytes('536870912'), 536870912);
    assert.equal(parseBytes('100B'), 100);
  });

  it('rounds fractional bytes down', () => {
    assert.equal(parseBytes('1.5'), 1);
    assert.equal(parseBytes('1.0001KiB'), 1024);
  });

  it('takes numbers as bytes', () => {
    assert.equal(parseBytes(536870912), 536870912);
    assert.equal(parseBytes(0), 0);
    assert.equal(parseBytes(1023.9), 1023);
  });

  it('returns null for bad input', () => {
    const cases: Array<string | number> = [
      '',
      '   ',
      'lots',
      'MiB',
      '-5MiB',
      '5 MiB extra',
      '5XB',
      '1e9',
      '1,5GB',
      '.5GB',
      -1,
      Number.NaN,
      Number.POSITIVE_INFINITY,
    ];

    for (const input of cases) {
      assert.equal(parseBytes(input), null, JSON.stringify(input) ?? String(input));
    }
  });
});

describe('parseDurationMs', () => {
  it('parses each unit', () => {
    const cases: Array<[string, number]> = [
      ['250ms', 250],
      ['30s', 30_000],
      ['1.5s', 1500],
      ['5m', 300_000],
      ['2min', 120_000],
      ['1h', 3_600_000],
    ];

    for (const [input, expected] of cases) {
      assert.equal(parseDurationMs(input), expected, input);
    }
  });

  it('reads a string without unit as milliseconds', () => {
    assert.equal(parseDurationMs('1000'), 1000);
  });

  it('ignores case and surrounding spaces', () => {
    assert.equal(parseDurationMs(' 30 S '), 30_000);
    assert.equal(parseDurationMs('250MS'), 250);
  });

  it('takes numbers as milliseconds', () => {
    assert.equal(parseDurationMs(1000), 1000);
    assert.equal(parseDurationMs(0), 0);
    assert.equal(parseDurationMs(12.5), 12.5);
  });

  it('returns null for bad input', () => {
    const cases: Array<string | number> = ['', 'fast', 's', '-5s', '5 days', '5d', '30sec', '1e3', -1, Number.NaN, Number.POSITIVE_INFINITY];

    for (const input of cases) {
      assert.equal(parseDurationMs(input), null, JSON.stringify(input) ?? String(input));
    }
  });
});

describe('formatBytes', () => {
  it('writes whole bytes below 1 KiB', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1023), '1023 B');
  });

  it('writes one decimal in binary units', () => {
    const cases: Array<[number, string]> = [
      [1024, '1.0 KiB'],
      [1536, '1.5 KiB'],
      [MIB, '1.0 MiB'],
      [190_100_000, '181.3 MiB'],
      [3 * GIB, '3.0 GiB'],
      [5 * 2 ** 40, '5.0 TiB'],
    ];

    for (const [bytes, expected] of cases) {
      assert.equal(formatBytes(bytes), expected, `${bytes} bytes`);
    }
  });

  it('stays in TiB above 1024 TiB', () => {
    assert.equal(formatBytes(2 ** 50), '1024.0 TiB');
  });

  it('keeps the sign of negative sizes', () => {
    assert.equal(formatBytes(-2048), '-2.0 KiB');
  });

  it('writes n/a for null', () => {
    assert.equal(formatBytes(null), 'n/a');
  });
});

describe('formatDurationMs', () => {
  it('writes milliseconds, seconds, then minutes', () => {
    const cases: Array<[number, string]> = [
      [0, '0 ms'],
      [849.6, '850 ms'],
      [1000, '1.0 s'],
      [12_400, '12.4 s'],
      [60_000, '1m 00s'],
      [185_000, '3m 05s'],
    ];

    for (const [ms, expected] of cases) {
      assert.equal(formatDurationMs(ms), expected, `${ms} ms`);
    }
  });
});

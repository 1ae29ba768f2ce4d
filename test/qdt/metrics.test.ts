import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ETA, GAMMA, LAMBDA, PHI, QDT_INTERVAL_MS, QDT_SHEDDING_RAMP, QDT_THRESHOLDS } from '../../src/qdt/constants.js';
import { computeQdtMetrics, qdtStatus } from '../../src/qdt/metrics.js';
import { sampleWith } from './helpers.js';

const MIB = 2 ** 20;

describe('qdt constants', () => {
  it('keeps the design values', () => {
    assert.equal(GAMMA, 0.4497);
    assert.equal(LAMBDA, 0.867);
    assert.equal(PHI, 1.618);
    assert.equal(ETA, 0.52);
    assert.equal(QDT_INTERVAL_MS, 5000);
  });

  it('puts critical at LAMBDA', () => {
    assert.deepEqual({ ...QDT_THRESHOLDS }, { moderate: 0.667, high: 0.767, critical: 0.867 });
    assert.deepEqual({ ...QDT_SHEDDING_RAMP }, { fromRatio: 0.767, toRatio: 0.867 });
  });
});

describe('qdt metrics', () => {
  it('defines each metric in standard terms', () => {
    const metrics = computeQdtMetrics(sampleWith({ heapUsageRatio: 0.25, heapUsedBytes: 30 * MIB, heapTotalBytes: 40 * MIB }));

    assert.equal(metrics.filament, 0.25);
    assert.equal(metrics.void, 0.75);
    assert.equal(metrics.vfRatio, 3);
    assert.equal(metrics.coherence, 0.75);
    assert.equal(metrics.heapMB, 30);
    assert.equal(metrics.status, 'OPTIMAL');
  });

  it('takes filament from the larger budget', () => {
    const metrics = computeQdtMetrics(sampleWith({ heapUsageRatio: 0.2, processUsageRatio: 0.6 }));

    assert.equal(metrics.filament, 0.6);
    assert.ok(Math.abs(metrics.void - 0.4) < 1e-12);
  });

  it('clamps void at 0 past the limit', () => {
    const metrics = computeQdtMetrics(sampleWith({ heapUsageRatio: 1.2 }));

    assert.equal(metrics.filament, 1.2);
    assert.equal(metrics.void, 0);
    assert.equal(metrics.vfRatio, 0);
    assert.equal(metrics.status, 'CRITICAL');
  });

  it('reports no ratio at zero filament', () => {
    const metrics = computeQdtMetrics(sampleWith({ heapUsageRatio: 0 }));

    assert.equal(metrics.vfRatio, null);
    assert.equal(metrics.status, 'OPTIMAL');
  });

  it('reads coherence 1 for an empty heap', () => {
    assert.equal(computeQdtMetrics(sampleWith({ heapUsedBytes: 0, heapTotalBytes: 0 })).coherence, 1);
  });
});

describe('qdt status rules', () => {
  const cases: Array<{ name: string; filament: number; coherence: number; expected: string }> = [
    { name: 'CRITICAL above LAMBDA', filament: 0.87, coherence: 0.9, expected: 'CRITICAL' },
    { name: 'CRITICAL wins over UNSTABLE', filament: 0.95, coherence: 0.1, expected: 'CRITICAL' },
    { name: 'not CRITICAL at LAMBDA itself', filament: LAMBDA, coherence: 0.9, expected: 'BALANCED' },
    { name: 'UNSTABLE below GAMMA', filament: 0.5, coherence: 0.44, expected: 'UNSTABLE' },
    { name: 'UNSTABLE wins over OPTIMAL', filament: 0.1, coherence: 0.3, expected: 'UNSTABLE' },
    { name: 'not UNSTABLE at GAMMA itself', filament: 0.5, coherence: GAMMA, expected: 'BALANCED' },
    { name: 'OPTIMAL when V/F reaches PHI', filament: 0.3, coherence: 0.9, expected: 'OPTIMAL' },
    { name: 'BALANCED when V/F is below PHI', filament: 0.5, coherence: 0.9, expected: 'BALANCED' },
  ];

  for (const testCase of cases) {
    it(testCase.name, () => {
      const metrics = computeQdtMetrics(sampleWith({ heapUsageRatio: testCase.filament, heapUsedBytes: testCase.coherence * 100 * MIB, heapTotalBytes: 100 * MIB }));
      assert.equal(metrics.status, testCase.expected);
    });
  }

  it('OPTIMAL at V/F exactly PHI', () => {
    assert.equal(qdtStatus(0.3, 0.9, PHI), 'OPTIMAL');
    assert.equal(qdtStatus(0.3, 0.9, PHI - 0.001), 'BALANCED');
  });
});

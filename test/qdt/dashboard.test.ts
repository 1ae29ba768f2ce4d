import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { renderQdtDashboard, startQdtDashboard } from '../../src/qdt/dashboard.js';
import { computeQdtMetrics } from '../../src/qdt/metrics.js';
import { createScriptedQdt, sampleWith } from './helpers.js';

const MIB = 2 ** 20;

describe('qdt dashboard', () => {
  it('renders the design layout', () => {
    const text = renderQdtDashboard(computeQdtMetrics(sampleWith({ heapUsageRatio: 0.25, heapUsedBytes: 30 * MIB, heapTotalBytes: 40 * MIB })));
    const labels = text.split('\n').filter((line) => /^\| \w/.test(line)).map((line) => line.slice(2, 14).trim());

    assert.deepEqual(labels, ['QDT Memory D', 'Coherence', 'Void', 'Filament', 'V/F Ratio', 'Heap', 'Status']);
    assert.match(text, /Coherence +75\.0 %/);
    assert.match(text, /Void +75\.0 %/);
    assert.match(text, /Filament +25\.0 %/);
    assert.match(text, /V\/F Ratio +3\.000/);
    assert.match(text, /Heap +30\.0 MB/);
    assert.match(text, /Status +OPTIMAL/);
    assert.ok(text.split('\n').every((line) => line.length === 46), 'every line has the same width');
  });

  it('renders a waiting state', () => {
    assert.match(renderQdtDashboard(null), /waiting for the first sample/);
  });

  it('writes on every Nth sample', () => {
    const setup = createScriptedQdt();
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    const stop = startQdtDashboard(setup.qdt, { stream, everySamples: 2 });

    setup.sampleAt(0.3);
    assert.equal(chunks.length, 0);
    setup.sampleAt(0.3);
    assert.equal(chunks.length, 1);
    stop();
    setup.sampleAt(0.3);
    setup.sampleAt(0.3);
    assert.equal(chunks.length, 1);
    setup.qdt.close();
  });
});

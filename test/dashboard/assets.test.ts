import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DASHBOARD_ASSET_NAMES, dashboardAsset } from '../../src/dashboard/assets.js';

describe('dashboardAsset', () => {
  it('serves each listed file with its type', () => {
    const expected: Record<string, string> = {
      '': 'text/html; charset=utf-8',
      'index.html': 'text/html; charset=utf-8',
      'dashboard.js': 'text/javascript; charset=utf-8',
      'format.js': 'text/javascript; charset=utf-8',
      'data.js': 'text/javascript; charset=utf-8',
      'charts.js': 'text/javascript; charset=utf-8',
      'view.js': 'text/javascript; charset=utf-8',
      'dashboard.css': 'text/css; charset=utf-8',
      'uPlot.iife.min.js': 'text/javascript; charset=utf-8',
      'uPlot.min.css': 'text/css; charset=utf-8',
    };
    assert.deepEqual([...DASHBOARD_ASSET_NAMES].sort(), Object.keys(expected).sort());

    for (const [name, contentType] of Object.entries(expected)) {
      const asset = dashboardAsset(name);
      assert.ok(asset, `no asset for "${name}"`);
      assert.equal(asset.status, 200, name);
      assert.equal(asset.headers['content-type'], contentType, name);
      assert.equal(asset.headers['cache-control'], 'no-cache', name);
      assert.equal(asset.headers['x-content-type-options'], 'nosniff', name);
      assert.match(asset.headers.etag ?? '', /^"[\w-]{22}"$/, name);
      assert.ok(asset.body.length > 100, `${name} is ${asset.body.length} bytes`);
    }
  });

  it('serves the page with its policy', () => {
    const page = dashboardAsset('');
    assert.ok(page);
    assert.match(page.body.toString(), /<script type="module" src="dashboard\.js"><\/script>/);
    assert.match(page.headers['content-security-policy'] ?? '', /default-src 'none'/);
    assert.match(page.headers['content-security-policy'] ?? '', /connect-src 'self'/);
    assert.equal(dashboardAsset('dashboard.js')?.headers['content-security-policy'], undefined);
  });

  it('serves uPlot from its package', () => {
    const script = dashboardAsset('uPlot.iife.min.js');
    assert.ok(script);
    assert.match(script.body.toString('utf8', 0, 200), /uPlot/);
  });

  it('accepts one leading slash', () => {
    assert.equal(dashboardAsset('/dashboard.css')?.status, 200);
    assert.equal(dashboardAsset('/')?.headers['content-type'], 'text/html; charset=utf-8');
  });

  it('rejects names outside the list', () => {
    const names = [
      '../package.json',
      '..%2Fpackage.json',
      '/../package.json',
      '//dashboard.js',
      'dashboard.js/../index.html',
      './dashboard.js',
      'DASHBOARD.JS',
      'dashboard.js?x=1',
      '/etc/passwd',
      'uplot/package.json',
      'node_modules/uplot/dist/uPlot.iife.min.js',
      'dashboard.js\u0000',
      'metrics',
    ];
    for (const name of names) assert.equal(dashboardAsset(name), null, JSON.stringify(name));
  });

  it('returns 304 for a current ETag', () => {
    const first = dashboardAsset('dashboard.js');
    assert.ok(first);
    const etag = first.headers.etag as string;

    const again = dashboardAsset('dashboard.js', etag);
    assert.equal(again?.status, 304);
    assert.equal(again?.body.length, 0);
    assert.equal(dashboardAsset('dashboard.js', `W/${etag}`)?.status, 304);
    assert.equal(dashboardAsset('dashboard.js', `"other", ${etag}`)?.status, 304);
    assert.equal(dashboardAsset('dashboard.js', '*')?.status, 304);
    assert.equal(dashboardAsset('dashboard.js', '"other"')?.status, 200);
  });

  it('reads each file once', () => {
    assert.equal(dashboardAsset('dashboard.css')?.body, dashboardAsset('dashboard.css')?.body);
    assert.equal(dashboardAsset('')?.body, dashboardAsset('index.html')?.body);
  });
});

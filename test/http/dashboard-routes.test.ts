import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { createHeadroomApi, type HeadroomApi } from '../../src/http/api.js';
import type { ApiRequest, ApiResponse } from '../../src/http/types.js';
import type { MemoryManager } from '../../src/manager/manager.js';
import { silentLogger } from '../../src/util/logger.js';
import { createScriptedManager, sampleAt } from '../helpers/http.js';

const managers: MemoryManager[] = [];
const apis: HeadroomApi[] = [];

afterEach(() => {
  for (const api of apis.splice(0)) api.close();
  for (const manager of managers.splice(0)) manager.stop();
});

function setUp(prefix?: string): { api: HeadroomApi; setup: ReturnType<typeof createScriptedManager> } {
  const setup = createScriptedManager();
  managers.push(setup.manager);
  const api = createHeadroomApi(setup.manager, { clock: setup.clock, logger: silentLogger, ...(prefix === undefined ? {} : { prefix }) });
  apis.push(api);
  return { api, setup };
}

async function get(api: HeadroomApi, path: string, headers: ApiRequest['headers'] = {}, method = 'GET'): Promise<ApiResponse> {
  const response = await api.handle({ method, path, query: new URLSearchParams(), headers, remoteAddress: '127.0.0.1' });
  assert.ok(response, `${method} ${path} should be handled`);
  return response;
}

describe('dashboard routes', () => {
  it('serves the page to browsers at the prefix root', async () => {
    const { api } = setUp();
    const page = await get(api, '/headroom/', { accept: 'text/html,application/xhtml+xml' });

    assert.equal(page.status, 200);
    assert.match(page.headers['content-type'] ?? '', /^text\/html/);
    assert.match(page.body, /<html/i);
  });

  it('redirects the bare prefix for browsers only', async () => {
    const { api } = setUp();
    const browser = await get(api, '/headroom', { accept: 'text/html' });
    const client = await get(api, '/headroom');

    assert.equal(browser.status, 308);
    assert.equal(browser.headers.location, '/headroom/');
    assert.equal(client.status, 200);
    assert.ok(Array.isArray((JSON.parse(client.body) as { routes: unknown[] }).routes));
  });

  it('serves assets and uPlot, with no body for HEAD', async () => {
    const { api } = setUp();
    const script = await get(api, '/headroom/dashboard.js');
    const chart = await get(api, '/headroom/uPlot.iife.min.js');
    const head = await get(api, '/headroom/dashboard.css', {}, 'HEAD');

    assert.equal(script.status, 200);
    assert.match(script.headers['content-type'] ?? '', /javascript/);
    assert.equal(chart.status, 200);
    assert.ok(chart.body.length > 10_000);
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  it('analytics returns chart points and events', async () => {
    const { api, setup } = setUp();
    for (const ratio of [0.2, 0.3, 0.4]) sampleAt(setup, ratio);
    const response = await get(api, '/headroom/analytics');
    const analytics = JSON.parse(response.body) as { points: Array<{ liveBytes: number; rssBytes: number }>; events: unknown[] };

    assert.equal(response.status, 200);
    assert.equal(analytics.points.length, 3);
    assert.equal(typeof analytics.points[0]?.liveBytes, 'number');
    assert.ok(Array.isArray(analytics.events));
  });
});

import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { createHeadroomApi, type HeadroomApi } from '../../src/http/api.js';
import type { ApiRequest, ApiResponse } from '../../src/http/types.js';
import type { MemoryManager } from '../../src/manager/manager.js';
import { silentLogger } from '../../src/util/logger.js';
import { createScriptedManager } from '../helpers/http.js';

const managers: MemoryManager[] = [];
const apis: HeadroomApi[] = [];

afterEach(() => {
  for (const api of apis.splice(0)) api.close();
  for (const manager of managers.splice(0)) manager.stop();
});

async function postGc(headers: ApiRequest['headers']): Promise<ApiResponse> {
  const setup = createScriptedManager();
  managers.push(setup.manager);
  const api = createHeadroomApi(setup.manager, { clock: setup.clock, logger: silentLogger });
  apis.push(api);

  const response = await api.handle({ method: 'POST', path: '/headroom/gc', query: new URLSearchParams(), headers, remoteAddress: '127.0.0.1' });
  assert.ok(response);
  return response;
}

describe('POST routes without a token', () => {
  it('reject a foreign Origin', async () => {
    const response = await postGc({ host: '127.0.0.1:9000', origin: 'https://evil.example', 'content-type': 'text/plain' });

    assert.equal(response.status, 403);
    assert.match(response.body, /Cross-site request rejected/);
  });

  it('reject a non-loopback Host', async () => {
    const response = await postGc({ host: 'evil.example:9000' });

    assert.equal(response.status, 403);
  });

  it('accept same-origin and plain loopback calls', async () => {
    const sameOrigin = await postGc({ host: '127.0.0.1:9000', origin: 'http://127.0.0.1:9000' });
    const curl = await postGc({ host: 'localhost:9000' });

    assert.notEqual(sameOrigin.status, 403);
    assert.notEqual(curl.status, 403);
  });
});

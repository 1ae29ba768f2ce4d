import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createHeadroomHandler } from '../../src/adapters/http.js';
import { createScriptedManager } from '../helpers/http.js';
import { describeAdapterContract, type AppHandle } from './contract.js';

describeAdapterContract('node:http', async (manager, options, exemptPaths): Promise<AppHandle> => {
  const headroom = createHeadroomHandler(manager, { ...options, exemptPaths });
  const server = createServer((request, response) => {
    // The plain adapter has no routes to configure, so a route opts out by being served before shed().
    if (headroom.handle(request, response)) return;
    if (request.url !== '/opt-out' && headroom.shed(request, response)) return;

    response.setHeader('content-type', 'text/plain');
    response.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  headroom.attachStream(server);

  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      await headroom.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
});

describe('node:http adapter specifics', () => {
  it('passes requests outside the prefix on', async () => {
    const setup = createScriptedManager();
    const headroom = createHeadroomHandler(setup.manager);
    try {
      const handled = headroom.handle({ url: '/app/route', method: 'GET' } as never, {} as never);
      assert.equal(handled, false);
    } finally {
      await headroom.close();
      setup.manager.stop();
    }
  });
});

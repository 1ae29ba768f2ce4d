import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import express from 'express';
import { createExpressHeadroom, headroomRouter, sheddingMiddleware } from '../../src/adapters/express.js';
import { createHeadroomApi } from '../../src/http/api.js';
import type { MemoryManager } from '../../src/manager/manager.js';
import { silentLogger } from '../../src/util/logger.js';
import { createScriptedManager, json, postJson, sampleAt, send } from '../helpers/http.js';
import { describeAdapterContract, recordingActions, type AppHandle } from './contract.js';

async function listen(app: express.Express): Promise<{ port: number; server: ReturnType<express.Express['listen']> }> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as AddressInfo).port, server }));
  });
}

describeAdapterContract('express', async (manager, options, exemptPaths): Promise<AppHandle> => {
  const headroom = createExpressHeadroom(manager, { ...options, exemptPaths, skip: (request) => request.path === '/opt-out' });
  const app = express();
  app.use(headroom.shedding);
  app.use(headroom.router);
  for (const path of ['/work', '/healthz', '/opt-out']) app.get(path, (_request, response) => void response.type('text/plain').send('ok'));

  const { port, server } = await listen(app);
  headroom.attachStream(server);
  return {
    port,
    close: async () => {
      await headroom.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
});

describeAdapterContract('express (one middleware)', async (manager, options, exemptPaths): Promise<AppHandle> => {
  const headroom = createExpressHeadroom(manager, { ...options, exemptPaths, skip: (request) => request.path === '/opt-out' });
  const app = express();
  app.use(headroom.middleware);
  for (const path of ['/work', '/healthz', '/opt-out']) app.get(path, (_request, response) => void response.type('text/plain').send('ok'));

  const { port, server } = await listen(app);
  headroom.attachStream(server);
  return {
    port,
    close: async () => {
      await headroom.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
});

describe('express adapter specifics', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function managerForTest(): ReturnType<typeof createScriptedManager> {
    const setup = createScriptedManager();
    cleanups.push(() => void setup.manager.stop());
    return setup;
  }

  async function serve(app: express.Express): Promise<number> {
    const { port, server } = await listen(app);
    cleanups.push(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    return port;
  }

  it('uses a body express.json() parsed', async () => {
    const setup = managerForTest();
    const calls: string[] = [];
    const api = createHeadroomApi(setup.manager, { logger: silentLogger, actions: recordingActions(calls) });
    cleanups.push(() => api.close());
    const app = express();
    app.use(express.json());
    app.use(headroomRouter(api));

    const port = await serve(app);
    assert.equal((await postJson(port, '/headroom/optimize', { level: 'high' })).status, 200);
    assert.deepEqual(calls, ['relieve:high']);
  });

  it('works mounted under a path', async () => {
    const setup = managerForTest();
    const api = createHeadroomApi(setup.manager, { logger: silentLogger, prefix: '' });
    cleanups.push(() => api.close());
    const app = express();
    app.use('/ops', headroomRouter(api));
    app.get('/metrics', (_request, response) => void response.send('the app\'s own'));

    const port = await serve(app);
    assert.equal(json(await send(port, '/ops/health')).status, 'ok');
    assert.equal((await send(port, '/metrics')).text, 'the app\'s own');
  });

  it('sheds only the routes it guards', async () => {
    const setup = managerForTest();
    const api = createHeadroomApi(setup.manager, { logger: silentLogger, shedding: { warmUpMs: 0, clock: setup.clock } });
    cleanups.push(() => api.close());
    const app = express();
    app.get('/guarded', sheddingMiddleware(api), (_request, response) => void response.send('ok'));
    app.get('/free', (_request, response) => void response.send('ok'));

    const port = await serve(app);
    sampleAt(setup, 0.95);
    assert.equal((await send(port, '/guarded')).status, 503);
    assert.equal((await send(port, '/free')).status, 200);
  });

  it('requires a manager', () => {
    assert.throws(() => createExpressHeadroom(null), /No memory manager: pass one/);
  });

  it('rejects a shedding middleware without a shedder', () => {
    const setup = managerForTest();
    const api = createHeadroomApi(setup.manager as MemoryManager, { logger: silentLogger, shedding: false });
    cleanups.push(() => api.close());

    assert.throws(() => sheddingMiddleware(api), /no load shedder/);
  });
});

import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { headroomPlugin } from '../../src/adapters/fastify.js';
import { createHeadroomApi } from '../../src/http/api.js';
import { silentLogger } from '../../src/util/logger.js';
import { createScriptedManager, json, postJson, sampleAt, send } from '../helpers/http.js';
import { describeAdapterContract, recordingActions, type AppHandle } from './contract.js';

async function listen(app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  assert.ok(address);
  assert.equal(typeof address, 'object');
  return (address as AddressInfo).port;
}

describeAdapterContract('fastify', async (manager, options, exemptPaths): Promise<AppHandle> => {
  const app = Fastify();
  await app.register(headroomPlugin, { ...options, manager, exemptPaths });
  for (const path of ['/work', '/healthz']) app.get(path, async (_request, reply) => reply.type('text/plain').send('ok'));
  app.get('/opt-out', { config: { headroom: { shed: false } } }, async (_request, reply) => reply.type('text/plain').send('ok'));

  const port = await listen(app);
  return { port, close: () => app.close() };
});

describe('fastify adapter specifics', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('decorates the instance with the API', async () => {
    const setup = createScriptedManager();
    cleanups.push(() => void setup.manager.stop());
    const app = Fastify();
    cleanups.push(() => app.close());
    await app.register(headroomPlugin, { manager: setup.manager, logger: silentLogger });
    await app.ready();

    assert.equal(app.headroom.prefix, '/headroom');
    assert.equal(app.headroom.manager, setup.manager);
  });

  it('uses its own prefix option', async () => {
    const setup = createScriptedManager();
    cleanups.push(() => void setup.manager.stop());
    const app = Fastify();
    cleanups.push(() => app.close());
    await app.register(headroomPlugin, { manager: setup.manager, logger: silentLogger, prefix: '/_ops' });

    const port = await listen(app);
    assert.equal((await send(port, '/_ops/health')).status, 200);
    assert.equal((await send(port, '/headroom/health')).status, 404);
  });

  it('serves the API at the root', async () => {
    const setup = createScriptedManager();
    cleanups.push(() => void setup.manager.stop());
    const app = Fastify();
    cleanups.push(() => app.close());
    await app.register(headroomPlugin, { manager: setup.manager, logger: silentLogger, prefix: '' });
    app.get('/work', async () => 'ok');

    const port = await listen(app);
    assert.equal(json(await send(port, '/health')).status, 'ok');
    assert.equal((await send(port, '/work')).text, 'ok');
  });

  it('keeps its body parser out of the app', async () => {
    const setup = createScriptedManager();
    cleanups.push(() => void setup.manager.stop());
    const calls: string[] = [];
    const app = Fastify();
    cleanups.push(() => app.close());
    await app.register(headroomPlugin, { manager: setup.manager, logger: silentLogger, actions: recordingActions(calls) });
    app.post('/echo', async (request) => ({ received: request.body }));

    const port = await listen(app);
    assert.deepEqual(json(await postJson(port, '/echo', { a: 1 })).received, { a: 1 });
    assert.equal((await postJson(port, '/headroom/optimize', { level: 'moderate' })).status, 200);
    assert.deepEqual(calls, ['relieve:moderate']);
  });

  it('serves an API created earlier', async () => {
    const setup = createScriptedManager();
    cleanups.push(() => void setup.manager.stop());
    const api = createHeadroomApi(setup.manager, { logger: silentLogger, shedding: { warmUpMs: 0, clock: setup.clock } });
    cleanups.push(() => api.close());
    const app = Fastify();
    cleanups.push(() => app.close());
    await app.register(headroomPlugin, { api });
    app.get('/work', async () => 'ok');

    const port = await listen(app);
    sampleAt(setup, 0.95);
    assert.equal((await send(port, '/work')).status, 503);
    assert.equal(app.headroom, api);
  });

  it('reports a bad option from register', async () => {
    const setup = createScriptedManager();
    cleanups.push(() => void setup.manager.stop());
    const app = Fastify();
    cleanups.push(() => app.close());

    await assert.rejects(async () => app.register(headroomPlugin, { manager: setup.manager, prefix: 'ops' }), /Invalid option `prefix`/);
  });

  it('detaches from the manager on close', async () => {
    const setup = createScriptedManager();
    cleanups.push(() => void setup.manager.stop());
    const before = setup.manager.listenerCount('sample');
    const app = Fastify();
    await app.register(headroomPlugin, { manager: setup.manager, logger: silentLogger });
    await listen(app);
    assert.ok(setup.manager.listenerCount('sample') > before);

    await app.close();
    assert.equal(setup.manager.listenerCount('sample'), before);
  });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { afterEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { WebSocket } from 'ws';
import { startHeadroomServer, type HeadroomServer } from '../../src/http/serve-in-child.js';
import type { MemoryManager } from '../../src/manager/manager.js';
import { silentLogger } from '../../src/util/logger.js';
import { createScriptedManager, json, parsePrometheus, postJson, promValue, sampleAt, send } from '../helpers/http.js';

const SERVE_IN_CHILD_PATH = fileURLToPath(new URL('../../src/http/serve-in-child.js', import.meta.url));
const MANAGER_PATH = fileURLToPath(new URL('../../src/manager/manager.js', import.meta.url));

const servers: HeadroomServer[] = [];
const managers: MemoryManager[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  for (const manager of managers.splice(0)) manager.stop();
});

describe('startHeadroomServer', () => {
  it('serves the API at the root on loopback', async () => {
    const setup = createScriptedManager();
    managers.push(setup.manager);
    sampleAt(setup, 0.95);
    const server = await startHeadroomServer(setup.manager, { port: 0, logger: silentLogger });
    servers.push(server);

    assert.equal(server.host, '127.0.0.1');
    assert.ok(server.port > 0);
    assert.equal(json(await send(server.port, '/metrics')).level, 'critical');
    assert.equal((await send(server.port, '/health')).status, 503);
    assert.equal(promValue(parsePrometheus((await send(server.port, '/metrics/prometheus')).text), 'headroom_level'), 3);
    assert.equal((await send(server.port, '/analytics?window=1h')).status, 200);
    assert.equal((await send(server.port, '/nope')).status, 404);
    assert.equal((await postJson(server.port, '/optimize', { level: 'critical' })).status, 200, 'the manager relieves from loopback');
  });

  it('serves the stream', async () => {
    const setup = createScriptedManager();
    managers.push(setup.manager);
    sampleAt(setup, 0.5);
    const server = await startHeadroomServer(setup.manager, { port: 0, logger: silentLogger });
    servers.push(server);

    const client = new WebSocket(`ws://127.0.0.1:${server.port}/stream`);
    const first = await new Promise<{ type: string }>((resolve, reject) => {
      client.once('message', (data) => resolve(JSON.parse(String(data)) as { type: string }));
      client.once('error', reject);
    });
    assert.equal(first.type, 'sample');
    client.terminate();
  });

  it('frees the port and the manager on close', async () => {
    const setup = createScriptedManager();
    managers.push(setup.manager);
    const listeners = setup.manager.listenerCount('sample');
    const server = await startHeadroomServer(setup.manager, { port: 0, logger: silentLogger });
    assert.ok(setup.manager.listenerCount('sample') > listeners);

    await server.close();
    assert.equal(setup.manager.listenerCount('sample'), listeners);
    await assert.rejects(send(server.port, '/metrics'), { code: 'ECONNREFUSED' });
  });

  it('rejects a missing or invalid port', async () => {
    const setup = createScriptedManager();
    managers.push(setup.manager);

    await assert.rejects(startHeadroomServer(setup.manager, {} as never), /Missing option `port`/);
    await assert.rejects(startHeadroomServer(setup.manager, { port: 70_000 }), /Invalid option `port`/);
    assert.equal(setup.manager.listenerCount('sample'), 0, 'a failed start leaves no listener behind');
  });

  it('does not keep the program alive', async () => {
    // A program that starts the server and does nothing else must exit by itself.
    const script = `
      const { createMemoryManager } = await import(${JSON.stringify(MANAGER_PATH)});
      const { startHeadroomServer } = await import(${JSON.stringify(SERVE_IN_CHILD_PATH)});
      const manager = createMemoryManager().start();
      const server = await startHeadroomServer(manager, { port: 0 });
      console.log(server.port);
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 });
    assert.match(stdout, /^\d+\n$/);
  });
});

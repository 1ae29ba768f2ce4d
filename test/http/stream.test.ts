import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { createHeadroomApi, type HeadroomApi } from '../../src/http/api.js';
import { attachHeadroomStream, type HeadroomStream, type StreamOptions } from '../../src/http/stream.js';
import type { MemoryManager } from '../../src/manager/manager.js';
import { silentLogger } from '../../src/util/logger.js';
import { createScriptedManager, sampleAt, type ScriptedSetup } from '../helpers/http.js';

interface StreamSetup extends ScriptedSetup {
  api: HeadroomApi;
  server: Server;
  stream: HeadroomStream;
  port: number;
}

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(options: StreamOptions = {}): Promise<StreamSetup> {
  const setup = createScriptedManager();
  const api = createHeadroomApi(setup.manager, { logger: silentLogger });
  const server = createServer((_request, response) => response.end());
  const stream = attachHeadroomStream(server, api, options);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  cleanups.push(() => stopAll(setup.manager, api, server));
  cleanups.push(() => stream.close());
  return { ...setup, api, server, stream, port: (server.address() as AddressInfo).port };
}

async function stopAll(manager: MemoryManager, api: HeadroomApi, server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  api.close();
  manager.stop();
}

/** Opens a client and collects its messages; resolves once it is open. */
function openClient(port: number, path = '/headroom/stream', headers: Record<string, string> = {}): Promise<{ client: WebSocket; messages: Array<{ type: string; data: any }> }> {
  const client = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
  const messages: Array<{ type: string; data: any }> = [];
  client.on('message', (data) => messages.push(JSON.parse(String(data))));
  cleanups.push(() => client.terminate());

  return new Promise((resolve, reject) => {
    client.once('open', () => resolve({ client, messages }));
    client.once('unexpected-response', (_request, response) => reject(Object.assign(new Error(`handshake rejected: ${response.statusCode}`), { status: response.statusCode })));
    client.once('error', reject);
  });
}

/** Waits until `check` returns true, polling every 10 ms, for at most 3 s. */
async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out after 3 s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('Stream', () => {
  it('sends the latest sample on connect', async () => {
    const setup = await setUp();
    sampleAt(setup, 0.5);
    const { messages } = await openClient(setup.port);

    await waitFor(() => messages.length === 1, 'the first message');
    assert.equal(messages[0]?.type, 'sample');
    assert.equal(messages[0]?.data.level, 'normal');
  });

  it('pushes samples and events', async () => {
    const setup = await setUp();
    const { messages } = await openClient(setup.port);

    sampleAt(setup, 0.95);
    setup.api.publish('leak', { kind: 'heap', rateBytesPerSecond: 100 });
    await waitFor(() => messages.length === 3, 'three messages');

    assert.deepEqual(
      messages.map((message) => message.type),
      ['pressure', 'sample', 'leak'],
    );
    assert.equal(messages[0]?.data.to, 'critical');
    assert.equal(messages[2]?.data.kind, 'heap');
  });

  it('rejects clients past maxClients', async () => {
    const setup = await setUp({ maxClients: 2 });
    await openClient(setup.port);
    await openClient(setup.port);

    await assert.rejects(openClient(setup.port), { status: 503 });
    assert.equal(setup.stream.stats.clients, 2);
    assert.equal(setup.stream.stats.rejected, 1);
  });

  it('frees a slot when a client leaves', async () => {
    const setup = await setUp({ maxClients: 1 });
    const { client } = await openClient(setup.port);
    client.close();
    await waitFor(() => setup.stream.stats.clients === 0, 'the client to leave');

    await openClient(setup.port);
    assert.equal(setup.stream.stats.clients, 1);
  });

  it('checks the origin', async () => {
    const setup = await setUp({ allowedOrigins: ['https://ops.example.com'] });

    await assert.rejects(openClient(setup.port, '/headroom/stream', { origin: 'https://evil.example.com' }), { status: 403 });
    await openClient(setup.port, '/headroom/stream', { origin: 'https://ops.example.com' });
    await openClient(setup.port, '/headroom/stream');
  });

  it('rejects browsers by default', async () => {
    const setup = await setUp();
    await assert.rejects(openClient(setup.port, '/headroom/stream', { origin: 'http://127.0.0.1:8080' }), { status: 403 });
  });

  it('responds 404 to other upgrade paths', async () => {
    const setup = await setUp();
    await assert.rejects(openClient(setup.port, '/other'), { status: 404 });
  });

  it('labels a 404 handshake not_found', async () => {
    const setup = await setUp();
    const response = await rawHandshake(setup.port, '/other');

    assert.match(response, /^HTTP\/1\.1 404 /);
    assert.equal(JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)).error, 'not_found');
  });

  it('drops a client that does not read', async () => {
    const setup = await setUp({ maxBufferedBytes: 64 * 1024 });
    const socket = await openRawClientThatNeverReads(setup.port);
    cleanups.push(() => void socket.destroy());
    await waitFor(() => setup.stream.stats.clients === 1, 'the raw client to connect');

    // 400 messages of 64 KiB (25 MiB) are far more than the loopback socket buffers take.
    const payload = randomBytes(48 * 1024).toString('base64');
    for (let index = 0; index < 400 && setup.stream.stats.dropped === 0; index++) {
      setup.api.publish('bulk', { index, payload });
      await new Promise((resolve) => setImmediate(resolve));
    }

    await waitFor(() => setup.stream.stats.dropped === 1, 'the slow client to be dropped');
    await waitFor(() => setup.stream.stats.clients === 0, 'the slow client to be removed');
  });

  it('disconnects clients on close', async () => {
    const setup = await setUp();
    const { client } = await openClient(setup.port);
    const closed = new Promise((resolve) => client.once('close', resolve));

    await setup.stream.close();
    await closed;
    assert.equal(setup.api.listenerCount, 0);
  });
});

/** Sends a WebSocket handshake for `path` over a raw socket and returns the whole response the server sent. */
function rawHandshake(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.once('error', reject);
    socket.once('connect', () => {
      const key = randomBytes(16).toString('base64');
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('close', () => resolve(Buffer.concat(chunks).toString()));
  });
}

/** Completes a WebSocket handshake over a raw socket, then pauses it so nothing more is read. */
function openRawClientThatNeverReads(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('error', reject);
    socket.once('connect', () => {
      const key = randomBytes(16).toString('base64');
      socket.write(
        `GET /headroom/stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.once('data', (chunk: Buffer) => {
      if (!chunk.toString().startsWith('HTTP/1.1 101')) {
        reject(new Error(`handshake failed: ${chunk.toString().split('\r\n')[0]}`));
        return;
      }
      socket.pause();
      resolve(socket);
    });
  });
}

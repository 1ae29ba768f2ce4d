import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { durationOption, numberOption } from '../util/validate.js';
import type { HeadroomApi, StreamMessage } from './api.js';
import { objectOption, rejectUnknownOptions } from './options.js';
import { splitUrl } from './node-io.js';
import type { ErrorCode } from './responses.js';

export interface StreamOptions {
  /** Clients served at once; one more is rejected with 503. Default 16. */
  maxClients?: number;
  /**
   * Origins (such as `https://ops.example.com`) allowed to connect from a
   * browser, or `'*'` for any. A handshake with another `Origin` header is
   * rejected with 403, unless it is the server's own origin (the dashboard
   * page). Clients that send no `Origin` (not browsers) are
   * always allowed. Default `[]`: no browser page may connect.
   */
  allowedOrigins?: readonly string[] | '*';
  /** A client whose unsent data passes this many bytes is disconnected instead of buffered further. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Time between pings. A client that has not sent a pong for the previous ping is disconnected. Default 30 s. */
  heartbeatMs?: number | string;
}

interface ResolvedStreamOptions {
  maxClients: number;
  allowedOrigins: ReadonlySet<string> | '*';
  maxBufferedBytes: number;
  heartbeatMs: number;
}

/** Counters of a stream. */
export interface StreamStats {
  clients: number;
  /** Handshakes rejected for the client limit, the origin or the path. */
  rejected: number;
  /** Clients disconnected because they read too slowly. */
  dropped: number;
  /** Messages sent, counted per client. */
  sent: number;
}

export interface HeadroomStream {
  readonly stats: StreamStats;
  /** Disconnects every client and removes the upgrade listener. The HTTP server stays open. */
  close(): Promise<void>;
}

function resolveStreamOptions(value: StreamOptions | undefined): ResolvedStreamOptions {
  const options = objectOption('stream', value);
  rejectUnknownOptions('stream', options, ['maxClients', 'allowedOrigins', 'maxBufferedBytes', 'heartbeatMs']);

  const origins = options.allowedOrigins;
  if (origins !== undefined && origins !== '*' && (!Array.isArray(origins) || origins.some((origin) => typeof origin !== 'string'))) {
    throw new TypeError(`Invalid option \`stream.allowedOrigins\`: expected an array of origins such as "https://ops.example.com", or "*"`);
  }

  return {
    maxClients: numberOption('stream.maxClients', options.maxClients, 16, 1, 10_000, true),
    allowedOrigins: origins === '*' ? '*' : new Set(origins ?? []),
    maxBufferedBytes: numberOption('stream.maxBufferedBytes', options.maxBufferedBytes, 1024 * 1024, 1024, 1024 ** 3, true),
    heartbeatMs: durationOption('stream.heartbeatMs', options.heartbeatMs, 30_000, 100, 3_600_000),
  };
}

/** Ends a socket with a plain HTTP error, for a handshake rejected before the upgrade. */
/** The JSON error code of each status a rejected handshake can get. */
const HANDSHAKE_ERROR_CODES: Record<number, ErrorCode> = { 403: 'forbidden', 404: 'not_found', 503: 'service_unavailable' };

function rejectHandshake(socket: Duplex, status: number, reason: string, message: string): void {
  const body = JSON.stringify({ error: HANDSHAKE_ERROR_CODES[status] ?? 'service_unavailable', message });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/**
 * Serves `GET <prefix>/stream` as a WebSocket on an HTTP server: each sample
 * and event of the API is pushed to every client as JSON
 * `{ "type": "sample", "data": {...} }`, and the latest sample is sent on connect.
 *
 * Bounded: at most `maxClients` clients, and a client whose unsent data
 * passes `maxBufferedBytes` is disconnected, so a slow reader costs at most
 * that much memory. Messages from clients are ignored, and rejected past 4 KiB.
 */
export function attachHeadroomStream(server: Server, api: HeadroomApi, options: StreamOptions = {}): HeadroomStream {
  const settings = resolveStreamOptions(options);
  const streamPath = `${api.prefix}/stream`;
  const stats: StreamStats = { clients: 0, rejected: 0, dropped: 0, sent: 0 };
  const clients = new Set<WebSocket>();
  const alive = new WeakSet<WebSocket>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false, clientTracking: false });

  const send = (client: WebSocket, text: string): void => {
    if (client.readyState !== WebSocket.OPEN) return;

    if (client.bufferedAmount > settings.maxBufferedBytes) {
      stats.dropped++;
      api.options.logger.warn(
        { bufferedBytes: client.bufferedAmount, maxBufferedBytes: settings.maxBufferedBytes, dropped: stats.dropped },
        'headroom: disconnected a stream client that reads too slowly',
      );
      client.terminate();
      return;
    }
    client.send(text);
    stats.sent++;
  };

  const broadcast = (message: StreamMessage): void => {
    if (clients.size === 0) return;

    const text = JSON.stringify(message);
    for (const client of clients) send(client, text);
  };
  const unsubscribe = api.subscribe(broadcast);

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const { path } = splitUrl(request.url ?? '/');
    if (path !== streamPath) {
      // Another upgrade listener may serve this path. With no other listener, the client would wait forever.
      if (server.listenerCount('upgrade') === 1) {
        stats.rejected++;
        rejectHandshake(socket, 404, 'Not Found', `No WebSocket endpoint at ${path}; the stream is at ${streamPath}.`);
      }
      return;
    }

    const origin = request.headers.origin;
    // The dashboard connects from the page the same server served: its own origin is always allowed.
    const sameOrigin = origin !== undefined && request.headers.host !== undefined && origin === `http://${request.headers.host}`;
    if (origin !== undefined && !sameOrigin && settings.allowedOrigins !== '*' && !settings.allowedOrigins.has(origin)) {
      stats.rejected++;
      rejectHandshake(socket, 403, 'Forbidden', `Origin ${origin} is not allowed; add it to the stream's allowedOrigins.`);
      return;
    }

    if (clients.size >= settings.maxClients) {
      stats.rejected++;
      rejectHandshake(socket, 503, 'Service Unavailable', `The stream serves at most ${settings.maxClients} clients at once.`);
      return;
    }

    wss.handleUpgrade(request, socket, head, (client) => {
      clients.add(client);
      alive.add(client);
      stats.clients = clients.size;
      client.on('pong', () => alive.add(client));
      client.on('error', (err) => api.options.logger.debug({ err }, 'headroom: stream client error'));
      client.on('close', () => {
        clients.delete(client);
        stats.clients = clients.size;
      });

      const latest = api.manager.latest;
      if (latest) send(client, JSON.stringify({ type: 'sample', data: latest }));
    });
  };
  server.on('upgrade', onUpgrade);

  // Without pings, a client that vanished without closing would keep its slot forever.
  const heartbeat = setInterval(() => {
    for (const client of clients) {
      if (!alive.has(client)) {
        client.terminate();
        continue;
      }
      alive.delete(client);
      client.ping();
    }
  }, settings.heartbeatMs);
  heartbeat.unref();

  return {
    stats,
    close: async () => {
      clearInterval(heartbeat);
      unsubscribe();
      server.off('upgrade', onUpgrade);

      const closed = [...clients].map(
        (client) =>
          new Promise<void>((resolve) => {
            if (client.readyState === WebSocket.CLOSED) {
              resolve();
              return;
            }
            client.once('close', () => resolve());
            client.terminate();
          }),
      );
      await Promise.all(closed);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

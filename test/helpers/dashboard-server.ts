import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHeadroomApi, type HeadroomApi } from '../../src/http/api.js';
import type { HeadroomApiOptions } from '../../src/http/api-options.js';
import { pathOf, serveApiRequest } from '../../src/http/node-io.js';
import { attachHeadroomStream, type HeadroomStream } from '../../src/http/stream.js';
import { dashboardAsset } from '../../src/dashboard/assets.js';
import type { MemoryManager } from '../../src/manager/manager.js';
import { silentLogger } from '../../src/util/logger.js';

export interface DashboardServer {
  readonly api: HeadroomApi;
  readonly port: number;
  /** The API prefix URL, such as `http://127.0.0.1:40123/headroom`. */
  readonly apiUrl: string;
  /** The page: the API prefix with a trailing slash. */
  readonly pageUrl: string;
  /** Closes the stream, the server and its connections, and detaches the API. The manager keeps running. A second call waits for the first. */
  close(): Promise<void>;
}

export interface DashboardServerOptions {
  /** Default 0: a free port. Pass an earlier server's port to restart on it. */
  port?: number;
  prefix?: string;
  /** False serves no WebSocket, so the page has to poll. */
  stream?: boolean;
  api?: HeadroomApiOptions;
}

/**
 * Serves a manager the way an app mounts headroom on plain `node:http`: the
 * dashboard files at the prefix's root, the API routes under the prefix,
 * and the WebSocket stream, on 127.0.0.1. The stream allows the page's own
 * origin, because a browser sends one and the stream's default allows none.
 */
export async function startDashboardServer(manager: MemoryManager, options: DashboardServerOptions = {}): Promise<DashboardServer> {
  const prefix = options.prefix ?? '/headroom';
  const api = createHeadroomApi(manager, { prefix, logger: silentLogger, ...options.api });

  const server: Server = createServer((request, response) => {
    const path = pathOf(request.url ?? '/');
    if (path === prefix) {
      // The page's relative URLs need the trailing slash.
      response.writeHead(308, { location: `${prefix}/` }).end();
      return;
    }

    if ((request.method === 'GET' || request.method === 'HEAD') && path.startsWith(`${prefix}/`)) {
      const ifNoneMatch = request.headers['if-none-match'];
      const asset = dashboardAsset(path.slice(prefix.length + 1), ifNoneMatch);
      if (asset !== null) {
        response.writeHead(asset.status, asset.headers);
        response.end(request.method === 'HEAD' ? undefined : asset.body);
        return;
      }
    }

    if (!serveApiRequest(api, request, response)) response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });

  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  const stream: HeadroomStream | null = options.stream === false ? null : attachHeadroomStream(server, api, { allowedOrigins: [origin] });

  let closed: Promise<void> | null = null;
  const close = async (): Promise<void> => {
    await stream?.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    api.close();
  };

  return {
    api,
    port,
    apiUrl: `${origin}${prefix}`,
    pageUrl: `${origin}${prefix}/`,
    close: () => (closed ??= close()),
  };
}

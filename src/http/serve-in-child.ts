import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MemoryManager } from '../manager/manager.js';
import { numberOption } from '../util/validate.js';
import { createHeadroomApi, type HeadroomApi } from './api.js';
import type { HeadroomApiOptions } from './api-options.js';
import { serveApiRequest, writeApiResponse } from './node-io.js';
import { errorResponse } from './responses.js';
import { attachHeadroomStream, type HeadroomStream, type StreamOptions } from './stream.js';

export interface HeadroomServerOptions extends HeadroomApiOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Address to listen on. Default `127.0.0.1`, so only this machine can connect. */
  host?: string;
  /** Options of the WebSocket stream, or false for none. Default `{}`. */
  stream?: StreamOptions | false;
}

export interface HeadroomServer {
  readonly server: Server;
  readonly api: HeadroomApi;
  readonly stream: HeadroomStream | null;
  /** The port listened on, useful with `port: 0`. */
  readonly port: number;
  readonly host: string;
  /** Closes the stream, the server and its connections, and detaches the API from the manager. */
  close(): Promise<void>;
}

/**
 * Serves the headroom API on its own HTTP server, for `headroom run --port N`
 * and `HEADROOM_PORT`: any program gets the routes with no code change. The
 * prefix defaults to `""`, so routes sit at the root (`/metrics`, `/health`).
 *
 * The server is `unref()`'d: it never keeps the program alive by itself,
 * so the program exits when its own work ends, as it would without headroom.
 */
export async function startHeadroomServer(manager: MemoryManager, options: HeadroomServerOptions): Promise<HeadroomServer> {
  const { port: portOption, host = '127.0.0.1', stream: streamOptions = {}, ...apiOptions } = options;
  if (portOption === undefined) throw new TypeError('Missing option `port`: expected an integer from 0 to 65535 (0 picks a free port)');
  const port = numberOption('port', portOption, 0, 0, 65_535, true);

  const api = createHeadroomApi(manager, { prefix: '', ...apiOptions });
  const server = createServer((request, response) => {
    if (!serveApiRequest(api, request, response)) writeApiResponse(response, errorResponse(404, 'not_found', `No route ${request.method} ${request.url}`));
  });
  const stream = streamOptions === false ? null : attachHeadroomStream(server, api, streamOptions);

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await stream?.close();
    api.close();
    throw err;
  }
  server.unref();

  const address = server.address() as AddressInfo;
  return {
    server,
    api,
    stream,
    port: address.port,
    host,
    close: async () => {
      await stream?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      api.close();
    },
  };
}

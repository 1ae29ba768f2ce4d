/**
 * Plain `node:http` adapter: a request handler for the headroom API, a
 * shedding check, the WebSocket stream, a server of its own, and the
 * aggregated Prometheus handler for a cluster primary.
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { MemoryManager } from '../manager/manager.js';
import { createHeadroomApi, HeadroomApi } from '../http/api.js';
import type { HeadroomApiOptions } from '../http/api-options.js';
import { serveApiRequest, writeApiResponse, writeShedResponse } from '../http/node-io.js';
import { clusterMetricsResponse } from '../http/prometheus-cluster.js';
import { startHeadroomServer, type HeadroomServer, type HeadroomServerOptions } from '../http/serve-in-child.js';
import { createSheddingCheck, exemptPathsOption, resolveManager } from '../http/shedding-guard.js';
import { attachHeadroomStream, type HeadroomStream, type StreamOptions } from '../http/stream.js';

export interface HttpHeadroomOptions extends HeadroomApiOptions {
  /** Paths never shed, matched as prefixes on a path segment boundary. The API's prefix is always exempt. */
  exemptPaths?: string[];
}

export interface HttpHeadroom {
  readonly api: HeadroomApi;
  /** Returns true when the request is for the API, which then responds to it; false means the caller handles it. */
  handle(request: IncomingMessage, response: ServerResponse): boolean;
  /** Returns true when the request was shed, after responding 503 with `Retry-After`; false means the caller serves it. */
  shed(request: IncomingMessage, response: ServerResponse): boolean;
  /** Serves `<prefix>/stream` as a WebSocket on `server`. */
  attachStream(server: Server, options?: StreamOptions): HeadroomStream;
  /** Closes the attached streams and detaches the API from the manager. */
  close(): Promise<void>;
}

/**
 * Creates the API over a manager (default: the one `headroom/register` or
 * `headroom run` started) for a plain HTTP server:
 *
 * ```js
 * const headroom = createHeadroomHandler(manager);
 * const server = http.createServer((req, res) => {
 *   if (headroom.handle(req, res) || headroom.shed(req, res)) return;
 *   // the app's own routes
 * });
 * headroom.attachStream(server);
 * ```
 */
export function createHeadroomHandler(manager?: MemoryManager | null, options: HttpHeadroomOptions = {}): HttpHeadroom {
  const { exemptPaths, ...apiOptions } = options;
  const api = createHeadroomApi(resolveManager(manager), apiOptions);
  const shedder = api.shedder;
  const shouldShed = shedder ? createSheddingCheck(shedder, [api.prefix, ...exemptPathsOption(exemptPaths)]) : null;
  const streams: HeadroomStream[] = [];

  return {
    api,
    handle: (request, response) => serveApiRequest(api, request, response),
    shed(request, response) {
      if (shedder === null || shedder.shedRatio === 0 || !shouldShed?.(request.url ?? '/')) return false;

      writeShedResponse(response, shedder);
      return true;
    },
    attachStream(server, streamOptions = {}) {
      const stream = attachHeadroomStream(server, api, streamOptions);
      streams.push(stream);
      return stream;
    },
    async close() {
      await Promise.all(streams.splice(0).map((stream) => stream.close()));
      api.close();
    },
  };
}

/**
 * Returns a request listener for a cluster primary that responds to every
 * request with the Prometheus metrics of all workers, aggregated. Workers
 * take part when their API has `prometheus: { cluster: true }`.
 */
export function createClusterMetricsHandler(): RequestListener {
  return (_request, response) => {
    void clusterMetricsResponse().then((apiResponse) => writeApiResponse(response, apiResponse));
  };
}

export { attachHeadroomStream, createHeadroomApi, HeadroomApi, startHeadroomServer };
export { createLoadShedder, LoadShedder, type LoadShedderOptions, type ShedderState } from '../http/shedder.js';
export { collectClusterMetrics, shareRegistryWithClusterPrimary } from '../http/prometheus-cluster.js';
export type { ApiRequest, ApiResponse, HeadroomActions, HeadroomAnalysis, HeadroomHistory } from '../http/types.js';
export type { HeadroomApiOptions, HeadroomServer, HeadroomServerOptions, HeadroomStream, StreamOptions };

/**
 * One middleware that installs the whole design on an Express 5 app: the
 * QDT manager, the `/api/qdt` routes, headroom's `/headroom` API and load
 * shedding, and optimization events on the WebSocket stream.
 */
import type { Server } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createExpressHeadroom, type ExpressHeadroom, type ExpressHeadroomOptions } from '../adapters/express.js';
import { toApiRequest, writeApiResponse } from '../http/node-io.js';
import type { HeadroomStream, StreamOptions } from '../http/stream.js';
import type { WorkloadGovernor } from '../workload/governor.js';
import { QDT_SHEDDING_RAMP } from './constants.js';
import { QDTMemoryManager, type QDTMemoryManagerOptions, type QdtPool } from './manager.js';
import { QdtRoutes, type QdtRoutesOptions } from './routes.js';
import type { QDTEnhancedStorage } from './storage.js';

export interface QdtMiddlewareOptions {
  /** A QDT manager to use (the caller starts and stops it), or options for one the middleware creates, starts and stops. Default `{}`. */
  qdt?: QDTMemoryManager | QDTMemoryManagerOptions;
  /** Storage whose figures join `pools` and whose buffers and records are trimmed under pressure. */
  storage?: QDTEnhancedStorage | null;
  /** A governor whose `stats()` join GET /headroom/metrics. Create it with `pressure: qdt.manager`. */
  governor?: WorkloadGovernor | null;
  /** More pools for GET /api/qdt/pools, by name. Pools with `trim(level)` are trimmed under pressure. */
  pools?: Record<string, QdtPool>;
  /** Options of headroom's API and shedding. Default shedding ramp: the `qdt` high and critical thresholds (0.767 to 0.867). */
  headroom?: ExpressHeadroomOptions;
  routes?: QdtRoutesOptions;
}

/** The middleware, with the parts it installed. */
export interface QdtInstallation extends RequestHandler {
  readonly qdt: QDTMemoryManager;
  readonly headroom: ExpressHeadroom;
  readonly routes: QdtRoutes;
  /** Serves headroom's WebSocket stream (`/headroom/stream`) on the server `app.listen()` returned; QDT optimizations arrive as `qdt-optimization`. */
  attachStream(server: Server, options?: StreamOptions): HeadroomStream;
  /** Closes the streams and the API, and stops the QDT manager when the middleware created it. */
  close(): Promise<void>;
}

interface ExpressAppLike {
  use(handler: RequestHandler): unknown;
}

/**
 * Creates the middleware. Given an Express app, it also mounts itself on it,
 * so `const qdt = qdtMiddleware(app)` is the whole installation; then
 * `qdt.attachStream(app.listen(port))` adds the WebSocket.
 */
export function qdtMiddleware(app: ExpressAppLike, options?: QdtMiddlewareOptions): QdtInstallation;
export function qdtMiddleware(options?: QdtMiddlewareOptions): QdtInstallation;
export function qdtMiddleware(first?: ExpressAppLike | QdtMiddlewareOptions, second: QdtMiddlewareOptions = {}): QdtInstallation {
  const app = isApp(first) ? first : null;
  const options = app ? second : ((first as QdtMiddlewareOptions | undefined) ?? {});

  const ownsQdt = !(options.qdt instanceof QDTMemoryManager);
  const qdt = options.qdt instanceof QDTMemoryManager ? options.qdt : new QDTMemoryManager(options.qdt).start();
  const unregisterPools = registerPools(qdt, options);

  const { shedding, extraMetrics, ...headroomOptions } = options.headroom ?? {};
  const headroom = createExpressHeadroom(qdt.manager, {
    shedding: shedding ?? { ramp: { ...QDT_SHEDDING_RAMP } },
    extraMetrics: () => ({
      qdt: qdt.metrics(),
      pools: qdt.poolStats(),
      ...(options.governor ? { governor: options.governor.stats() } : {}),
      ...(extraMetrics ? extraMetrics() : {}),
    }),
    ...headroomOptions,
  });
  const routes = new QdtRoutes(qdt, headroom.api, options.routes);
  const onOptimization = (event: unknown): void => headroom.api.publish('qdt-optimization', event);
  qdt.on('optimization', onOptimization);

  const handler = (request: Request, response: Response, next: NextFunction): void => {
    // Requests outside the QDT prefix cost one startsWith() here before headroom's own middleware.
    if (!request.url.startsWith(routes.prefix) || routes.routePath(request.path) === null) {
      headroom.middleware(request, response, next);
      return;
    }

    void routes.handle(toApiRequest(request, request.url, request.body)).then((apiResponse) => {
      if (apiResponse) writeApiResponse(response, apiResponse);
      else headroom.middleware(request, response, next);
    });
  };

  const installation = Object.assign(handler, {
    qdt,
    headroom,
    routes,
    attachStream: (server: Server, streamOptions?: StreamOptions) => headroom.attachStream(server, streamOptions),
    async close(): Promise<void> {
      qdt.off('optimization', onOptimization);
      unregisterPools();
      await headroom.close();
      if (ownsQdt) qdt.close();
    },
  });

  app?.use(installation);
  return installation;
}

function registerPools(qdt: QDTMemoryManager, options: QdtMiddlewareOptions): () => void {
  const unregister: Array<() => void> = [];
  if (options.storage) unregister.push(qdt.registerPool('storage', options.storage));
  for (const [name, pool] of Object.entries(options.pools ?? {})) unregister.push(qdt.registerPool(name, pool));
  return () => {
    for (const remove of unregister) remove();
  };
}

function isApp(value: unknown): value is ExpressAppLike {
  // An Express app is a function with `use`; an options object is not a function.
  return typeof value === 'function' && typeof (value as unknown as ExpressAppLike).use === 'function';
}

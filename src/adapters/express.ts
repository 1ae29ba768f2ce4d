/**
 * Express 5 adapter: a router that serves the headroom API and a middleware
 * that sheds load. Express is used through its types only, so this module
 * loads nothing from it at run time.
 */
import type { Server } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { MemoryManager } from '../manager/manager.js';
import { createHeadroomApi, HeadroomApi } from '../http/api.js';
import type { HeadroomApiOptions } from '../http/api-options.js';
import { functionOption } from '../http/options.js';
import { serveApiRequest, writeShedResponse } from '../http/node-io.js';
import { createSheddingCheck, exemptPathsOption, resolveManager } from '../http/shedding-guard.js';
import { attachHeadroomStream, type HeadroomStream, type StreamOptions } from '../http/stream.js';

export interface ExpressSheddingOptions {
  /**
   * Paths never shed, matched against the full request path as prefixes on a
   * path segment boundary, such as `/healthz`. The API's own prefix is always
   * exempt; when the router is mounted under a path, add that path here.
   */
  exemptPaths?: string[];
  /**
   * Returns true for a request that must never be shed: the per-route opt-out,
   * because the middleware runs before Express matches a route.
   */
  skip?: (request: Request) => boolean;
}

export interface ExpressHeadroomOptions extends HeadroomApiOptions, ExpressSheddingOptions {}

export interface ExpressHeadroom {
  readonly api: HeadroomApi;
  /**
   * The router and the shedding middleware in one: serves the API routes,
   * sheds load on the others, and passes the rest on. One middleware layer
   * costs Express less per request than two.
   */
  readonly middleware: RequestHandler;
  /** Serves the API routes under the prefix and passes every other request on. */
  readonly router: RequestHandler;
  /** Responds 503 with `Retry-After` to the share of requests the shedder picks, and passes the others on. */
  readonly shedding: RequestHandler;
  /** Serves `<prefix>/stream` as a WebSocket on the server that `app.listen()` returned. */
  attachStream(server: Server, options?: StreamOptions): HeadroomStream;
  /** Closes the attached streams and detaches the API from the manager. */
  close(): Promise<void>;
}

/**
 * Returns a middleware that serves the API. Mount it with `app.use(router)`,
 * or under a path with `app.use('/ops', router)`. With `prefix: ''` it serves
 * every path it receives, so mount it under a path then. A body that a parser such as
 * `express.json()` already read is used as it is; otherwise POST bodies are
 * read here, up to `maxBodyBytes`.
 */
export function headroomRouter(api: HeadroomApi): RequestHandler {
  return function headroomRouter(request: Request, response: Response, next: NextFunction): void {
    if (!serveApiRequest(api, request, response, request.url, request.body)) next();
  };
}

/**
 * Returns the load-shedding middleware. Put it before the routes it guards:
 * `app.use(shedding)`. Per request it reads the shedder's cached share and,
 * only while shedding, checks the exempt paths and the `skip` function.
 */
export function sheddingMiddleware(api: HeadroomApi, options: ExpressSheddingOptions = {}): RequestHandler {
  const shedder = api.shedder;
  if (!shedder) throw new TypeError('The API has no load shedder (option `shedding: false`), so there is nothing for the shedding middleware to do');

  const skip = functionOption<(request: Request) => boolean>('skip', options.skip);
  const shouldShed = createSheddingCheck(shedder, [api.prefix, ...exemptPathsOption(options.exemptPaths)]);

  return function headroomShedding(request: Request, response: Response, next: NextFunction): void {
    // While nothing is shed, the first check is the whole cost per request.
    if (shedder.shedRatio === 0 || skip?.(request) || !shouldShed(request.originalUrl)) {
      next();
      return;
    }
    writeShedResponse(response, shedder);
  };
}

/**
 * Creates the API over a manager (default: the one `headroom/register` or
 * `headroom run` started) with its router and shedding middleware.
 *
 * ```js
 * const headroom = createExpressHeadroom(manager, { token: process.env.HEADROOM_TOKEN });
 * app.use(headroom.middleware); // or app.use(headroom.shedding) and app.use(headroom.router) apart
 * headroom.attachStream(app.listen(3000));
 * ```
 */
export function createExpressHeadroom(manager?: MemoryManager | null, options: ExpressHeadroomOptions = {}): ExpressHeadroom {
  const { exemptPaths, skip, ...apiOptions } = options;
  const api = createHeadroomApi(resolveManager(manager), apiOptions);
  const streams: HeadroomStream[] = [];

  const router = headroomRouter(api);
  const shedding: RequestHandler = api.shedder ? sheddingMiddleware(api, { exemptPaths, skip }) : (_request, _response, next) => next();

  return {
    api,
    middleware: (request, response, next) => {
      // The API's paths are exempt from shedding, so serving them first changes no decision.
      if (!serveApiRequest(api, request, response, request.url, request.body)) shedding(request, response, next);
    },
    router,
    shedding,
    attachStream(server: Server, streamOptions: StreamOptions = {}): HeadroomStream {
      const stream = attachHeadroomStream(server, api, streamOptions);
      streams.push(stream);
      return stream;
    },
    async close(): Promise<void> {
      await Promise.all(streams.splice(0).map((stream) => stream.close()));
      api.close();
    },
  };
}

export { createHeadroomApi, HeadroomApi };
export type { HeadroomApiOptions, HeadroomStream, StreamOptions };

/**
 * Fastify 5 plugin: serves the headroom API and sheds load in an onRequest
 * hook. Fastify is used through its types only, so this module loads nothing
 * from it at run time.
 */
import type { FastifyError, FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import type { MemoryManager } from '../manager/manager.js';
import { createHeadroomApi, HeadroomApi } from '../http/api.js';
import type { HeadroomApiOptions } from '../http/api-options.js';
import { BodyTooLargeError, splitUrl } from '../http/node-io.js';
import { errorResponse, type ErrorCode } from '../http/responses.js';
import { createSheddingCheck, exemptPathsOption, resolveManager } from '../http/shedding-guard.js';
import { attachHeadroomStream, type HeadroomStream, type StreamOptions } from '../http/stream.js';
import type { ApiResponse } from '../http/types.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The headroom API the plugin serves. */
    headroom: HeadroomApi;
  }
  interface FastifyContextConfig {
    /** `{ shed: false }` exempts the route from load shedding. */
    headroom?: { shed?: boolean };
  }
}

export interface FastifyHeadroomOptions extends HeadroomApiOptions {
  /** The manager to serve. Default: the one `headroom/register` or `headroom run` started. */
  manager?: MemoryManager | null;
  /** An API created earlier, served instead of a new one; the API options are then ignored. */
  api?: HeadroomApi;
  /**
   * Paths never shed, matched as prefixes on a path segment boundary. The
   * API's prefix is always exempt, and a route opts out with
   * `config: { headroom: { shed: false } }`.
   */
  exemptPaths?: string[];
  /** Options of the WebSocket stream on the Fastify server, or false for none. Default `{}`. */
  stream?: StreamOptions | false;
}

const ERROR_CODES: Record<number, ErrorCode> = {
  400: 'bad_request',
  413: 'payload_too_large',
  415: 'bad_request',
};

function sendApiResponse(reply: FastifyReply, response: ApiResponse): FastifyReply {
  return reply.code(response.status).headers(response.headers).send(response.body);
}

/** Registers the API routes in a child context, so its body parser and error handler stay out of the app's routes. */
function registerRoutes(fastify: FastifyInstance, api: HeadroomApi): void {
  fastify.register((instance, _options, done) => {
    // The API parses bodies itself, so invalid JSON gets its own 400 naming `body`.
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser('*', { parseAs: 'string', bodyLimit: api.options.maxBodyBytes }, (_request, body, parsed) => parsed(null, body));

    instance.setErrorHandler((error: FastifyError, request, reply) => {
      const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
      if (status === 500) api.options.logger.error({ err: error, path: request.url }, 'headroom: a route failed');
      if (status === 413) {
        // The same body as the node:http and Express adapters give, limit included.
        const tooLarge = new BodyTooLargeError(api.options.maxBodyBytes);
        return void sendApiResponse(reply, errorResponse(413, 'payload_too_large', tooLarge.message, { maxBytes: tooLarge.maxBytes }, { connection: 'close' }));
      }

      const message = status === 500 ? 'The route failed.' : error.message;
      void reply
        .code(status)
        .type('application/json; charset=utf-8')
        .send(JSON.stringify({ error: ERROR_CODES[status] ?? (status === 500 ? 'internal_error' : 'bad_request'), message }));
    });

    const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const { path, query } = splitUrl(request.url);
      const response = await api.handle({
        method: request.method,
        path,
        query,
        headers: request.headers,
        body: request.body,
        remoteAddress: request.socket.remoteAddress,
      });
      return sendApiResponse(reply, response ?? { status: 404, headers: {}, body: '' });
    };

    if (api.prefix === '') {
      // At the root a wildcard would also catch the app's own unknown paths, so only the API's routes are registered.
      for (const route of api.routes) instance.route({ method: route.method, url: route.path, handler });
    } else {
      // Every method and path under the prefix reaches the API, so its 404s and 405s are JSON like its other responses.
      instance.all(api.prefix, handler);
      instance.all(`${api.prefix}/*`, handler);
    }
    done();
  });
}

function addSheddingHook(fastify: FastifyInstance, api: HeadroomApi, exemptPaths: string[]): void {
  const shedder = api.shedder;
  if (!shedder) return;

  const shouldShed = createSheddingCheck(shedder, [api.prefix, ...exemptPaths]);
  fastify.addHook('onRequest', (request, reply, done) => {
    // While nothing is shed, the first check is the whole cost per request.
    if (shedder.shedRatio === 0 || request.routeOptions.config.headroom?.shed === false || !shouldShed(request.url)) {
      done();
      return;
    }

    // Replying from a callback hook ends the chain; done() must not be called as well.
    void reply
      .code(503)
      .header('retry-after', String(shedder.retryAfterSeconds))
      .header('cache-control', 'no-store')
      .type('application/json; charset=utf-8')
      .send(shedder.responseBody);
  });
}

/**
 * Registers the headroom API routes and the shedding hook on a Fastify app:
 * `await app.register(headroomPlugin, { manager, token })`. It is not encapsulated (like a plugin wrapped in fastify-plugin), so the
 * shedding hook applies to every route of the app, and `app.headroom` is the API.
 * Fastify's own `prefix` register option does not apply to such a plugin: set
 * the API's `prefix` option instead.
 */
export const headroomPlugin: FastifyPluginCallback<FastifyHeadroomOptions> = (fastify, options, done) => {
  let api: HeadroomApi;
  let ownsApi: boolean;
  let exemptPaths: string[];
  let stream: HeadroomStream | null = null;

  try {
    const { manager, api: givenApi, exemptPaths: exemptOption, stream: streamOptions = {}, ...apiOptions } = options;
    ownsApi = givenApi === undefined;
    api = givenApi ?? createHeadroomApi(resolveManager(manager), apiOptions);
    exemptPaths = exemptPathsOption(exemptOption);
    if (streamOptions !== false) stream = attachHeadroomStream(fastify.server, api, streamOptions);
  } catch (err) {
    done(err as Error);
    return;
  }

  fastify.decorate('headroom', api);
  addSheddingHook(fastify, api, exemptPaths);
  registerRoutes(fastify, api);

  fastify.addHook('onClose', async () => {
    await stream?.close();
    if (ownsApi) api.close();
  });
  done();
};

// Fastify reads these registry symbols (as fastify-plugin sets them) to skip encapsulation and name the plugin.
Object.assign(headroomPlugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'headroom',
  [Symbol.for('plugin-meta')]: { name: 'headroom', fastify: '5.x' },
});

export default headroomPlugin;
export { createHeadroomApi, HeadroomApi };
export type { HeadroomApiOptions, HeadroomStream, StreamOptions };

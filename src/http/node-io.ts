import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HeadroomApi } from './api.js';
import { errorResponse } from './responses.js';
import type { LoadShedder } from './shedder.js';
import type { ApiRequest, ApiResponse } from './types.js';

/** Error thrown by `readBody` when a body passes the limit. */
export class BodyTooLargeError extends Error {
  readonly maxBytes: number;

  constructor(maxBytes: number) {
    super(`Request body is larger than ${maxBytes} bytes`);
    this.name = 'BodyTooLargeError';
    this.maxBytes = maxBytes;
  }
}

/** Reads a request body up to `maxBytes`, rejecting with `BodyTooLargeError` past it. */
export function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(new BodyTooLargeError(maxBytes));

  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;

    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      if (length > maxBytes) {
        cleanup();
        reject(new BodyTooLargeError(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, length));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const cleanup = (): void => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
    };

    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
  });
}

/** Returns the path of a request target, without allocating when it has no query. */
export function pathOf(url: string): string {
  const queryStart = url.indexOf('?');
  return queryStart === -1 ? url : url.slice(0, queryStart);
}

/** Splits a request target such as `/headroom/analytics?window=5m` into its path and query. */
export function splitUrl(url: string): { path: string; query: URLSearchParams } {
  const queryStart = url.indexOf('?');
  if (queryStart === -1) return { path: url, query: new URLSearchParams() };
  return { path: url.slice(0, queryStart), query: new URLSearchParams(url.slice(queryStart + 1)) };
}

export function toApiRequest(request: IncomingMessage, url: string, body: unknown): ApiRequest {
  const { path, query } = splitUrl(url);
  return {
    method: request.method ?? 'GET',
    path,
    query,
    headers: request.headers,
    body,
    remoteAddress: request.socket.remoteAddress,
  };
}

export function writeApiResponse(response: ServerResponse, apiResponse: ApiResponse): void {
  if (response.headersSent) {
    response.end();
    return;
  }

  response.statusCode = apiResponse.status;
  for (const [name, value] of Object.entries(apiResponse.headers)) response.setHeader(name, value);
  response.setHeader('content-length', Buffer.byteLength(apiResponse.body));
  response.end(apiResponse.body);
}

/** Writes the shedder's cached 503: status, `Retry-After` and the JSON body built at the last sample. */
export function writeShedResponse(response: ServerResponse, shedder: LoadShedder): void {
  response.statusCode = 503;
  response.setHeader('retry-after', String(shedder.retryAfterSeconds));
  response.setHeader('content-type', 'application/json; charset=utf-8');
  response.setHeader('cache-control', 'no-store');
  response.end(shedder.responseBody);
}

/** True for methods whose body the API reads. The GET routes ignore a body. */
function hasRoutedBody(method: string | undefined): boolean {
  return method === 'POST';
}

/**
 * Serves the API on a Node request. Returns false at once when the path is
 * outside the prefix, so the caller passes the request on, and true when the
 * API responds to it (asynchronously, for routes that read a body).
 * `url` is the request target relative to the mount point; default `request.url`.
 * `parsedBody` is a body a framework already parsed; without one, POST bodies are read here.
 */
export function serveApiRequest(
  api: HeadroomApi,
  request: IncomingMessage,
  response: ServerResponse,
  url: string = request.url ?? '/',
  parsedBody?: unknown,
): boolean {
  // This runs for every request of the app, so paths outside the prefix cost one startsWith() and no allocation.
  if (!url.startsWith(api.prefix) || api.routePath(pathOf(url)) === null) return false;

  void respond(api, request, response, url, parsedBody);
  return true;
}

async function respond(api: HeadroomApi, request: IncomingMessage, response: ServerResponse, url: string, parsedBody: unknown): Promise<void> {
  let body = parsedBody;
  if (body === undefined && hasRoutedBody(request.method)) {
    try {
      body = await readBody(request, api.options.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        writeApiResponse(response, errorResponse(413, 'payload_too_large', err.message, { maxBytes: err.maxBytes }, { connection: 'close' }));
      } else {
        api.options.logger.warn({ err, path: url }, 'headroom: failed to read a request body');
        writeApiResponse(response, errorResponse(400, 'bad_request', 'Failed to read the request body.', { parameter: 'body' }));
      }
      return;
    }
  }

  // handle() never rejects: failures come back as JSON 500s.
  const apiResponse = await api.handle(toApiRequest(request, url, body));
  writeApiResponse(response, apiResponse ?? errorResponse(404, 'not_found', `No route ${request.method} ${url}`));
}

/**
 * The design's routes under `/api/qdt`, on the same request and response
 * types as headroom's API: metrics, analytics, the two optimizations, pools
 * and health. The POST routes follow headroom's access rule (bearer token, or
 * loopback only without one) and each has a cooldown.
 */
import type { HeadroomApi } from '../http/api.js';
import { pathPrefixOption } from '../http/options.js';
import { readWindowParameter } from '../http/read-routes.js';
import { checkAccess, Cooldown, TokenCheck } from '../http/request-guard.js';
import { errorResponse, jsonResponse } from '../http/responses.js';
import type { ApiRequest, ApiResponse } from '../http/types.js';
import { errorMessage } from '../responses/response-options.js';
import { systemClock, type Clock } from '../util/clock.js';
import { durationOption } from '../util/validate.js';
import type { QDTMemoryManager, QdtOptimizationEvent } from './manager.js';

export const QDT_PREFIX = '/api/qdt';

export interface QdtRoutesOptions {
  /** Path prefix of the routes. Default `/api/qdt`. */
  prefix?: string;
  /** The time a POST route waits after a call starts before it accepts the next. Default 10 s. */
  cooldownMs?: number | string;
  /** `Retry-After` of GET /health at CRITICAL, in seconds. Default 10. */
  healthRetryAfterSeconds?: number;
  /** Time source of the cooldowns. Default: the system clock. */
  clock?: Clock;
}

interface QdtRoute {
  method: 'GET' | 'POST';
  query: readonly string[];
  handler: (request: ApiRequest) => ApiResponse | Promise<ApiResponse>;
}

/** Serves the QDT routes; `headroom` provides the access rule, the GET /analytics figures of its history, and the stream. */
export class QdtRoutes {
  readonly prefix: string;
  readonly #qdt: QDTMemoryManager;
  readonly #headroom: HeadroomApi;
  readonly #token: TokenCheck | null;
  readonly #clock: Clock;
  readonly #healthRetryAfterSeconds: number;
  readonly #routes: Map<string, QdtRoute>;

  constructor(qdt: QDTMemoryManager, headroom: HeadroomApi, options: QdtRoutesOptions = {}) {
    this.prefix = pathPrefixOption('prefix', options.prefix, QDT_PREFIX);
    this.#qdt = qdt;
    this.#headroom = headroom;
    this.#token = headroom.options.token === null ? null : new TokenCheck(headroom.options.token);
    this.#clock = options.clock ?? systemClock;
    this.#healthRetryAfterSeconds = options.healthRetryAfterSeconds ?? 10;

    const cooldownMs = durationOption('cooldownMs', options.cooldownMs, 10_000, 0, 3_600_000);
    const tunneling = new Cooldown(cooldownMs);
    const funneling = new Cooldown(cooldownMs);
    this.#routes = new Map<string, QdtRoute>([
      ['/metrics', { method: 'GET', query: [], handler: () => this.#metrics() }],
      ['/analytics', { method: 'GET', query: ['window'], handler: (request) => this.#analytics(request) }],
      ['/pools', { method: 'GET', query: [], handler: () => jsonResponse(200, { pools: this.#qdt.poolStats() }) }],
      ['/health', { method: 'GET', query: [], handler: () => this.#health() }],
      ['/quantum-tunneling', { method: 'POST', query: [], handler: () => this.#runAction(tunneling, false, async () => this.#qdt.quantumTunneling('api')) }],
      ['/gravitational-funneling', { method: 'POST', query: [], handler: () => this.#runAction(funneling, this.#qdt.funnelingRunning, () => this.#qdt.gravitationalFunneling('api')) }],
    ]);
  }

  /** Returns the path relative to the prefix, or null when `path` is outside it. */
  routePath(path: string): string | null {
    if (path === this.prefix) return '/';
    if (path.startsWith(this.prefix) && path.charCodeAt(this.prefix.length) === 47 /* '/' */) return path.slice(this.prefix.length);
    return null;
  }

  /** Serves a request, or returns null when its path is outside the prefix. Never throws: a failure becomes a JSON 500. */
  async handle(request: ApiRequest): Promise<ApiResponse | null> {
    const path = this.routePath(request.path);
    if (path === null) return null;

    try {
      return await this.#dispatch(path, request);
    } catch (err) {
      this.#headroom.options.logger.error({ err, method: request.method, path: request.path }, 'headroom: a QDT route failed');
      return errorResponse(500, 'internal_error', `The route failed: ${errorMessage(err)}`);
    }
  }

  async #dispatch(path: string, request: ApiRequest): Promise<ApiResponse> {
    const route = this.#routes.get(path);
    if (!route) {
      const known = [...this.#routes].map(([routePath, { method }]) => `${method} ${this.prefix}${routePath}`).join(', ');
      return errorResponse(404, 'not_found', `No route ${request.method} ${request.path}. Routes: ${known}.`);
    }

    const method = request.method === 'HEAD' ? 'GET' : request.method;
    if (method !== route.method) {
      return errorResponse(405, 'method_not_allowed', `${request.path} accepts ${route.method}, not ${request.method}.`, {}, { allow: route.method });
    }

    for (const name of new Set(request.query.keys())) {
      if (!route.query.includes(name)) {
        return errorResponse(400, 'bad_request', `Unknown query parameter \`${name}\` (known parameters: ${route.query.join(', ') || 'none'}).`, { parameter: name });
      }
    }

    if (route.method === 'POST' || this.#headroom.options.protectReads) {
      const denied = checkAccess(request, this.#token);
      if (denied) return denied;
    }

    return route.handler(request);
  }

  #metrics(): ApiResponse {
    return jsonResponse(200, { qdt: this.#qdt.metrics(), pools: this.#qdt.poolStats() });
  }

  async #analytics(request: ApiRequest): Promise<ApiResponse> {
    const windowMs = readWindowParameter(request.query);
    if (typeof windowMs !== 'number') return windowMs;

    // headroom's own summary of the same window: usage, levels, GC, actions and leaks.
    const headroomResponse = await this.#headroom.handle({ ...request, method: 'GET', path: `${this.#headroom.prefix}/analytics` });
    const headroom = headroomResponse && headroomResponse.status === 200 ? (JSON.parse(headroomResponse.body) as unknown) : null;
    return jsonResponse(200, { qdt: this.#qdt.analytics(windowMs), headroom });
  }

  #health(): ApiResponse {
    const metrics = this.#qdt.metrics();
    const body = {
      status: metrics?.status === 'CRITICAL' ? 'unavailable' : 'ok',
      qdtStatus: metrics?.status ?? null,
      level: this.#qdt.level,
      filament: metrics?.filament ?? null,
      coherence: metrics?.coherence ?? null,
      time: metrics?.time ?? null,
    };

    if (body.status === 'ok') return jsonResponse(200, body);
    return jsonResponse(503, body, { 'retry-after': String(this.#healthRetryAfterSeconds) });
  }

  async #runAction(cooldown: Cooldown, busy: boolean, run: () => Promise<QdtOptimizationEvent>): Promise<ApiResponse> {
    const nowMs = this.#clock.now();
    const remainingMs = cooldown.remainingMs(nowMs);
    if (remainingMs > 0) {
      const retryAfterSeconds = Math.ceil(remainingMs / 1000);
      return errorResponse(429, 'too_many_requests', `Called too soon: try again in ${retryAfterSeconds} s (cooldown ${cooldown.cooldownMs} ms).`, { retryAfterSeconds }, {
        'retry-after': String(retryAfterSeconds),
      });
    }

    if (busy) {
      return errorResponse(429, 'too_many_requests', 'An automatic run of this operation is in progress: try again in 1 s.', { retryAfterSeconds: 1 }, { 'retry-after': '1' });
    }

    cooldown.begin(nowMs);
    try {
      return jsonResponse(200, await run());
    } finally {
      cooldown.end();
    }
  }
}

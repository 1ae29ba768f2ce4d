import { DASHBOARD_ASSET_NAMES, dashboardAsset } from '../dashboard/assets.js';
import type { EventEmitter } from 'node:events';
import type { Registry } from 'prom-client';
import type { MemoryManager } from '../manager/manager.js';
import type { Sample } from '../sampling/sample.js';
import { ActionRoutes } from './action-routes.js';
import { FOLLOWED_EVENTS, resolveApiOptions, type HeadroomApiOptions, type ResolvedApiOptions } from './api-options.js';
import { HeadroomCounters } from './counters.js';
import { actionsFromManager, analysisFromManager } from './manager-providers.js';
import { SampleHistory } from './history.js';
import type { MetricsSources } from './metrics-snapshot.js';
import { errorMessage } from './options.js';
import { createHeadroomRegistry, type HeadroomRegistry } from './prometheus.js';
import { analyticsRoute, healthRoute, metricsRoute, prometheusRoute } from './read-routes.js';
import { checkAccess, TokenCheck } from './request-guard.js';
import { errorResponse, jsonResponse } from './responses.js';
import { LoadShedder } from './shedder.js';
import type { ApiRequest, ApiResponse, HeadroomActions } from './types.js';

/** A route of the API, relative to the prefix. */
export interface RouteDefinition {
  method: 'GET' | 'POST';
  path: string;
  /** Query parameters the route accepts; any other is a 400. */
  query: readonly string[];
  /** True for the POST routes: they need the token, or a loopback client without one. */
  protected: boolean;
  handler: (request: ApiRequest) => ApiResponse | Promise<ApiResponse>;
}

/** A manager event, or one passed to `publish()`, as stream clients receive it. */
export interface StreamMessage {
  type: string;
  data: unknown;
}

export type StreamListener = (message: StreamMessage) => void;

/**
 * Returns the response to GET /stream as a plain request. A WebSocket
 * handshake only reaches this route when no stream listens for upgrades on
 * this server, so that response names the call that attaches one.
 */
function streamRouteResponse(request: ApiRequest): ApiResponse {
  const upgrade = request.headers.upgrade;
  if (typeof upgrade === 'string' && upgrade.toLowerCase() === 'websocket') {
    return errorResponse(
      501,
      'not_implemented',
      'No WebSocket stream is attached to this server: call headroom.attachStream(server) with its http.Server (with Express, the one app.listen() returns).',
    );
  }
  return errorResponse(426, 'upgrade_required', 'GET /stream is a WebSocket endpoint: connect with a WebSocket client.', {}, { upgrade: 'websocket' });
}

/**
 * The framework-neutral HTTP API: a route table under a prefix, the load
 * shedder, the Prometheus registry and the bounded history, all fed by the
 * manager's events. Adapters turn their framework's requests into
 * `ApiRequest`s and write back the `ApiResponse`s.
 */
export class HeadroomApi {
  readonly options: ResolvedApiOptions;
  readonly manager: MemoryManager;
  /** The shedder the adapters' middleware consults, or null with `shedding: false`. */
  readonly shedder: LoadShedder | null;
  readonly counters = new HeadroomCounters();
  readonly history: SampleHistory;
  readonly routes: readonly RouteDefinition[];
  readonly #ownsShedder: boolean;
  readonly #prometheus: HeadroomRegistry | null;
  readonly #sources: MetricsSources;
  readonly #byPath = new Map<string, RouteDefinition[]>();
  readonly #token: TokenCheck | null;
  readonly #listeners = new Set<StreamListener>();
  readonly #detachers: Array<() => void> = [];
  #closed = false;

  constructor(manager: MemoryManager, options: HeadroomApiOptions = {}) {
    this.options = resolveApiOptions(options);
    this.manager = manager;
    this.history = new SampleHistory(this.options.historySize, this.options.historyEventsSize);
    this.#token = this.options.token === null ? null : new TokenCheck(this.options.token);

    const { shedding } = this.options;
    this.#ownsShedder = shedding !== false && !(shedding instanceof LoadShedder);
    if (shedding === false) this.shedder = null;
    else if (shedding instanceof LoadShedder) this.shedder = shedding;
    else this.shedder = new LoadShedder(shedding).attach(manager);

    this.#sources = {
      manager,
      shedder: this.shedder,
      counters: this.counters,
      // Without an `analysis` option, the manager's own leak detection provides the figures; `analysis: null` leaves them out.
      analysis: options.analysis === undefined ? analysisFromManager(manager) : this.options.analysis,
      extraMetrics: this.options.extraMetrics,
      logger: this.options.logger,
    };
    this.#prometheus = this.options.prometheus === false ? null : createHeadroomRegistry(this.#sources, this.options.prometheus);

    // Without an `actions` option, the manager's own responses serve the POST routes; `actions: null` turns them off.
    const actions = options.actions === undefined ? actionsFromManager(manager) : this.options.actions;
    this.routes = this.#defineRoutes(actions);
    for (const route of this.routes) {
      const list = this.#byPath.get(route.path) ?? [];
      list.push(route);
      this.#byPath.set(route.path, list);
    }

    this.#followManagerEvents();
  }

  get prefix(): string {
    return this.options.prefix;
  }

  /** The prom-client registry behind GET /metrics/prometheus, or null with `prometheus: false`. */
  get registry(): Registry | null {
    return this.#prometheus?.registry ?? null;
  }

  /** Number of stream listeners, such as connected WebSocket clients. */
  get listenerCount(): number {
    return this.#listeners.size;
  }

  /** Returns the path relative to the prefix (`/metrics`), or null when `path` is outside the prefix. */
  routePath(path: string): string | null {
    const { prefix } = this.options;
    if (prefix === '') return path === '' ? '/' : path;
    if (path === prefix) return '/';
    if (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47 /* '/' */) return path.slice(prefix.length);
    return null;
  }

  /**
   * Serves a request, or returns null when its path is outside the prefix so
   * the adapter passes it on. Never throws: a failure becomes a JSON 500.
   */
  async handle(request: ApiRequest): Promise<ApiResponse | null> {
    const path = this.routePath(request.path);
    if (path === null) return null;

    const page = this.#dashboard(request, path);
    if (page) return page;

    try {
      return await this.#dispatch(path, request);
    } catch (err) {
      this.options.logger.error({ err, method: request.method, path: request.path }, 'headroom: a route failed');
      return errorResponse(500, 'internal_error', `The route failed: ${errorMessage(err)}`);
    }
  }

  /**
   * Serves the dashboard page and its assets for GET and HEAD. Only browsers
   * (`Accept: text/html`) get the page at the prefix root, and the bare prefix
   * redirects them to the prefix with a slash because the page's links are
   * relative. API clients keep the JSON index there.
   */
  #dashboard(request: ApiRequest, path: string): ApiResponse | null {
    if (request.method !== 'GET' && request.method !== 'HEAD') return null;

    const acceptsHtml = String(request.headers.accept ?? '').includes('text/html');
    if (path === '/' && this.options.prefix !== '' && !request.path.endsWith('/') && acceptsHtml) {
      return { status: 308, headers: { location: `${this.options.prefix}/` }, body: '' };
    }

    const name = path.replace(/^\//, '');
    if (name === '' && !acceptsHtml) return null;
    if (name !== '' && !DASHBOARD_ASSET_NAMES.includes(name)) return null;

    const ifNoneMatch = request.headers['if-none-match'];
    const asset = dashboardAsset(name, typeof ifNoneMatch === 'string' ? ifNoneMatch : undefined);
    if (!asset) return null;

    // Every asset is UTF-8 text (HTML, JS, CSS), so it travels as a string like the JSON routes.
    return { status: asset.status, headers: asset.headers, body: request.method === 'HEAD' ? '' : asset.body.toString('utf8') };
  }

  /**
   * Records an event and pushes it to stream listeners, as if the manager had
   * emitted it: for components that emit on their own emitter. `action`
   * events also feed the action counters.
   */
  publish(name: string, payload: unknown): void {
    if (this.#closed) return;

    if (name === 'action') this.counters.recordAction(payload);
    if (name !== 'sample') this.history.recordEvent(name, payload, this.options.clock.epochNow());
    this.#push(name, payload);
  }

  /** Calls `listener` with every sample and event from now on. Returns the function that unsubscribes. */
  subscribe(listener: StreamListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops following the manager, drops the listeners, and closes the shedder and registry this API created. */
  close(): void {
    if (this.#closed) return;

    this.#closed = true;
    for (const detach of this.#detachers.splice(0)) detach();
    this.#listeners.clear();
    if (this.#ownsShedder) this.shedder?.close();
    this.#prometheus?.close();
  }

  async #dispatch(path: string, request: ApiRequest): Promise<ApiResponse> {
    const candidates = this.#byPath.get(path);
    if (!candidates) return errorResponse(404, 'not_found', `No route ${request.method} ${request.path}. GET ${this.options.prefix || ''}/ lists the routes.`);

    // HEAD is served as GET, and the adapters' servers drop the body.
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    const route = candidates.find((candidate) => candidate.method === method);
    if (!route) {
      const allow = candidates.map((candidate) => candidate.method).join(', ');
      return errorResponse(405, 'method_not_allowed', `${request.path} accepts ${allow}, not ${request.method}.`, {}, { allow });
    }

    for (const name of new Set(request.query.keys())) {
      if (!route.query.includes(name)) {
        const known = route.query.length > 0 ? route.query.join(', ') : 'none';
        return errorResponse(400, 'bad_request', `Unknown query parameter \`${name}\` (known parameters: ${known}).`, { parameter: name });
      }
    }

    if (route.protected || this.options.protectReads) {
      const denied = checkAccess(request, this.#token);
      if (denied) return denied;
    }

    return route.handler(request);
  }

  #defineRoutes(providers: HeadroomActions | null): RouteDefinition[] {
    const { options, manager } = this;
    const actions = new ActionRoutes({
      actions: providers,
      cooldownMs: options.cooldownMs,
      clock: options.clock,
      logger: options.logger,
      currentLevel: () => manager.level,
    });
    const analytics = {
      provider: options.history,
      builtIn: this.history,
      historySize: options.historySize,
      nowEpochMs: () => options.clock.epochNow(),
    };
    const health = { unhealthyLevel: options.unhealthyLevel, retryAfterSeconds: options.healthRetryAfterSeconds };

    const routes: RouteDefinition[] = [
      { method: 'GET', path: '/', query: [], protected: false, handler: () => this.#index() },
      { method: 'GET', path: '/metrics', query: [], protected: false, handler: () => metricsRoute(this.#sources) },
      { method: 'GET', path: '/metrics/prometheus', query: [], protected: false, handler: () => prometheusRoute(this.registry) },
      { method: 'GET', path: '/analytics', query: ['window'], protected: false, handler: (request) => analyticsRoute(request, analytics) },
      { method: 'GET', path: '/health', query: [], protected: false, handler: () => healthRoute(manager, health) },
      {
        method: 'GET',
        path: '/stream',
        query: [],
        protected: false,
        handler: (request) => streamRouteResponse(request),
      },
      { method: 'POST', path: '/gc', query: [], protected: true, handler: (request) => actions.gc(request) },
      { method: 'POST', path: '/optimize', query: [], protected: true, handler: (request) => actions.optimize(request) },
      { method: 'POST', path: '/snapshot', query: [], protected: true, handler: (request) => actions.snapshot(request) },
    ];
    return routes;
  }

  #index(): ApiResponse {
    const prefix = this.options.prefix;
    return jsonResponse(200, {
      routes: this.routes.map((route) => ({ method: route.method, path: `${prefix}${route.path === '/' ? '/' : route.path}` })),
    });
  }

  /** Feeds the history, the counters and the stream listeners from the manager's events. */
  #followManagerEvents(): void {
    // The `events` option names events the manager's type does not list, so the API listens
    // through the untyped EventEmitter interface.
    const emitter = this.manager as unknown as EventEmitter;

    const onSample = (sample: Sample): void => {
      this.counters.recordSample(sample);
      this.history.recordSample(sample);
      this.#push('sample', sample);
    };
    emitter.on('sample', onSample);
    this.#detachers.push(() => emitter.off('sample', onSample));

    const names = new Set<string>([...FOLLOWED_EVENTS, ...this.options.events]);
    names.delete('sample');
    for (const name of names) {
      const listener = (payload: unknown): void => this.publish(name, payload);
      emitter.on(name, listener);
      this.#detachers.push(() => emitter.off(name, listener));
    }
  }

  #push(type: string, data: unknown): void {
    if (this.#listeners.size === 0) return;

    const message: StreamMessage = { type, data };
    for (const listener of this.#listeners) {
      try {
        listener(message);
      } catch (err) {
        this.options.logger.error({ err, event: type }, 'headroom: a stream listener threw');
      }
    }
  }
}

/**
 * Creates the framework-neutral API over a manager. The adapters in
 * `headroom/express`, `headroom/fastify` and `headroom/http` serve it.
 * Throws on an invalid option; call `close()` to detach it from the manager.
 */
export function createHeadroomApi(manager: MemoryManager, options: HeadroomApiOptions = {}): HeadroomApi {
  return new HeadroomApi(manager, options);
}

import { isAtLeast, type PressureLevel } from '../analysis/levels.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { ActionRoute } from './api-options.js';
import { errorMessage, TRIGGER_LEVELS, type TriggerLevel } from './options.js';
import { Cooldown } from './request-guard.js';
import { badParameter, errorResponse, jsonResponse } from './responses.js';
import type { ApiRequest, ApiResponse, HeadroomActions } from './types.js';

type ParsedBody = { ok: true; value: Record<string, unknown> } | { ok: false; response: ApiResponse };

/**
 * Reads a JSON object from a request body: no body and an empty body read
 * as `{}`, a raw string or Buffer is parsed, and a body the framework
 * already parsed is taken as it is.
 */
export function parseJsonBody(body: unknown): ParsedBody {
  let value = body;
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    const text = body.toString().trim();
    if (text === '') return { ok: true, value: {} };

    try {
      value = JSON.parse(text);
    } catch {
      return { ok: false, response: badParameter('body', 'a JSON object', text.length > 100 ? `${text.slice(0, 100)}...` : text) };
    }
  }

  if (value === undefined || value === null) return { ok: true, value: {} };
  if (typeof value !== 'object' || Array.isArray(value)) return { ok: false, response: badParameter('body', 'a JSON object', value) };
  return { ok: true, value: value as Record<string, unknown> };
}

/** Returns the 400 for the first body field not in `known`, or null. */
function rejectUnknownFields(body: Record<string, unknown>, known: readonly string[]): ApiResponse | null {
  for (const key of Object.keys(body)) {
    if (!known.includes(key)) return badParameter(key, `no such field (known fields: ${known.length > 0 ? known.join(', ') : 'none'})`, body[key]);
  }
  return null;
}

export interface ActionRouteSettings {
  actions: HeadroomActions | null;
  cooldownMs: Record<ActionRoute, number>;
  clock: Clock;
  logger: Logger;
  currentLevel: () => PressureLevel;
}

/**
 * Returns true when a result reports the action as turned off or missing
 * (`reason` disabled or unavailable). Nothing ran, so no cooldown starts.
 */
function couldNotRun(result: object): boolean {
  const { done, reason } = result as { done?: unknown; reason?: unknown };
  return done === false && (reason === 'disabled' || reason === 'unavailable');
}

/**
 * POST /gc, /optimize and /snapshot: validate the body, apply the route's
 * cooldown, run the action and return its result as JSON.
 */
export class ActionRoutes {
  readonly #settings: ActionRouteSettings;
  readonly #cooldowns: Record<ActionRoute, Cooldown>;

  constructor(settings: ActionRouteSettings) {
    this.#settings = settings;
    this.#cooldowns = {
      gc: new Cooldown(settings.cooldownMs.gc),
      optimize: new Cooldown(settings.cooldownMs.optimize),
      snapshot: new Cooldown(settings.cooldownMs.snapshot),
    };
  }

  async gc(request: ApiRequest): Promise<ApiResponse> {
    return this.#run('gc', request, [], (actions) => actions.gc?.bind(actions));
  }

  /** Body: `{ "level": "moderate" | "high" | "critical" }`; without a level, the current one, and at least moderate. */
  async optimize(request: ApiRequest): Promise<ApiResponse> {
    return this.#run('optimize', request, ['level'], (actions, body) => {
      const relieve = actions.relieve;
      if (!relieve) return undefined;

      const level = body.level ?? this.#defaultReliefLevel();
      return () => relieve.call(actions, level as TriggerLevel);
    });
  }

  async snapshot(request: ApiRequest): Promise<ApiResponse> {
    return this.#run('snapshot', request, [], (actions) => actions.snapshot?.bind(actions));
  }

  #defaultReliefLevel(): TriggerLevel {
    const level = this.#settings.currentLevel();
    return isAtLeast(level, 'moderate') ? (level as TriggerLevel) : 'moderate';
  }

  async #run(
    route: ActionRoute,
    request: ApiRequest,
    knownFields: readonly string[],
    pick: (actions: HeadroomActions, body: Record<string, unknown>) => (() => Promise<object>) | undefined,
  ): Promise<ApiResponse> {
    const { actions, clock, logger } = this.#settings;
    const parsed = parseJsonBody(request.body);
    if (!parsed.ok) return parsed.response;

    const invalid = rejectUnknownFields(parsed.value, knownFields) ?? this.#checkLevel(parsed.value);
    if (invalid) return invalid;

    const action = actions ? pick(actions, parsed.value) : undefined;
    if (!action) {
      return errorResponse(501, 'not_implemented', `POST /${route} has no action: pass \`actions\` with a ${route === 'optimize' ? 'relieve' : route}() method to enable it.`);
    }

    const cooldown = this.#cooldowns[route];
    const remainingMs = cooldown.remainingMs(clock.now());
    if (remainingMs > 0) {
      const retryAfterSeconds = Math.max(1, Math.ceil(remainingMs / 1000));
      const reason = cooldown.running ? 'is still running' : `ran less than ${cooldown.cooldownMs} ms ago`;
      return errorResponse(429, 'too_many_requests', `POST /${route} ${reason}. Retry after ${retryAfterSeconds} s.`, { retryAfterSeconds }, { 'retry-after': String(retryAfterSeconds) });
    }

    const startedAtMs = clock.now();
    cooldown.begin(startedAtMs);
    logger.info({ route, remoteAddress: request.remoteAddress }, `headroom: POST /${route} started`);
    let counted = true;
    try {
      const result = await action();
      counted = !couldNotRun(result);
      return jsonResponse(200, { route, durationMs: clock.now() - startedAtMs, result });
    } catch (err) {
      logger.error({ err, route }, `headroom: POST /${route} failed`);
      return errorResponse(500, 'internal_error', `POST /${route} failed: ${errorMessage(err)}`);
    } finally {
      cooldown.end(counted);
    }
  }

  #checkLevel(body: Record<string, unknown>): ApiResponse | null {
    if (body.level === undefined) return null;
    if (typeof body.level === 'string' && (TRIGGER_LEVELS as readonly string[]).includes(body.level)) return null;
    return badParameter('level', `one of ${TRIGGER_LEVELS.join(', ')}`, body.level);
  }
}

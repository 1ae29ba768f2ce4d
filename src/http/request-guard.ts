import { createHash, timingSafeEqual } from 'node:crypto';
import { errorResponse } from './responses.js';
import type { ApiRequest, ApiResponse } from './types.js';

/** Returns true for an address in 127.0.0.0/8 or `::1`, in IPv4, IPv6 or IPv4-mapped form. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  if (address === '::1' || address === '0:0:0:0:0:0:0:1') return true;

  const ipv4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return ipv4.startsWith('127.');
}

function headerValue(request: ApiRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Returns true when the request came over loopback and names no other
 * client. A reverse proxy on the same host connects over loopback too, so a
 * `Forwarded` or `X-Forwarded-For` header makes the request count as remote.
 */
export function isLocalRequest(request: ApiRequest): boolean {
  if (!isLoopbackAddress(request.remoteAddress)) return false;
  return headerValue(request, 'forwarded') === undefined && headerValue(request, 'x-forwarded-for') === undefined;
}

/** `localhost`, `127.x.x.x` or `[::1]`, with or without a port. */
const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d+)?$/i;

/**
 * Returns true when a browser page of another site could be behind a loopback
 * request: a `Host` that is not a loopback name (DNS rebinding) or an `Origin`
 * other than the server's own (a cross-site form or fetch, which a browser
 * sends without asking first when its body is plain text).
 */
export function isCrossSiteRequest(request: ApiRequest): boolean {
  const host = headerValue(request, 'host');
  if (host !== undefined && !LOOPBACK_HOST.test(host)) return true;

  const origin = headerValue(request, 'origin');
  return origin !== undefined && origin !== `http://${host ?? ''}`;
}

/** Checks bearer tokens in constant time for a given token length, because both sides are hashed first. */
export class TokenCheck {
  readonly #digest: Buffer;

  constructor(token: string) {
    this.#digest = createHash('sha256').update(token).digest();
  }

  matches(authorization: string | undefined): boolean {
    if (authorization === undefined) return false;

    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) return false;

    const candidate = createHash('sha256').update(match[1] as string).digest();
    return timingSafeEqual(candidate, this.#digest);
  }
}

/**
 * Returns null when the request may call a protected route, or the 401/403
 * to send. With a token configured, the bearer token is required from every
 * client. Without one, only local clients are allowed.
 */
export function checkAccess(request: ApiRequest, token: TokenCheck | null): ApiResponse | null {
  if (token) {
    if (token.matches(headerValue(request, 'authorization'))) return null;
    return errorResponse(401, 'unauthorized', 'Missing or invalid bearer token: send `Authorization: Bearer <token>`.', {}, { 'www-authenticate': 'Bearer realm="headroom"' });
  }

  if (isLocalRequest(request) && isCrossSiteRequest(request)) {
    return errorResponse(403, 'forbidden', 'Cross-site request rejected: without a token, POST routes accept only same-origin requests addressed to a loopback host.');
  }
  if (isLocalRequest(request)) return null;
  return errorResponse(
    403,
    'forbidden',
    'This route accepts only loopback clients because no token is configured. Set the `token` option to allow remote clients.',
  );
}

/**
 * Spaces the calls of one route: a call starts only `cooldownMs` after the
 * previous one started and once it has finished.
 */
export class Cooldown {
  readonly cooldownMs: number;
  #lastStartMs = Number.NEGATIVE_INFINITY;
  #previousStartMs = Number.NEGATIVE_INFINITY;
  #running = false;

  constructor(cooldownMs: number) {
    this.cooldownMs = cooldownMs;
  }

  /**
   * Returns the milliseconds left before the next call may start, or 0 when it
   * may start now. While a call runs its end is unknown, so at least 1 s is returned.
   */
  remainingMs(nowMs: number): number {
    const left = Math.max(0, this.#lastStartMs + this.cooldownMs - nowMs);
    return this.#running ? Math.max(1000, left) : left;
  }

  get running(): boolean {
    return this.#running;
  }

  begin(nowMs: number): void {
    this.#previousStartMs = this.#lastStartMs;
    this.#lastStartMs = nowMs;
    this.#running = true;
  }

  /** Ends the call. With `counted` false, as for an action that could not run at all, no cooldown starts from it. */
  end(counted = true): void {
    this.#running = false;
    if (!counted) this.#lastStartMs = this.#previousStartMs;
  }
}

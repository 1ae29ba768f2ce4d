import type { ApiResponse } from './types.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/** Stable error codes of the JSON error bodies, one per status. */
export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'payload_too_large'
  | 'too_many_requests'
  | 'upgrade_required'
  | 'internal_error'
  | 'not_implemented'
  | 'service_unavailable';

export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { status, headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store', ...headers }, body: JSON.stringify(value) };
}

/** Builds a JSON error: `{ error, message, ...details }`, never a stack trace. */
export function errorResponse(
  status: number,
  error: ErrorCode,
  message: string,
  details: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): ApiResponse {
  return jsonResponse(status, { error, message, ...details }, headers);
}

/** Builds the 400 for one invalid query or body parameter, naming it. */
export function badParameter(parameter: string, rule: string, received: unknown): ApiResponse {
  const shown = received === undefined ? 'nothing' : JSON.stringify(received);
  return errorResponse(400, 'bad_request', `Invalid parameter \`${parameter}\`: expected ${rule}, got ${shown}`, { parameter });
}

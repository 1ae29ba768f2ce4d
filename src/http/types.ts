import type { Budget } from '../analysis/levels.js';
import type { TriggerLevel } from './options.js';

/** A request as the framework-neutral handlers read it. Each adapter builds one from its framework's request. */
export interface ApiRequest {
  /** Upper case, such as `GET`. */
  method: string;
  /** The path without the query string, relative to where the adapter is mounted. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  /**
   * `undefined` for no body, a string or Buffer for a raw body that the API
   * parses as JSON, anything else for a body the framework already parsed.
   */
  body?: unknown;
  /** The peer address of the connection, such as `127.0.0.1` or `::1`. */
  remoteAddress: string | undefined;
}

/** A response ready to write: the body is already serialized. */
export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * The actions behind POST /gc, /optimize and /snapshot. A route whose method
 * is absent responds 501. Each result is returned to the caller as JSON.
 */
export interface HeadroomActions {
  /** Forces a full garbage collection. */
  gc?(): Promise<object>;
  /** Runs the pressure responses for `level`: releasers, then a forced GC. */
  relieve?(level: TriggerLevel): Promise<object>;
  /** Writes a heap snapshot. */
  snapshot?(): Promise<object>;
}

/** A source of GET /analytics summaries that replaces the built-in bounded history. */
export interface HeadroomHistory {
  summarize(windowMs: number): object | Promise<object>;
}

/** Figures from leak detection, read at each GET /metrics and each Prometheus scrape. */
export interface HeadroomAnalysis {
  /** Estimated heap that survives a full collection, or null before the first estimate. */
  liveSetBytes: number | null;
  /** Growth currently reported as a leak, one entry per memory kind (`heap`, `external`, `native`). */
  leaks: ReadonlyArray<{ kind: string; rateBytesPerSecond: number }>;
  /** Time until the first budget runs out at current rates, or null for no estimate. */
  timeToLimitMs: number | null;
  /** The budget behind `timeToLimitMs`. */
  budget: Budget | null;
}

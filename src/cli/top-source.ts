import { WebSocket, type RawData } from 'ws';
import { describeTopEvent, field, sampleFromMetrics, TOP_EVENTS_SHOWN, type TopConnection, type TopState } from './top-frame.js';

/** The kind of update, so the caller can draw on new samples only. */
export type TopChange = 'sample' | 'event' | 'metrics' | 'connection';

export interface TopSourceOptions {
  /** The API prefix, such as `http://127.0.0.1:9000/headroom`, without a trailing slash. */
  baseUrl: URL;
  /** Time between GET /metrics polls while the stream is down. */
  pollMs: number;
  /** Sent as a bearer token to the routes and the stream, or null for none. */
  token: string | null;
  onChange: (change: TopChange) => void;
}

/** Time between GET /metrics reads while the stream is up: forecast, shedding, pools and the governor come only from there. */
const METRICS_REFRESH_MS = 5000;
const REQUEST_TIMEOUT_MS = 5000;
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 10_000;
/** The largest stream message accepted: a sample is a few KiB. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

/** The maximum number of characters read from a rejected handshake's body for its message. */
const MAX_REFUSAL_CHARS = 4096;

/** Returns `: message` from a JSON error body such as the API's, or an empty string. */
function serverMessage(body: string): string {
  try {
    const message = (JSON.parse(body) as { message?: unknown }).message;
    return typeof message === 'string' ? `: ${message}` : '';
  } catch {
    return '';
  }
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}

/**
 * Follows a service for `headroom top`: its WebSocket stream, with GET
 * /metrics polled while the stream is down and read every 5 s while it is
 * up. The stream reconnects with a back-off from 0.5 s to 10 s. Nothing
 * runs after `stop()`.
 */
export class TopSource {
  readonly state: TopState;
  readonly #options: TopSourceOptions;
  readonly #abort = new AbortController();
  #socket: WebSocket | null = null;
  #reconnectDelayMs = RECONNECT_MIN_MS;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #pollTimer: NodeJS.Timeout | null = null;
  /** Counts polling runs, so a poll still awaiting its response after `#stopPolling()` does not start a second chain. */
  #pollRun = 0;
  #refreshTimer: NodeJS.Timeout | null = null;
  #stopped = false;
  /** The latest WebSocket failure, until the stream opens. */
  #streamError: string | null = null;
  /** The latest failure of GET /metrics, until a read succeeds. */
  #pollError: string | null = null;

  constructor(options: TopSourceOptions) {
    this.#options = options;
    this.state = { url: options.baseUrl.href.replace(/\/$/, ''), connection: 'connecting', lastError: null, sample: null, metrics: null, events: [] };
  }

  start(): void {
    void this.#readMetrics();
    this.#connect();
  }

  stop(): void {
    this.#stopped = true;
    this.#abort.abort();
    this.#stopPolling();
    for (const timer of [this.#reconnectTimer, this.#refreshTimer]) if (timer !== null) clearTimeout(timer);
    this.#reconnectTimer = null;
    this.#refreshTimer = null;
    this.#socket?.terminate();
    this.#socket = null;
  }

  #url(path: string): URL {
    const url = new URL(this.#options.baseUrl.href);
    url.pathname = `${url.pathname.replace(/\/$/, '')}/${path}`;
    return url;
  }

  #headers(): Record<string, string> {
    return this.#options.token === null ? {} : { authorization: `Bearer ${this.#options.token}` };
  }

  #setConnection(connection: TopConnection): void {
    if (this.state.connection === connection) return;
    this.state.connection = connection;
    this.#options.onChange('connection');
  }

  #connect(): void {
    this.#reconnectTimer = null;
    if (this.#stopped) return;

    const url = this.#url('stream');
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url, { headers: this.#headers(), handshakeTimeout: REQUEST_TIMEOUT_MS, maxPayload: MAX_MESSAGE_BYTES });
    this.#socket = socket;

    socket.on('open', () => {
      this.#reconnectDelayMs = RECONNECT_MIN_MS;
      this.#streamError = null;
      this.#pollError = null;
      this.#updateLastError();
      this.#stopPolling();
      this.#setConnection('stream');
      this.#scheduleRefresh();
    });
    socket.on('message', (data) => this.#receive(data));
    // On a rejected handshake, keep the server's JSON message (such as "call attachStream"), then abort.
    let rejection: string | null = null;
    socket.on('unexpected-response', (_request, response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (text.length < MAX_REFUSAL_CHARS) text += chunk;
      });
      response.on('end', () => {
        rejection = `stream ${url.href}: responded ${response.statusCode ?? 'without a status'}${serverMessage(text)}`;
        this.#streamError = rejection;
        this.#updateLastError();
        socket.terminate();
      });
    });
    // A failed handshake or a dropped connection emits 'error' before 'close'; 'close' does the recovery.
    socket.on('error', (err) => {
      // terminate() after a rejection reports an abort, which would hide the server's message.
      if (rejection !== null) return;

      this.#streamError = `stream ${url.href}: ${errorMessage(err)}`;
      this.#updateLastError();
    });
    socket.on('close', () => {
      if (this.#stopped || this.#socket !== socket) return;

      this.#socket = null;
      if (this.state.connection === 'stream') this.#setConnection('polling');
      this.#startPolling();
      this.#scheduleReconnect();
    });
  }

  /** Joins the errors of both channels, which can differ because fetch rejects some ports (such as 9) that ws still connects to. */
  #updateLastError(): void {
    const errors = [this.#streamError, this.#pollError].filter((error): error is string => error !== null);
    this.state.lastError = errors.length > 0 ? errors.join('; ') : null;
  }

  #scheduleReconnect(): void {
    if (this.#stopped || this.#reconnectTimer !== null) return;

    const delayMs = this.#reconnectDelayMs;
    this.#reconnectDelayMs = Math.min(delayMs * 2, RECONNECT_MAX_MS);
    this.#reconnectTimer = setTimeout(() => this.#connect(), delayMs);
  }

  #receive(data: RawData): void {
    let message: unknown;
    try {
      message = JSON.parse(data.toString());
    } catch {
      return;
    }

    const type = field(message, 'type');
    const payload = field(message, 'data');
    if (typeof type !== 'string') return;

    if (type === 'sample') {
      this.#acceptSample(payload);
      return;
    }

    const time = field(payload, 'time');
    this.state.events.unshift({ type, time: typeof time === 'number' ? time : Date.now(), text: describeTopEvent(type, payload) });
    this.state.events.length = Math.min(this.state.events.length, TOP_EVENTS_SHOWN);
    this.#options.onChange('event');
  }

  /** Keeps `sample` when it is newer than the one shown; a repeat from a poll is ignored. */
  #acceptSample(sample: unknown): boolean {
    const time = field(sample, 'time');
    if (typeof time !== 'number' || sample === null || typeof sample !== 'object') return false;

    const shownTime = field(this.state.sample, 'time');
    if (typeof shownTime === 'number' && time <= shownTime) return false;

    this.state.sample = sample as Record<string, unknown>;
    this.#options.onChange('sample');
    return true;
  }

  /** Reads GET /metrics once. Returns false when the request failed. */
  async #readMetrics(): Promise<boolean> {
    const url = this.#url('metrics');
    try {
      const response = await fetch(url, { headers: { accept: 'application/json', ...this.#headers() }, signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]) });
      if (!response.ok) {
        let hint = '';
        if (response.status === 401 || response.status === 403) hint = '; set HEADROOM_TOKEN to the API token';
        if (response.status === 404) hint = '; the URL should be the API prefix, such as http://127.0.0.1:9000/headroom';
        const detail = serverMessage(await response.text().catch(() => ''));
        throw new Error(`responded ${response.status}${detail}${hint}`);
      }
      const body = (await response.json()) as Record<string, unknown>;
      if (this.#stopped) return false;

      if (this.#pollError !== null) {
        this.#pollError = null;
        this.#updateLastError();
      }

      this.state.metrics = body;
      const sample = sampleFromMetrics(body);
      // While streaming, the stream's full samples are kept; the metrics only add the other sections.
      if (this.state.connection === 'stream' || sample === null || !this.#acceptSample(sample)) this.#options.onChange('metrics');
      return true;
    } catch (err) {
      if (this.#stopped) return false;
      this.#pollError = `GET ${url.href}: ${errorMessage(err)}`;
      this.#updateLastError();
      return false;
    }
  }

  #startPolling(): void {
    if (this.#pollTimer !== null || this.#stopped) return;

    const run = ++this.#pollRun;
    // Set before the first read, so the frame that read draws is labelled by how its figures came.
    if (this.state.connection !== 'stream') this.#setConnection('polling');
    const poll = async (): Promise<void> => {
      const ok = await this.#readMetrics();
      if (run !== this.#pollRun || this.#stopped) return;

      if (this.state.connection !== 'stream') this.#setConnection(ok ? 'polling' : 'offline');
      this.#pollTimer = setTimeout(() => void poll(), this.#options.pollMs);
    };
    this.#pollTimer = setTimeout(() => void poll(), 0);
  }

  #stopPolling(): void {
    if (this.#pollTimer !== null) clearTimeout(this.#pollTimer);
    this.#pollTimer = null;
    this.#pollRun++;
  }

  #scheduleRefresh(): void {
    if (this.#refreshTimer !== null) return;

    this.#refreshTimer = setTimeout(async () => {
      this.#refreshTimer = null;
      if (this.#stopped || this.state.connection !== 'stream') return;

      await this.#readMetrics();
      if (this.state.connection === 'stream') this.#scheduleRefresh();
    }, METRICS_REFRESH_MS);
  }
}

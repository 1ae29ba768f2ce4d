import { durationFlag, parseFlags, UsageError, type ParsedFlags } from './args.js';
import { renderTopFrame, type TopConnection } from './top-frame.js';
import { TopSource, type TopChange } from './top-source.js';

export const TOP_HELP = `headroom top URL [flags]
  Shows the live figures of a service that serves the headroom HTTP API,
  redrawn in place: level, heap and process budgets, GC, event loop, the
  forecast, shedding, pools, the governor and the last events. URL is the
  API prefix, such as http://127.0.0.1:9000/headroom (or the server's root
  for headroom run --port); http:// is assumed when no scheme is given.
  Follows <URL>/stream and polls <URL>/metrics while the stream is down,
  reconnecting on its own. q or Ctrl-C quits. When the API requires a token,
  set it in HEADROOM_TOKEN.
  On a terminal the frame is redrawn in place; otherwise one frame is
  printed per sample.

  --interval TIME   time between /metrics polls while the stream is down
                    (default 1s, from 100ms to 1h)
  --count N         exit after N frames, for scripts and logs
  --timeout TIME    with --count, exit with status 1 when no sample arrives
                    for this long (default 30s, from 1s to 1h)
`;

const VALUE_FLAGS = new Set(['--interval', '--count', '--timeout']);
const CTRL_C = 0x03;

export interface TopStreams {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

/** Reads the URL argument: an http(s) URL of the API prefix, with `http://` added when the scheme is missing. */
export function parseTopUrl(text: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`top expects the URL of the headroom API, such as http://127.0.0.1:9000/headroom, got "${text}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`top expects an http:// or https:// URL, got "${text}"`);
  }

  url.search = '';
  url.hash = '';
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

function countFlag(flags: ParsedFlags): number | null {
  const value = flags.values.get('--count');
  if (value === undefined) return null;

  const count = Number(value);
  if (!Number.isInteger(count) || count < 1 || count > 1_000_000) throw new UsageError(`--count expects a whole number from 1 to 1000000, got "${String(value)}"`);
  return count;
}

/** The stderr text for each connection state, written when piped output changes connection. */
const CONNECTION_TEXT: Record<TopConnection, string> = {
  connecting: 'connecting',
  stream: 'following the WebSocket stream',
  polling: 'polling GET /metrics, as the stream is not connected',
  offline: 'offline, retrying',
};

/** Splits `top URL [flags]` and `top [flags] URL`. */
function parseTopArguments(argv: string[]): { url: URL; pollMs: number; count: number | null; timeoutMs: number } {
  const urlFirst = argv[0] !== undefined && !argv[0].startsWith('-');
  const flags = parseFlags(urlFirst ? argv.slice(1) : argv, VALUE_FLAGS, new Set());
  const positional = urlFirst ? [argv[0] as string, ...flags.rest] : flags.rest;
  if (positional.length !== 1) {
    throw new UsageError(`top takes one URL, such as: headroom top http://127.0.0.1:9000/headroom${positional.length > 1 ? `, got "${positional.join(' ')}"` : ''}`);
  }

  const count = countFlag(flags);
  if (count === null && flags.values.has('--timeout')) {
    throw new UsageError('--timeout applies with --count (without --count, top runs until you quit): add --count N or drop --timeout');
  }

  return {
    url: parseTopUrl(positional[0] as string),
    pollMs: durationFlag(flags, '--interval', 1000, 100, 3_600_000),
    count,
    timeoutMs: durationFlag(flags, '--timeout', 30_000, 1000, 3_600_000),
  };
}

/**
 * Draws frames on a terminal: in the alternate screen with the cursor
 * hidden, each frame over the last, cut to the window. `close()` restores
 * the screen the user had.
 */
class TerminalScreen {
  readonly #stream: TopStreams['stdout'];

  constructor(stream: TopStreams['stdout']) {
    this.#stream = stream;
    // Alternate screen on, cursor hidden.
    stream.write('\x1b[?1049h\x1b[?25l');
  }

  draw(lines: string[]): void {
    // A pseudo-terminal with no size set reports 0 columns.
    const columns = this.#stream.columns || 100;
    const rows = this.#stream.rows || 40;
    const visible = [...lines.slice(0, rows - 2), '', 'q quits'].map((line) => line.slice(0, columns));
    // Home, each line followed by clear-to-end-of-line, then clear below. `\r\n` because raw mode may turn off output newline translation.
    this.#stream.write(`\x1b[H${visible.join('\x1b[K\r\n')}\x1b[K\x1b[J`);
  }

  close(): void {
    // Cursor shown, alternate screen off.
    this.#stream.write('\x1b[?25h\x1b[?1049l');
  }
}

/**
 * Runs `headroom top URL`: follows a running service and draws its figures
 * until q, Ctrl-C, SIGTERM or `--count` frames. Returns 0 after a clean
 * quit, and 1 when `--count` was given and no sample came for `--timeout`.
 * Raw mode and the screen are restored first.
 */
export async function topCommand(argv: string[], streams: TopStreams = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env }): Promise<number> {
  const { url, pollMs, count, timeoutMs } = parseTopArguments(argv);
  const { stdin, stdout, stderr } = streams;
  const interactive = stdout.isTTY === true;
  const token = streams.env.HEADROOM_TOKEN?.trim() || null;

  let framesDrawn = 0;
  let drawTimer: NodeJS.Timeout | null = null;
  const screen = interactive ? new TerminalScreen(stdout) : null;
  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => (finish = resolve));

  const draw = (): void => {
    drawTimer = null;
    const lines = renderTopFrame(source.state);
    if (screen) screen.draw(lines);
    else stdout.write(`${lines.join('\n')}\n\n`);

    framesDrawn++;
    if (count !== null && framesDrawn >= count) finish(0);
  };

  // A script that asked for N frames must not wait forever on a service that is down.
  let stallTimer: NodeJS.Timeout | null = null;
  const armStallTimer = (): void => {
    if (count === null) return;

    if (stallTimer !== null) clearTimeout(stallTimer);
    stallTimer = setTimeout(() => {
      const lastError = source.state.lastError ? `; last error: ${source.state.lastError}` : '';
      stderr.write(`headroom top: no sample from ${source.state.url} in ${timeoutMs / 1000} s (--timeout)${lastError}\n`);
      finish(1);
    }, timeoutMs);
  };

  const onChange = (change: TopChange): void => {
    if (change === 'sample') armStallTimer();
    if (!interactive) {
      // Piped output gets one frame per sample, and connection changes on stderr.
      if (change === 'connection') stderr.write(`headroom top: ${CONNECTION_TEXT[source.state.connection]}${source.state.lastError && source.state.connection !== 'stream' ? ` (${source.state.lastError})` : ''}\n`);
      if (change === 'sample') draw();
      return;
    }
    // On a terminal every change is drawn, at most every 100 ms.
    drawTimer ??= setTimeout(draw, 100);
  };

  const source = new TopSource({ baseUrl: url, pollMs, token, onChange });

  const onKey = (chunk: Buffer | string): void => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (bytes.includes(CTRL_C) || bytes.includes(0x71 /* q */) || bytes.includes(0x51 /* Q */)) finish(0);
  };
  const onSignal = (): void => finish(0);
  const onResize = (): void => {
    drawTimer ??= setTimeout(draw, 0);
  };

  // In raw mode Ctrl-C arrives as a byte instead of SIGINT; the handler below covers the other cases.
  const rawMode = stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  if (rawMode) stdin.setRawMode?.(true);
  stdin.on('data', onKey);
  stdin.resume();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  if (interactive) stdout.on('resize', onResize);

  source.start();
  armStallTimer();
  if (interactive) onChange('connection');

  const code = await finished;

  source.stop();
  if (drawTimer !== null) clearTimeout(drawTimer);
  if (stallTimer !== null) clearTimeout(stallTimer);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onSignal);
  stdout.off('resize', onResize);
  stdin.off('data', onKey);
  if (rawMode) stdin.setRawMode?.(false);
  stdin.pause();
  screen?.close();
  return code;
}

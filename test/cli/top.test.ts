import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { parseTopUrl, topCommand } from '../../src/cli/top.js';
import { UsageError } from '../../src/cli/args.js';
import { CLI_PATH, runToEnd } from '../helpers/cli.js';
import { startDashboardServer, type DashboardServer } from '../helpers/dashboard-server.js';
import { createScriptedManager, sampleAt, type ScriptedSetup } from '../helpers/http.js';

const WAIT_MS = 10_000;
const SCRIPT_MISSING = spawnSync('script', ['--version']).status === 0 ? false : 'util-linux script not found: the pseudo-terminal tests need it';

interface Running {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  errors: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serveScripted(options: Parameters<typeof startDashboardServer>[1] = {}): Promise<{ setup: ScriptedSetup; server: DashboardServer }> {
  const setup = createScriptedManager();
  cleanups.push(() => void setup.manager.stop());
  sampleAt(setup, 0.3);
  const server = await startDashboardServer(setup.manager, options);
  cleanups.push(() => server.close());
  return { setup, server };
}

/** Starts a command with piped stdio; it is killed with SIGKILL after 20 s or at cleanup, so none is left behind. */
function start(command: string, args: string[]): Running {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, HEADROOM_TOKEN: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return { child, output: () => stdout, errors: () => stderr, exited };
}

/** Waits until `check` returns true, polling every 20 ms, for at most 10 s. */
async function waitUntil(check: () => boolean, what: () => string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting: ${what()}`);
    await delay(20);
  }
}

/** Takes a sample every 100 ms until the returned function is called. */
function keepSampling(setup: ScriptedSetup, ratio: () => number): () => void {
  const timer = setInterval(() => sampleAt(setup, ratio()), 100);
  cleanups.push(() => clearInterval(timer));
  return () => clearInterval(timer);
}

describe('headroom top with captured output', () => {
  it('prints plain frames and stops after --count', async () => {
    const { setup, server } = await serveScripted();
    let ratio = 0.3;
    const run = start(process.execPath, [CLI_PATH, 'top', server.apiUrl, '--count', '4']);
    keepSampling(setup, () => ratio);

    await waitUntil(() => run.output().includes('level NORMAL'), () => run.output() + run.errors());
    ratio = 0.85;
    const { code } = await run.exited;

    const output = run.output();
    assert.equal(code, 0, run.errors());
    assert.doesNotMatch(output, /\x1b\[/, 'plain frames carry no escape sequences');
    const frames = output.split('\n\n').filter((frame) => frame.trim() !== '');
    assert.equal(frames.length, 4, output);
    // The first read of /metrics at start can draw before the stream opens, labelled `connecting`.
    for (const frame of frames) {
      assert.match(frame, new RegExp(`^headroom top · ${server.apiUrl.replace(/[.]/g, '\\.')} · (live|connecting) {2}\\d\\d:\\d\\d:\\d\\d {2}level (NORMAL|HIGH) \\(process budget\\)`, 'm'));
      assert.match(frame, /^heap {5}10\.0 MiB \/ \d+\.\d MiB/m);
      assert.match(frame, /^process  \d+\.\d MiB \/ 1\.0 GiB/m);
      assert.match(frame, /^forecast live set 10\.0 MiB/m);
    }
    const last = frames[frames.length - 1] ?? '';
    assert.match(last, / · live {2}\d\d:\d\d:\d\d {2}level HIGH/);
    assert.match(last, /^ {2}\d\d:\d\d:\d\d pressure {5}normal → high on the process budget, 85 % used$/m);
  });

  it('quits on q from a pipe', async () => {
    const { setup, server } = await serveScripted();
    const run = start(process.execPath, [CLI_PATH, 'top', server.apiUrl]);
    keepSampling(setup, () => 0.3);

    await waitUntil(() => run.output().includes('level NORMAL'), () => run.output() + run.errors());
    run.child.stdin.write('q\n');
    const { code, signal } = await run.exited;
    assert.equal(signal, null);
    assert.equal(code, 0, run.errors());
  });

  it('polls metrics without a stream', async () => {
    const { setup, server } = await serveScripted({ stream: false });
    const run = start(process.execPath, [CLI_PATH, 'top', server.apiUrl, '--interval', '100ms', '--count', '3']);
    keepSampling(setup, () => 0.4);

    const { code } = await run.exited;
    assert.equal(code, 0, run.errors());
    const frames = run.output().split('\n\n').filter((frame) => frame.trim() !== '');
    assert.equal(frames.length, 3, run.output());
    // The first read at start may draw before the stream has failed, labelled `connecting`.
    assert.match(frames[2] ?? '', /^headroom top · \S+ · polling \/metrics {2}\d\d:\d\d:\d\d {2}level NORMAL/);
    assert.match(run.errors(), /headroom top: polling GET \/metrics, as the stream is not connected/);
  });

  it('gives up with --count when the service is unreachable', async () => {
    // Port 9 on loopback (discard) has no listener here: every connection is refused at once.
    const run = start(process.execPath, [CLI_PATH, 'top', 'http://127.0.0.1:9/headroom', '--count', '2', '--timeout', '1s']);

    const { code } = await run.exited;

    assert.equal(code, 1, run.errors());
    assert.equal(run.output(), '');
    assert.match(run.errors(), /headroom top: no sample from http:\/\/127\.0\.0\.1:9\/headroom in 1 s \(--timeout\); last error: .*(ECONNREFUSED|fetch failed)/);
    // fetch rejects port 9 itself ("bad port") while ws tries to connect, so the line quotes each channel's error.
    assert.match(run.errors(), /last error: stream ws:\/\/127\.0\.0\.1:9\/headroom\/stream: [^;]+; GET http:\/\/127\.0\.0\.1:9\/headroom\/metrics: fetch failed: bad port/);
  });

  it('quotes a rejected handshake message', async () => {
    const body = JSON.stringify({ error: 'not_implemented', message: 'No WebSocket stream is attached to this server' });
    const server = createServer((_request, response) => {
      response.writeHead(501, { 'content-type': 'application/json' });
      response.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;

    try {
      const run = start(process.execPath, [CLI_PATH, 'top', `http://127.0.0.1:${port}/headroom`, '--count', '1', '--timeout', '1s']);
      const { code } = await run.exited;

      assert.equal(code, 1, run.errors());
      assert.match(run.errors(), /stream ws:\/\/127\.0\.0\.1:\d+\/headroom\/stream: responded 501: No WebSocket stream is attached to this server/);
      assert.match(run.errors(), /GET http:\/\/127\.0\.0\.1:\d+\/headroom\/metrics: responded 501: No WebSocket stream is attached to this server/);
    } finally {
      server.close();
    }
  });

  it('rejects a URL that is not http', async () => {
    const result = await runToEnd(process.execPath, [CLI_PATH, 'top', 'ftp://127.0.0.1/'], { timeoutMs: 10_000 });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /top expects an http:\/\/ or https:\/\/ URL, got "ftp:\/\/127\.0\.0\.1\/"/);
  });

  it('rejects --timeout without --count', async () => {
    const result = await runToEnd(process.execPath, [CLI_PATH, 'top', 'http://127.0.0.1:9/headroom', '--timeout', '5s'], { timeoutMs: 10_000 });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--timeout applies with --count/);
  });

  it('prints its help for --help', async () => {
    const result = await runToEnd(process.execPath, [CLI_PATH, 'top', '--help'], { timeoutMs: 10_000 });
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^headroom top URL \[flags\]/);
    assert.match(result.stdout, /--timeout TIME {4}with --count/);
  });

  it('requires one URL', async () => {
    const result = await runToEnd(process.execPath, [CLI_PATH, 'top'], { timeoutMs: 10_000 });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /top takes one URL, such as: headroom top http:\/\/127\.0\.0\.1:9000\/headroom/);
  });
});

describe('topCommand in process', () => {
  it('restores raw mode and listeners on q', async () => {
    const { setup, server } = await serveScripted();
    keepSampling(setup, () => 0.3);
    const modes: boolean[] = [];
    const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: (mode: boolean) => modes.push(mode) });
    const stdout = Object.assign(new PassThrough(), { isTTY: true, columns: 120, rows: 40 });
    const stderr = new PassThrough();
    let output = '';
    stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const signalListeners = process.listenerCount('SIGINT');

    const finished = topCommand([server.apiUrl], { stdin, stdout, stderr, env: {} });
    await waitUntil(() => /level NORMAL/.test(output), () => JSON.stringify(output));
    assert.deepEqual(modes, [true]);
    assert.equal(process.listenerCount('SIGINT'), signalListeners + 1);

    stdin.write('q');
    assert.equal(await finished, 0);
    assert.deepEqual(modes, [true, false]);
    assert.equal(process.listenerCount('SIGINT'), signalListeners);
    assert.equal(stdin.listenerCount('data'), 0);
    assert.ok(output.endsWith('\x1b[?25h\x1b[?1049l'), JSON.stringify(output.slice(-40)));
  });
});

describe('parseTopUrl', () => {
  it('adds http and drops the trailing slash', () => {
    assert.equal(parseTopUrl('127.0.0.1:9000/headroom/').href, 'http://127.0.0.1:9000/headroom');
    assert.equal(parseTopUrl('https://ops.example.com/headroom?x=1#y').href, 'https://ops.example.com/headroom');
    assert.equal(parseTopUrl('http://[::1]:9000').href, 'http://[::1]:9000/');
  });

  it('rejects other schemes', () => {
    assert.throws(() => parseTopUrl('ws://127.0.0.1:9000'), UsageError);
    assert.throws(() => parseTopUrl('http://'), UsageError);
  });
});

describe('headroom top on a pseudo-terminal', { skip: SCRIPT_MISSING }, () => {
  /**
   * Runs top under `script`, which gives it a pseudo-terminal and passes
   * this test's stdin to it. After top exits, `stty -a` prints the
   * terminal's modes. Node also resets the terminal when it exits, so the
   * in-process test below is the one that checks `topCommand` itself.
   */
  function startOnTerminal(url: string): Running {
    const command = `stty cols 120 rows 40; ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI_PATH)} top ${url}; code=$?; echo; stty -a; exit $code`;
    return start('script', ['-qfec', command, '/dev/null']);
  }

  for (const [name, key] of [['q', 'q'], ['Ctrl-C', '\x03']] as const) {
    it(`redraws in place and quits on ${name}`, async () => {
      const { setup, server } = await serveScripted();
      const run = startOnTerminal(server.apiUrl);
      keepSampling(setup, () => 0.3);

      // Two frames drawn, each from the top of the alternate screen.
      await waitUntil(() => (run.output().match(/\x1b\[Hheadroom top · \S+ · live {2}\d\d:\d\d:\d\d {2}level NORMAL/g) ?? []).length >= 2, () => JSON.stringify(run.output()));
      run.child.stdin.write(key);
      const { code } = await run.exited;

      const output = run.output();
      assert.equal(code, 0, JSON.stringify(output) + run.errors());
      assert.ok(output.includes('\x1b[?1049h\x1b[?25l'), 'enters the alternate screen and hides the cursor');
      assert.ok(output.includes('\x1b[?25h\x1b[?1049l'), 'shows the cursor and leaves the alternate screen');
      assert.match(output, /heap {5}10\.0 MiB \/ \d+\.\d MiB/);
      assert.match(output, /q quits/);

      const modes = output.slice(output.lastIndexOf('\x1b[?1049l'));
      assert.match(modes, /(^|\s)icanon(\s|$)/m, `canonical mode restored: ${modes}`);
      assert.match(modes, /(^|\s)echo(\s|$)/m, `echo restored: ${modes}`);
    });
  }
});

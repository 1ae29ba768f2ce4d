import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { json, send } from '../helpers/http.js';

const SERVER_PATH = fileURLToPath(new URL('../fixtures/http-blocking-server.js', import.meta.url));
const LOAD_MS = 4000;
const CONNECTIONS = 8;
const MAX_REQUESTS = 20_000;
const BUCKET_MS = 500;

interface Outcome {
  status: number;
  retryAfter: string | undefined;
  atMs: number;
}

let child: ChildProcess;
let port: number;

/** Starts the blocking server and reads its port, for at most 10 s. */
function startServer(): Promise<number> {
  child = spawn(process.execPath, [SERVER_PATH], { env: { ...process.env, HEADROOM_TEST_BLOCKING_SERVER: '1' }, stdio: ['pipe', 'pipe', 'inherit'] });

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the blocking server did not print its port within 10 s')), 10_000);
    child.stdout?.once('data', (chunk: Buffer) => {
      clearTimeout(timer);
      resolve((JSON.parse(chunk.toString()) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`the blocking server exited with code ${code}`)));
  });
}

function getWork(agent: Agent, startMs: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path: '/work', agent, timeout: 5000 }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'], atMs: performance.now() - startMs }));
    });
    request.on('timeout', () => request.destroy(new Error('GET /work timed out after 5 s')));
    request.on('error', reject);
    request.end();
  });
}

/** Sends requests over CONNECTIONS keep-alive connections for LOAD_MS, at most MAX_REQUESTS in all. */
async function runLoad(): Promise<{ outcomes: Outcome[]; errors: Error[] }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const outcomes: Outcome[] = [];
  const errors: Error[] = [];
  const startMs = performance.now();

  const loop = async (): Promise<void> => {
    while (performance.now() - startMs < LOAD_MS && outcomes.length + errors.length < MAX_REQUESTS) {
      try {
        outcomes.push(await getWork(agent, startMs));
      } catch (err) {
        errors.push(err as Error);
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, loop));
  agent.destroy();
  return { outcomes, errors };
}

describe('Shedding with the loop blocked 400 ms every second', () => {
  let outcomes: Outcome[] = [];
  let errors: Error[] = [];
  let blocking: { maxShedRatio: number; samplesShedding: number; samples: number };

  before(async () => {
    port = await startServer();
    ({ outcomes, errors } = await runLoad());
    blocking = json(await send(port, '/headroom/metrics')).blocking as typeof blocking;
  });

  after(async () => {
    child.stdin?.end();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  });

  it('completes every request', () => {
    assert.deepEqual(errors.map((error) => error.message), []);
    assert.ok(outcomes.length > 100, `expected over 100 requests in ${LOAD_MS} ms, got ${outcomes.length}`);
    assert.deepEqual([...new Set(outcomes.map((outcome) => outcome.status))].filter((status) => status !== 200 && status !== 503), []);
  });

  it('never rejects all requests', () => {
    const buckets = new Map<number, { ok: number; shed: number }>();
    for (const outcome of outcomes) {
      const bucket = buckets.get(Math.floor(outcome.atMs / BUCKET_MS)) ?? { ok: 0, shed: 0 };
      if (outcome.status === 200) bucket.ok++;
      else bucket.shed++;
      buckets.set(Math.floor(outcome.atMs / BUCKET_MS), bucket);
    }

    for (const [index, bucket] of buckets) {
      assert.ok(bucket.ok > 0, `every ${BUCKET_MS} ms window has a 2xx; window ${index} had ${bucket.shed} rejected and none served`);
    }
    const shed = outcomes.filter((outcome) => outcome.status === 503).length;
    assert.ok(shed <= Math.ceil(outcomes.length * 0.5), `at most half the requests are shed, got ${shed} of ${outcomes.length}`);
  });

  it('caps the shed share for a busy loop', (t) => {
    const shed = outcomes.filter((outcome) => outcome.status === 503).length;
    t.diagnostic(`${outcomes.length} requests, ${shed} shed; ${blocking.samplesShedding} of ${blocking.samples} samples shedding, max share ${blocking.maxShedRatio}`);
    assert.ok(blocking.samples > 5, `the manager sampled ${blocking.samples} times`);
    assert.ok(blocking.maxShedRatio <= 0.5, `the share never passed eventLoop.maxShedRatio, got ${blocking.maxShedRatio}`);
    assert.ok(blocking.maxShedRatio > 0, 'a blocked interval should raise the share above 0');
  });

  it('sends Retry-After with each 503', () => {
    for (const outcome of outcomes.filter((candidate) => candidate.status === 503)) assert.equal(outcome.retryAfter, '10');
  });
});

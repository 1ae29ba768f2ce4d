import type { EventEmitter } from 'node:events';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createMemoryManager, type MemoryManager } from '../../src/manager/manager.js';
import type { MemoryManagerOptions } from '../../src/manager/options.js';
import { silentLogger } from '../../src/util/logger.js';
import { ScriptedClock, ScriptedProbe } from './scripted.js';

export interface ScriptedSetup {
  manager: MemoryManager;
  clock: ScriptedClock;
  probe: ScriptedProbe;
}

const MIB = 2 ** 20;

/** The process limit of a scripted manager unless a test sets another: `sampleAt` scripts RSS against it. */
export const SCRIPTED_LIMIT_BYTES = 1024 * MIB;

/**
 * Creates a started manager on a scripted clock and probe, with a 1 GiB
 * process limit. The one-hour intervals keep the real timer from firing, so
 * only `sampleNow()` takes samples, the warm-up is off, and the automatic
 * responses are off so that only the test emits `action` events.
 */
export function createScriptedManager(options: MemoryManagerOptions = {}): ScriptedSetup {
  const clock = new ScriptedClock();
  const probe = new ScriptedProbe();
  const manager = createMemoryManager({
    clock,
    probe,
    logger: silentLogger,
    intervalMs: '1h',
    pressureIntervalMs: '1h',
    warmUpMs: 0,
    limit: SCRIPTED_LIMIT_BYTES,
    responses: { automatic: false },
    ...options,
  });
  manager.start();
  return { manager, clock, probe };
}

/**
 * Advances the clock by `stepMs` and takes a sample whose process usage ratio
 * (RSS over the process limit) is `ratio`. The heap stays small, so the
 * process budget sets the level from this one reading, while the heap budget
 * is judged on an estimated live set that follows heap used with a lag.
 */
export function sampleAt(setup: ScriptedSetup, ratio: number, stepMs = 1000): void {
  const limitBytes = setup.manager.limits().limitBytes;
  if (limitBytes === null) throw new Error('sampleAt() scripts RSS against the process limit, and this manager has none');

  setup.probe.rss = Math.round(ratio * limitBytes);
  setup.clock.advance(stepMs);
  setup.manager.sampleNow();
}

/** Emits an event the manager's type does not list yet, as the components wired to it later will. */
export function emitManagerEvent(manager: MemoryManager, name: string, payload: unknown): void {
  (manager as unknown as EventEmitter).emit(name, payload);
}

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Sends one request to 127.0.0.1 and reads the whole response. Fails after 5 s. */
export function send(port: number, path: string, options: RequestOptions = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));

    const request = httpRequest({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers, timeout: 5000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString() }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`Request ${options.method ?? 'GET'} ${path} timed out after 5 s`)));
    request.on('error', reject);
    request.end(options.body);
  });
}

/** Parses a JSON response body, failing with the text when it is not JSON. */
export function json(result: HttpResult): Record<string, unknown> {
  try {
    return JSON.parse(result.text) as Record<string, unknown>;
  } catch {
    throw new Error(`Expected a JSON body, got status ${result.status}: ${result.text.slice(0, 200)}`);
  }
}

export function postJson(port: number, path: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  return send(port, path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  help: string;
  type: string;
  samples: PromSample[];
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?$/;
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/y;

function parseValue(text: string, line: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  // prom-client 15 prints NaN as `Nan`; Prometheus parses floats case-insensitively, so both are valid.
  if (text.toLowerCase() === 'nan') return Number.NaN;

  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`Invalid sample value in line: ${line}`);
  return value;
}

function parseLabels(text: string | undefined, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!text) return labels;

  LABEL_PAIR.lastIndex = 0;
  while (LABEL_PAIR.lastIndex < text.length) {
    const match = LABEL_PAIR.exec(text);
    if (!match) throw new Error(`Invalid labels in line: ${line}`);
    labels[match[1] as string] = (match[2] as string).replace(/\\(.)/g, (_, char: string) => (char === 'n' ? '\n' : char));
  }
  return labels;
}

/**
 * Parses Prometheus text exposition format line by line. Throws on a line
 * that is neither a comment, blank, nor a valid sample, and on a sample whose
 * family had no `# TYPE` line before it.
 */
export function parsePrometheus(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();

  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;

    const help = /^# HELP (\S+) (.*)$/.exec(line);
    if (help) {
      const family = families.get(help[1] as string) ?? { name: help[1] as string, help: '', type: '', samples: [] };
      family.help = help[2] as string;
      families.set(family.name, family);
      continue;
    }

    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      const family = families.get(type[1] as string) ?? { name: type[1] as string, help: '', type: '', samples: [] };
      family.type = type[2] as string;
      families.set(family.name, family);
      continue;
    }
    if (line.startsWith('#')) continue;

    const sample = SAMPLE_LINE.exec(line);
    if (!sample) throw new Error(`Invalid line in Prometheus text: ${line}`);

    const name = sample[1] as string;
    const familyName = [...families.keys()].reverse().find((candidate) => name === candidate || /^_(bucket|sum|count|total|created)$/.test(name.slice(candidate.length)) && name.startsWith(candidate));
    const family = familyName === undefined ? undefined : families.get(familyName);
    if (!family || family.type === '') throw new Error(`Sample without a # TYPE line before it: ${line}`);

    family.samples.push({ name, labels: parseLabels(sample[2], line), value: parseValue(sample[3] as string, line) });
  }
  return families;
}

/** Returns the value of the one sample of `family` whose labels include `labels`, or throws. */
export function promValue(families: Map<string, PromFamily>, family: string, labels: Record<string, string> = {}): number {
  const found = families.get(family);
  if (!found) throw new Error(`No metric family ${family}; found ${[...families.keys()].join(', ')}`);

  const matches = found.samples.filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  if (matches.length !== 1) throw new Error(`Expected one ${family} sample with ${JSON.stringify(labels)}, found ${matches.length}`);
  return (matches[0] as PromSample).value;
}

import { silentLogger } from '../util/logger.js';
import { resolveOptions, type MemoryManagerOptions } from './options.js';

/** The environment variables `headroom/register` reads, with what each sets. */
export const ENVIRONMENT_VARIABLES = {
  HEADROOM_LIMIT: 'process limit, in bytes or as "512MiB" (option `limit`)',
  HEADROOM_INTERVAL: 'time between samples, as ms or "1s" (option `intervalMs`)',
  HEADROOM_WARMUP: 'warm-up grace after start, as ms or "5s" (option `warmUpMs`)',
  HEADROOM_THRESHOLDS: 'moderate,high,critical usage ratios, such as "0.7,0.8,0.9" (option `thresholds`)',
  HEADROOM_DASHBOARD: '"1" draws the console dashboard on stderr',
  HEADROOM_PORT: 'serves the HTTP API and dashboard on 127.0.0.1 at this port',
} as const;

/**
 * Other `HEADROOM_*` names that are not typos: HEADROOM_TOKEN is the API token
 * `headroom top` and applications read, and HEADROOM_IPC is set by `headroom run`
 * in the program it starts. Names under HEADROOM_TEST_ and HEADROOM_BENCH_
 * belong to this project's tests and benchmarks.
 */
const OTHER_KNOWN_VARIABLES = new Set(['HEADROOM_TOKEN', 'HEADROOM_IPC']);
const RESERVED_PREFIXES = ['HEADROOM_TEST_', 'HEADROOM_BENCH_'];

/** Returns the `HEADROOM_*` variable names that headroom does not read, such as a misspelt HEADROOM_LIMT, sorted. */
export function unknownEnvironmentVariables(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith('HEADROOM_'))
    .filter((name) => !Object.hasOwn(ENVIRONMENT_VARIABLES, name) && !OTHER_KNOWN_VARIABLES.has(name))
    .filter((name) => !RESERVED_PREFIXES.some((prefix) => name.startsWith(prefix)))
    .sort();
}

/**
 * Builds manager options from `HEADROOM_*` variables. Values are checked by the
 * manager; this only reshapes them and names the variable when it cannot.
 */
export function optionsFromEnvironment(env: NodeJS.ProcessEnv): MemoryManagerOptions {
  const options: MemoryManagerOptions = {};

  if (env.HEADROOM_LIMIT) options.limit = checked('HEADROOM_LIMIT', { limit: env.HEADROOM_LIMIT }).limit;
  if (env.HEADROOM_INTERVAL) options.intervalMs = checked('HEADROOM_INTERVAL', { intervalMs: env.HEADROOM_INTERVAL }).intervalMs;
  if (env.HEADROOM_WARMUP) options.warmUpMs = checked('HEADROOM_WARMUP', { warmUpMs: env.HEADROOM_WARMUP }).warmUpMs;

  if (env.HEADROOM_THRESHOLDS) {
    const ratios = env.HEADROOM_THRESHOLDS.split(',').map((part) => Number(part.trim()));
    if (ratios.length !== 3 || ratios.some((ratio) => !Number.isFinite(ratio))) {
      throw new RangeError(
        `Invalid environment variable HEADROOM_THRESHOLDS: expected three ratios "moderate,high,critical" such as "0.7,0.8,0.9", got ${JSON.stringify(env.HEADROOM_THRESHOLDS)}`,
      );
    }
    const [moderate, high, critical] = ratios as [number, number, number];
    options.thresholds = checked('HEADROOM_THRESHOLDS', { thresholds: { moderate, high, critical } }).thresholds;
  }

  return options;
}

/** Validates one option as the manager would, naming the variable instead of the option in the error. */
function checked(variable: string, options: MemoryManagerOptions): MemoryManagerOptions {
  try {
    resolveOptions({ ...options, logger: silentLogger });
  } catch (err) {
    // An environment variable cannot hold null: leaving it unset means no value.
    const optionMessage = err instanceof Error ? err.message : String(err);
    const message = optionMessage.replace(/^Invalid option `[^`]+`: /, '').replace(', or null for none', '');
    throw new RangeError(`Invalid environment variable ${variable}: ${message}`, { cause: err });
  }
  return options;
}

/** Reads a yes/no variable: "1" or "true" is on, "0", "false" or unset is off; anything else is an error naming it. */
export function flagFromEnvironment(env: NodeJS.ProcessEnv, variable: string): boolean {
  const value = env[variable];
  if (value === undefined || value === '' || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  throw new RangeError(`Invalid environment variable ${variable}: expected 1, true, 0 or false, got ${JSON.stringify(value)}`);
}

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { invalidOption } from '../util/validate.js';
import { booleanOption, errorMessage, objectOption, rejectUnknownOptions } from './response-options.js';

/** Whether this process can force a full garbage collection, and how. */
export type GcAvailability =
  | {
      available: true;
      gc: () => void;
      /** `expose-gc` when node was started with the flag, `enabled-at-runtime` when headroom turned it on. */
      source: 'expose-gc' | 'enabled-at-runtime';
      /** True when `--expose-gc` also sits after the script name, where node passes it to the script. */
      flagAfterScript: boolean;
    }
  | {
      available: false;
      gc: null;
      /** A sentence that explains why forced GC is off and how to turn it on. */
      reason: string;
      flagAfterScript: boolean;
    };

export interface DetectGcOptions {
  /**
   * Turns on `--expose-gc` at run time when node was started without it, by
   * setting the V8 flag and reading `gc` from a new VM context. Default false.
   */
  enableAtRuntime?: boolean;
  /** The `gc` global to check. Default `globalThis.gc`. Tests pass their own. */
  globalGc?: unknown;
  /** Default `process.argv`. */
  argv?: readonly string[];
  /** Default `process.execArgv`. */
  execArgv?: readonly string[];
}

const EXPOSE_GC_FLAGS = ['--expose-gc', '--expose_gc'];
const KNOWN_OPTIONS = ['enableAtRuntime', 'globalGc', 'argv', 'execArgv'] as const;

/** The gc function from the first successful run-time enable, reused so later calls leave the V8 flag alone. */
let runtimeGc: (() => void) | null = null;

/** Detects whether forced GC is available, and with `enableAtRuntime` turns it on when it is not. */
export function detectForcedGc(options: DetectGcOptions = {}): GcAvailability {
  const resolved = objectOption('options', options);
  rejectUnknownOptions('options', resolved, KNOWN_OPTIONS);

  const enableAtRuntime = booleanOption('enableAtRuntime', resolved.enableAtRuntime, false);
  const globalGc = 'globalGc' in resolved ? resolved.globalGc : (globalThis as { gc?: unknown }).gc;
  const argv = stringArrayOption('argv', resolved.argv, process.argv);
  const execArgv = stringArrayOption('execArgv', resolved.execArgv, process.execArgv);
  const flagAfterScript = isFlagAfterScript(argv, execArgv);

  if (typeof globalGc === 'function') {
    return { available: true, gc: globalGc as () => void, source: 'expose-gc', flagAfterScript };
  }

  if (enableAtRuntime) {
    try {
      return { available: true, gc: enableGcAtRuntime(), source: 'enabled-at-runtime', flagAfterScript };
    } catch (error) {
      return { available: false, gc: null, reason: `enabling gc at run time failed: ${errorMessage(error)}`, flagAfterScript };
    }
  }

  return { available: false, gc: null, reason: unavailableReason(flagAfterScript), flagAfterScript };
}

/**
 * Returns true when `--expose-gc` follows the script name in `argv` but is
 * missing from `execArgv`: node then hands the flag to the script as an
 * argument. `argv[0]` is node and `argv[1]` the script.
 */
export function isFlagAfterScript(argv: readonly string[], execArgv: readonly string[]): boolean {
  const inScriptArgs = argv.slice(2).some((arg) => EXPOSE_GC_FLAGS.includes(arg));
  const inNodeArgs = execArgv.some((arg) => EXPOSE_GC_FLAGS.includes(arg));
  return inScriptArgs && !inNodeArgs;
}

function stringArrayOption(name: string, value: unknown, fallback: readonly string[]): readonly string[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw invalidOption(name, 'an array of strings', value, 'type');
  return value as string[];
}

/** The option that enables forced GC without the flag, as named on a manager and on a forced-GC controller. */
const ENABLE_HINT = 'set responses.forcedGc.enableAtRuntime: true on the manager (enableAtRuntime: true on a forced-GC controller)';

function unavailableReason(flagAfterScript: boolean): string {
  if (flagAfterScript) {
    return (
      'node was started without --expose-gc: the flag was placed after the script name (`node app.js --expose-gc`), ' +
      'so node passed it to the script as an argument. Put it before the script: `node --expose-gc app.js`, ' +
      `or ${ENABLE_HINT}.`
    );
  }
  return `node was started without --expose-gc, so globalThis.gc is missing. Start node with \`node --expose-gc app.js\`, or ${ENABLE_HINT}.`;
}

/**
 * Sets `--expose-gc`, reads `gc` from a new VM context, then clears the flag
 * again so contexts created later do not get a `gc` global.
 * NOTE: Node's documentation calls changing V8 flags after start-up
 * unpredictable; this sequence worked on Node 20.20.
 */
function enableGcAtRuntime(): () => void {
  if (runtimeGc) return runtimeGc;

  setFlagsFromString('--expose-gc');
  try {
    const gc: unknown = runInNewContext('gc');
    if (typeof gc !== 'function') throw new Error(`the new context's gc is ${typeof gc}, not a function`);

    runtimeGc = gc as () => void;
    return runtimeGc;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}



const MIB = 2 ** 20;

/** V8 adds about 48 MiB of young generation on top of `--max-old-space-size` (measured on Node 20, 64-bit). */
export const YOUNG_GENERATION_BYTES = 48 * MIB;

/** The smallest old space `headroom run` sets, so a tiny limit still starts node. */
const MIN_OLD_SPACE_MIB = 16;

/**
 * Sizes the old space for a process limit: 75 % of the limit minus V8's young
 * generation. The whole heap then stays at about 75 % of the limit, and the
 * rest is left for code, stacks, Buffers and native memory.
 */
export function oldSpaceMiBForLimit(limitBytes: number): number {
  const oldSpaceBytes = limitBytes * 0.75 - YOUNG_GENERATION_BYTES;
  return Math.max(MIN_OLD_SPACE_MIB, Math.floor(oldSpaceBytes / MIB));
}

/** Returns true when the command line or NODE_OPTIONS already sets the old-space size. */
export function setsOldSpace(commandArgs: string[], nodeOptions: string | undefined): boolean {
  const pattern = /--max[-_]old[-_]space[-_]size/;
  return commandArgs.some((arg) => pattern.test(arg)) || pattern.test(nodeOptions ?? '');
}

export interface ChildEnvironmentOptions {
  limitBytes: number | null;
  intervalMs: number;
  exposeGc: boolean;
  commandArgs: string[];
  /** Extra variables, such as the demo's PORT. */
  extra?: Record<string, string>;
}

/** Returns the URL of this package's `register` entry, which `--import` loads in the child. */
export function registerModuleUrl(): string {
  return new URL('../register.js', import.meta.url).href;
}

/** Builds the child's environment: the preload in NODE_OPTIONS, heap sizing, and HEADROOM_* settings. */
export function childEnvironment(parent: NodeJS.ProcessEnv, options: ChildEnvironmentOptions): NodeJS.ProcessEnv {
  const nodeOptions = [parent.NODE_OPTIONS ?? '', `--import="${registerModuleUrl()}"`];

  if (options.limitBytes !== null && !setsOldSpace(options.commandArgs, parent.NODE_OPTIONS)) {
    nodeOptions.push(`--max-old-space-size=${oldSpaceMiBForLimit(options.limitBytes)}`);
  }
  if (options.exposeGc) nodeOptions.push('--expose-gc');

  const env: NodeJS.ProcessEnv = {
    ...parent,
    ...options.extra,
    NODE_OPTIONS: nodeOptions.join(' ').trim(),
    HEADROOM_IPC: '1',
    HEADROOM_INTERVAL: String(options.intervalMs),
  };
  if (options.limitBytes !== null) env.HEADROOM_LIMIT = String(options.limitBytes);
  delete env.HEADROOM_DASHBOARD; // the parent draws it
  return env;
}


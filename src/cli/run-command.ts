import { closeSync, openSync } from 'node:fs';
import { durationFlag, parseFlags, portFlag, sizeFlag, UsageError } from './args.js';
import { runSupervised } from './run.js';

export const RUN_HELP = `headroom run [flags] -- <command> [args...]
  Starts <command> with headroom preloaded (NODE_OPTIONS --import), shows the
  dashboard on stderr and prints a summary when it ends. The program should be
  node or a Node.js script; its exit code becomes headroom's.

  --limit SIZE      process limit, such as 256MiB or 1GiB. The program is
                    killed with SIGKILL when its RSS passes it, as a container
                    would. Unless the command line or NODE_OPTIONS already sets
                    --max-old-space-size, the heap is sized to fit: old space =
                    75 % of the limit - 48 MiB (V8's young generation), at
                    least 16 MiB, so the whole heap is about 75 % of the limit.
  --interval MS     time between samples, such as 500 or 2s (default 1s)
  --events FILE     write every sample and event as one JSON object per line
  --port N          serve the HTTP API and the dashboard from inside the
                    program on 127.0.0.1:N (0 picks a free port)
  --expose-gc       start node with --expose-gc
  --no-kill         with --limit, report the limit but never kill the program
  --dashboard MODE  auto (in place on a terminal, lines otherwise), lines, or
                    off; the summary is printed in every mode

  SIGTERM and SIGHUP are passed to the program, which is killed with SIGKILL
  if it has not ended 10 s later. The first Ctrl-C is the program's to
  handle; a second one kills it.
`;

const VALUE_FLAGS = new Set(['--limit', '--interval', '--events', '--dashboard', '--port']);
const BOOLEAN_FLAGS = new Set(['--expose-gc', '--no-kill']);

/** Parses `headroom run` arguments, runs the program and returns the exit code. */
export async function runCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, VALUE_FLAGS, BOOLEAN_FLAGS);
  const [command, ...args] = flags.rest;
  if (command === undefined) throw new UsageError('run needs a command, such as: headroom run --limit 256MiB -- node app.js');

  const dashboard = flags.values.get('--dashboard') ?? 'auto';
  if (dashboard !== 'auto' && dashboard !== 'lines' && dashboard !== 'off') {
    throw new UsageError(`--dashboard expects auto, lines or off, got "${String(dashboard)}"`);
  }
  const eventsFile = flags.values.get('--events');
  if (typeof eventsFile === 'string') checkWritable(eventsFile);

  const result = await runSupervised({
    command,
    args,
    limitBytes: sizeFlag(flags, '--limit'),
    intervalMs: durationFlag(flags, '--interval', 1000, 10, 3_600_000),
    eventsFile: typeof eventsFile === 'string' ? eventsFile : null,
    exposeGc: flags.values.has('--expose-gc'),
    dashboard,
    killAtLimit: !flags.values.has('--no-kill'),
    watchdogPollMs: 50,
    port: portFlag(flags),
  });
  return result.exitCode;
}

/** Fails before the program starts when the events file cannot be written. */
export function checkWritable(path: string): void {
  try {
    closeSync(openSync(path, 'w'));
  } catch (err) {
    throw new UsageError(`--events cannot write "${path}": ${(err as Error).message}`);
  }
}

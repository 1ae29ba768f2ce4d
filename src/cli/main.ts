#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { UsageError } from './args.js';
import { demoCommand, DEMO_HELP } from './demo-command.js';
import { runCommand, RUN_HELP } from './run-command.js';
import { topCommand, TOP_HELP } from './top.js';

const HELP = `headroom: keeps Node.js services from running out of memory

Usage:
  headroom run [flags] -- <command> [args...]   run a program under headroom
  headroom demo [flags]                          a leaky service under a small limit and a bounded load
  headroom top URL [flags]                       live figures of a service that serves the headroom API
  headroom help [command]                        this text, or a command's
  headroom --version

${RUN_HELP}
${DEMO_HELP}
${TOP_HELP}`;

const COMMAND_HELP: Record<string, string> = { run: RUN_HELP, demo: DEMO_HELP, top: TOP_HELP };

function version(): string {
  const packageJson = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return packageJson.version;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;

  // `top --help` and `demo -h` print that command's help. After `run`, flags may belong to the program, so run parses its own.
  if ((command === 'top' || command === 'demo') && rest.some((arg) => arg === '--help' || arg === '-h')) {
    process.stdout.write(COMMAND_HELP[command] as string);
    return 0;
  }

  switch (command) {
    case 'run':
      return runCommand(rest);
    case 'demo':
      return demoCommand(rest);
    case 'top':
      return topCommand(rest);
    case '--version':
    case '-v':
      process.stdout.write(`${version()}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(COMMAND_HELP[rest[0] ?? ''] ?? HELP);
      return 0;
    default:
      throw new UsageError(`unknown command "${command}" (commands: run, demo, top, help)`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`headroom: ${err.message}\nRun "headroom help" for usage.\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`headroom: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);

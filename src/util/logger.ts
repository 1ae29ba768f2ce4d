import { debuglog } from 'node:util';

type LogMethod = (object: Record<string, unknown>, message?: string) => void;

/** The subset of a pino logger that headroom calls. Any pino instance fits. */
export interface Logger {
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
}

const debug = debuglog('headroom');

/**
 * Creates the logger used when the caller injects none: debug and info go to
 * `NODE_DEBUG=headroom`, warn and error are written to stderr as one JSON line
 * each, so a failure is never dropped silently.
 */
export function createDefaultLogger(stream: NodeJS.WritableStream = process.stderr): Logger {
  const write = (level: number, object: Record<string, unknown>, message?: string): void => {
    // A `level` field in the object (a pressure level) must not replace the log severity.
    const { level: pressureLevel, ...fields } = object;
    const record: Record<string, unknown> = { level, time: Date.now(), name: 'headroom', ...fields };
    if (pressureLevel !== undefined) record.pressureLevel = pressureLevel;
    if (message !== undefined) record.msg = message;

    const error = object.err;
    if (error instanceof Error) {
      record.err = { type: error.name, message: error.message, stack: error.stack };
    }

    stream.write(`${JSON.stringify(record)}\n`);
  };

  return {
    debug: (object, message) => debug('%s %j', message ?? '', object),
    info: (object, message) => debug('%s %j', message ?? '', object),
    warn: (object, message) => write(40, object, message),
    error: (object, message) => write(50, object, message),
  };
}

/** A logger that drops everything: for tests and for callers that opt out explicitly. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

import type { Logger } from '../../src/util/logger.js';

export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  object: Record<string, unknown>;
  message: string | undefined;
}

/** A logger that keeps every record, so tests can check what was logged. */
export class RecordingLogger implements Logger {
  readonly records: LogRecord[] = [];

  debug = (object: Record<string, unknown>, message?: string): void => void this.records.push({ level: 'debug', object, message });
  info = (object: Record<string, unknown>, message?: string): void => void this.records.push({ level: 'info', object, message });
  warn = (object: Record<string, unknown>, message?: string): void => void this.records.push({ level: 'warn', object, message });
  error = (object: Record<string, unknown>, message?: string): void => void this.records.push({ level: 'error', object, message });

  at(level: LogRecord['level']): LogRecord[] {
    return this.records.filter((record) => record.level === level);
  }
}

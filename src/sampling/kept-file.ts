import { closeSync, openSync, readSync } from 'node:fs';

/**
 * A small file, such as one under /proc or a cgroup folder, kept open so each
 * read is one `pread` (about 1 µs) instead of open, read and close (about 8 µs).
 */
export class KeptFile {
  readonly path: string;
  #fd: number | null;
  readonly #buffer: Buffer;

  private constructor(path: string, fd: number, bufferBytes: number) {
    this.path = path;
    this.#fd = fd;
    this.#buffer = Buffer.allocUnsafe(bufferBytes);
  }

  /** Opens `path`, or returns null when it does not exist or cannot be read (not Linux, no cgroup). */
  static open(path: string, bufferBytes = 256): KeptFile | null {
    try {
      return new KeptFile(path, openSync(path, 'r'), bufferBytes);
    } catch {
      return null;
    }
  }

  /** Reads the file from its start, or returns null once closed or when the read fails. */
  read(): string | null {
    if (this.#fd === null) return null;

    try {
      const length = readSync(this.#fd, this.#buffer, 0, this.#buffer.length, 0);
      return this.#buffer.toString('latin1', 0, length);
    } catch {
      return null;
    }
  }

  close(): void {
    if (this.#fd === null) return;

    try {
      closeSync(this.#fd);
    } catch {
      // Already closed by someone else: nothing left to release.
    }
    this.#fd = null;
  }
}

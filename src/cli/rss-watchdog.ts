import { KeptFile } from '../sampling/kept-file.js';

const PAGE_SIZE_BYTES = 4096;

/**
 * Polls another process's RSS from /proc/PID/statm and calls `onOverLimit`
 * once when it passes the limit. Outside Linux the file is absent and the
 * watchdog does nothing, which `active` reports.
 */
export class RssWatchdog {
  readonly #file: KeptFile | null;
  readonly #timer: NodeJS.Timeout | null = null;
  #tripped = false;

  constructor(pid: number, limitBytes: number, pollMs: number, onRss: (rssBytes: number) => void, onOverLimit: (rssBytes: number) => void) {
    this.#file = KeptFile.open(`/proc/${pid}/statm`, 128);
    if (!this.#file) return;

    this.#timer = setInterval(() => {
      const rssBytes = this.read();
      if (rssBytes === null) return;

      onRss(rssBytes);
      if (rssBytes > limitBytes && !this.#tripped) {
        this.#tripped = true;
        onOverLimit(rssBytes);
      }
    }, pollMs);
    this.#timer.unref();
  }

  get active(): boolean {
    return this.#file !== null;
  }

  read(): number | null {
    const text = this.#file?.read();
    if (!text) return null;

    const pages = Number(text.split(' ', 2)[1]);
    return Number.isFinite(pages) ? pages * PAGE_SIZE_BYTES : null;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#file?.close();
  }
}

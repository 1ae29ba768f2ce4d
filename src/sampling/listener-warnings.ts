/** One `MaxListenersExceededWarning`, with the emitter and event it names. */
export interface ListenerWarning {
  type: 'listener-warning';
  time: number;
  /** The emitter's class name, such as `EventEmitter` or `Socket`. */
  emitter: string;
  eventName: string;
  /** Listeners on that event when Node warned. */
  count: number;
  /** Warnings seen for this emitter class and event since start. */
  occurrences: number;
}

/** The maximum number of distinct emitter and event pairs kept; later new pairs are only counted in `dropped`. */
const MAX_TRACKED = 64;

interface MaxListenersWarning extends Error {
  emitter?: { constructor?: { name?: string } };
  type?: unknown;
  count?: unknown;
}

/**
 * Captures Node's `MaxListenersExceededWarning` from the process `warning`
 * event: the usual sign of a listener added per request and never removed.
 * Node emits it once per emitter and event, so each is a new finding.
 */
export class ListenerWarningTracker {
  readonly #byKey = new Map<string, ListenerWarning>();
  readonly #onWarning: (warning: Error) => void;
  #dropped = 0;
  #listening = false;

  constructor(epochNow: () => number, onFound: (warning: ListenerWarning) => void) {
    this.#onWarning = (warning: Error) => {
      if (warning.name !== 'MaxListenersExceededWarning') return;

      const details = warning as MaxListenersWarning;
      const emitter = details.emitter?.constructor?.name ?? 'unknown';
      const eventName = String(details.type ?? 'unknown');
      const key = `${emitter}\u0000${eventName}`;
      const known = this.#byKey.get(key);
      if (!known && this.#byKey.size >= MAX_TRACKED) {
        this.#dropped++;
        return;
      }

      const found: ListenerWarning = {
        type: 'listener-warning',
        time: epochNow(),
        emitter,
        eventName,
        count: typeof details.count === 'number' ? details.count : 0,
        occurrences: (known?.occurrences ?? 0) + 1,
      };
      this.#byKey.set(key, found);
      onFound(found);
    };
  }

  start(): void {
    if (this.#listening) return;
    process.on('warning', this.#onWarning);
    this.#listening = true;
  }

  stop(): void {
    process.off('warning', this.#onWarning);
    this.#listening = false;
  }

  /** Returns every emitter and event warned about, in the order first seen, with the latest figures. */
  list(): ListenerWarning[] {
    return [...this.#byKey.values()];
  }

  /** Warnings not kept because `MAX_TRACKED` pairs were already tracked. */
  get dropped(): number {
    return this.#dropped;
  }
}

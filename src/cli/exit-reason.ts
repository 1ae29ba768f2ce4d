/** The cause of a program's end under `headroom run`. */
export type ExitReason =
  | 'exited'
  | 'heap-out-of-memory'
  | 'killed-at-limit'
  | 'killed'
  | 'signal'
  | 'failed-to-start';

/** Lines V8 prints when it gives up on the heap (Node 20). */
const OUT_OF_MEMORY_PATTERNS = [/JavaScript heap out of memory/, /Reached heap limit/, /Ineffective mark-compacts near heap limit/];

/** Watches a program's stderr for V8's "heap out of memory" report, across chunk boundaries. */
export class OutOfMemoryScanner {
  #tail = '';
  #found = false;

  get found(): boolean {
    return this.#found;
  }

  scan(chunk: string): void {
    if (this.#found) return;

    const text = this.#tail + chunk;
    this.#found = OUT_OF_MEMORY_PATTERNS.some((pattern) => pattern.test(text));
    this.#tail = text.slice(-200);
  }
}

export interface ExitFacts {
  code: number | null;
  signal: NodeJS.Signals | null;
  outOfMemory: boolean;
  killedAtLimit: boolean;
  startError?: Error;
}

/** Classifies the end of a program, most specific cause first. */
export function exitReason(facts: ExitFacts): ExitReason {
  if (facts.startError) return 'failed-to-start';
  if (facts.killedAtLimit) return 'killed-at-limit';
  if (facts.outOfMemory) return 'heap-out-of-memory';
  if (facts.signal === 'SIGKILL' || facts.code === 137) return 'killed';
  if (facts.signal !== null) return 'signal';
  return 'exited';
}

/** Describes an end for people. */
export function describeExit(reason: ExitReason, facts: ExitFacts): string {
  switch (reason) {
    case 'failed-to-start':
      return `failed to start: ${facts.startError?.message ?? 'unknown error'}`;
    case 'killed-at-limit':
      return 'killed by headroom: RSS passed the --limit (as a container would)';
    case 'heap-out-of-memory':
      return `V8 "heap out of memory" (${facts.signal ?? `exit code ${facts.code}`})`;
    case 'killed':
      return 'killed by SIGKILL with no V8 message (the kernel OOM killer at a cgroup limit does this)';
    case 'signal':
      return `ended by ${facts.signal}`;
    case 'exited':
      return `exited with code ${facts.code}`;
  }
}

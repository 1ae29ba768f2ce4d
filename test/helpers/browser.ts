import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's Chromium: `apt-get install chromium`. playwright-core drives it and never downloads a browser of its own. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** The skip reason of the browser tests, or false when Chromium is installed. */
export const CHROMIUM_MISSING: string | false = existsSync(CHROMIUM_PATH)
  ? false
  : `${CHROMIUM_PATH} not found: install Debian's chromium package (apt-get install chromium) to run the browser tests`;

/**
 * The flags for a sandboxed CI machine with no outside network. Without the
 * background-networking flags, Chromium keeps trying to reach Google's hosts
 * at start. playwright-core adds `--headless` itself for `headless: true`.
 */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface LaunchedBrowser {
  readonly context: BrowserContext;
  /** Closes the browser and deletes its profile folder. */
  close(): Promise<void>;
}

/** Starts headless Chromium with a fresh, empty profile (its `--user-data-dir`), deleted on close. */
export async function launchChromium(viewport = { width: 1400, height: 900 }): Promise<LaunchedBrowser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'headroom-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport,
      timeout: 30_000,
    });
    return {
      context,
      close: async () => {
        await context.close();
        rmSync(userDataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw err;
  }
}

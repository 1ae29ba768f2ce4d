/**
 * Takes docs/dashboard.png: runs `headroom demo --port P` and photographs its
 * dashboard in Debian's Chromium after AFTER_MS of the demo's load.
 *
 *   npm run build && node scripts/dashboard-screenshot.mjs [output.png]
 *
 * Everything runs on 127.0.0.1 and stops by itself: the demo ends after its
 * --duration, and this script kills it if it is still running at the end.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const AFTER_MS = Number(process.env.AFTER_MS ?? 50_000);
const output = process.argv[2] ?? fileURLToPath(new URL('../docs/dashboard.png', import.meta.url));
const cli = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const port = await freePort();
const demo = spawn(process.execPath, [cli, 'demo', '--port', String(port), '--duration', `${Math.ceil(AFTER_MS / 1000) + 10}s`, '--dashboard', 'lines'], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
const userDataDir = mkdtempSync(join(tmpdir(), 'headroom-shot-'));

try {
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${port}/`);
  await new Promise((resolve) => setTimeout(resolve, AFTER_MS - 3000));
  await page.screenshot({ path: output, fullPage: true });
  await context.close();
  process.stderr.write(`screenshot written to ${output}\n`);
} finally {
  demo.kill('SIGTERM');
  rmSync(userDataDir, { recursive: true, force: true });
}

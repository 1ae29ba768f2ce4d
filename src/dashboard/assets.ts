/**
 * The files of the web dashboard, served at the API prefix's root by any
 * framework: the page from the package's `dashboard/` folder, and uPlot's
 * script and stylesheet from its installed package. No build step runs at
 * run time and nothing is fetched from a CDN.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A response ready to write. `body` is empty for a 304. */
export interface DashboardAsset {
  status: 200 | 304;
  headers: Record<string, string>;
  body: Buffer;
}

interface AssetSource {
  /** Absolute path of the file, resolved on first use. */
  path: () => string;
  contentType: string;
}

interface LoadedAsset {
  body: Buffer;
  etag: string;
}

/** Compiled to dist/src/dashboard/assets.js, so the package root is three folders up. */
const DASHBOARD_DIR = fileURLToPath(new URL('../../../dashboard/', import.meta.url));

/**
 * The page allows only its own scripts, styles and connections: `connect-src
 * 'self'` also covers the same-origin WebSocket (CSP Level 3; Chromium and
 * Firefox follow it). uPlot sets `element.style` from script, which CSP does
 * not restrict, so no `'unsafe-inline'` is needed.
 */
const PAGE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function uPlotFile(name: string): () => string {
  return () => join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist', name);
}

function dashboardFile(name: string): () => string {
  return () => join(DASHBOARD_DIR, name);
}

const INDEX: AssetSource = { path: dashboardFile('index.html'), contentType: 'text/html; charset=utf-8' };

/**
 * Every name `dashboardAsset` serves. The map is the whole whitelist: a name
 * is looked up as a key and never joined onto a folder, so no request path
 * can reach another file.
 */
const SOURCES = new Map<string, AssetSource>([
  ['', INDEX],
  ['index.html', INDEX],
  ['dashboard.js', { path: dashboardFile('dashboard.js'), contentType: 'text/javascript; charset=utf-8' }],
  ['format.js', { path: dashboardFile('format.js'), contentType: 'text/javascript; charset=utf-8' }],
  ['data.js', { path: dashboardFile('data.js'), contentType: 'text/javascript; charset=utf-8' }],
  ['charts.js', { path: dashboardFile('charts.js'), contentType: 'text/javascript; charset=utf-8' }],
  ['view.js', { path: dashboardFile('view.js'), contentType: 'text/javascript; charset=utf-8' }],
  ['dashboard.css', { path: dashboardFile('dashboard.css'), contentType: 'text/css; charset=utf-8' }],
  ['uPlot.iife.min.js', { path: uPlotFile('uPlot.iife.min.js'), contentType: 'text/javascript; charset=utf-8' }],
  ['uPlot.min.css', { path: uPlotFile('uPlot.min.css'), contentType: 'text/css; charset=utf-8' }],
]);

/** The names `dashboardAsset` serves, relative to the prefix: `''` is the page itself. */
export const DASHBOARD_ASSET_NAMES: readonly string[] = [...SOURCES.keys()];

/** Files read so far: at most one entry per source, ten names for nine files of about 100 KiB in all. */
const loaded = new Map<AssetSource, LoadedAsset>();

function load(source: AssetSource): LoadedAsset {
  const cached = loaded.get(source);
  if (cached) return cached;

  const path = source.path();
  let body: Buffer;
  try {
    body = readFileSync(path);
  } catch (err) {
    throw new Error(`The dashboard file ${path} could not be read; reinstall headroom (with its uplot dependency) to restore it`, { cause: err });
  }

  const asset = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
  loaded.set(source, asset);
  return asset;
}

/** True when an `If-None-Match` header value lists `etag` or is `*`. */
function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;

  return ifNoneMatch
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === etag || tag === '*');
}

/**
 * Returns the response for one dashboard file, or null for any other name so
 * the caller responds 404. `relativePath` is the request path after the
 * prefix's slash: `''` or `index.html` for the page, its modules
 * (`dashboard.js`, `format.js`, `data.js`, `charts.js`, `view.js`),
 * `dashboard.css`, `uPlot.iife.min.js` or `uPlot.min.css`. One leading `/` is
 * accepted. Pass the request's `If-None-Match` header to get a 304 when the
 * browser's copy is current.
 *
 * Files are read on first use and kept in memory. Every response carries
 * `cache-control: no-cache` with an ETag: the names carry no version, so the
 * browser revalidates each load and picks up a new release at once.
 *
 * Throws when a listed file is missing from the installation.
 */
export function dashboardAsset(relativePath: string, ifNoneMatch?: string): DashboardAsset | null {
  const name = relativePath.startsWith('/') ? relativePath.slice(1) : relativePath;
  const source = SOURCES.get(name);
  if (source === undefined) return null;

  const { body, etag } = load(source);
  const headers: Record<string, string> = {
    'content-type': source.contentType,
    'cache-control': 'no-cache',
    etag,
    'x-content-type-options': 'nosniff',
  };
  if (source === INDEX) {
    headers['content-security-policy'] = PAGE_POLICY;
    headers['referrer-policy'] = 'no-referrer';
  }

  if (matchesEtag(ifNoneMatch, etag)) return { status: 304, headers, body: Buffer.alloc(0) };
  return { status: 200, headers, body };
}

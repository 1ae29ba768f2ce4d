import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeptFile } from './kept-file.js';

/** Locations of the cgroup files. Tests point these at a folder of their own. */
export interface CgroupPaths {
  /** The file listing this process's cgroups, normally `/proc/self/cgroup`. */
  procSelfCgroup: string;
  /** The cgroup mount point, normally `/sys/fs/cgroup`. */
  cgroupRoot: string;
}

export const DEFAULT_CGROUP_PATHS: CgroupPaths = {
  procSelfCgroup: '/proc/self/cgroup',
  cgroupRoot: '/sys/fs/cgroup',
};

/**
 * Reads the memory limits of the cgroups this process is in, through files kept open.
 *
 * cgroup v2 (`0::/path`) puts `memory.max` in each folder of the path; the
 * effective limit is the smallest along it. cgroup v1 has a `memory`
 * controller line and `memory.limit_in_bytes`. Inside a container the path in
 * /proc/self/cgroup often does not exist in the mounted view, so the root of
 * the mount is read too. On a system without cgroups (macOS, Windows) nothing
 * is found and both readings stay null.
 */
export class CgroupLimitReader {
  readonly #v2Files: KeptFile[];
  readonly #v1Files: KeptFile[];

  constructor(paths: CgroupPaths = DEFAULT_CGROUP_PATHS) {
    const memberships = readMemberships(paths.procSelfCgroup);
    this.#v2Files = openAlongPath(v2Folders(paths.cgroupRoot, memberships.v2Path), 'memory.max');
    this.#v1Files = openAlongPath(v1Folders(paths.cgroupRoot, memberships.v1Path), 'memory.limit_in_bytes');
  }

  /** Smallest cgroup v2 `memory.max` along this process's path, in bytes; null for none or "max". */
  readV2Bytes(): number | null {
    return smallestReading(this.#v2Files);
  }

  /** Smallest cgroup v1 `memory.limit_in_bytes` found, in bytes; values near 2^63 mean unlimited. */
  readV1Bytes(): number | null {
    return smallestReading(this.#v1Files);
  }

  /** The files this reader found and keeps open. */
  get paths(): string[] {
    return [...this.#v2Files, ...this.#v1Files].map((file) => file.path);
  }

  close(): void {
    for (const file of [...this.#v2Files, ...this.#v1Files]) file.close();
  }
}

interface Memberships {
  v2Path: string | null;
  v1Path: string | null;
}

function readMemberships(procSelfCgroup: string): Memberships {
  let text: string;
  try {
    text = readFileSync(procSelfCgroup, 'utf8');
  } catch {
    return { v2Path: null, v1Path: null };
  }

  let v2Path: string | null = null;
  let v1Path: string | null = null;
  for (const line of text.split('\n')) {
    const [hierarchy, controllers, path] = line.split(':', 3);
    if (path === undefined) continue;

    if (hierarchy === '0' && controllers === '') v2Path = path;
    else if (controllers?.split(',').includes('memory')) v1Path = path;
  }

  return { v2Path, v1Path };
}

/** Folders from the cgroup's own up to the mount root, deepest first, without duplicates. */
function ancestors(mount: string, path: string): string[] {
  const folders: string[] = [];
  const parts = path.split('/').filter(Boolean);
  for (let depth = parts.length; depth >= 0; depth--) folders.push(join(mount, ...parts.slice(0, depth)));
  return [...new Set(folders)];
}

function v2Folders(cgroupRoot: string, path: string | null): string[] {
  if (path === null) return [];

  // A hybrid system mounts the v2 hierarchy at `unified/` beside the v1 controllers.
  return [...ancestors(cgroupRoot, path), ...ancestors(join(cgroupRoot, 'unified'), path)];
}

function v1Folders(cgroupRoot: string, path: string | null): string[] {
  if (path === null) return [];
  return ancestors(join(cgroupRoot, 'memory'), path);
}

function openAlongPath(folders: string[], fileName: string): KeptFile[] {
  const files: KeptFile[] = [];
  for (const folder of folders) {
    const file = KeptFile.open(join(folder, fileName), 64);
    if (file) files.push(file);
  }
  return files;
}

function smallestReading(files: KeptFile[]): number | null {
  let smallest: number | null = null;
  for (const file of files) {
    const text = file.read()?.trim();
    if (!text || text === 'max') continue;

    const bytes = Number(text);
    if (!Number.isFinite(bytes) || bytes <= 0 || bytes >= 2 ** 62) continue;
    if (smallest === null || bytes < smallest) smallest = bytes;
  }
  return smallest;
}

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { CgroupLimitReader, type CgroupPaths } from '../../src/sampling/cgroup.js';

const MIB = 2 ** 20;

/** What cgroup v1 `memory.limit_in_bytes` reports without a limit. */
const CGROUP_V1_UNLIMITED = '9223372036854771712';

const scratchRoot = mkdtempSync(join(tmpdir(), 'headroom-cgroup-'));
let treeCount = 0;
const openReaders: CgroupLimitReader[] = [];

after(() => {
  rmSync(scratchRoot, { recursive: true, force: true });
});

afterEach(() => {
  for (const reader of openReaders.splice(0)) reader.close();
});

/**
 * Writes a fake `/proc/self/cgroup` and a fake cgroup mount into a new folder.
 * `files` maps paths under the mount to their contents. A null `procSelfCgroup`
 * leaves that file out, as on a system without cgroups.
 */
function createTree(procSelfCgroup: string | null, files: Record<string, string>): CgroupPaths {
  const folder = join(scratchRoot, `tree-${treeCount++}`);
  const paths: CgroupPaths = { procSelfCgroup: join(folder, 'proc-self-cgroup'), cgroupRoot: join(folder, 'sys-fs-cgroup') };
  mkdirSync(paths.cgroupRoot, { recursive: true });

  if (procSelfCgroup !== null) writeFileSync(paths.procSelfCgroup, procSelfCgroup);
  for (const [path, contents] of Object.entries(files)) {
    const filePath = join(paths.cgroupRoot, path);
    mkdirSync(dirname(filePath), { recursive: true });
    writeFileSync(filePath, contents);
  }

  return paths;
}

function openReader(paths: CgroupPaths): CgroupLimitReader {
  const reader = new CgroupLimitReader(paths);
  openReaders.push(reader);
  return reader;
}

describe('CgroupLimitReader on cgroup v2', () => {
  it('takes the smallest memory.max along the path', () => {
    const paths = createTree('0::/a/b\n', {
      'memory.max': `${1024 * MIB}\n`,
      'a/memory.max': `${256 * MIB}\n`,
      'a/b/memory.max': `${512 * MIB}\n`,
    });
    const reader = openReader(paths);

    assert.equal(reader.readV2Bytes(), 256 * MIB);
    assert.equal(reader.readV1Bytes(), null);
  });

  it('takes own folder limit when smallest', () => {
    const paths = createTree('0::/a/b\n', {
      'a/memory.max': `${512 * MIB}\n`,
      'a/b/memory.max': `${128 * MIB}\n`,
    });

    assert.equal(openReader(paths).readV2Bytes(), 128 * MIB);
  });

  it('treats "max" as no limit at that level', () => {
    const paths = createTree('0::/a/b\n', {
      'a/memory.max': `${384 * MIB}\n`,
      'a/b/memory.max': 'max\n',
    });

    assert.equal(openReader(paths).readV2Bytes(), 384 * MIB);
  });

  it('returns null when every level is "max"', () => {
    const paths = createTree('0::/a/b\n', {
      'a/memory.max': 'max\n',
      'a/b/memory.max': 'max\n',
    });

    assert.equal(openReader(paths).readV2Bytes(), null);
  });

  it('reads mount root for unmounted path', () => {
    // Inside a container without a cgroup namespace, /proc/self/cgroup shows the host's path.
    const paths = createTree('0::/kubepods/pod-1/container-2\n', { 'memory.max': `${640 * MIB}\n` });

    assert.equal(openReader(paths).readV2Bytes(), 640 * MIB);
  });

  it('opens one file per level that has memory.max', () => {
    const paths = createTree('0::/a/b\n', {
      'a/memory.max': `${512 * MIB}\n`,
      'a/b/memory.max': 'max\n',
    });

    assert.deepEqual(openReader(paths).paths, [
      join(paths.cgroupRoot, 'a', 'b', 'memory.max'),
      join(paths.cgroupRoot, 'a', 'memory.max'),
    ]);
  });

  it('re-reads memory.max after it changes', () => {
    const paths = createTree('0::/app\n', { 'app/memory.max': `${512 * MIB}\n` });
    const reader = openReader(paths);
    const file = join(paths.cgroupRoot, 'app', 'memory.max');

    assert.equal(reader.readV2Bytes(), 512 * MIB);

    writeFileSync(file, `${96 * MIB}\n`);
    assert.equal(reader.readV2Bytes(), 96 * MIB);

    writeFileSync(file, 'max\n');
    assert.equal(reader.readV2Bytes(), null);

    writeFileSync(file, `${2048 * MIB}\n`);
    assert.equal(reader.readV2Bytes(), 2048 * MIB);
  });

  it('keeps opened file after rename', () => {
    // The kernel rewrites cgroup files in place and never replaces them. This shows
    // that the reader re-reads the file it opened rather than opening the path again.
    const paths = createTree('0::/app\n', { 'app/memory.max': `${512 * MIB}\n` });
    const reader = openReader(paths);
    const file = join(paths.cgroupRoot, 'app', 'memory.max');

    writeFileSync(`${file}.new`, `${64 * MIB}\n`);
    renameSync(`${file}.new`, file);

    assert.equal(reader.readV2Bytes(), 512 * MIB);
  });

  it('returns null once closed', () => {
    const paths = createTree('0::/app\n', { 'app/memory.max': `${512 * MIB}\n` });
    const reader = openReader(paths);

    reader.close();
    assert.equal(reader.readV2Bytes(), null);
  });

  it('skips values that are not a size', () => {
    const paths = createTree('0::/a/b\n', {
      'a/memory.max': `${300 * MIB}\n`,
      'a/b/memory.max': 'garbage\n',
    });

    assert.equal(openReader(paths).readV2Bytes(), 300 * MIB);
  });
});

describe('CgroupLimitReader on cgroup v1', () => {
  it('reads memory.limit_in_bytes of the memory controller', () => {
    const paths = createTree('5:cpu,cpuacct:/x\n4:memory:/x\n1:name=systemd:/x\n', {
      'memory/memory.limit_in_bytes': `${CGROUP_V1_UNLIMITED}\n`,
      'memory/x/memory.limit_in_bytes': `${300 * MIB}\n`,
    });
    const reader = openReader(paths);

    assert.equal(reader.readV1Bytes(), 300 * MIB);
    assert.equal(reader.readV2Bytes(), null);
  });

  it('reads the root file when the path is missing in the mount', () => {
    const paths = createTree('4:memory:/docker/0123abcd\n', {
      'memory/memory.limit_in_bytes': `${200 * MIB}\n`,
    });
    const reader = openReader(paths);

    assert.equal(reader.readV1Bytes(), 200 * MIB);
    assert.deepEqual(reader.paths, [join(paths.cgroupRoot, 'memory', 'memory.limit_in_bytes')]);
  });

  it('maps the unlimited value to null', () => {
    const paths = createTree('4:memory:/x\n', {
      'memory/memory.limit_in_bytes': `${CGROUP_V1_UNLIMITED}\n`,
      'memory/x/memory.limit_in_bytes': `${CGROUP_V1_UNLIMITED}\n`,
    });

    assert.equal(openReader(paths).readV1Bytes(), null);
  });

  it('finds the memory controller among joined controllers', () => {
    const paths = createTree('7:memory,hugetlb:/svc\n', {
      'memory/svc/memory.limit_in_bytes': `${160 * MIB}\n`,
    });

    assert.equal(openReader(paths).readV1Bytes(), 160 * MIB);
  });

  it('re-reads memory.limit_in_bytes after it changes', () => {
    const paths = createTree('4:memory:/x\n', { 'memory/x/memory.limit_in_bytes': `${300 * MIB}\n` });
    const reader = openReader(paths);

    assert.equal(reader.readV1Bytes(), 300 * MIB);

    writeFileSync(join(paths.cgroupRoot, 'memory', 'x', 'memory.limit_in_bytes'), `${150 * MIB}\n`);
    assert.equal(reader.readV1Bytes(), 150 * MIB);
  });

  it('ignores v1 lines without the memory controller', () => {
    const paths = createTree('5:cpu,cpuacct:/x\n', {
      'memory/x/memory.limit_in_bytes': `${300 * MIB}\n`,
    });
    const reader = openReader(paths);

    assert.equal(reader.readV1Bytes(), null);
    assert.deepEqual(reader.paths, []);
  });
});

describe('CgroupLimitReader on a hybrid system', () => {
  it('reads v2 under unified/ beside the v1 controllers', () => {
    const paths = createTree('12:memory:/svc\n0::/svc\n', {
      'unified/svc/memory.max': `${128 * MIB}\n`,
      'memory/memory.limit_in_bytes': `${CGROUP_V1_UNLIMITED}\n`,
      'memory/svc/memory.limit_in_bytes': `${256 * MIB}\n`,
    });
    const reader = openReader(paths);

    assert.equal(reader.readV2Bytes(), 128 * MIB);
    assert.equal(reader.readV1Bytes(), 256 * MIB);
  });

  it('returns null for v2 when unified/ sets no limit', () => {
    const paths = createTree('12:memory:/svc\n0::/svc\n', {
      'unified/svc/memory.max': 'max\n',
      'memory/svc/memory.limit_in_bytes': `${256 * MIB}\n`,
    });
    const reader = openReader(paths);

    assert.equal(reader.readV2Bytes(), null);
    assert.equal(reader.readV1Bytes(), 256 * MIB);
  });
});

describe('CgroupLimitReader without cgroups', () => {
  it('returns null without /proc/self/cgroup', () => {
    const paths = createTree(null, {
      'memory.max': `${512 * MIB}\n`,
      'memory/memory.limit_in_bytes': `${512 * MIB}\n`,
    });
    const reader = openReader(paths);

    assert.equal(reader.readV2Bytes(), null);
    assert.equal(reader.readV1Bytes(), null);
    assert.deepEqual(reader.paths, []);
  });

  it('returns null for empty mount', () => {
    const paths = createTree('0::/a\n4:memory:/a\n', {});
    const reader = openReader(paths);

    assert.equal(reader.readV2Bytes(), null);
    assert.equal(reader.readV1Bytes(), null);
  });
});

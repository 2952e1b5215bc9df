/** What the figures were measured on: machine, limits, versions and the code's commit. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem, arch } from 'node:os';
import { join } from 'node:path';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  loadAverageAtStart: number[];
  openFilesLimit: { soft: string; hard: string };
  packages: Record<string, string>;
  commit: string;
  date: string;
}

const PACKAGES = [
  '@nestjs/core',
  '@nestjs/graphql',
  '@nestjs/apollo',
  '@nestjs/platform-fastify',
  'fastify',
  '@as-integrations/fastify',
  '@nestjs/platform-express',
  '@apollo/server',
  '@as-integrations/express5',
  'express',
  'graphql',
  'graphql-ws',
  'ws',
  'ioredis',
  'axios',
  'autocannon',
];

export function packageVersion(repoRoot: string, name: string): string {
  try {
    return (JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

export function openFilesLimit(): { soft: string; hard: string } {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('Max open files'));
    const [soft, hard] = line!.replace('Max open files', '').trim().split(/\s+/);
    return { soft, hard };
  } catch {
    return { soft: 'unknown', hard: 'unknown' };
  }
}

function commit(repoRoot: string): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    return dirty ? `${head} (with uncommitted changes in src/)` : head;
  } catch {
    return 'unknown';
  }
}

export function machineInfo(repoRoot: string): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    loadAverageAtStart: loadavg().map((value) => Math.round(value * 100) / 100),
    openFilesLimit: openFilesLimit(),
    packages: Object.fromEntries(PACKAGES.map((name) => [name, packageVersion(repoRoot, name)])),
    commit: commit(repoRoot),
    date: new Date().toISOString(),
  };
}

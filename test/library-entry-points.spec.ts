import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..');
const FOLDERS = ['src', 'scripts', 'test', 'emulator'];

/**
 * Files another part of the ongoing rework rewrites; each still imports a library's private path.
 * Remove an entry when its file is rewritten (the second test fails while an entry is stale).
 */
/** `from '…'`, `require('…')`, `import('…')`, `jest.mock('…')`: every module a file names. */
const SPECIFIER = /(?:\bfrom\s+|\brequire\(\s*|\bimport\(\s*|\bjest\.mock\(\s*|^\s*import\s+)'([^'.][^']*)'/gm;

function sourceFiles(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return /\.[cm]?ts$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** A package's public entry points: its `exports` keys; without an `exports` map, only its main module. */
function isPublic(specifier: string): boolean {
  if (specifier.startsWith('node:')) return true;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  const subpath = specifier.slice(name.length);
  if (subpath === '') return true;
  const manifest = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { exports?: unknown };
  const exported = manifest.exports;
  if (!exported || typeof exported !== 'object' || Array.isArray(exported)) return false;
  const keys = Object.keys(exported).filter((key) => key.startsWith('.'));
  return keys.some((key) => {
    if (!key.includes('*')) return key === `.${subpath}`;
    const [before, after] = key.split('*');
    return `.${subpath}`.startsWith(before) && `.${subpath}`.endsWith(after);
  });
}

function privateImports(): { file: string; specifier: string }[] {
  return FOLDERS.flatMap((folder) => sourceFiles(join(ROOT, folder))).flatMap((path) => {
    const file = relative(ROOT, path);
    const text = readFileSync(path, 'utf8');
    return [...text.matchAll(SPECIFIER)].map((match) => ({ file, specifier: match[1] })).filter(({ specifier }) => !isPublic(specifier));
  });
}

describe('imports from libraries', () => {
  const found = privateImports();

  it('use only the entry points a package publishes (its exports map, or its main module)', () => {
    expect(found).toEqual([]);
  });

  it('tell a published subpath from a private one', () => {
    expect(isPublic('@apollo/server/plugin/disabled')).toBe(true);
    expect(isPublic('drizzle-orm/pg-core')).toBe(true);
    expect(isPublic('nestjs-pino/params')).toBe(false);
    expect(isPublic('@nestjs/throttler/dist/throttler-storage-record.interface')).toBe(false);
    expect(isPublic('class-transformer/cjs/storage')).toBe(false);
  });
});

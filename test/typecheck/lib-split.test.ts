import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Browser code (the extension and shared/) and Node code (the server and scripts) are
// typechecked with their own lib and types: a Node global in a page, or a DOM global in the
// server, is a compile error, not a crash in a parent's browser or a server process.
const root = new URL('../..', import.meta.url).pathname;
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  await mkdir(join(root, '.tmp'), { recursive: true });
  dir = await mkdtemp(join(root, '.tmp', 'typecheck-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Typechecks one file under the project's config `base`; the compiler's output, '' when it compiles. */
async function check(base: string, name: string, source: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, source);
  const config = join(dir, `tsconfig.${name}.json`);
  // The browser config's WXT globals come in as in the real project (they are what once
  // pulled Node's types in through Vite's).
  const files = base === 'tsconfig.browser.json' ? [file, join(root, '.wxt', 'wxt.d.ts')] : [file];
  await writeFile(config, JSON.stringify({ extends: join(root, base), files, include: [] }));
  try {
    await run(process.execPath, [tsc, '--noEmit', '-p', config]);
    return '';
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? err);
  }
}

describe('browser code and Node code typecheck with their own lib and types', () => {
  it('a browser file that uses Buffer does not compile', async () => {
    const out = await check('tsconfig.browser.json', 'page.ts', "export const n = Buffer.byteLength('x');\n");
    expect(out).toMatch(/Cannot find name 'Buffer'/);
  });

  it('a browser file that uses process does not compile', async () => {
    const out = await check('tsconfig.browser.json', 'page-env.ts', 'export const env = process.env.NODE_ENV;\n');
    expect(out).toMatch(/Cannot find name 'process'/);
  });

  it('the same file with a browser API compiles for the browser', async () => {
    const out = await check(
      'tsconfig.browser.json',
      'page-ok.ts',
      "export const n = new TextEncoder().encode('x').byteLength;\n",
    );
    expect(out).toBe('');
  });

  it('a server file that uses document does not compile', async () => {
    const out = await check('tsconfig.node.json', 'server.ts', 'export const t = document.title;\n');
    expect(out).toMatch(/Cannot find name 'document'/);
  });

  it('a server file that uses Buffer compiles for Node', async () => {
    const out = await check('tsconfig.node.json', 'server-ok.ts', "export const n = Buffer.byteLength('x');\n");
    expect(out).toBe('');
  });
});

import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { devServerUrl } from '../../scripts/dev-server-url.mjs';

const ROOT = join(import.meta.dirname, '..', '..');

/**
 * `npm start` builds the extension and starts the server. The build and the server here are
 * stand-ins on PATH that write down what they were asked to do (the real build takes a
 * minute and is exercised by the e2e suite), so the test sees exactly what start.mjs hands
 * each of them and what it prints.
 */
describe('npm start', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function runStart(env: Record<string, string>): { stdout: string; calls: string[] } {
    const bin = mkdtempSync(join(tmpdir(), 'callsanta-start-'));
    dirs.push(bin);
    const log = join(bin, 'calls.log');
    for (const tool of ['npm', 'npx']) {
      const path = join(bin, tool);
      writeFileSync(
        path,
        `#!/bin/sh\necho "${tool} $* WXT_DEFAULT_SERVER_URL=$WXT_DEFAULT_SERVER_URL PORT=$PORT" >> "${log}"\nexit 0\n`,
      );
      chmodSync(path, 0o755);
    }
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'start.mjs')], {
      env: { ...process.env, ...env, PATH: `${bin}:${process.env.PATH}` },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    return { stdout: r.stdout, calls: readFileSync(log, 'utf8').trim().split('\n') };
  }

  it('builds the extension for the port the server will listen on, and says that same address', () => {
    const { stdout, calls } = runStart({ PORT: '8811' });
    expect(calls[0]).toBe('npm run build --silent WXT_DEFAULT_SERVER_URL=http://localhost:8811 PORT=8811');
    expect(calls[1]).toMatch(/^npx tsx server\/index\.ts .* PORT=8811$/);
    expect(stdout).toContain('http://localhost:8811');
    expect(stdout).not.toContain('8787');
  });

  it('uses the embedded 8787 without PORT, and the same rule everywhere', () => {
    const env = { ...process.env };
    delete env.PORT;
    const { stdout, calls } = runStart({ ...(env as Record<string, string>), PORT: '' });
    expect(calls[0]).toContain('WXT_DEFAULT_SERVER_URL=http://localhost:8787');
    expect(stdout).toContain('http://localhost:8787');
    expect(devServerUrl({ PORT: '9000' })).toBe('http://localhost:9000');
    expect(devServerUrl({ PORT: 'not-a-port' })).toBe('http://localhost:8787');
  });
});

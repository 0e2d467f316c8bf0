import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDataDir } from '../../test/support/server.js';

const root = new URL('../..', import.meta.url).pathname;
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Starts the real server entry (`npm run serve`) and collects its log lines until it listens. */
async function startLines(env: Record<string, string>): Promise<string[]> {
  const dataDir = tempDataDir('callsanta-ops-');
  dirs.push(dataDir);
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/index.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${lines.join('\n')}`)), 20_000);
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      lines.push(...parts);
      // The warnings are written right after the "listening" line; wait for the last one.
      if (
        lines.some((l) => l.includes('TLS_CERT_FILE') || (l.includes('listening') && env.NODE_ENV !== 'production'))
      ) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${lines.join('\n')}`)));
  });
  return lines;
}

describe('P1 operations: the model provider keeps no voice only with zero data retention', () => {
  it('in production with an OpenAI key the server warns at start unless OPENAI_ZERO_DATA_RETENTION=true', async () => {
    const openai = {
      NODE_ENV: 'production',
      SIMULATED_PAYMENTS: 'true',
      EXTENSION_ORIGINS: 'chrome-extension://abcdefghijklmnopabcdefghijklmnop',
      OPENAI_API_KEY: 'sk-test-not-a-real-key',
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
    };
    const without = await startLines(openai);
    expect(without.some((l) => l.includes('OPENAI_ZERO_DATA_RETENTION is not true') && l.includes('P1'))).toBe(true);

    const withZdr = await startLines({ ...openai, OPENAI_ZERO_DATA_RETENTION: 'true' });
    expect(withZdr.some((l) => l.includes('listening'))).toBe(true);
    expect(withZdr.some((l) => l.includes('OPENAI_ZERO_DATA_RETENTION'))).toBe(false);
  }, 60_000);
});

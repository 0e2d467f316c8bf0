import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { ConfigError, helpText, parseConfig, VARIABLES } from './config.js';

describe('configuration', () => {
  it('runs on safe embedded defaults with an empty environment', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({ port: 8787, host: '127.0.0.1', dataDir: './data', adminToken: undefined, tls: null, production: false });
    expect(c.openai.apiKey).toBeUndefined();
    expect(c.stripe.secretKey).toBeUndefined();
    expect(c.packs.length).toBeGreaterThan(0);
    for (const p of c.packs) expect(Number.isInteger(p.price.amount) && Number.isInteger(p.seconds)).toBe(true);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['ADMIN_TOKEN', 'short'],
    ['OPENAI_BASE_URL', 'ftp://example.test'],
    ['LOG_LEVEL', 'loud'],
    ['CREDIT_PACKS', '[{"id":"x"}]'],
    ['ACCOUNT_PURGE_DAYS', '31'],
    ['MAX_CALL_SECONDS', '7200'],
    ['EXTENSION_ORIGINS', 'not an origin'],
    ['TLS_CERT_FILE', '/tmp/cert.pem'],
    ['OPENAI_ZERO_DATA_RETENTION', 'maybe'],
  ])('a bad %s stops the start with a message naming it', (name, value) => {
    expect(() => parseConfig({ [name]: value })).toThrow(ConfigError);
    try {
      parseConfig({ [name]: value });
    } catch (err) {
      expect((err as ConfigError).message).toContain(name === 'TLS_CERT_FILE' ? 'TLS_KEY_FILE' : name);
    }
  });

  it('--help lists every variable', () => {
    const text = helpText();
    for (const name of Object.keys(VARIABLES)) expect(text).toContain(name);
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'server/index.ts', '--help'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('DATA_KEY');
  });

  it('the server process refuses to start on a bad value and names the variable', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'server/index.ts'], { encoding: 'utf8', env: { ...process.env, PORT: 'nope' } });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/Invalid PORT/);
  });
});

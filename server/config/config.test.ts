import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { ConfigError, helpText, parseConfig, startupWarnings, VARIABLES } from './config.js';

/** Production as it must be configured for CORS: it names its extension (the other settings vary by test). */
const PRODUCTION = { NODE_ENV: 'production', EXTENSION_ORIGINS: 'chrome-extension://abcdefghijklmnopabcdefghijklmnop' };

describe('configuration', () => {
  it('REDIS_URL is off by default, takes redis:// and rediss:// URLs, and keys everything under REDIS_KEY_PREFIX', () => {
    expect(parseConfig({})).toMatchObject({ redisUrl: undefined, redisKeyPrefix: 'callsanta:' });
    expect(parseConfig({ REDIS_URL: 'redis://:s3cret@cache:6379/2' }).redisUrl).toBe('redis://:s3cret@cache:6379/2');
    expect(parseConfig({ REDIS_URL: 'rediss://cache:6380' }).redisUrl).toBe('rediss://cache:6380');
    expect(() => parseConfig({ REDIS_URL: 'http://cache:6379' })).toThrow(
      /Invalid REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/,
    );
    expect(parseConfig({ REDIS_KEY_PREFIX: 'staging:' }).redisKeyPrefix).toBe('staging:');
    expect(() => parseConfig({ REDIS_KEY_PREFIX: 'a b*' })).toThrow(ConfigError);
    // A secret: --help never shows a value for it.
    expect(helpText()).not.toMatch(/REDIS_URL.*default:/);
  });

  it('runs on safe embedded defaults with an empty environment', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({
      port: 8787,
      host: '127.0.0.1',
      dataDir: './data',
      adminToken: undefined,
      tls: null,
      production: false,
    });
    expect(c.openai.apiKey).toBeUndefined();
    expect(c.stripe.secretKey).toBeUndefined();
    expect(c.packs.length).toBeGreaterThan(0);
    for (const p of c.packs) expect(Number.isInteger(p.price.amount) && Number.isInteger(p.seconds)).toBe(true);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['OPENAI_BASE_URL', 'ftp://example.test'],
    ['LOG_LEVEL', 'loud'],
    ['CREDIT_PACKS', '[{"id":"x"}]'],
    ['ACCOUNT_PURGE_DAYS', '31'],
    ['MAX_CALL_SECONDS', '7200'],
    // The provider ends every session at 60 minutes: a call of exactly that length would be cut off.
    ['MAX_CALL_SECONDS', '3600'],
    ['MAX_CALL_SECONDS', '3541'],
    ['EXTENSION_ORIGINS', 'not an origin'],
    ['TLS_CERT_FILE', '/tmp/cert.pem'],
    ['OPENAI_ZERO_DATA_RETENTION', 'maybe'],
    // Two checkpoints (5 s each) must fit in a lease, or one late write moves a live call.
    ['CALL_LEASE_SECONDS', '10'],
    ['CALL_LEASE_WATCH_MS', '10'],
  ])('a bad %s stops the start with a message naming it', (name, value) => {
    expect(() => parseConfig({ [name]: value })).toThrow(ConfigError);
    try {
      parseConfig({ [name]: value });
    } catch (err) {
      expect((err as ConfigError).message).toContain(name === 'TLS_CERT_FILE' ? 'TLS_KEY_FILE' : name);
    }
  });

  it('a call lease is more than two checkpoints long (15 s and a 2 s watch by default)', () => {
    expect(parseConfig({})).toMatchObject({ callLeaseSeconds: 15, callLeaseWatchMs: 2000 });
    expect(parseConfig({ CALL_CHECKPOINT_SECONDS: '2', CALL_LEASE_SECONDS: '5' }).callLeaseSeconds).toBe(5);
    expect(() => parseConfig({ CALL_CHECKPOINT_SECONDS: '10', CALL_LEASE_SECONDS: '15' })).toThrow(
      /CALL_LEASE_SECONDS: must be more than twice CALL_CHECKPOINT_SECONDS \(10\)/,
    );
  });

  it("takes a longest call up to a minute under the provider's 60-minute session cap", () => {
    expect(parseConfig({ MAX_CALL_SECONDS: '3540' }).maxCallSeconds).toBe(3540);
    expect(() => parseConfig({ MAX_CALL_SECONDS: '3600' })).toThrow(/MAX_CALL_SECONDS/);
  });

  it('accepts a short ADMIN_TOKEN outside production and warns at start without showing it', () => {
    const c = parseConfig({ ADMIN_TOKEN: 'test-admin' });
    expect(c.adminToken).toBe('test-admin');
    const warnings = startupWarnings(c);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/ADMIN_TOKEN is shorter than 24 characters/);
    expect(warnings.join('\n')).not.toContain('test-admin');
    expect(startupWarnings(parseConfig({ ADMIN_TOKEN: 'x'.repeat(24) }))).toEqual([]);
  });

  it('refuses a short ADMIN_TOKEN with NODE_ENV=production and says why', () => {
    expect(() => parseConfig({ ADMIN_TOKEN: 'test-admin', NODE_ENV: 'production' })).toThrow(
      /Invalid ADMIN_TOKEN: must be at least 24 characters with NODE_ENV=production, because a short token can be guessed/,
    );
    expect(parseConfig({ ADMIN_TOKEN: 'x'.repeat(24), ...PRODUCTION, SIMULATED_PAYMENTS: 'true' }).adminToken).toBe(
      'x'.repeat(24),
    );
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'server/index.ts'], {
      encoding: 'utf8',
      env: { ...process.env, NODE_ENV: 'production', ADMIN_TOKEN: 'test-admin' },
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/Invalid ADMIN_TOKEN: .*NODE_ENV=production/);
  });

  it('refuses to start in production without Stripe, unless SIMULATED_PAYMENTS=true says payments are simulated on purpose', () => {
    // The dev provider's test page credits a pack for one click: in production that is free call time.
    expect(() => parseConfig({ NODE_ENV: 'production' })).toThrow(
      /Invalid STRIPE_SECRET_KEY: is required with NODE_ENV=production.*SIMULATED_PAYMENTS=true/,
    );
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'server/index.ts'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'production', PORT: '0' },
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/Call Santa cannot start: Invalid STRIPE_SECRET_KEY/);

    expect(parseConfig({ ...PRODUCTION, SIMULATED_PAYMENTS: 'true' }).simulatedPayments).toBe(true);
    expect(
      parseConfig({ ...PRODUCTION, STRIPE_SECRET_KEY: 'sk_live_x', STRIPE_WEBHOOK_SECRET: 'whsec_x' })
        .simulatedPayments,
    ).toBe(false);
    // Stripe without its webhook secret would never credit a payment.
    expect(() => parseConfig({ NODE_ENV: 'production', STRIPE_SECRET_KEY: 'sk_live_x' })).toThrow(
      /Invalid STRIPE_WEBHOOK_SECRET/,
    );
    // One or the other, never both.
    expect(() => parseConfig({ STRIPE_SECRET_KEY: 'sk_test_x', SIMULATED_PAYMENTS: 'true' })).toThrow(
      /Invalid SIMULATED_PAYMENTS/,
    );
    // Development keeps its embedded default: simulated payments without any setting.
    expect(parseConfig({}).simulatedPayments).toBe(true);
  });

  it('takes a passphrase as DATA_KEY and warns that a random 32-byte key is recommended', () => {
    const c = parseConfig({ DATA_KEY: 'test-key' });
    expect(c.dataKey).toBe('test-key');
    expect(startupWarnings(c)).toEqual([
      expect.stringMatching(/DATA_KEY is a passphrase.*random 32-byte key is recommended/),
    ]);
    expect(startupWarnings(c).join('\n')).not.toContain('test-key');
    expect(startupWarnings(parseConfig({ DATA_KEY: 'ab'.repeat(32) }))).toEqual([]);
  });

  it('EXTENSION_ORIGINS=* allows any origin; a list stays a list', () => {
    expect(parseConfig({ EXTENSION_ORIGINS: '*' }).extensionOrigins).toBe('*');
    expect(parseConfig({ EXTENSION_ORIGINS: 'https://a.example, *' }).extensionOrigins).toBe('*');
    expect(
      parseConfig({ EXTENSION_ORIGINS: 'https://a.example, chrome-extension://abcdefghijklmnopabcdefghijklmnop' })
        .extensionOrigins,
    ).toEqual(['https://a.example', 'chrome-extension://abcdefghijklmnopabcdefghijklmnop']);
    expect(parseConfig({}).extensionOrigins).toBeNull();
  });

  it('production names its extension origins: no built-in default, no localhost, a clear refusal at start', () => {
    const prod = { NODE_ENV: 'production', SIMULATED_PAYMENTS: 'true' };
    // The development default (every extension and localhost) never applies in production.
    expect(() => parseConfig(prod)).toThrow(/Invalid EXTENSION_ORIGINS: is required with NODE_ENV=production/);
    for (const local of ['http://localhost:3000', 'https://127.0.0.1', 'http://[::1]:8080', 'http://app.localhost']) {
      expect(
        () =>
          parseConfig({ ...prod, EXTENSION_ORIGINS: `chrome-extension://abcdefghijklmnopabcdefghijklmnop,${local}` }),
        local,
      ).toThrow(/Invalid EXTENSION_ORIGINS: must not name a localhost origin with NODE_ENV=production/);
    }
    const named =
      'chrome-extension://abcdefghijklmnopabcdefghijklmnop,moz-extension://0b2c0f3a-1d2e-4f5a-8b9c-0d1e2f3a4b5c';
    expect(parseConfig({ ...prod, EXTENSION_ORIGINS: named }).extensionOrigins).toEqual(named.split(','));
    // * is a choice the operator makes in so many words, not a default.
    expect(parseConfig({ ...prod, EXTENSION_ORIGINS: '*' }).extensionOrigins).toBe('*');
    // Development keeps its convenient default and may name localhost.
    expect(parseConfig({}).extensionOrigins).toBeNull();
    expect(parseConfig({ EXTENSION_ORIGINS: 'http://localhost:3000' }).extensionOrigins).toEqual([
      'http://localhost:3000',
    ]);
    // An extension origin must look like one: a typo would silently allow nobody.
    for (const bad of [
      'chrome-extension://abc',
      'chrome-extension://ABCDEFGHIJKLMNOPABCDEFGHIJKLMNOP',
      'moz-extension://call-santa@callsanta.app',
      'chrome-extension://*',
      'moz-extension://*',
    ]) {
      expect(() => parseConfig({ EXTENSION_ORIGINS: bad }), bad).toThrow(/Invalid EXTENSION_ORIGINS: not an origin/);
    }

    const run = spawnSync(process.execPath, ['--import', 'tsx', 'server/index.ts'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...prod, PORT: '0' },
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(
      /Call Santa cannot start: Invalid EXTENSION_ORIGINS: is required with NODE_ENV=production/,
    );
  });

  it('--help describes the relaxed ADMIN_TOKEN, DATA_KEY and EXTENSION_ORIGINS rules', () => {
    const line = (name: string) =>
      helpText()
        .split('\n')
        .find((l) => l.trimStart().startsWith(name + ' ')) ?? '';
    expect(line('ADMIN_TOKEN')).toMatch(/under 24 characters only warns, and is refused with NODE_ENV=production/);
    expect(line('DATA_KEY')).toMatch(/64 hex chars or base64.*passphrase/);
    expect(line('EXTENSION_ORIGINS')).toMatch(/or \* for any origin/);
  });

  it('--help lists every variable', () => {
    const text = helpText();
    for (const name of Object.keys(VARIABLES)) expect(text).toContain(name);
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'server/index.ts', '--help'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('DATA_KEY');
  });

  it('the server process refuses to start on a bad value and names the variable', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'server/index.ts'], {
      encoding: 'utf8',
      env: { ...process.env, PORT: 'nope' },
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/Invalid PORT/);
  });
});

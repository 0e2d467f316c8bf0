import { isIP } from 'node:net';
import { z } from 'zod';
import { packSchema, type Pack } from '../../shared/schemas/credits.js';
import { isRawDataKey } from '../store/crypto.js';
import { LONGEST_CALL_SECONDS } from '../realtime/provider.js';

/**
 * Every setting comes from the environment, is validated once at start, and has a safe
 * embedded default: no OpenAI key means Simulated Santa, no Stripe key means dev payments,
 * no ADMIN_TOKEN means no admin endpoints at all.
 */
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const positiveInt = z.coerce.number().int().positive();
const url = z.url({ protocol: /^https?$/ });

/** Shorter admin tokens can be guessed: a warning in development, a refusal in production. */
export const ADMIN_TOKEN_MIN = 24;

const DEFAULT_PACKS: Pack[] = [
  { id: 'pack-10', seconds: 10 * 60, price: { amount: 4900, currency: 'dkk' } },
  { id: 'pack-30', seconds: 30 * 60, price: { amount: 9900, currency: 'dkk' } },
  { id: 'pack-60', seconds: 60 * 60, price: { amount: 14900, currency: 'dkk' } },
];

interface VarSpec {
  description: string;
  default?: string;
  schema: z.ZodType;
  secret?: boolean;
}

export const VARIABLES = {
  PORT: { description: 'Port to listen on', default: '8787', schema: z.coerce.number().int().min(0).max(65535) },
  HOST: {
    description: 'Address to bind (use 0.0.0.0 behind a proxy)',
    default: '127.0.0.1',
    schema: z.string().min(1),
  },
  PUBLIC_URL: { description: 'Public base URL of this server (checkout return links, emails)', schema: url.optional() },
  NODE_ENV: { description: 'production enables production warnings', default: 'development', schema: z.string() },
  DATA_DIR: { description: 'Folder of the encrypted data files', default: './data', schema: z.string().min(1) },
  DATABASE_URL: {
    description:
      'postgres://user:password@host:port/database: keep the data in PostgreSQL instead of the lowdb files under DATA_DIR (needs DATA_KEY; the schema is migrated at start, or with npm run migrate)',
    schema: z
      .string()
      .refine((v) => /^postgres(ql)?:\/\/[^\s]+$/.test(v), 'must be a postgres:// or postgresql:// URL')
      .optional(),
    secret: true,
  },
  REDIS_URL: {
    description:
      'redis://[:password@]host:port[/db] or rediss:// (TLS): several server processes share one Redis for socket events to every process (socket.io streams adapter) and rate limits counted across processes; without it everything stays in this process, and a process on DATABASE_URL holds a PostgreSQL advisory lock so a second one refuses to start',
    schema: z
      .string()
      .refine((v) => /^rediss?:\/\/[^\s]+$/.test(v), 'must be a redis:// or rediss:// URL')
      .optional(),
    secret: true,
  },
  REDIS_KEY_PREFIX: {
    description:
      'Prefix of every Redis key and channel this deployment uses (its socket stream, its rate-limit counters), so several deployments can share one Redis',
    default: 'callsanta:',
    schema: z.string().regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'letters, digits and : _ . - only, at most 64'),
  },
  DATA_KEY: {
    description:
      'Data key: 32 random bytes as 64 hex chars or base64 (recommended), or any other text as a passphrase (scrypt-derived, with a warning); default: a 0600 key file generated in DATA_DIR',
    schema: z.string().optional(),
    secret: true,
  },
  ADMIN_TOKEN: {
    description: `Bearer token for /admin (admin endpoints do not exist without it); under ${ADMIN_TOKEN_MIN} characters only warns, and is refused with NODE_ENV=production`,
    schema: z.string().min(1).optional(),
    secret: true,
  },
  OPENAI_API_KEY: {
    description: 'OpenAI key; without it Simulated Santa answers calls',
    schema: z.string().min(1).optional(),
    secret: true,
  },
  OPENAI_BASE_URL: {
    description: 'OpenAI API base URL (tests point it at a local fake)',
    default: 'https://api.openai.com/v1',
    schema: url,
  },
  OPENAI_REALTIME_MODEL: { description: 'Realtime model', default: 'gpt-realtime-mini', schema: z.string().min(1) },
  OPENAI_VOICE: { description: "Santa's voice", default: 'ash', schema: z.string().min(1) },
  OPENAI_ZERO_DATA_RETENTION: {
    description: 'true when the OpenAI organisation has zero data retention (promise P1)',
    default: 'false',
    schema: bool,
  },
  STRIPE_SECRET_KEY: {
    description: 'Stripe secret key; without it the dev payment provider is used',
    schema: z.string().min(1).optional(),
    secret: true,
  },
  STRIPE_WEBHOOK_SECRET: {
    description:
      'Stripe webhook signing secret (verified in dev mode too when set); required with STRIPE_SECRET_KEY and NODE_ENV=production',
    schema: z.string().min(1).optional(),
    secret: true,
  },
  SIMULATED_PAYMENTS: {
    description:
      'true to run NODE_ENV=production without Stripe: checkout is a local test page, no money moves, and the pages and side panel say so (without it production refuses to start with no STRIPE_SECRET_KEY)',
    default: 'false',
    schema: bool,
  },
  STRIPE_API_URL: { description: 'Stripe API base URL (tests point it at a local fake)', schema: url.optional() },
  CREDIT_PACKS: {
    description: 'JSON array of packs [{id, seconds, price:{amount, currency}}]',
    default: JSON.stringify(DEFAULT_PACKS),
    schema: z.string(),
  },
  TRUST_PROXY: {
    description:
      "Which proxies may set X-Forwarded-For/-Proto (Express's trust proxy): a hop count (1 = the one proxy in front), or comma-separated addresses/CIDRs or loopback, linklocal, uniquelocal; default: none, so the connection's own address and scheme count",
    schema: z.string().optional(),
  },
  EXTENSION_ORIGINS: {
    description:
      'Comma-separated allowed browser origins (chrome-extension://<32-letter id>, moz-extension://<uuid>, https://...), or * for any origin (the API authenticates with bearer tokens, never cookies); default outside production: any chrome-extension:// or moz-extension:// origin and localhost. Required with NODE_ENV=production, which has no default and refuses localhost origins',
    schema: z.string().optional(),
  },
  TLS_CERT_FILE: {
    description: 'TLS certificate (PEM); with TLS_KEY_FILE the server speaks HTTPS, TLS 1.3 minimum',
    schema: z.string().optional(),
  },
  TLS_KEY_FILE: { description: 'TLS private key (PEM)', schema: z.string().optional() },
  LOG_LEVEL: {
    description: 'fatal, error, warn, info, debug, trace or silent',
    default: 'info',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  },
  SIGNUPS_PER_ADDRESS_PER_HOUR: {
    description:
      'Sign-up attempts one client address may make in an hour (429 beyond), so free accounts cannot multiply the per-account limits',
    default: '20',
    schema: positiveInt.max(1_000_000),
  },
  SESSION_TTL_DAYS: { description: 'Sign-in session lifetime in days', default: '30', schema: positiveInt.max(365) },
  ACCOUNT_PURGE_DAYS: {
    description: 'Days from account deletion to purge of personal data (at most 30)',
    default: '30',
    schema: positiveInt.max(30),
  },
  RETENTION_INTERVAL_MS: {
    description: 'How often the retention sweeps run',
    default: String(60 * 60 * 1000),
    schema: positiveInt.min(1000),
  },
  MIN_CALL_SECONDS: {
    description: 'Least available credit that starts a call',
    default: '60',
    schema: positiveInt.max(3600),
  },
  MAX_CALL_SECONDS: {
    description: `Longest call; at most ${LONGEST_CALL_SECONDS} (a minute under the provider's 60-minute session cap, so the wrap-up and the end are ours)`,
    default: '1800',
    schema: positiveInt.max(LONGEST_CALL_SECONDS),
  },
  CALL_GRACE_SECONDS: {
    description: "How long a call outlives its window's lost socket",
    default: '20',
    schema: positiveInt.max(300),
  },
  CALL_CHECKPOINT_SECONDS: {
    description: 'How often a live call writes its metered seconds (what a crash settles from)',
    default: '5',
    schema: positiveInt.max(60),
  },
  CALL_LEASE_SECONDS: {
    description:
      'How long a live call stays with its process without a checkpoint before another process takes it over (more than two checkpoints)',
    default: '15',
    schema: positiveInt.max(300),
  },
  CALL_LEASE_WATCH_MS: {
    description: 'How often each process looks for live calls whose owner stopped renewing their lease',
    default: '2000',
    schema: positiveInt.min(100).max(60_000),
  },
  SMTP_URL: {
    description: 'SMTP URL for outgoing mail; without it mail waits in the admin outbox',
    schema: z.string().optional(),
    secret: true,
  },
  MAIL_FROM: {
    description: 'From address of outgoing mail',
    default: 'Call Santa <no-reply@callsanta.app>',
    schema: z.string(),
  },
} satisfies Record<string, VarSpec>;

export type VariableName = keyof typeof VARIABLES;

export interface Config {
  port: number;
  host: string;
  publicUrl: string | undefined;
  production: boolean;
  dataDir: string;
  /** Set: the PostgreSQL store; unset: the embedded lowdb store under dataDir. */
  databaseUrl: string | undefined;
  dataKey: string | undefined;
  /** Set: several processes share socket events and rate limits through this Redis. */
  redisUrl: string | undefined;
  redisKeyPrefix: string;
  adminToken: string | undefined;
  openai: { apiKey: string | undefined; baseUrl: string; model: string; voice: string; zeroDataRetention: boolean };
  stripe: { secretKey: string | undefined; webhookSecret: string | undefined; apiUrl: string | undefined };
  /**
   * Payments are simulated (the dev provider): always without STRIPE_SECRET_KEY outside
   * production; in production only when SIMULATED_PAYMENTS=true says so.
   */
  simulatedPayments: boolean;
  packs: Pack[];
  /** Express's `trust proxy`: false (trust no forwarded header), a hop count, or a list of addresses/subnets. */
  trustProxy: false | number | string[];
  /** Allowed browser origins: a list, '*' for any origin, or null for the built-in extension/localhost rule. */
  extensionOrigins: string[] | '*' | null;
  tls: { certFile: string; keyFile: string } | null;
  logLevel: string;
  sessionTtlDays: number;
  signupsPerAddressPerHour: number;
  accountPurgeDays: number;
  retentionIntervalMs: number;
  minCallSeconds: number;
  maxCallSeconds: number;
  callGraceSeconds: number;
  callCheckpointSeconds: number;
  /** A live call's owner lease (renewed with each checkpoint) and how often expired ones are looked for. */
  callLeaseSeconds: number;
  callLeaseWatchMs: number;
  smtpUrl: string | undefined;
  mailFrom: string;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`Invalid ${variable}: ${detail}`);
    this.name = 'ConfigError';
  }
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * One allowed origin: a Chrome extension (its id is 32 letters a-p), a Firefox extension (its
 * per-installation UUID) or a web origin. A typo'd id would silently allow nobody.
 */
const ORIGIN =
  /^(chrome-extension:\/\/[a-p]{32}|moz-extension:\/\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|https?:\/\/[^/\s]+)$/;
/** Origins on this machine: fine for development, never an allowed origin in production. */
const LOOPBACK_ORIGIN = /^https?:\/\/(localhost|[^/]*\.localhost|127(\.\d{1,3}){3}|\[::1\]|0\.0\.0\.0)(:\d+)?$/i;

/**
 * TRUST_PROXY: a hop count, or addresses, subnets and proxy-addr's names. `true` (trust every
 * hop) is refused: any client could then name its own address and reset every per-address limit.
 */
function parseTrustProxy(raw: string | undefined): false | number | string[] {
  if (raw === undefined || raw.trim() === '' || raw.trim() === 'false') return false;
  const value = raw.trim();
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops < 1 || hops > 10) throw new ConfigError('TRUST_PROXY', 'a hop count is 1 to 10');
    return hops;
  }
  const list = value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const entry of list) {
    const [address, bits, ...rest] = entry.split('/');
    const family = isIP(address ?? '');
    const validBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (!(PROXY_NAMES.has(entry) || (family !== 0 && validBits && rest.length === 0))) {
      throw new ConfigError(
        'TRUST_PROXY',
        `not a proxy address, subnet, hop count or one of loopback, linklocal, uniquelocal: ${entry}`,
      );
    }
  }
  return list;
}

export function parseConfig(env: Record<string, string | undefined>): Config {
  const read = <N extends VariableName>(name: N): z.output<(typeof VARIABLES)[N]['schema']> => {
    const spec: VarSpec = VARIABLES[name];
    const raw = env[name] === '' ? undefined : (env[name] ?? spec.default);
    const result = spec.schema.safeParse(raw);
    if (!result.success) throw new ConfigError(name, result.error.issues[0]?.message ?? 'invalid value');
    return result.data as z.output<(typeof VARIABLES)[N]['schema']>;
  };

  let packs: Pack[];
  try {
    packs = z
      .array(packSchema)
      .min(1)
      .parse(JSON.parse(read('CREDIT_PACKS')));
  } catch {
    throw new ConfigError('CREDIT_PACKS', 'must be a JSON array of { id, seconds, price: { amount, currency } }');
  }
  if (new Set(packs.map((p) => p.id)).size !== packs.length)
    throw new ConfigError('CREDIT_PACKS', 'pack ids must be unique');

  const cert = read('TLS_CERT_FILE');
  const key = read('TLS_KEY_FILE');
  if (Boolean(cert) !== Boolean(key))
    throw new ConfigError(cert ? 'TLS_KEY_FILE' : 'TLS_CERT_FILE', 'TLS_CERT_FILE and TLS_KEY_FILE go together');

  const origins = read('EXTENSION_ORIGINS');
  const originList = origins
    ? origins
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean)
    : null;
  for (const o of originList ?? []) {
    if (o !== '*' && !ORIGIN.test(o)) throw new ConfigError('EXTENSION_ORIGINS', `not an origin: ${o}`);
  }
  // `*` anywhere in the list means any origin; the others it names add nothing.
  const extensionOrigins = originList?.includes('*') ? '*' : originList;

  const databaseUrl = read('DATABASE_URL');
  const dataKey = read('DATA_KEY');
  if (databaseUrl && dataKey === undefined) {
    // There is no data directory to keep a generated key file in, and every process on the database needs the same key.
    throw new ConfigError(
      'DATA_KEY',
      'is required with DATABASE_URL: every personal field is sealed with it before it reaches PostgreSQL (e.g. openssl rand -hex 32)',
    );
  }

  const trustProxy = parseTrustProxy(read('TRUST_PROXY'));

  // A lease that a checkpoint or two can miss (a slow write, a GC pause) without the call moving.
  if (read('CALL_LEASE_SECONDS') <= 2 * read('CALL_CHECKPOINT_SECONDS'))
    throw new ConfigError(
      'CALL_LEASE_SECONDS',
      `must be more than twice CALL_CHECKPOINT_SECONDS (${read('CALL_CHECKPOINT_SECONDS')}): each checkpoint renews the lease, and one late checkpoint must not move a call to another process`,
    );

  const production = read('NODE_ENV') === 'production';
  const adminToken = read('ADMIN_TOKEN');
  if (production && adminToken !== undefined && adminToken.length < ADMIN_TOKEN_MIN) {
    throw new ConfigError(
      'ADMIN_TOKEN',
      `must be at least ${ADMIN_TOKEN_MIN} characters with NODE_ENV=production, because a short token can be guessed (e.g. openssl rand -base64 32)`,
    );
  }

  // Without Stripe the dev provider's test page credits a pack for one click: production must
  // have Stripe, or say in one variable that payments are simulated on purpose.
  const stripeKey = read('STRIPE_SECRET_KEY');
  const stripeWebhookSecret = read('STRIPE_WEBHOOK_SECRET');
  const simulatedWanted = read('SIMULATED_PAYMENTS');
  if (stripeKey && simulatedWanted)
    throw new ConfigError(
      'SIMULATED_PAYMENTS',
      'cannot be true together with STRIPE_SECRET_KEY: choose real payments (Stripe) or simulated ones',
    );
  if (production && !stripeKey && !simulatedWanted) {
    throw new ConfigError(
      'STRIPE_SECRET_KEY',
      'is required with NODE_ENV=production, because without it checkout is a local test page that credits call time for free; set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET, or SIMULATED_PAYMENTS=true to run with simulated payments on purpose',
    );
  }
  if (production && stripeKey && !stripeWebhookSecret) {
    throw new ConfigError(
      'STRIPE_WEBHOOK_SECRET',
      'is required with STRIPE_SECRET_KEY and NODE_ENV=production, because without it no payment is ever credited',
    );
  }

  // The built-in default echoes every extension's origin and localhost: handy in development,
  // but in production any installed extension or local page could then call the API from a
  // browser. Production names its own extension ids (or says * on purpose), and never localhost.
  if (production && extensionOrigins === null) {
    throw new ConfigError(
      'EXTENSION_ORIGINS',
      "is required with NODE_ENV=production: name the extension's origins, e.g. EXTENSION_ORIGINS=chrome-extension://<the store id>,moz-extension://<uuid> (without it every extension and localhost origin would be allowed, which is the development default only; * allows any origin on purpose)",
    );
  }
  const loopbackOrigin = Array.isArray(extensionOrigins)
    ? extensionOrigins.find((o) => LOOPBACK_ORIGIN.test(o))
    : undefined;
  if (production && loopbackOrigin !== undefined) {
    throw new ConfigError(
      'EXTENSION_ORIGINS',
      `must not name a localhost origin with NODE_ENV=production (${loopbackOrigin}): any local program could serve a page there`,
    );
  }

  const maxCall = read('MAX_CALL_SECONDS');
  const minCall = read('MIN_CALL_SECONDS');
  if (minCall > maxCall) throw new ConfigError('MIN_CALL_SECONDS', 'must not exceed MAX_CALL_SECONDS');

  return {
    port: read('PORT'),
    host: read('HOST'),
    publicUrl: read('PUBLIC_URL')?.replace(/\/$/, ''),
    production,
    dataDir: read('DATA_DIR'),
    databaseUrl,
    dataKey,
    redisUrl: read('REDIS_URL'),
    redisKeyPrefix: read('REDIS_KEY_PREFIX'),
    adminToken,
    openai: {
      apiKey: read('OPENAI_API_KEY'),
      baseUrl: read('OPENAI_BASE_URL').replace(/\/$/, ''),
      model: read('OPENAI_REALTIME_MODEL'),
      voice: read('OPENAI_VOICE'),
      zeroDataRetention: read('OPENAI_ZERO_DATA_RETENTION'),
    },
    stripe: { secretKey: stripeKey, webhookSecret: stripeWebhookSecret, apiUrl: read('STRIPE_API_URL') },
    simulatedPayments: !stripeKey,
    packs,
    extensionOrigins,
    trustProxy,
    tls: cert && key ? { certFile: cert, keyFile: key } : null,
    logLevel: read('LOG_LEVEL'),
    sessionTtlDays: read('SESSION_TTL_DAYS'),
    signupsPerAddressPerHour: read('SIGNUPS_PER_ADDRESS_PER_HOUR'),
    accountPurgeDays: read('ACCOUNT_PURGE_DAYS'),
    retentionIntervalMs: read('RETENTION_INTERVAL_MS'),
    minCallSeconds: minCall,
    maxCallSeconds: maxCall,
    callGraceSeconds: read('CALL_GRACE_SECONDS'),
    callCheckpointSeconds: read('CALL_CHECKPOINT_SECONDS'),
    callLeaseSeconds: read('CALL_LEASE_SECONDS'),
    callLeaseWatchMs: read('CALL_LEASE_WATCH_MS'),
    smtpUrl: read('SMTP_URL'),
    mailFrom: read('MAIL_FROM'),
  };
}

/** What start-up logs as warnings: settings that work but are weaker than they should be. Never a secret's value. */
export function startupWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.adminToken !== undefined && config.adminToken.length < ADMIN_TOKEN_MIN) {
    warnings.push(
      `ADMIN_TOKEN is shorter than ${ADMIN_TOKEN_MIN} characters and could be guessed; use a random one (openssl rand -base64 32). NODE_ENV=production refuses it.`,
    );
  }
  if (config.dataKey !== undefined && !isRawDataKey(config.dataKey)) {
    warnings.push(
      'DATA_KEY is a passphrase, so the data key is derived from it with scrypt; a random 32-byte key is recommended (openssl rand -hex 32).',
    );
  }
  return warnings;
}

export function helpText(): string {
  const lines = ['Call Santa server', '', 'Usage: npm run serve [-- --help]', '', 'Environment variables:'];
  for (const [name, spec] of Object.entries(VARIABLES) as [string, VarSpec][]) {
    lines.push(
      `  ${name.padEnd(28)} ${spec.description}${spec.default !== undefined && !spec.secret && name !== 'CREDIT_PACKS' ? ` (default: ${spec.default})` : ''}`,
    );
  }
  return lines.join('\n');
}

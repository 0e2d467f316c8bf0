import { randomBytes } from 'node:crypto';
import type { RedisConnection } from './connection.js';

/**
 * The open sockets of each sign-in session and each account, counted across every process, so
 * the caps of the socket hub (MAX_SOCKETS_PER_SESSION, MAX_SOCKETS_PER_ACCOUNT) hold for a
 * deployment and not per process. One sorted set per session and per account; a member is one
 * socket (this process's id and the socket's), scored with the time it expires. Each process
 * renews its own sockets' scores every RENEW_MS, so the sockets of a process that was killed
 * stop counting within TTL_MS, without anyone cleaning up after it.
 *
 * That alone is too slow for the moment it matters most: when a process dies, every one of its
 * clients reconnects elsewhere at once, and a family whose panel and call window were both on
 * it (twice, if a second process dies within the minute) would find its session "full" of dead
 * sockets and be refused. So each process also keeps a heartbeat key with a short expiry, and a
 * claim that finds a cap reached first drops the members of processes whose heartbeat is gone.
 */
export const SLOT_TTL_MS = 60_000;
const RENEW_MS = 20_000;
/** A process whose heartbeat is older than this is dead as far as the caps are concerned. */
export const PROCESS_TTL_MS = 15_000;
const PROCESS_BEAT_MS = 5_000;

/**
 * KEYS: session set, account set, this process's heartbeat.
 * ARGV: member, session cap, account cap, ttl ms, heartbeat key prefix, heartbeat ttl ms.
 * Expired members go, and when a cap is reached so do the members of processes without a
 * heartbeat; both caps are checked, and the socket is added to both, in one step: concurrent
 * handshakes on any process cannot both take the last slot. Times are Redis's. (The heartbeat
 * keys of other processes are named from the members: fine on one Redis, not on Redis Cluster.)
 */
const CLAIM = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[4])
redis.call('SET', KEYS[3], '1', 'PX', tonumber(ARGV[6]))
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local function full()
  return redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) or redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3])
end
if full() then
  for k = 1, 2 do
    for _, m in ipairs(redis.call('ZRANGE', KEYS[k], 0, -1)) do
      local pid = string.match(m, '^([^:]+):')
      if pid and redis.call('EXISTS', ARGV[5] .. pid) == 0 then redis.call('ZREM', KEYS[k], m) end
    end
  end
  if full() then return 0 end
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return 1
`;

/** KEYS: pairs of (session set, account set). ARGV: ttl ms, then one member per pair. */
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 1, #KEYS do
  local member = ARGV[math.floor((i + 1) / 2) + 1]
  redis.call('ZADD', KEYS[i], 'XX', now + ttl, member)
  redis.call('PEXPIRE', KEYS[i], ttl)
end
return #KEYS
`;

export interface SocketSlots {
  /** true: the socket may open (its slot is taken); false: a cap is reached; null: Redis is away (count in-process). */
  claim(sessionId: string, accountId: string, socketId: string): Promise<boolean | null>;
  release(sessionId: string, accountId: string, socketId: string): void;
  close(): void;
}

export function redisSocketSlots(
  redis: RedisConnection,
  caps: { perSession: number; perAccount: number },
  timing: { processTtlMs?: number; beatMs?: number } = {},
): SocketSlots {
  const processId = randomBytes(6).toString('hex');
  const processTtlMs = timing.processTtlMs ?? PROCESS_TTL_MS;
  const beatPrefix = `${redis.keyPrefix}sockets:process:`;
  const beatKey = `${beatPrefix}${processId}`;
  const held = new Map<string, { sessionKey: string; accountKey: string }>();
  const keys = (sessionId: string, accountId: string) => ({
    sessionKey: `${redis.keyPrefix}sockets:session:${sessionId}`,
    accountKey: `${redis.keyPrefix}sockets:account:${accountId}`,
  });
  const member = (socketId: string) => `${processId}:${socketId}`;

  const renew = () => {
    if (held.size === 0 || !redis.isUp()) return;
    const entries = [...held];
    // In chunks: one script call takes a bounded number of arguments.
    for (let i = 0; i < entries.length; i += 500) {
      const chunk = entries.slice(i, i + 500);
      const redisKeys = chunk.flatMap(([, k]) => [k.sessionKey, k.accountKey]);
      const members = chunk.map(([id]) => member(id));
      redis.limits.eval(RENEW, redisKeys.length, ...redisKeys, SLOT_TTL_MS, ...members).catch(() => undefined);
    }
  };
  // Real time: it keeps Redis's expiry (on Redis's clock) from passing while the socket is open.
  const timer = setInterval(renew, RENEW_MS);
  timer.unref();
  const beat = () => {
    if (redis.isUp()) redis.limits.set(beatKey, '1', 'PX', processTtlMs).catch(() => undefined);
  };
  const beatTimer = setInterval(beat, timing.beatMs ?? PROCESS_BEAT_MS);
  beatTimer.unref();

  return {
    async claim(sessionId, accountId, socketId) {
      const k = keys(sessionId, accountId);
      try {
        const ok = await redis.limits.eval(
          CLAIM,
          3,
          k.sessionKey,
          k.accountKey,
          beatKey,
          member(socketId),
          caps.perSession,
          caps.perAccount,
          SLOT_TTL_MS,
          beatPrefix,
          processTtlMs,
        );
        if (ok !== 1) return false;
        held.set(socketId, k);
        return true;
      } catch {
        return null;
      }
    },
    release(sessionId, accountId, socketId) {
      const k = held.get(socketId) ?? keys(sessionId, accountId);
      held.delete(socketId);
      const m = member(socketId);
      redis.limits
        .multi()
        .zrem(k.sessionKey, m)
        .zrem(k.accountKey, m)
        .exec()
        .catch(() => undefined);
    },
    close() {
      clearInterval(timer);
      clearInterval(beatTimer);
    },
  };
}

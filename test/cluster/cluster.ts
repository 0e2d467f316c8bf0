import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerProcess, freePort } from '../faults/server-process.js';
import { redisEnv } from '../support/redis.js';
import { TcpBalancer } from './balancer.js';

export interface ClusterOptions {
  /** How many server processes (named A, B, C, ...). */
  size: number;
  /** The one PostgreSQL database every process shares (test/support/postgres.ts freshDatabase). */
  databaseUrl: string;
  /** The one Redis every process shares (test/support/redis.ts testRedisUrl); the cluster keys its streams and counters under a prefix of its own. */
  redisUrl?: string;
  /** A fake OpenAI (test/fakes/openai) every process reaches over 127.0.0.1: calls go through the OpenAI provider. */
  openai?: { apiKey: string; baseURL: string };
  /** More environment for every process (CALL_CHECKPOINT_SECONDS, limits ...). */
  env?: Record<string, string>;
}

/** One of the cluster's processes: the real server (`node --import tsx server/index.ts`) on its own port. */
export interface ClusterNode {
  readonly name: string;
  readonly index: number;
  readonly process: ServerProcess;
  readonly url: string;
  readonly port: number;
}

/**
 * N identical server processes on one PostgreSQL database and one Redis, each on its own free
 * 127.0.0.1 port, with their own (unused on PostgreSQL) data directory, as N machines would
 * run them; and a TCP balancer in front (`url`) that hands each new connection to the next
 * process that accepts it. Any process can be killed (SIGKILL), stopped (SIGTERM) or started
 * again on its port. The secrets a test needs to act as the operator (admin token, webhook
 * secret) are the same for every process.
 */
export class ServerCluster {
  readonly dataKey = randomBytes(32).toString('hex');
  readonly adminToken = `cluster-admin-token-${randomBytes(12).toString('hex')}`;
  readonly webhookSecret = `whsec_cluster_${randomBytes(8).toString('hex')}`;
  readonly nodes: ClusterNode[] = [];
  readonly balancer: TcpBalancer;
  private readonly dirs: string[] = [];
  private readonly env: Record<string, string>;

  private constructor(private readonly options: ClusterOptions) {
    this.env = this.sharedEnv();
    this.balancer = new TcpBalancer(() => this.nodes.filter((n) => n.process.pid !== undefined).map((n) => n.port));
  }

  static async start(options: ClusterOptions): Promise<ServerCluster> {
    const cluster = new ServerCluster(options);
    try {
      for (let i = 0; i < options.size; i++) await cluster.add();
      // One at a time: the first migrates the database, and on a 2-core machine three
      // compiling at once take longer than three in a row.
      for (const node of cluster.nodes) await node.process.start();
      await cluster.balancer.start();
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  /** The environment every process shares: what an operator would put in each machine's env file. */
  private sharedEnv(): Record<string, string> {
    const o = this.options;
    return {
      DATABASE_URL: o.databaseUrl,
      DATA_KEY: this.dataKey,
      ADMIN_TOKEN: this.adminToken,
      STRIPE_WEBHOOK_SECRET: this.webhookSecret,
      ...(o.redisUrl ? redisEnv(o.redisUrl) : {}),
      ...(o.openai ? { OPENAI_API_KEY: o.openai.apiKey, OPENAI_BASE_URL: o.openai.baseURL } : {}),
      ...o.env,
    };
  }

  private async add(): Promise<ClusterNode> {
    const index = this.nodes.length;
    const dir = mkdtempSync(join(tmpdir(), `callsanta-cluster-${index}-`));
    this.dirs.push(dir);
    const port = await freePort();
    const proc = new ServerProcess(port, { ...this.env, DATA_DIR: dir });
    const node: ClusterNode = { name: String.fromCharCode(65 + index), index, process: proc, url: proc.url, port };
    this.nodes.push(node);
    return node;
  }

  node(nameOrIndex: string | number): ClusterNode {
    const node =
      typeof nameOrIndex === 'number' ? this.nodes[nameOrIndex] : this.nodes.find((n) => n.name === nameOrIndex);
    if (!node) throw new Error(`no cluster node ${nameOrIndex}`);
    return node;
  }

  /** The balancer's address: each new connection reaches the next process that answers. */
  get url(): string {
    return this.balancer.url;
  }

  /** The processes running now. */
  running(): ClusterNode[] {
    return this.nodes.filter((n) => n.process.pid !== undefined);
  }

  /** SIGKILL: no shutdown hook, no lease handed over, no last write. */
  async kill(name: string | number): Promise<void> {
    await this.node(name).process.kill();
  }

  /** SIGTERM, as a deploy does; the exit code (0 for a clean drain). */
  async stop(name: string | number): Promise<number | null> {
    return this.node(name).process.stop();
  }

  /** Start a stopped or killed process again, on its own port (`nice`: see ServerProcess.start). */
  async restart(name: string | number, options: { nice?: number } = {}): Promise<void> {
    const node = this.node(name);
    if (node.process.pid !== undefined) await node.process.stop();
    await node.process.start(undefined, options);
  }

  /** The newest output of every process, for a failure message. */
  output(): string {
    return this.nodes.map((n) => `--- ${n.name} (:${n.port})\n${n.process.output()}`).join('\n');
  }

  async close(): Promise<void> {
    await this.balancer.close();
    await Promise.all(this.nodes.map((n) => n.process.kill()));
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}

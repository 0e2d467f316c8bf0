import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A plain TCP load balancer on 127.0.0.1, as nginx's `upstream` (or any layer-4 balancer)
 * would be: each new connection goes to the next backend in turn, and a backend that refuses
 * the connection (killed, restarting) is skipped for the next one. A WebSocket stays on the
 * backend it reached until that connection closes, which is all socket.io's websocket-only
 * transport needs (no sticky sessions). Tests point clients at `url` to reach "whichever
 * process answers".
 */
export class TcpBalancer {
  private server: Server | null = null;
  private next = 0;
  private readonly open = new Set<Socket>();
  port = 0;
  /** Connections sent to each backend port: which processes the clients reached. */
  readonly served = new Map<number, number>();

  constructor(private readonly backends: () => readonly number[]) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((client) => this.route(client));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
  }

  private route(client: Socket): void {
    this.open.add(client);
    client.once('close', () => this.open.delete(client));
    client.on('error', () => undefined);
    client.pause();
    const ports = [...this.backends()];
    const first = this.next++;
    const attempt = (i: number) => {
      if (i >= ports.length || client.destroyed) {
        client.destroy();
        return;
      }
      const port = ports[(first + i) % ports.length]!;
      const upstream = connect({ host: '127.0.0.1', port });
      upstream.once('error', () => {
        upstream.destroy();
        // Refused before a byte was relayed: the next backend gets this connection.
        if (!relaying) attempt(i + 1);
        else client.destroy();
      });
      let relaying = false;
      upstream.once('connect', () => {
        relaying = true;
        this.served.set(port, (this.served.get(port) ?? 0) + 1);
        this.open.add(upstream);
        upstream.once('close', () => {
          this.open.delete(upstream);
          client.destroy();
        });
        client.once('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    attempt(0);
  }

  async close(): Promise<void> {
    for (const s of this.open) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

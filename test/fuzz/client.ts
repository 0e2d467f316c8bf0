import { Agent, request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * A bare HTTP/1.1 client over one keep-alive connection. fetch() refuses bodies on GET and
 * normalises paths; the fuzzer needs to send exactly what it generated.
 */
export class RawClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4 });
  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  static fromUrl(url: string): RawClient {
    const u = new URL(url);
    return new RawClient(u.hostname, Number(u.port));
  }

  send(method: string, path: string, headers: Record<string, string>, body?: Buffer | string): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
      const req = request(
        {
          host: this.host,
          port: this.port,
          method,
          path,
          agent: this.agent,
          headers: { ...headers, ...(payload ? { 'content-length': String(payload.length) } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

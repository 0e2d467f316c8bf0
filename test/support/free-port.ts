import { createServer } from 'node:net';

/** A free loopback port: the test servers, PostgreSQL and Redis listen on 127.0.0.1 only. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

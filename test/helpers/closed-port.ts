import { once } from 'node:events';
import { createServer } from 'node:net';

/** A port on loopback that nothing listens on: bound once, then closed. */
export async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

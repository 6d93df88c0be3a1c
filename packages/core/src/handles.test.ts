import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { activeResources, leakedResources } from './handles.js';

describe('leakedResources', () => {
  it('reports a server left open and nothing once it is closed', async () => {
    const before = activeResources();
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const leaked = await leakedResources(before, 2);
    expect(Object.keys(leaked).length).toBeGreaterThan(0);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(await leakedResources(before)).toEqual({});
  });
});

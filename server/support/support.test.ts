import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../shared/units.js';
import { supportRequestSchema } from '../../shared/schemas/privacy.js';
import { signUpParent, startTestServer, type TestServer } from '../../test/support/server.js';
import { admin, expectStatus } from '../privacy/test-helpers.js';

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await server.close();
});

describe('support requests and feedback', () => {
  it('a parent sends a request and sees it; an admin reads the list (audited) and closes it, which starts its retention', async () => {
    const parent = await signUpParent(server.api);
    const sent = await server.api.post(
      '/api/support',
      { kind: 'feedback', subject: '  The call  was lovely ', message: 'Thank you!\r\nMy son beamed.' },
      parent.token,
    );
    expect(sent.status).toBe(201);
    const request = supportRequestSchema.parse(sent.body);
    expect(request).toMatchObject({
      kind: 'feedback',
      subject: 'The call was lovely',
      message: 'Thank you!\nMy son beamed.',
      status: 'open',
      closedAt: null,
      deleteAfter: null,
    });
    server.clock.advance(1000);
    const defaulted = await server.api.post(
      '/api/support',
      { subject: 'Billing', message: 'Where is my receipt?' },
      parent.token,
    );
    expect(defaulted.body.kind).toBe('support');

    const mine = await server.api.get('/api/support', parent.token);
    expect(mine.body.requests.map((r: { id: string }) => r.id)).toEqual([defaulted.body.id, request.id]);
    expect((await server.api.get(`/api/support/${request.id}`, parent.token)).body.id).toBe(request.id);

    const list = await admin(server.api).get('/admin/support');
    expect(list.status).toBe(200);
    expect(list.body.requests).toHaveLength(2);
    expect(list.body.requests[0]).toMatchObject({ accountId: parent.accountId, status: 'open' });
    const reads = (await server.app.services.audit.all()).filter((e) => e.action === 'admin.support_read');
    expect(reads).toHaveLength(1);
    expect(reads[0]!.actor).toBe('admin');

    const closed = await admin(server.api).post(`/admin/support/${request.id}/close`);
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({
      status: 'closed',
      closedAt: new Date(server.clock.now()).toISOString(),
      deleteAfter: new Date(server.clock.now() + 180 * DAY_MS).toISOString(),
    });
    // Closing again keeps the first date.
    server.clock.advance(DAY_MS);
    expect((await admin(server.api).post(`/admin/support/${request.id}/close`)).body.closedAt).toBe(
      closed.body.closedAt,
    );
    expect(
      (await admin(server.api).get('/admin/support?status=open')).body.requests.map((r: { id: string }) => r.id),
    ).toEqual([defaulted.body.id]);
    expect(
      (await admin(server.api).get('/admin/support?status=closed')).body.requests.map((r: { id: string }) => r.id),
    ).toEqual([request.id]);
    expect((await admin(server.api).post('/admin/support/no-such-request/close')).status).toBe(404);
    expect((await server.api.get(`/api/support/${request.id}`, parent.token)).body.status).toBe('closed');
  });

  it("another parent's request is a 404 and is never listed", async () => {
    const a = await signUpParent(server.api);
    const b = await signUpParent(server.api);
    const mine = await server.api.post('/api/support', { subject: 'Mine', message: 'Private words' }, a.token);
    const foreign = await server.api.get(`/api/support/${mine.body.id}`, b.token);
    expect(foreign.status).toBe(404);
    expect(JSON.stringify(foreign.body)).not.toContain('Private words');
    expect((await server.api.get('/api/support', b.token)).body.requests).toEqual([]);
    expect((await server.api.get('/api/support/not-an-id', a.token)).status).toBe(404);
  });

  it('bad requests are refused with 400 and store nothing; sign-in is required; sending is rate-limited', async () => {
    const parent = await signUpParent(server.api);
    for (const body of [
      { subject: '', message: 'x' },
      { subject: 'x', message: '   ' },
      { subject: 'x', message: 'y', kind: 'complaint' },
      { subject: 'x', message: 'y', phone: '12345678' },
      { subject: 'x'.repeat(201), message: 'y' },
      { subject: 'x', message: 'y'.repeat(5001) },
    ]) {
      const res = await server.api.post('/api/support', body, parent.token);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    expect(await server.app.store.support.count()).toBe(0);
    expect((await server.api.post('/api/support', { subject: 'x', message: 'y' })).status).toBe(401);

    for (let i = 0; i < 10; i++)
      expectStatus(await server.api.post('/api/support', { subject: `n${i}`, message: 'y' }, parent.token), 201);
    const limited = await server.api.post('/api/support', { subject: 'one more', message: 'y' }, parent.token);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeTruthy();
  });
});

import { describe, expect, it, vi } from 'vitest';
import type { CallEndReason, Profile } from '../../../../shared/index.js';
import { join } from 'node:path';
import { generateChromeMessages, parseMessagesFile } from '@wxt-dev/i18n/build';
import { initI18n, t, type ChromeMessages } from '../../../lib/i18n.js';
import { json } from '../../../lib/testing/dom.js';
import { FakeRawSocket } from '../../../lib/testing/fakes.js';
import { connectSocket } from '../../../lib/socket.js';
import { panelContext, viewTestFrame } from '../testing.js';
import { liveCallPanel } from './live-call.js';

const STARTED = { callId: 'call-1', profileId: 'p1', profileName: 'Emma', availableSeconds: 600, simulated: false };

describe("the side panel's live call", () => {
  const ui = viewTestFrame();

  /** The server's GET /api/calls/call-1 answer, once the call ended while the panel was away. */
  const RECORD = {
    id: 'call-1',
    profileId: 'p1',
    startedAt: '2026-12-01T10:00:00.000Z',
    endedAt: '2026-12-01T10:00:15.000Z',
    seconds: 15,
    reason: 'server_shutdown',
  };

  function shown(record: Record<string, unknown> = RECORD) {
    const fetch = async (url: string) =>
      new URL(url).pathname === '/api/calls/call-1' ? json(record) : json({ profiles: [] });
    const ctx = panelContext({ view: 'live call', fetch, raw: ui.raw, refreshAccount: async () => null });
    const socket = connectSocket('http://127.0.0.1:9', 'tok', () => ui.raw);
    const slot = ui.doc.document.createElement('div');
    ui.doc.body.append(slot);
    const panel = liveCallPanel(ctx, socket, slot);
    ui.scope.signal.addEventListener('abort', () => panel.dispose());
    ui.raw.fire('call:started', STARTED);
    const card = () => slot.querySelector<HTMLElement>('section.live');
    const endButton = () => slot.querySelector<HTMLButtonElement>('button.end-call')!;
    return { slot, card, endButton };
  }

  it('End call sends call:end for the shown call', async () => {
    ui.raw.answer = async () => ({ ok: true });
    const { card, endButton } = shown();
    expect(card()?.dataset.state).toBe('live');
    endButton().click();
    await vi.waitFor(() => expect(ui.raw.emitted).toEqual([{ event: 'call:end', args: [{ callId: 'call-1' }] }]));
    // The server's call:ended turns the card into the summary.
    ui.raw.fire('call:ended', { callId: 'call-1', reason: 'parent', seconds: 42 });
    expect(card()?.dataset.state).toBe('ended');
  });

  it('shows how the call really ended when the server holds no such live call (call_not_found): never "Ending…" for good', async () => {
    ui.raw.answer = async () => ({ error: { code: 'call_not_found', message: 'No such live call' } });
    const { card, endButton, slot } = shown();
    endButton().click();
    await vi.waitFor(() => expect(card()?.dataset.state).toBe('ended'));
    expect(slot.textContent).toContain('The call ended because the server was shutting down.');
    expect(endButton().disabled).toBe(false);
  });

  it('shows a lost connection as lost, reconnecting, not as a live call; once back, how the call ended', async () => {
    const { card, slot } = shown();
    ui.raw.fire('disconnect', 'transport close');
    expect(card()?.dataset.state).toBe('lost');
    expect(slot.textContent).toContain('Reconnecting');
    expect(slot.textContent).not.toContain('Emma is talking with Santa');
    ui.raw.fire('connect');
    await vi.waitFor(() => expect(card()?.dataset.state).toBe('ended'));
    expect(slot.textContent).toContain('The call ended because the server was shutting down.');
  });

  it('a call another server process took over while the panel was away: once back, live again, and the new ticks move it on', async () => {
    const { card, slot } = shown({ ...RECORD, endedAt: null, reason: null, seconds: 0 });
    ui.raw.fire('call:tick', { callId: 'call-1', profileId: 'p1', remainingSeconds: 590, elapsedSeconds: 10 });
    ui.raw.fire('disconnect', 'transport close');
    expect(card()?.dataset.state).toBe('lost');
    ui.raw.fire('connect');
    await vi.waitFor(() => expect(card()?.dataset.state).toBe('live'));
    expect(slot.textContent).not.toContain('Reconnecting');
    ui.raw.fire('call:tick', { callId: 'call-1', profileId: 'p1', remainingSeconds: 570, elapsedSeconds: 30 });
    expect(card()?.dataset.state).toBe('live');
    expect(card()?.dataset.callId).toBe('call-1');
    expect(slot.textContent).toContain('9:30');
  });

  it("drops Santa's stopped line at once and never shows its words again; the child's lines and Santa's finished ones stay", () => {
    const { slot } = shown();
    const say = (speaker: 'santa' | 'child', text: string, final: boolean) =>
      ui.raw.fire('call:transcript', { callId: 'call-1', speaker, text, final });
    const lines = () =>
      [...slot.querySelectorAll('.transcript-lines li')].map((li) => ({
        speaker: li.classList.contains('line-santa') ? 'santa' : 'child',
        said: li.querySelector('.said')?.textContent,
        partial: li.classList.contains('partial'),
      }));
    say('santa', 'Ho ho ho! Hello Emma!', true);
    say('child', 'Hi Santa, I want a kite', true);
    // Santa's answer streams sentence by sentence; the child speaks over it.
    say('santa', 'A kite, how lovely! ', false);
    say('child', 'a red one', true);
    say('santa', 'I think the elves ', false);
    // Another call of the account is not this one.
    ui.raw.fire('call:santa_stopped', { callId: 'call-2' });
    expect(lines()).toHaveLength(5);
    // A later check (a moderation answer) stops the answer: everything of it on the screen goes.
    ui.raw.fire('call:santa_stopped', { callId: 'call-1' });
    expect(lines()).toEqual([
      { speaker: 'santa', said: 'Ho ho ho! Hello Emma!', partial: false },
      { speaker: 'child', said: 'Hi Santa, I want a kite', partial: false },
      { speaker: 'child', said: 'a red one', partial: false },
    ]);
    // What Santa says next is his next answer: a line of its own, not added to the withdrawn words.
    say('santa', 'Tell me about your reindeer drawing! ', false);
    say('santa', 'Tell me about your reindeer drawing! Is it big?', true);
    expect(lines().slice(3)).toEqual([
      { speaker: 'santa', said: 'Tell me about your reindeer drawing! Is it big?', partial: false },
    ]);
    expect(slot.textContent).not.toMatch(/how lovely|the elves/);
  });

  it('keeps the call shown, with the reason, when ending it failed for another reason', async () => {
    ui.raw.answer = async () => ({ error: { code: 'rate_limited', message: 'Too many events' } });
    const { card, endButton, slot } = shown();
    endButton().click();
    await vi.waitFor(() => expect(slot.querySelector('.field-error')?.textContent).not.toBe(''));
    expect(card()?.dataset.state).toBe('live');
    expect(endButton().disabled).toBe(false);
  });
});

describe('the live call card says why the call really ended', () => {
  const ui = viewTestFrame();

  const endedWith = (reason: CallEndReason): string => {
    const ctx = panelContext({
      view: 'live call',
      fetch: async () => json({ profiles: [] }),
      raw: ui.raw,
      refreshAccount: async () => null,
    });
    const socket = connectSocket('http://127.0.0.1:9', 'tok', () => ui.raw);
    const slot = ui.doc.document.createElement('div');
    ui.doc.body.append(slot);
    const panel = liveCallPanel(ctx, socket, slot);
    ui.scope.signal.addEventListener('abort', () => panel.dispose());
    ui.raw.fire('call:started', { ...STARTED, availableSeconds: 60 });
    ui.raw.fire('call:ended', { callId: STARTED.callId, reason, seconds: 60 });
    return slot.querySelector('.live-status')?.textContent ?? '';
  };

  it("the child's daily minutes, not the longest call", () => {
    expect(endedWith('daily_limit')).toBe("Your child's daily minutes were used up. They talked for 1 minute.");
  });

  it('quiet hours beginning, not the longest call', () => {
    expect(endedWith('quiet_hours')).toBe('The call ended because quiet hours began. They talked for 1 minute.');
  });

  it('the longest call allowed keeps its own words', () => {
    expect(endedWith('max_duration')).toBe('The call reached the longest allowed length. They talked for 1 minute.');
  });
});

describe('a live call carried across a panel restart (a language switch)', () => {
  const ui = viewTestFrame();

  it('keeps the Simulated Santa note, the transcript and the alerts, now in the new language', async () => {
    const record = {
      id: 'call-1',
      profileId: 'p1',
      startedAt: '2026-12-01T10:00:00.000Z',
      endedAt: null,
      seconds: 0,
      reason: null,
    };
    const fetch = async (url: string) =>
      new URL(url).pathname === '/api/calls/call-1' ? json(record) : json({ profiles: [] });
    const ctx = panelContext({ view: 'live call', fetch, raw: ui.raw, refreshAccount: async () => null });
    const slot = ui.doc.document.createElement('div');
    ui.doc.body.append(slot);
    const english = liveCallPanel(
      ctx,
      connectSocket('http://127.0.0.1:9', 'tok', () => ui.raw),
      slot,
    );
    ui.raw.fire('call:started', { ...STARTED, simulated: true });
    ui.raw.fire('call:transcript', { callId: 'call-1', speaker: 'santa', text: 'Ho ho ho!', final: true });
    ui.raw.fire('call:warning', { callId: 'call-1', kind: 'safety', category: 'child_distress' });
    const note = () => slot.querySelector<HTMLElement>('section.live p.simulated-note');
    expect(note()?.hidden).toBe(false);
    expect(note()?.textContent).toBe(t('live.simulated'));

    // The parent picks Danish: the panel starts again and gets what the old one showed.
    const carried = english.snapshot();
    english.dispose();
    expect(slot.textContent).toBe('');
    const messages = generateChromeMessages(
      await parseMessagesFile(join(import.meta.dirname, '..', '..', '..', 'locales', 'da.yml')),
    ) as ChromeMessages;
    await initI18n({ setting: 'da', load: async () => messages });
    const raw = new FakeRawSocket();
    const danish = liveCallPanel(
      ctx,
      connectSocket('http://127.0.0.1:9', 'tok', () => raw),
      slot,
      carried,
    );
    ui.scope.signal.addEventListener('abort', () => danish.dispose());
    expect(slot.querySelector<HTMLElement>('section.live')?.dataset.state).toBe('live');
    expect(note()?.hidden).toBe(false);
    expect(note()?.textContent).toBe(messages.live_simulated!.message);
    expect(slot.querySelector('.line-santa .speaker')?.textContent).toBe(messages.live_santa!.message);
    expect(slot.querySelector('.line-santa .said')?.textContent).toBe('Ho ho ho!');
    expect(slot.querySelector('.alert strong')?.textContent).toBe(messages.live_safetyAlert!.message);
    expect(slot.querySelector('h2.live-title')?.textContent).toBe(
      messages.live_title!.message.replace('{name}', 'Emma'),
    );
    // The new socket's ticks go on updating the same call.
    raw.fire('call:tick', { callId: 'call-1', profileId: 'p1', remainingSeconds: 500, elapsedSeconds: 100 });
    expect(slot.querySelectorAll('section.live')).toHaveLength(1);
    expect(note()?.hidden).toBe(false);
  });

  it('a call that ended while no panel listened is shown ended once the new socket connects', async () => {
    const record = {
      id: 'call-1',
      profileId: 'p1',
      startedAt: '2026-12-01T10:00:00.000Z',
      endedAt: '2026-12-01T10:01:00.000Z',
      seconds: 60,
      reason: 'hangup',
    };
    const fetch = async (url: string) =>
      new URL(url).pathname === '/api/calls/call-1' ? json(record) : json({ profiles: [] });
    const ctx = panelContext({ view: 'live call', fetch, raw: ui.raw, refreshAccount: async () => null });
    const slot = ui.doc.document.createElement('div');
    ui.doc.body.append(slot);
    const first = liveCallPanel(
      ctx,
      connectSocket('http://127.0.0.1:9', 'tok', () => ui.raw),
      slot,
    );
    ui.raw.fire('call:started', { ...STARTED, simulated: true });
    const carried = first.snapshot();
    first.dispose();
    const raw = new FakeRawSocket();
    const next = liveCallPanel(
      ctx,
      connectSocket('http://127.0.0.1:9', 'tok', () => raw),
      slot,
      carried,
    );
    ui.scope.signal.addEventListener('abort', () => next.dispose());
    raw.fire('connect');
    await vi.waitFor(() => expect(slot.querySelector<HTMLElement>('section.live')?.dataset.state).toBe('ended'));
  });
});

describe('a side panel opened (or reloaded) in the middle of a call', () => {
  const ui = viewTestFrame();

  /** GET /api/calls/readiness while Emma's call runs: call:started went out before this panel listened. */
  const readiness = (simulated: boolean) => ({
    balanceSeconds: 600,
    availableSeconds: 0,
    live: [
      { callId: 'call-1', profileId: 'p1', heldSeconds: 600, remainingSeconds: 540, elapsedSeconds: 60, simulated },
    ],
    profiles: [{ profileId: 'p1', block: 'call_in_progress', until: null, liveProfileId: 'p1' }],
  });

  function opened(answer: () => Promise<Response>) {
    const fetch = async (url: string) =>
      new URL(url).pathname === '/api/calls/readiness' ? answer() : json({ profiles: [] });
    const ctx = panelContext({
      view: 'live call',
      fetch,
      raw: ui.raw,
      profiles: async () => [{ id: 'p1', name: 'Emma' } as Profile],
    });
    const slot = ui.doc.document.createElement('div');
    ui.doc.body.append(slot);
    const panel = liveCallPanel(
      ctx,
      connectSocket('http://127.0.0.1:9', 'tok', () => ui.raw),
      slot,
    );
    ui.scope.signal.addEventListener('abort', () => panel.dispose());
    const card = () => slot.querySelector<HTMLElement>('section.live');
    const note = () => slot.querySelector<HTMLElement>('section.live p.simulated-note');
    return { slot, card, note };
  }

  it('shows the call with the Simulated Santa note the call window shows, before its first tick', async () => {
    const { card, note, slot } = opened(async () => json(readiness(true)));
    await vi.waitFor(() => expect(card()?.dataset.state).toBe('live'));
    expect(card()?.dataset.callId).toBe('call-1');
    expect(note()?.hidden).toBe(false);
    expect(note()?.textContent).toBe(t('live.simulated'));
    await vi.waitFor(() =>
      expect(slot.querySelector('h2.live-title')?.textContent).toBe(t('live.title', { name: 'Emma' })),
    );
    expect(slot.textContent).toContain('9:00');
    // The ticks go on moving the same call, the note stays.
    ui.raw.fire('call:tick', { callId: 'call-1', profileId: 'p1', remainingSeconds: 530, elapsedSeconds: 70 });
    expect(slot.querySelectorAll('section.live')).toHaveLength(1);
    expect(slot.textContent).toContain('8:50');
    expect(note()?.hidden).toBe(false);
  });

  it('a tick that came before the readiness answer: the call it shows gains the note', async () => {
    let answer!: (r: Response) => void;
    const { card, note } = opened(() => new Promise<Response>((resolve) => (answer = resolve)));
    ui.raw.fire('call:tick', { callId: 'call-1', profileId: 'p1', remainingSeconds: 540, elapsedSeconds: 60 });
    expect(card()?.dataset.state).toBe('live');
    expect(note()?.hidden).toBe(true);
    await vi.waitFor(() => expect(answer).toBeTypeOf('function'));
    answer(json(readiness(true)));
    await vi.waitFor(() => expect(note()?.hidden).toBe(false));
  });

  it('says nothing of Simulated Santa when the real voice service answers', async () => {
    const { card, note } = opened(async () => json(readiness(false)));
    await vi.waitFor(() => expect(card()?.dataset.state).toBe('live'));
    expect(note()?.hidden).toBe(true);
  });
});

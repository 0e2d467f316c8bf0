import { describe, expect, it, vi } from 'vitest';
import type { CallEndReason, Profile } from '../../../../shared/index.js';
import { join } from 'node:path';
import { generateChromeMessages, parseMessagesFile } from '@wxt-dev/i18n/build';
import { initI18n, t, type ChromeMessages } from '../../../lib/i18n.js';
import { json } from '../../../lib/testing/dom.js';
import { FakeRawSocket } from '../../../lib/testing/fakes.js';
import { connectSocket } from '../../../lib/socket.js';
import { panelContext, viewTestFrame } from '../testing.js';
import type { PanelContext } from '../context.js';
import { liveCallPanel, type LiveCallSnapshot } from './live-call.js';

const STARTED = { callId: 'call-1', profileId: 'p1', profileName: 'Emma', availableSeconds: 600, simulated: false };

/**
 * The live call panel in `slot` (a new one in the page unless given), on a socket client of its own
 * over `raw` (the frame's unless given), disposed when the test's scope ends.
 */
function mountPanel(
  ui: ReturnType<typeof viewTestFrame>,
  ctx: PanelContext,
  opts: { raw?: FakeRawSocket; slot?: HTMLElement; carried?: LiveCallSnapshot | null; now?: () => number } = {},
) {
  const raw = opts.raw ?? ui.raw;
  let slot = opts.slot;
  if (!slot) {
    slot = ui.doc.document.createElement('div');
    ui.doc.body.append(slot);
  }
  const panel = liveCallPanel(
    ctx,
    connectSocket('http://127.0.0.1:9', 'tok', () => raw),
    slot,
    opts.carried ?? null,
    opts.now,
  );
  ui.scope.signal.addEventListener('abort', () => panel.dispose());
  return { panel, slot };
}

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
    const { slot } = mountPanel(ui, ctx);
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
    // The answer's pieces are one line of Santa's, however the child's words came between them.
    expect(lines()).toEqual([
      { speaker: 'santa', said: 'Ho ho ho! Hello Emma!', partial: false },
      { speaker: 'child', said: 'Hi Santa, I want a kite', partial: false },
      { speaker: 'santa', said: 'A kite, how lovely! I think the elves ', partial: true },
      { speaker: 'child', said: 'a red one', partial: false },
    ]);
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
    const { slot } = mountPanel(ui, ctx);
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
    const { panel: english, slot } = mountPanel(ui, ctx);
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
    mountPanel(ui, ctx, { raw, slot, carried });
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
    const { panel: first, slot } = mountPanel(ui, ctx);
    ui.raw.fire('call:started', { ...STARTED, simulated: true });
    const carried = first.snapshot();
    first.dispose();
    const raw = new FakeRawSocket();
    mountPanel(ui, ctx, { raw, slot, carried });
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
    const { slot } = mountPanel(ui, ctx);
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

describe('two children on a call at once (a sibling calls from credit the first call does not hold)', () => {
  const ui = viewTestFrame();

  const EMMA = { callId: 'call-1', profileId: 'p1', profileName: 'Emma', availableSeconds: 600, simulated: false };
  const BO = { callId: 'call-2', profileId: 'p2', profileName: 'Bo', availableSeconds: 300, simulated: true };
  const PROFILES = [{ id: 'p1', name: 'Emma' } as Profile, { id: 'p2', name: 'Bo' } as Profile];

  /** The panel with the server's answers: readiness, and each call's record (live unless `records` says otherwise). */
  function opened(
    opts: {
      readiness?: () => Promise<Response>;
      records?: Record<string, Record<string, unknown>>;
      raw?: FakeRawSocket;
    } = {},
  ) {
    const fetched: string[] = [];
    const fetch = async (url: string) => {
      const path = new URL(url).pathname;
      fetched.push(path);
      if (path === '/api/calls/readiness' && opts.readiness) return opts.readiness();
      const id = /^\/api\/calls\/(call-\d)$/.exec(path)?.[1];
      if (id) {
        return json(
          opts.records?.[id] ?? {
            id,
            profileId: id === 'call-1' ? 'p1' : 'p2',
            startedAt: '2026-12-01T10:00:00.000Z',
            endedAt: null,
            seconds: 0,
            reason: null,
          },
        );
      }
      return json({ profiles: [] });
    };
    const raw = opts.raw ?? ui.raw;
    const ctx = panelContext({
      view: 'live call',
      fetch,
      raw,
      profiles: async () => PROFILES,
      refreshAccount: async () => null,
    });
    let clock = Date.parse('2026-12-01T10:00:00.000Z');
    const { panel, slot } = mountPanel(ui, ctx, { raw, now: () => clock });
    const cardOf = (callId: string) => slot.querySelector<HTMLElement>(`section.live[data-call-id="${callId}"]`);
    const cards = () =>
      [...slot.querySelectorAll<HTMLElement>('section.live')].map((c) => ({
        callId: c.dataset.callId,
        state: c.dataset.state,
        title: c.querySelector('h2')?.textContent,
      }));
    return { panel, slot, cardOf, cards, fetched, later: (ms: number) => (clock += ms) };
  }

  const tick = (callId: string, remainingSeconds: number, elapsedSeconds: number) =>
    ui.raw.fire('call:tick', {
      callId,
      profileId: callId === 'call-1' ? 'p1' : 'p2',
      remainingSeconds,
      elapsedSeconds,
    });

  it("shows a card per call, in the order they began, and each call's ticks move only its own card", () => {
    const { cards, cardOf, slot, later } = opened();
    ui.raw.fire('call:started', EMMA);
    later(30_000);
    ui.raw.fire('call:started', BO);
    expect(cards()).toEqual([
      { callId: 'call-1', state: 'live', title: 'Emma is talking with Santa' },
      { callId: 'call-2', state: 'live', title: 'Bo is talking with Santa' },
    ]);
    // The two calls' ticks interleave: neither card is taken over by the other call.
    tick('call-1', 560, 40);
    tick('call-2', 290, 10);
    tick('call-1', 559, 41);
    expect(cards().map((c) => c.callId)).toEqual(['call-1', 'call-2']);
    expect(cardOf('call-1')?.textContent).toContain('9:19');
    expect(cardOf('call-1')?.textContent).not.toContain('4:50');
    expect(cardOf('call-2')?.textContent).toContain('4:50');
    // Each card keeps its own call's Simulated Santa note, transcript and alerts.
    expect(cardOf('call-1')?.querySelector<HTMLElement>('p.simulated-note')?.hidden).toBe(true);
    expect(cardOf('call-2')?.querySelector<HTMLElement>('p.simulated-note')?.hidden).toBe(false);
    ui.raw.fire('call:transcript', { callId: 'call-2', speaker: 'child', text: 'Hi Santa!', final: true });
    ui.raw.fire('call:warning', { callId: 'call-1', kind: 'safety', category: 'child_distress' });
    expect(cardOf('call-1')?.querySelectorAll('.transcript-lines li')).toHaveLength(0);
    expect(cardOf('call-2')?.querySelector('.line-child')?.textContent).toBe('Bo Hi Santa!');
    expect(cardOf('call-1')?.querySelectorAll('.alert')).toHaveLength(1);
    expect(cardOf('call-2')?.querySelectorAll('.alert')).toHaveLength(0);
    // Every card's heading and button are told apart by assistive technology.
    const ids = [...slot.querySelectorAll('section.live h2')].map((h2) => h2.id);
    expect(new Set(ids).size).toBe(2);
    for (const id of ids) {
      const section = slot.querySelector(`#${id}`)!.closest('section')!;
      expect(section.getAttribute('aria-labelledby')).toBe(id);
      expect(section.querySelector('button.end-call')?.getAttribute('aria-describedby')).toBe(id);
    }
  });

  it("each End call ends its own call; the other stays live, and the ended one's summary stays until dismissed", async () => {
    ui.raw.answer = async () => ({ ok: true });
    const { cards, cardOf } = opened();
    ui.raw.fire('call:started', EMMA);
    ui.raw.fire('call:started', BO);
    cardOf('call-2')!.querySelector<HTMLButtonElement>('button.end-call')!.click();
    await vi.waitFor(() => expect(ui.raw.emitted).toEqual([{ event: 'call:end', args: [{ callId: 'call-2' }] }]));
    expect(cardOf('call-1')?.querySelector<HTMLButtonElement>('button.end-call')?.disabled).toBe(false);
    ui.raw.fire('call:ended', { callId: 'call-2', reason: 'parent', seconds: 42 });
    expect(cards().map((c) => c.state)).toEqual(['live', 'ended']);
    // Emma's call goes on, and her ticks still move her card.
    tick('call-1', 500, 100);
    expect(cardOf('call-1')?.textContent).toContain('8:20');
    cardOf('call-2')!.querySelector<HTMLButtonElement>('button.end-call')!.click();
    expect(cards()).toEqual([{ callId: 'call-1', state: 'live', title: 'Emma is talking with Santa' }]);
  });

  it("a new call takes the place of an ended call's summary, never of a live call", () => {
    const { cards } = opened();
    ui.raw.fire('call:started', EMMA);
    ui.raw.fire('call:started', BO);
    ui.raw.fire('call:ended', { callId: 'call-1', reason: 'hangup', seconds: 60 });
    ui.raw.fire('call:started', { ...EMMA, callId: 'call-3' });
    expect(cards().map((c) => [c.callId, c.state])).toEqual([
      ['call-2', 'live'],
      ['call-3', 'live'],
    ]);
  });

  it('a panel opened while both run shows both from readiness, the longer-running first, each with its own note', async () => {
    const readiness = {
      balanceSeconds: 900,
      availableSeconds: 0,
      live: [
        {
          callId: 'call-2',
          profileId: 'p2',
          heldSeconds: 300,
          remainingSeconds: 290,
          elapsedSeconds: 10,
          simulated: true,
        },
        {
          callId: 'call-1',
          profileId: 'p1',
          heldSeconds: 600,
          remainingSeconds: 540,
          elapsedSeconds: 60,
          simulated: false,
        },
      ],
      profiles: [
        { profileId: 'p1', block: 'call_in_progress', until: null, liveProfileId: 'p1' },
        { profileId: 'p2', block: 'call_in_progress', until: null, liveProfileId: 'p2' },
      ],
    };
    const { cards, cardOf } = opened({ readiness: async () => json(readiness) });
    await vi.waitFor(() =>
      expect(cards()).toEqual([
        { callId: 'call-1', state: 'live', title: 'Emma is talking with Santa' },
        { callId: 'call-2', state: 'live', title: 'Bo is talking with Santa' },
      ]),
    );
    expect(cardOf('call-1')?.textContent).toContain('9:00');
    expect(cardOf('call-2')?.textContent).toContain('4:50');
    expect(cardOf('call-1')?.querySelector<HTMLElement>('p.simulated-note')?.hidden).toBe(true);
    expect(cardOf('call-2')?.querySelector<HTMLElement>('p.simulated-note')?.hidden).toBe(false);
    tick('call-2', 280, 20);
    expect(cards().map((c) => c.callId)).toEqual(['call-1', 'call-2']);
    expect(cardOf('call-2')?.textContent).toContain('4:40');
    expect(cardOf('call-1')?.textContent).toContain('9:00');
  });

  it('back from a lost connection, asks the server about each call: one ended while away, the other goes on', async () => {
    const { cards, fetched } = opened({
      records: {
        'call-1': {
          id: 'call-1',
          profileId: 'p1',
          startedAt: '2026-12-01T10:00:00.000Z',
          endedAt: '2026-12-01T10:05:00.000Z',
          seconds: 300,
          reason: 'hangup',
        },
      },
    });
    ui.raw.fire('call:started', EMMA);
    ui.raw.fire('call:started', BO);
    ui.raw.fire('disconnect', 'transport close');
    expect(cards().map((c) => c.state)).toEqual(['lost', 'lost']);
    ui.raw.fire('connect');
    await vi.waitFor(() => expect(cards().map((c) => c.state)).toEqual(['ended', 'live']));
    expect(fetched.filter((p) => p.startsWith('/api/calls/call-')).sort()).toEqual([
      '/api/calls/call-1',
      '/api/calls/call-2',
    ]);
  });

  it('both calls are carried across a panel restart, each with its own transcript and note, in the same order', () => {
    const { panel, later } = opened();
    ui.raw.fire('call:started', EMMA);
    later(5_000);
    ui.raw.fire('call:started', BO);
    ui.raw.fire('call:transcript', { callId: 'call-1', speaker: 'santa', text: 'Ho ho ho, Emma!', final: true });
    ui.raw.fire('call:transcript', { callId: 'call-2', speaker: 'santa', text: 'Ho ho ho, Bo!', final: true });
    const carried = panel.snapshot();
    panel.dispose();
    const slot = ui.doc.document.createElement('div');
    const ctx = panelContext({ view: 'live call', fetch: async () => json({ profiles: [] }), raw: ui.raw });
    const raw = new FakeRawSocket();
    mountPanel(ui, ctx, { raw, slot, carried });
    const shown = [...slot.querySelectorAll<HTMLElement>('section.live')].map((c) => ({
      callId: c.dataset.callId,
      said: c.querySelector('.line-santa .said')?.textContent,
      simulated: !c.querySelector<HTMLElement>('p.simulated-note')?.hidden,
    }));
    expect(shown).toEqual([
      { callId: 'call-1', said: 'Ho ho ho, Emma!', simulated: false },
      { callId: 'call-2', said: 'Ho ho ho, Bo!', simulated: true },
    ]);
  });
});

describe("an answer of Santa's the child talks over", () => {
  const ui = viewTestFrame();

  function shown() {
    const ctx = panelContext({ view: 'live call', fetch: async () => json({ profiles: [] }), raw: ui.raw });
    const { slot } = mountPanel(ui, ctx);
    ui.raw.fire('call:started', STARTED);
    const say = (speaker: 'santa' | 'child', text: string, final: boolean) =>
      ui.raw.fire('call:transcript', { callId: 'call-1', speaker, text, final });
    const lines = () =>
      [...slot.querySelectorAll('.transcript-lines li')].map(
        (li) =>
          `${li.classList.contains('line-santa') ? 'santa' : 'child'}${li.classList.contains('partial') ? '…' : ''}: ${li.querySelector('.said')?.textContent}`,
      );
    return { say, lines };
  }

  it('is shown once, cut short where it stopped, when its final line comes after the words that interrupted it', () => {
    const { say, lines } = shown();
    say('santa', 'A kite, how lovely! ', false);
    // The child talks over him; his cut-short answer's final line comes once its last words are checked.
    say('child', 'a red ', false);
    say('child', 'a red one!', true);
    say('santa', 'A kite, how lovely! I think the', true);
    expect(lines()).toEqual(['santa: A kite, how lovely! I think the', 'child: a red one!']);
    // His next answer is a line of its own.
    say('santa', 'A red one it is! ', false);
    expect(lines()).toEqual([
      'santa: A kite, how lovely! I think the',
      'child: a red one!',
      'santa…: A red one it is! ',
    ]);
  });

  it("the child's line being transcribed while Santa already answers is one line too", () => {
    const { say, lines } = shown();
    say('child', 'I want ', false);
    say('santa', 'Oh! ', false);
    say('child', 'I want a kite', true);
    say('santa', 'Oh! A kite!', true);
    expect(lines()).toEqual(['child: I want a kite', 'santa: Oh! A kite!']);
  });
});

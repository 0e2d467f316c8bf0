import type { CallEndReason, CallTranscript, SafetyCategory } from '../../../../shared/index.js';
import { h, uid } from '../../../components/dom.js';
import { timeBar } from '../../../components/time-bar.js';
import { button } from '../../../components/ui.js';
import { formatDuration, formatMinutes } from '../../../lib/format.js';
import { t } from '../../../lib/i18n.js';
import { endSummaryKey, errorText, safetyKey } from '../../../lib/messages.js';
import { loadReadiness } from '../../../lib/readiness.js';
import type { SantaSocket } from '../../../lib/socket.js';
import type { PanelContext } from '../context.js';

/**
 * The parent's view of the account's live calls, one card per call (two children may be on
 * a call at once, each from credit the other does not hold): who is talking to Santa, the
 * time left, the live transcript and any safety alert, and an "End call" button for that
 * call. The transcript lives only in this panel's memory while it is open: it is never
 * written to storage (P1, P3).
 */
export interface LiveCallPanel {
  /**
   * What the cards show now, to carry into the panel that replaces this one when the panel
   * restarts for the same account (a language switch): memory to memory, never to storage.
   */
  snapshot(): LiveCallSnapshot | null;
  dispose(): void;
}

export type LiveCallSnapshot = ReadonlyArray<Readonly<LiveCall>>;

interface Line {
  speaker: CallTranscript['speaker'];
  text: string;
  final: boolean;
}

interface LiveCall {
  callId: string;
  profileId: string | null;
  name: string | null;
  /** When the call began, by this panel's clock (from the elapsed time it first learned): the cards' order. */
  startedAt: number;
  remaining: number | null;
  total: number | null;
  lines: Line[];
  alerts: Array<SafetyCategory | undefined>;
  timeLow: boolean;
  ended: { reason: CallEndReason; seconds: number } | null;
  ending: boolean;
  /** The panel's socket to the server dropped: what the call does now is not known. */
  lost: boolean;
  simulated: boolean;
}

/** One call's card: its own transcript, alerts, state and End call button. */
interface Card {
  readonly call: LiveCall;
  readonly root: HTMLElement;
  render(): void;
  addLine(line: CallTranscript): void;
  addAlert(category: SafetyCategory | undefined): void;
  withdrawSanta(): void;
}

const MAX_LINES = 200;

export function liveCallPanel(
  ctx: PanelContext,
  socket: SantaSocket,
  slot: HTMLElement,
  carried: LiveCallSnapshot | null = null,
  now: () => number = () => Date.now(),
): LiveCallPanel {
  const cards = new Map<string, Card>();

  /** The cards in the order their calls began, so two calls' cards never trade places. */
  const place = () => {
    const order = [...cards.values()]
      .sort((a, b) => a.call.startedAt - b.call.startedAt || a.call.callId.localeCompare(b.call.callId))
      .map((c) => c.root);
    // Only when it changed: moving a card would take the keyboard focus off its button.
    const same = order.length === slot.children.length && order.every((el, i) => slot.children[i] === el);
    if (!same) slot.replaceChildren(...order);
  };

  const nameFor = async (profileId: string | null): Promise<string | null> => {
    if (!profileId) return null;
    try {
      return (await ctx.profiles()).find((p) => p.id === profileId)?.name ?? null;
    } catch {
      return null;
    }
  };

  const lineElement = (line: Line, name: string | null) =>
    h(
      'li',
      { class: ['line', `line-${line.speaker}`, line.final ? null : 'partial'] },
      h('span', { class: 'speaker' }, line.speaker === 'santa' ? t('live.santa') : (name ?? t('live.child'))),
      ' ',
      h('span', { class: 'said' }, line.text),
    );
  const alertElement = (category: SafetyCategory | undefined) =>
    h('p', { class: 'alert', role: 'alert' }, h('strong', null, t('live.safetyAlert')), ' ', t(safetyKey(category)));

  const makeCard = (call: LiveCall): Card => {
    const bar = timeBar(t('live.timeLeft'));
    const transcript = h(
      'ol',
      { class: 'transcript-lines' },
      call.lines.map((l) => lineElement(l, call.name)),
    );
    const transcriptLog = h(
      'div',
      { class: 'transcript', role: 'log', 'aria-live': 'polite', 'aria-label': t('live.transcript') },
      transcript,
    );
    const alerts = h('div', { class: 'alerts' }, call.alerts.map(alertElement));
    const titleId = uid('live-title');
    const title = h('h2', { class: 'live-title', id: titleId });
    const statusLine = h('p', { class: 'live-status' });
    const simulatedNote = h('p', { class: 'hint simulated-note', hidden: true }, t('live.simulated'));
    const endButton = button(t('live.endCall'), { variant: 'danger', class: 'end-call' });
    // Two cards have two End call buttons: each says whose call it ends.
    endButton.setAttribute('aria-describedby', titleId);
    const errorLine = h('p', { class: 'field-error', role: 'alert' });
    const root = h(
      'section',
      { class: 'card live', 'aria-labelledby': titleId },
      title,
      bar.root,
      statusLine,
      simulatedNote,
      alerts,
      h('h3', null, t('live.transcript')),
      h('p', { class: 'hint' }, t('live.transcriptPrivacy')),
      transcriptLog,
      errorLine,
      h('div', { class: 'actions' }, endButton),
    );
    root.dataset.callId = call.callId;

    const render = () => {
      const who = call.name ?? t('live.yourChild');
      title.textContent = call.ended
        ? t('live.endedTitle', { name: who })
        : call.lost
          ? t('live.lostTitle', { name: who })
          : t('live.title', { name: who });
      root.dataset.state = call.ended ? 'ended' : call.lost ? 'lost' : 'live';
      simulatedNote.hidden = !call.simulated;
      bar.root.hidden = call.remaining === null || call.ended !== null || call.lost;
      if (call.remaining !== null) bar.set(call.remaining, call.total ?? call.remaining);
      if (call.ended) {
        statusLine.textContent = `${t(endSummaryKey(call.ended.reason))} ${t('live.talkedFor', { duration: formatDuration(call.ended.seconds, 'long') })}`;
      } else if (call.lost) {
        statusLine.textContent = t('live.reconnecting');
      } else if (call.timeLow) {
        statusLine.textContent = t('live.timeLow');
      } else {
        statusLine.textContent =
          call.remaining !== null ? t('live.remaining', { minutes: formatMinutes(call.remaining) }) : '';
      }
      endButton.textContent = call.ended ? t('live.dismiss') : call.ending ? t('live.ending') : t('live.endCall');
      endButton.className = `btn ${call.ended ? 'btn-secondary' : 'btn-danger'} end-call`;
      endButton.disabled = call.ending && !call.ended;
    };

    /**
     * Each speaker has at most one line in progress, and a piece goes to it wherever it is:
     * the other speaker's words may have come in between (the child talking over Santa's
     * streaming answer, whose final line the server relays once that answer's words are
     * checked; Santa answering while the child's words are still being transcribed). Appending
     * a final to the end instead would show the early part of the line twice.
     */
    const addLine = (line: CallTranscript) => {
      let open = -1;
      for (let i = call.lines.length - 1; i >= 0; i--) {
        if (call.lines[i]!.speaker !== line.speaker) continue;
        if (!call.lines[i]!.final) open = i;
        break;
      }
      const openEl = open >= 0 ? transcript.children[open] : undefined;
      if (openEl) {
        // Partial events carry the next piece; the final one carries the whole line.
        const entry = call.lines[open]!;
        entry.text = line.final ? line.text : entry.text + line.text;
        entry.final = line.final;
        openEl.querySelector('.said')!.textContent = entry.text;
        openEl.classList.toggle('partial', !entry.final);
        return;
      }
      const entry: Line = { speaker: line.speaker, text: line.text, final: line.final };
      call.lines.push(entry);
      transcript.append(lineElement(entry, call.name));
      if (call.lines.length > MAX_LINES) {
        call.lines.shift();
        transcript.firstElementChild?.remove();
      }
      transcriptLog.scrollTop = transcriptLog.scrollHeight;
    };

    /**
     * The guardrail stopped what Santa was saying: his line in progress goes at once, as in
     * the call window. Only his unfinished lines after his last finished one are the stopped
     * answer's (a child's line may sit between them, and stays). The server relays nothing
     * more of a stopped answer (its deltas stop before call:santa_stopped is sent), so what
     * Santa says next is his next answer: it starts a new line and is never added to the words
     * withdrawn.
     */
    const withdrawSanta = () => {
      for (let i = call.lines.length - 1; i >= 0; i--) {
        const line = call.lines[i]!;
        if (line.speaker !== 'santa') continue;
        if (line.final) break;
        call.lines.splice(i, 1);
        transcript.children[i]?.remove();
      }
    };

    const card: Card = {
      call,
      root,
      render,
      addLine,
      addAlert(category) {
        call.alerts.push(category);
        alerts.append(alertElement(category));
      },
      withdrawSanta,
    };

    endButton.addEventListener('click', () => {
      if (cards.get(call.callId) !== card) return;
      if (call.ended) {
        remove(card);
        return;
      }
      call.ending = true;
      errorLine.textContent = '';
      render();
      void socket.endCall(call.callId).then((ack) => {
        if (!('error' in ack) || cards.get(call.callId) !== card) return;
        if (ack.error.code === 'call_not_found') {
          // The server holds no such live call: it is over (its call:ended went elsewhere). Ask
          // it why and what was charged, and show that.
          void settle(card);
          return;
        }
        call.ending = false;
        errorLine.textContent = errorText(ack.error.code);
        render();
      });
    });

    if (!call.name && call.profileId) {
      void nameFor(call.profileId).then((n) => {
        if (n && !call.name && cards.get(call.callId) === card) {
          call.name = n;
          for (const el of transcript.querySelectorAll('.line-child .speaker')) el.textContent = n;
          render();
        }
      });
    }
    render();
    return card;
  };

  const add = (call: LiveCall): Card => {
    const card = makeCard(call);
    cards.set(call.callId, card);
    place();
    return card;
  };

  const remove = (card: Card) => {
    if (cards.get(card.call.callId) !== card) return;
    cards.delete(card.call.callId);
    card.root.remove();
  };

  const newCall = (
    callId: string,
    profileId: string | null,
    name: string | null,
    total: number | null,
    elapsedSeconds: number,
  ): LiveCall => ({
    callId,
    profileId,
    name,
    startedAt: now() - elapsedSeconds * 1000,
    remaining: total,
    total,
    lines: [],
    alerts: [],
    timeLow: false,
    ended: null,
    ending: false,
    lost: false,
    simulated: false,
  });

  /** What the server says became of a call the panel lost track of; a live one carries on. */
  const settle = async (card: Card): Promise<void> => {
    const c = card.call;
    let record: Awaited<ReturnType<PanelContext['api']['callRecord']>> | null = null;
    try {
      record = await ctx.api.callRecord(c.callId);
    } catch {
      record = null;
    }
    if (cards.get(c.callId) !== card) return;
    if (record?.endedAt && record.reason) {
      c.ended = { reason: record.reason, seconds: record.seconds };
      c.ending = false;
      void ctx.refreshAccount();
    } else if (record === null && c.ending) {
      // Neither live nor known: not shown as live any more.
      c.ended = {
        reason: 'disconnected',
        seconds: c.total !== null && c.remaining !== null ? c.total - c.remaining : 0,
      };
      c.ending = false;
    }
    c.lost = false;
    card.render();
  };

  // Calls carried over from the panel this one replaces are shown at once, in this panel's
  // language (the Simulated Santa note, the transcript's speakers, the alerts); what happened
  // while no socket listened is asked of the server on the first connect.
  let dropped = false;
  for (const c of carried ?? []) {
    add({ ...c, lines: c.lines.map((l) => ({ ...l })), alerts: [...c.alerts], ending: false });
    if (!c.ended) dropped = true;
  }

  const offs = [
    socket.onStatus((status) => {
      if (status === 'reconnecting') {
        dropped = true;
        for (const card of cards.values()) {
          if (card.call.ended) continue;
          card.call.lost = true;
          card.render();
        }
      } else if (status === 'connected' && dropped) {
        dropped = false;
        // Back: ask the server what is true about each call shown, rather than trust the old picture.
        for (const card of cards.values()) if (!card.call.ended) void settle(card);
      }
    }),
    socket.on('call:started', (e) => {
      // A new call takes the place of the summaries of calls that ended, as it always did; the
      // other live calls stay.
      for (const card of [...cards.values()]) if (card.call.ended) remove(card);
      const known = cards.get(e.callId);
      if (known) {
        Object.assign(known.call, { name: e.profileName, simulated: e.simulated });
        known.render();
        return;
      }
      const c = newCall(e.callId, e.profileId, e.profileName, e.availableSeconds, 0);
      c.simulated = e.simulated;
      add(c);
    }),
    socket.on('call:tick', (tick) => {
      // A panel opened mid-call learns about a call from its ticks.
      const card = cards.get(tick.callId) ?? add(newCall(tick.callId, tick.profileId, null, null, tick.elapsedSeconds));
      const c = card.call;
      if (c.ended) return;
      c.remaining = tick.remainingSeconds;
      c.total = Math.max(c.total ?? 0, tick.remainingSeconds + tick.elapsedSeconds);
      card.render();
    }),
    socket.on('call:warning', (w) => {
      const card = cards.get(w.callId);
      if (!card) return;
      if (w.kind === 'time_low') card.call.timeLow = true;
      else card.addAlert(w.category);
      card.render();
    }),
    socket.on('call:transcript', (line) => {
      const card = cards.get(line.callId);
      if (card && !card.call.ended) card.addLine(line);
    }),
    socket.on('call:santa_stopped', (stopped) => {
      // Even on an ended card: stopped words are never left on a screen.
      cards.get(stopped.callId)?.withdrawSanta();
    }),
    socket.on('call:ended', (e) => {
      const card = cards.get(e.callId) ?? add(newCall(e.callId, null, null, null, e.seconds));
      card.call.ended = { reason: e.reason, seconds: e.seconds };
      card.call.ending = false;
      card.render();
      // The balance changed: credits:updated follows, but the header should not wait for it.
      void ctx.refreshAccount();
    }),
  ];

  // A panel opened (or reloaded) mid-call missed call:started, the only event that says
  // Simulated Santa answers: readiness names the account's live calls with it. Every one is
  // shown at once (its ticks would show it within a second, but without the note); a call
  // the panel already shows, from a tick that came first, only gains the flag.
  let disposed = false;
  void loadReadiness(ctx.api).then((readiness) => {
    if (disposed || !readiness) return;
    for (const live of readiness.live) {
      const known = cards.get(live.callId);
      if (known) {
        known.call.simulated = live.simulated;
        known.render();
        continue;
      }
      const c = newCall(live.callId, live.profileId, null, live.heldSeconds, live.elapsedSeconds);
      c.remaining = live.remainingSeconds;
      c.simulated = live.simulated;
      add(c);
    }
  });

  return {
    snapshot: () =>
      cards.size
        ? [...cards.values()].map(({ call }) => ({
            ...call,
            lines: call.lines.map((l) => ({ ...l })),
            alerts: [...call.alerts],
          }))
        : null,
    dispose() {
      disposed = true;
      for (const off of offs) off();
      cards.clear();
      slot.replaceChildren();
    },
  };
}

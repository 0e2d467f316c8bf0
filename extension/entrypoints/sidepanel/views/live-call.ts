import type { CallEndReason, CallTranscript, SafetyCategory } from '../../../../shared/index.js';
import { h, mount } from '../../../components/dom.js';
import { timeBar } from '../../../components/time-bar.js';
import { button } from '../../../components/ui.js';
import { formatDuration, formatMinutes } from '../../../lib/format.js';
import { t } from '../../../lib/i18n.js';
import { endSummaryKey, errorText, safetyKey } from '../../../lib/messages.js';
import { loadReadiness } from '../../../lib/readiness.js';
import type { SantaSocket } from '../../../lib/socket.js';
import type { PanelContext } from '../context.js';

/**
 * The parent's view of a live call: who is talking to Santa, the time left, the live
 * transcript and any safety alert, and an "End call" button. The transcript lives only in
 * this panel's memory while it is open: it is never written to storage (P1, P3).
 */
export interface LiveCallPanel {
  /**
   * What the card shows now, to carry into the panel that replaces this one when the panel
   * restarts for the same account (a language switch): memory to memory, never to storage.
   */
  snapshot(): LiveCallSnapshot | null;
  dispose(): void;
}

export type LiveCallSnapshot = Readonly<LiveCall>;

interface Line {
  speaker: CallTranscript['speaker'];
  text: string;
  final: boolean;
}

interface LiveCall {
  callId: string;
  profileId: string | null;
  name: string | null;
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

const MAX_LINES = 200;

export function liveCallPanel(
  ctx: PanelContext,
  socket: SantaSocket,
  slot: HTMLElement,
  carried: LiveCallSnapshot | null = null,
): LiveCallPanel {
  let call: LiveCall | null = null;
  const bar = timeBar(t('live.timeLeft'));
  const transcript = h('ol', { class: 'transcript-lines' });
  const transcriptLog = h(
    'div',
    { class: 'transcript', role: 'log', 'aria-live': 'polite', 'aria-label': t('live.transcript') },
    transcript,
  );
  const alerts = h('div', { class: 'alerts' });
  const title = h('h2', { class: 'live-title' });
  const statusLine = h('p', { class: 'live-status' });
  const simulatedNote = h('p', { class: 'hint simulated-note', hidden: true }, t('live.simulated'));
  const endButton = button(t('live.endCall'), { variant: 'danger', class: 'end-call' });
  const errorLine = h('p', { class: 'field-error', role: 'alert' });
  const card = h(
    'section',
    { class: 'card live', 'aria-labelledby': 'live-title' },
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
  title.id = 'live-title';

  const nameFor = async (profileId: string | null): Promise<string | null> => {
    if (!profileId) return null;
    try {
      return (await ctx.profiles()).find((p) => p.id === profileId)?.name ?? null;
    } catch {
      return null;
    }
  };

  const begin = (callId: string, profileId: string | null, name: string | null, total: number | null): LiveCall => {
    call = {
      callId,
      profileId,
      name,
      remaining: total,
      total,
      lines: [],
      alerts: [],
      timeLow: false,
      ended: null,
      ending: false,
      lost: false,
      simulated: false,
    };
    transcript.replaceChildren();
    alerts.replaceChildren();
    errorLine.textContent = '';
    if (!name && profileId) {
      const c = call;
      void nameFor(profileId).then((n) => {
        if (call === c && n) {
          c.name = n;
          render();
        }
      });
    }
    return call;
  };

  const render = () => {
    if (!call) {
      slot.replaceChildren();
      return;
    }
    if (!slot.contains(card)) mount(slot, card);
    const who = call.name ?? t('live.yourChild');
    title.textContent = call.ended
      ? t('live.endedTitle', { name: who })
      : call.lost
        ? t('live.lostTitle', { name: who })
        : t('live.title', { name: who });
    card.dataset.callId = call.callId;
    card.dataset.state = call.ended ? 'ended' : call.lost ? 'lost' : 'live';
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

  const addLine = (line: CallTranscript) => {
    if (!call) return;
    const last = call.lines[call.lines.length - 1];
    const lastEl = transcript.lastElementChild;
    if (last && !last.final && last.speaker === line.speaker && lastEl) {
      // Partial events carry the next piece; the final one carries the whole line.
      last.text = line.final ? line.text : last.text + line.text;
      last.final = line.final;
      lastEl.querySelector('.said')!.textContent = last.text;
      lastEl.classList.toggle('partial', !last.final);
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
   * The guardrail stopped what Santa was saying: his line in progress goes at once, as in the
   * call window. Only his unfinished lines after his last finished one are the stopped answer's
   * (a child's line may sit between them, and stays). The server relays nothing more of a
   * stopped answer (its deltas stop before call:santa_stopped is sent), so what Santa says next
   * is his next answer: it starts a new line and is never added to the words withdrawn.
   */
  const withdrawSanta = () => {
    if (!call) return;
    for (let i = call.lines.length - 1; i >= 0; i--) {
      const line = call.lines[i]!;
      if (line.speaker !== 'santa') continue;
      if (line.final) break;
      call.lines.splice(i, 1);
      transcript.children[i]?.remove();
    }
  };

  endButton.addEventListener('click', () => {
    if (!call) return;
    if (call.ended) {
      call = null;
      render();
      return;
    }
    const c = call;
    c.ending = true;
    render();
    void socket.endCall(c.callId).then((ack) => {
      if (!('error' in ack) || call !== c) return;
      if (ack.error.code === 'call_not_found') {
        // The server holds no such live call: it is over (its call:ended went elsewhere). Ask
        // it why and what was charged, and show that.
        void settle(c);
        return;
      } else {
        c.ending = false;
        errorLine.textContent = errorText(ack.error.code);
      }
      render();
    });
  });

  /** What the server says became of a call the panel lost track of; a live one carries on. */
  const settle = async (c: LiveCall): Promise<void> => {
    let record: Awaited<ReturnType<PanelContext['api']['callRecord']>> | null = null;
    try {
      record = await ctx.api.callRecord(c.callId);
    } catch {
      record = null;
    }
    if (call !== c) return;
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
    render();
  };

  // A call carried over from the panel this one replaces is shown at once, in this panel's
  // language (the Simulated Santa note, the transcript's speakers, the alerts); what happened
  // while no socket listened is asked of the server on the first connect.
  let dropped = false;
  if (carried) {
    const c: LiveCall = { ...carried, lines: carried.lines.map((l) => ({ ...l })), alerts: [...carried.alerts] };
    c.ending = false;
    call = c;
    transcript.replaceChildren(...c.lines.map((l) => lineElement(l, c.name)));
    alerts.replaceChildren(...c.alerts.map(alertElement));
    dropped = !c.ended;
    render();
  }
  const offs = [
    socket.onStatus((status) => {
      if (status === 'reconnecting') {
        dropped = true;
        if (call && !call.ended) {
          call.lost = true;
          render();
        }
      } else if (status === 'connected' && dropped) {
        dropped = false;
        // Back: ask the server what is true about the call shown, rather than trust the old picture.
        if (call && !call.ended) void settle(call);
      }
    }),
    socket.on('call:started', (e) => {
      begin(e.callId, e.profileId, e.profileName, e.availableSeconds).simulated = e.simulated;
      render();
    }),
    socket.on('call:tick', (tick) => {
      // A panel opened mid-call learns about the call from its ticks.
      const c = call && call.callId === tick.callId ? call : begin(tick.callId, tick.profileId, null, null);
      if (c.ended) return;
      c.remaining = tick.remainingSeconds;
      c.total = Math.max(c.total ?? 0, tick.remainingSeconds + tick.elapsedSeconds);
      render();
    }),
    socket.on('call:warning', (w) => {
      if (!call || call.callId !== w.callId) return;
      if (w.kind === 'time_low') call.timeLow = true;
      else {
        call.alerts.push(w.category);
        alerts.append(alertElement(w.category));
      }
      render();
    }),
    socket.on('call:transcript', (line) => {
      if (!call || call.callId !== line.callId || call.ended) return;
      addLine(line);
    }),
    socket.on('call:santa_stopped', (stopped) => {
      // Even on an ended card: stopped words are never left on a screen.
      if (call?.callId === stopped.callId) withdrawSanta();
    }),
    socket.on('call:ended', (e) => {
      if (!call || call.callId !== e.callId) begin(e.callId, null, null, null);
      call!.ended = { reason: e.reason, seconds: e.seconds };
      call!.ending = false;
      render();
      // The balance changed: credits:updated follows, but the header should not wait for it.
      void ctx.refreshAccount();
    }),
  ];

  // A panel opened (or reloaded) mid-call missed call:started, the only event that says
  // Simulated Santa answers: readiness names the account's live calls with it. The call is
  // shown at once (its ticks would show it within a second, but without the note); a call
  // the panel already shows, from a tick that came first, only gains the flag.
  let disposed = false;
  if (!carried)
    void loadReadiness(ctx.api).then((readiness) => {
      if (disposed || !readiness) return;
      if (call) {
        const same = readiness.live.find((l) => l.callId === call!.callId);
        if (same) call.simulated = same.simulated;
      } else {
        const live = readiness.live[0];
        if (!live) return;
        const c = begin(live.callId, live.profileId, null, live.heldSeconds);
        c.remaining = live.remainingSeconds;
        c.simulated = live.simulated;
      }
      render();
    });

  return {
    snapshot: () => (call ? { ...call, lines: call.lines.map((l) => ({ ...l })), alerts: [...call.alerts] } : null),
    dispose() {
      disposed = true;
      for (const off of offs) off();
      call = null;
      slot.replaceChildren();
    },
  };
}

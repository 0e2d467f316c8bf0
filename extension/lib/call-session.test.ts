import { describe, expect, it } from 'vitest';
import { CallSession, type CallPhase, type CallSessionDeps } from './call-session.js';
import { FakePeer, FakeSantaSocket, FakeStream, FakeTrack, tick } from './testing/fakes.js';

function setup(overrides: Partial<CallSessionDeps> = {}) {
  const mic = new FakeStream([new FakeTrack('audio')]);
  const peer = new FakePeer();
  const socket = new FakeSantaSocket();
  const session = new CallSession('profile-1', {
    getMic: async () => mic,
    createPeer: () => peer,
    connect: () => socket,
    timeZone: 'Europe/Copenhagen',
    iceTimeoutMs: 50,
    endTimeoutMs: 50,
    connectTimeoutMs: 50,
    ...overrides,
  });
  const phases: CallPhase[] = [];
  session.subscribe((s) => {
    if (phases[phases.length - 1] !== s.phase) phases.push(s.phase);
  });
  return { mic, peer, socket, session, phases };
}

async function live(overrides: Partial<CallSessionDeps> = {}) {
  const ctx = setup(overrides);
  await ctx.session.start();
  ctx.peer.setConnection('connected');
  return ctx;
}

/** Timers the session sets are kept, not run, so a test fires each one when it means to. */
function capturedTimers() {
  const timers: Array<{ fn: () => void; ms: number }> = [];
  const deps: Partial<CallSessionDeps> = {
    setTimeout: (fn, ms) => timers.push({ fn, ms }),
    clearTimeout: () => undefined,
  };
  return { timers, deps };
}

/** The server goes out of reach, then the media dies: the end the session asks for gets no answer. */
function mediaDiesWhileServerAway({ socket, peer }: Pick<ReturnType<typeof setup>, 'socket' | 'peer'>) {
  socket.setStatus('reconnecting');
  socket.endAck = async () => ({ error: { code: 'network_error', message: 'No answer from the server' } });
  peer.setConnection('failed');
}

describe('call session', () => {
  it('asks for the mic, offers with every ICE candidate, starts the call and goes live when media connects', async () => {
    const { peer, socket, session, phases } = setup();
    await session.start();
    expect(peer.tracks).toHaveLength(1);
    expect(peer.channels.map((c) => c.label)).toEqual(['oai-events']);
    expect(socket.starts).toEqual([{ profileId: 'profile-1', sdp: peer.local!.sdp, timeZone: 'Europe/Copenhagen' }]);
    expect(peer.remote).toEqual({ type: 'answer', sdp: 'v=0 answer' });
    expect(session.snapshot).toMatchObject({
      phase: 'connecting',
      callId: 'call-1',
      availableSeconds: 600,
      remainingSeconds: 600,
    });
    peer.setConnection('connected');
    expect(phases).toEqual(['idle', 'asking_mic', 'connecting', 'live']);
  });

  it('waits for ICE gathering to finish before sending the offer (no trickle through the server)', async () => {
    const { peer, socket, session } = setup();
    peer.gathering = 'manual';
    const started = session.start();
    await tick();
    await tick();
    expect(socket.starts).toHaveLength(0);
    peer.finishGathering();
    await started;
    expect(socket.starts).toHaveLength(1);
  });

  it('goes on with the candidates it has when gathering is slow, and fails when it has none', async () => {
    const slow = setup();
    slow.peer.gathering = 'manual';
    await slow.session.start();
    expect(slow.socket.starts).toHaveLength(1);

    const none = setup();
    none.peer.gathering = 'manual';
    none.peer.createOffer = async () => ({ type: 'offer', sdp: 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n' });
    await none.session.start();
    expect(none.session.snapshot).toMatchObject({ phase: 'failed', errorCode: 'ice_timeout' });
    expect(none.socket.starts).toHaveLength(0);
  });

  it('adds only audio tracks: a camera track never reaches the peer connection', async () => {
    const video = new FakeTrack('video');
    const audio = new FakeTrack('audio');
    const mixed = new FakeStream([audio, video]);
    const { peer, session } = setup({ getMic: async () => mixed });
    await session.start();
    expect(peer.tracks.map((t) => (t.track as FakeTrack).kind)).toEqual(['audio']);
  });

  it('fails with mic_denied when the microphone is refused, and never opens a socket', async () => {
    let connected = false;
    const { session } = setup({
      getMic: async () => Promise.reject(Object.assign(new Error('denied'), { name: 'NotAllowedError' })),
      connect: () => {
        connected = true;
        return new FakeSantaSocket();
      },
    });
    await session.start();
    expect(session.snapshot).toMatchObject({ phase: 'failed', errorCode: 'mic_denied' });
    expect(connected).toBe(false);
  });

  it('fails with mic_missing when there is no microphone', async () => {
    const { session } = setup({
      getMic: async () => Promise.reject(Object.assign(new Error('none'), { name: 'NotFoundError' })),
    });
    await session.start();
    expect(session.snapshot.errorCode).toBe('mic_missing');
  });

  it('shows the server refusal code and releases mic, peer and socket', async () => {
    const { mic, peer, socket, session } = setup();
    socket.startAck = async () => ({ error: { code: 'insufficient_credit', message: 'Buy more' } });
    await session.start();
    expect(session.snapshot).toMatchObject({ phase: 'failed', errorCode: 'insufficient_credit' });
    expect(mic.tracks.every((t) => t.stopped)).toBe(true);
    expect(peer.closed).toBe(true);
    expect(socket.closed).toBe(true);
    expect(socket.listenerCount()).toBe(0);
  });

  it('follows the server clock: ticks set the time left, time_low marks the end coming', async () => {
    const { socket, session } = await live();
    socket.emit('call:tick', { callId: 'call-1', remainingSeconds: 540, elapsedSeconds: 60, profileId: 'profile-1' });
    socket.emit('call:tick', { callId: 'other-call', remainingSeconds: 1, elapsedSeconds: 1, profileId: 'profile-2' });
    expect(session.snapshot).toMatchObject({ remainingSeconds: 540, elapsedSeconds: 60, timeLow: false });
    socket.emit('call:warning', { callId: 'call-1', kind: 'time_low', remainingSeconds: 60 });
    expect(session.snapshot.timeLow).toBe(true);
  });

  it("captions only the words the server's guardrail passed, never the data channel's, and withdraws a stopped line at once", async () => {
    const { peer, socket, session } = await live();
    const shown: string[] = [];
    session.subscribe((s) => shown.push(s.santaLine));
    const channel = peer.channels[0]!;
    // The provider's words arrive on the data channel first, ahead of the audio and of any check.
    channel.receive({ type: 'response.created' });
    channel.receive({ type: 'response.output_audio_transcript.delta', delta: 'Ho ho ho! I promise ' });
    channel.receive({ type: 'response.output_audio_transcript.delta', delta: 'you will get a pony.' });
    channel.receive({
      type: 'response.output_audio_transcript.done',
      transcript: 'Ho ho ho! I promise you will get a pony.',
    });
    expect(session.snapshot.santaLine).toBe('');
    // What the server checked and relays on the socket is shown, growing delta by delta.
    socket.emit('call:transcript', { callId: 'call-1', speaker: 'santa', text: 'Ho ho ho! ', final: false });
    expect(session.snapshot.santaLine).toBe('Ho ho ho! ');
    socket.emit('call:transcript', { callId: 'call-1', speaker: 'child', text: 'hello', final: true });
    socket.emit('call:transcript', { callId: 'call-2', speaker: 'santa', text: 'another call', final: false });
    expect(session.snapshot.santaLine).toBe('Ho ho ho! ');
    // A later check trips (a moderation answer, say): the line goes at once.
    socket.emit('call:santa_stopped', { callId: 'call-1' });
    expect(session.snapshot.santaLine).toBe('');
    socket.emit('call:transcript', {
      callId: 'call-1',
      speaker: 'santa',
      text: 'What would you like to tell me?',
      final: true,
    });
    expect(session.snapshot.santaLine).toBe('What would you like to tell me?');
    // A new line starts fresh after a whole one.
    socket.emit('call:transcript', { callId: 'call-1', speaker: 'santa', text: 'Rudolph ', final: false });
    expect(session.snapshot.santaLine).toBe('Rudolph ');
    expect(shown.some((line) => /promise|pony/.test(line))).toBe(false);
  });

  it('captions an answer the child talks over once, as the server relays it: cut short, then the next answer alone', async () => {
    const { socket, session } = await live();
    const say = (speaker: 'santa' | 'child', text: string, final: boolean) =>
      socket.emit('call:transcript', { callId: 'call-1', speaker, text, final });
    say('santa', 'A kite, how lovely! ', false);
    say('child', 'a red one!', true);
    // Its final line comes once its last words are checked, after the child's.
    say('santa', 'A kite, how lovely! I think the', true);
    expect(session.snapshot.santaLine).toBe('A kite, how lovely! I think the');
    // An answer the server cut short (the child's distress) ends with the words already shown.
    say('santa', 'Oh! ', false);
    say('child', 'my dad hits me', true);
    say('santa', 'Oh! ', true);
    expect(session.snapshot.santaLine).toBe('Oh! ');
    say('santa', 'I am so glad you told me. ', false);
    expect(session.snapshot.santaLine).toBe('I am so glad you told me. ');
  });

  it('tells the server once that media and data channel are up, so Santa greets when he is heard', async () => {
    const { peer, socket, session } = setup();
    await session.start();
    peer.setConnection('connected');
    expect(socket.connected).toEqual([]);
    peer.channels[0]!.open();
    peer.channels[0]!.open();
    expect(socket.connected).toEqual(['call-1']);
    // The channel may open before the media: then the media's connect tells it.
    const other = setup();
    await other.session.start();
    other.peer.channels[0]!.open();
    expect(other.socket.connected).toEqual([]);
    other.peer.setConnection('connected');
    expect(other.socket.connected).toEqual(['call-1']);
  });

  it('knows when Santa is speaking: from his answer starting until its audio stops, so the window says "listening" only when he listens', async () => {
    const { peer, session } = await live();
    const channel = peer.channels[0]!;
    expect(session.snapshot.santaSpeaking).toBe(false);
    channel.receive({ type: 'response.created' });
    expect(session.snapshot.santaSpeaking).toBe(true);
    channel.receive({ type: 'output_audio_buffer.started', response_id: 'r1' });
    // The words are all generated, but his voice still plays.
    channel.receive({ type: 'response.done' });
    expect(session.snapshot.santaSpeaking).toBe(true);
    channel.receive({ type: 'output_audio_buffer.stopped', response_id: 'r1' });
    expect(session.snapshot.santaSpeaking).toBe(false);
    // Without playback events, the response's end is the end of speaking.
    channel.receive({ type: 'response.created' });
    channel.receive({ type: 'response.done' });
    expect(session.snapshot.santaSpeaking).toBe(false);
  });

  it('hangs up through call:end and ends with the reason and seconds the server reports', async () => {
    const { socket, session, mic, peer } = await live();
    socket.endAck = async (callId) => {
      queueMicrotask(() => socket.emit('call:ended', { callId, reason: 'hangup', seconds: 42 }));
      return { ok: true };
    };
    await session.hangUp();
    expect(socket.ends).toEqual(['call-1']);
    expect(session.snapshot).toMatchObject({ phase: 'ended', endReason: 'hangup', endedSeconds: 42 });
    expect(mic.tracks.every((t) => t.stopped)).toBe(true);
    expect(peer.closed).toBe(true);
    expect(socket.closed).toBe(true);
  });

  it('ends locally if the server never confirms the hang-up', async () => {
    const { socket, session } = await live();
    socket.endAck = () => new Promise(() => undefined);
    await session.hangUp();
    expect(session.snapshot).toMatchObject({ phase: 'ended', endReason: 'hangup' });
  });

  it('ends at once when the server answers the hang-up with call_not_found (no call:ended is coming)', async () => {
    // Timers never fire here: only the answer can end the call.
    const { peer, socket, session } = setup({ setTimeout: () => 0, clearTimeout: () => undefined });
    await session.start();
    peer.setConnection('connected');
    socket.endAck = async () => ({ error: { code: 'call_not_found', message: 'No such live call' } });
    await session.hangUp();
    expect(session.snapshot).toMatchObject({ phase: 'ended', endReason: 'hangup' });
    expect(socket.closed).toBe(true);
  });

  it('ends when the parent ends the call from the side panel', async () => {
    const { socket, session, phases } = await live();
    socket.emit('call:ended', { callId: 'other-call', reason: 'parent', seconds: 10 });
    expect(session.snapshot.phase).toBe('live');
    socket.emit('call:ended', { callId: 'call-1', reason: 'parent', seconds: 95 });
    expect(session.snapshot).toMatchObject({ phase: 'ended', endReason: 'parent', endedSeconds: 95 });
    expect(phases[phases.length - 1]).toBe('ended');
  });

  it('stays ended: later events change nothing', async () => {
    const { socket, session } = await live();
    socket.emit('call:ended', { callId: 'call-1', reason: 'credit_exhausted', seconds: 600 });
    const after = session.snapshot;
    socket.emit('call:tick', { callId: 'call-1', remainingSeconds: 5, elapsedSeconds: 5, profileId: 'profile-1' });
    await session.hangUp();
    expect(session.snapshot).toBe(after);
    expect(socket.ends).toEqual([]);
  });

  it('a hang-up while Santa is being called ends the call as soon as it exists', async () => {
    const { socket, session } = setup();
    let ack!: (value: { callId: string; sdp: string; availableSeconds: number }) => void;
    socket.startAck = () => new Promise((resolve) => (ack = resolve));
    const started = session.start();
    await tick();
    await tick();
    void session.hangUp();
    ack({ callId: 'call-9', sdp: 'v=0 answer', availableSeconds: 300 });
    await started;
    expect(socket.ends).toEqual(['call-9']);
    expect(session.snapshot.phase).toBe('ended');
  });

  it('a hang-up before the mic answers never places the call', async () => {
    let grant!: (s: FakeStream) => void;
    const { socket, session } = setup({ getMic: () => new Promise((resolve) => (grant = resolve)) });
    const started = session.start();
    void session.hangUp();
    grant(new FakeStream([new FakeTrack('audio')]));
    await started;
    expect(socket.starts).toEqual([]);
    expect(session.snapshot).toMatchObject({ phase: 'ended', endReason: 'hangup' });
  });

  it('ends the call at the server when the media of a live call fails, and shows the end the server reports', async () => {
    const { peer, socket, session } = await live();
    peer.setConnection('failed');
    expect(socket.ends).toEqual(['call-1']);
    // A call that ran does not "fail to start": it ends with what the server reports.
    expect(session.snapshot.phase).toBe('ending');
    socket.emit('call:ended', { callId: 'call-1', reason: 'disconnected', seconds: 12 });
    expect(session.snapshot).toMatchObject({
      phase: 'ended',
      endReason: 'disconnected',
      endedSeconds: 12,
      errorCode: null,
    });
  });

  it('gives up and ends the call when the media never connects', async () => {
    const { socket, session } = setup();
    await session.start();
    await new Promise((r) => setTimeout(r, 80));
    expect(socket.ends).toEqual(['call-1']);
    expect(session.snapshot.errorCode).toBe('connection_failed');
  });

  it('takes its call back after the socket reconnects', async () => {
    const { socket, session } = await live();
    socket.setStatus('reconnecting');
    socket.setStatus('connected');
    await tick();
    expect(socket.resumes).toEqual(['call-1']);
    expect(session.snapshot.remainingSeconds).toBe(300);
  });

  it('asks call:resume again, backing off, while the process that answered does not have the call yet (a takeover under way), and takes it back once it does', async () => {
    const { timers, deps } = capturedTimers();
    const { socket, session, peer } = setup(deps);
    await session.start();
    peer.setConnection('connected');
    const answers: Array<Awaited<ReturnType<FakeSantaSocket['resumeAck']>>> = [
      { error: { code: 'internal_error', message: 'not here yet' } },
      { error: { code: 'network_error', message: 'No answer from the server' } },
      { ok: true, remainingSeconds: 250 },
    ];
    socket.resumeAck = async () => answers.shift()!;
    // The server drops mid-call: the socket comes back on whichever process answers.
    socket.setStatus('reconnecting');
    expect(session.snapshot).toMatchObject({ phase: 'live', connectionLost: true });
    socket.setStatus('connected');
    await tick();
    expect(socket.resumes).toEqual(['call-1']);
    expect(session.snapshot.connectionLost).toBe(true);
    const retries = () => timers.filter((t) => t.ms !== 50);
    expect(retries().map((t) => t.ms)).toEqual([500]);
    retries()[0]!.fn();
    await tick();
    expect(socket.resumes).toEqual(['call-1', 'call-1']);
    expect(retries().map((t) => t.ms)).toEqual([500, 1000]);
    retries()[1]!.fn();
    await tick();
    expect(socket.resumes).toHaveLength(3);
    expect(session.snapshot).toMatchObject({ phase: 'live', connectionLost: false, remainingSeconds: 250 });
    expect(retries()).toHaveLength(2);
  });

  it('does not ask again while the socket is down, nor after call_not_found or once the call is over', async () => {
    const { timers, deps } = capturedTimers();
    const { socket, session, peer } = setup(deps);
    await session.start();
    peer.setConnection('connected');
    socket.resumeAck = async () => ({ error: { code: 'internal_error', message: 'not here yet' } });
    socket.setStatus('reconnecting');
    socket.setStatus('connected');
    await tick();
    const retry = timers.find((t) => t.ms === 500)!;
    // Down again before the retry: the retry does nothing; the next connect asks at once.
    socket.setStatus('reconnecting');
    retry.fn();
    await tick();
    expect(socket.resumes).toHaveLength(1);
    socket.resumeAck = async () => ({ error: { code: 'call_not_found', message: 'gone' } });
    socket.setStatus('connected');
    await tick();
    await tick();
    expect(socket.resumes).toHaveLength(2);
    expect(session.snapshot).toMatchObject({ phase: 'ended', endReason: 'disconnected' });
    expect(timers.filter((t) => t.ms >= 500)).toHaveLength(1);
  });

  it('ends as disconnected when the server lost the call during the outage', async () => {
    const { socket, session } = await live();
    socket.resumeAck = async () => ({ error: { code: 'call_not_found', message: 'gone' } });
    socket.setStatus('reconnecting');
    socket.setStatus('connected');
    await tick();
    expect(session.snapshot).toMatchObject({ phase: 'ended', endReason: 'disconnected' });
  });

  it('shows a lost line while the socket is down, and after a server restart ends with what the server says it charged', async () => {
    const lookups: string[] = [];
    const { socket, session, peer } = setup({
      lookup: async (id) => {
        lookups.push(id);
        return { endedAt: '2026-12-01T10:00:17.000Z', reason: 'server_shutdown', seconds: 17 };
      },
    });
    await session.start();
    peer.setConnection('connected');
    socket.setStatus('reconnecting');
    expect(session.snapshot).toMatchObject({ phase: 'live', connectionLost: true });
    // The media dies with the server: not "could not start" for a call that ran. The end it
    // asks for gets no answer while the server is away.
    socket.endAck = async () => ({ error: { code: 'network_error', message: 'No answer from the server' } });
    peer.setConnection('failed');
    await tick();
    expect(session.snapshot).toMatchObject({ phase: 'ending', connectionLost: true });
    // Back after a restart: the call is asked to end again, and the server no longer has it.
    socket.endAck = async () => ({ error: { code: 'call_not_found', message: 'gone' } });
    socket.setStatus('connected');
    await tick();
    await tick();
    expect(socket.ends).toEqual(['call-1', 'call-1']);
    expect(socket.resumes).toEqual([]);
    expect(lookups).toEqual(['call-1']);
    expect(session.snapshot).toMatchObject({
      phase: 'ended',
      endReason: 'server_shutdown',
      endedSeconds: 17,
      connectionLost: false,
      errorCode: null,
    });
  });

  it('a call whose media died while the server was away says the line is lost for as long as the server stays away, however long it takes to stop', async () => {
    const { deps } = capturedTimers();
    const ctx = await live({ ...deps, serverWaitMs: 120_000 });
    const { socket, session } = ctx;
    mediaDiesWhileServerAway(ctx);
    await tick();
    await tick();
    // No guess from the missing answer: still the lost line, waiting for the server.
    expect(session.snapshot).toMatchObject({ phase: 'ending', connectionLost: true });
    // The server comes back with the call still live (the network, not the server, was away): it ends it and says so.
    socket.endAck = async () => {
      queueMicrotask(() => socket.emit('call:ended', { callId: 'call-1', reason: 'disconnected', seconds: 31 }));
      return { ok: true };
    };
    socket.setStatus('connected');
    await tick();
    await tick();
    expect(session.snapshot).toMatchObject({ phase: 'ended', endReason: 'disconnected', endedSeconds: 31 });
    expect(socket.resumes).toEqual([]);
  });

  it('ends as disconnected when the server stays away past the wait', async () => {
    const { timers, deps } = capturedTimers();
    const ctx = await live({ ...deps, serverWaitMs: 120_000 });
    const { socket, session } = ctx;
    socket.emit('call:tick', { callId: 'call-1', remainingSeconds: 280, elapsedSeconds: 20, profileId: 'profile-1' });
    mediaDiesWhileServerAway(ctx);
    await tick();
    const wait = timers.filter((t) => t.ms === 120_000);
    expect(wait).toHaveLength(1);
    expect(session.snapshot.phase).toBe('ending');
    wait[0]!.fn();
    expect(session.snapshot).toMatchObject({ phase: 'ended', endReason: 'disconnected', endedSeconds: 20 });
  });

  it('hands the remote stream to the page for playback and the voice meter', async () => {
    const { peer, session } = setup();
    const got: unknown[][] = [];
    session.onRemoteStream((s, r) => got.push([s, r]));
    await session.start();
    const remote = { id: 'remote' };
    const receiver = {
      getStats: async () => new Map([['in', { type: 'inbound-rtp', kind: 'audio', audioLevel: 0.4 }]]),
    };
    peer.dispatch('track', { streams: [remote], receiver });
    peer.dispatch('track', { streams: [remote] });
    expect(got).toEqual([
      [remote, receiver],
      [remote, null],
    ]);
  });

  it('learns that Santa is simulated from call:started, even when it arrives before the ack', async () => {
    const { socket, session } = setup();
    socket.startAck = async () => {
      socket.emit('call:started', {
        callId: 'someone-else',
        profileId: 'p9',
        profileName: 'Other',
        availableSeconds: 60,
        simulated: false,
      });
      socket.emit('call:started', {
        callId: 'call-1',
        profileId: 'profile-1',
        profileName: 'Emma',
        availableSeconds: 600,
        simulated: true,
      });
      return { callId: 'call-1', sdp: 'v=0 answer', availableSeconds: 600 };
    };
    await session.start();
    expect(session.snapshot.simulated).toBe(true);
  });

  it('starts once', async () => {
    const { session } = setup();
    await session.start();
    await expect(session.start()).rejects.toThrow();
  });
});

import '../../components/base.css';
import './call.css';
import { CALL_BLOCKS, type Profile } from '../../../shared/index.js';
import { h, mount } from '../../components/dom.js';
import { micIcon, phoneDownIcon } from '../../components/icons.js';
import { santaFigure } from '../../components/santa.js';
import { timeBar } from '../../components/time-bar.js';
import { button } from '../../components/ui.js';
import { CallSession, type CallSnapshot } from '../../lib/call-session.js';
import { createApiClient } from '../../lib/client.js';
import { formatDuration } from '../../lib/format.js';
import { initI18n, t } from '../../lib/i18n.js';
import { endBodyKey, endTitleKey, errorText } from '../../lib/messages.js';
import { cameraPreviewItem, getServerUrl, tokenItem } from '../../lib/settings.js';
import { connectSocket } from '../../lib/socket.js';
import { meterVoice, type VoiceMeter } from '../../lib/voice-level.js';

/**
 * The call window (call.html?profile=ID): the child's side of the call. Big Santa, a
 * time-left bar, an optional camera preview that never leaves this window, and one big
 * red hang-up button.
 */
const app = document.querySelector<HTMLElement>('#app')!;

function closeButton(): HTMLButtonElement {
  return button(t('call.close'), { variant: 'primary', class: 'big', onclick: () => window.close() });
}

function showProblem(title: string, body: string, retry: boolean): void {
  app.dataset.phase = 'failed';
  mount(
    app,
    h(
      'section',
      { class: 'end' },
      h('h1', { tabindex: -1 }, title),
      h('p', null, body),
      h(
        'div',
        { class: 'actions center' },
        retry
          ? button(t('call.tryAgain'), { variant: 'secondary', class: 'big', onclick: () => location.reload() })
          : null,
        closeButton(),
      ),
    ),
  );
  app.querySelector<HTMLElement>('h1')?.focus();
}

async function startCameraPreview(video: HTMLVideoElement): Promise<MediaStream | null> {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: false });
    video.srcObject = stream;
    video.hidden = false;
    await video.play().catch(() => undefined);
    return stream;
  } catch {
    // The preview is a nicety; without a camera the call goes on.
    return null;
  }
}

async function main(): Promise<void> {
  await initI18n();
  document.title = t('call.windowTitle');
  const profileId = new URLSearchParams(location.search).get('profile');
  const [token, baseUrl, cameraOn] = await Promise.all([
    tokenItem.getValue(),
    getServerUrl(),
    cameraPreviewItem.getValue(),
  ]);
  if (!profileId) return showProblem(t('call.problemTitle'), t('call.noChild'), false);
  if (!token) return showProblem(t('call.problemTitle'), t('call.signedOut'), false);

  let profile: Profile | undefined;
  try {
    profile = (await (await createApiClient()).profiles()).find((p) => p.id === profileId);
  } catch {
    // The greeting falls back to a name-less one; the server checks the profile anyway.
  }
  // The child's window speaks the child's language (the one Santa speaks), not the parent's.
  if (profile) {
    await initI18n({ setting: profile.language });
    document.title = t('call.windowTitle');
  }

  const santa = santaFigure(t('call.santaLabel'));
  const bar = timeBar(t('call.timeLeft'));
  bar.root.hidden = true;
  const status = h('p', { class: 'status', role: 'status' });
  const caption = h('p', { class: 'caption', lang: profile?.language ?? undefined });
  const simulatedNote = h('p', { class: 'simulated-note', hidden: true }, t('call.simulated'));
  const audio = h('audio', { autoplay: true });
  const hearButton = button(t('call.tapToHear'), { variant: 'primary', class: 'big', hidden: true });
  const video = h('video', {
    class: 'selfie',
    muted: true,
    autoplay: true,
    playsinline: true,
    hidden: true,
    'aria-label': t('call.cameraLabel'),
  });
  video.muted = true;
  // The icon and the colour say it to a child who cannot read; the words say it to everyone else.
  const hangUp = h('button', { type: 'button', class: 'hangup' }, phoneDownIcon(), h('span', null, t('call.hangUp')));
  const greeting = h(
    'h1',
    { class: 'greeting', tabindex: -1 },
    profile ? t('call.greeting', { name: profile.name }) : t('call.greetingNoName'),
  );
  const micHelp = h('div', { class: 'mic-help' }, micIcon(), h('p', null, t('call.micExplain')));

  mount(
    app,
    greeting,
    h('div', { class: 'stage' }, santa.root, video),
    micHelp,
    status,
    caption,
    bar.root,
    simulatedNote,
    hearButton,
    hangUp,
    audio,
  );
  greeting.focus();

  const session = new CallSession(profileId, {
    getMic: () =>
      navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
        video: false,
      }),
    createPeer: () => new RTCPeerConnection(),
    connect: () => connectSocket(baseUrl, token),
    lookup: async (callId) => (await createApiClient()).callRecord(callId),
  });

  let meter: VoiceMeter | null = null;
  let camera: MediaStream | null = null;
  session.onRemoteStream((stream, receiver) => {
    audio.srcObject = stream;
    audio.play().catch(() => {
      // Autoplay refused: one tap on the big button lets Santa speak.
      hearButton.hidden = false;
    });
    meter?.stop();
    meter = meterVoice(stream, (level) => santa.setLevel(level), receiver);
  });
  hearButton.addEventListener('click', () => {
    void audio.play().then(() => (hearButton.hidden = true));
  });
  hangUp.addEventListener('click', () => void session.hangUp());
  // Closing the window is hanging up too; the server also ends a call whose socket is gone.
  window.addEventListener('pagehide', () => void session.hangUp());

  const render = (s: CallSnapshot) => {
    app.dataset.phase = s.phase;
    micHelp.hidden = s.phase !== 'asking_mic';
    if (s.phase === 'asking_mic') status.textContent = t('call.status.mic');
    else if (s.phase === 'connecting') status.textContent = t('call.status.connecting');
    else if (s.phase === 'live')
      status.textContent = s.timeLow
        ? t('call.status.almostDone')
        : s.santaSpeaking
          ? t('call.status.santaTalking')
          : t('call.status.live');
    else if (s.phase === 'ending') status.textContent = t('call.status.ending');
    // A lost line is said as such, never as Santa listening.
    if (s.connectionLost && (s.phase === 'live' || s.phase === 'ending')) status.textContent = t('call.status.lost');
    app.dataset.connection = s.connectionLost ? 'lost' : 'ok';
    caption.textContent = s.santaLine;
    simulatedNote.hidden = s.simulated !== true;
    if (s.remainingSeconds !== null && (s.phase === 'live' || s.phase === 'connecting' || s.phase === 'ending')) {
      bar.root.hidden = false;
      bar.set(s.remainingSeconds, s.availableSeconds ?? s.remainingSeconds);
    }
    hangUp.disabled = s.phase === 'ending';
    if (s.phase === 'ended' || s.phase === 'failed') {
      meter?.stop();
      santa.setLevel(0);
      for (const track of camera?.getTracks() ?? []) track.stop();
      audio.srcObject = null;
    }
    if (s.phase === 'ended' && s.endReason) {
      const talked =
        s.endedSeconds && s.endedSeconds > 0
          ? t('call.talkedFor', { duration: formatDuration(s.endedSeconds, 'long') })
          : null;
      mount(
        app,
        h(
          'section',
          { class: 'end' },
          santaFigure(t('call.santaWaving')).root,
          h('h1', { tabindex: -1 }, t(endTitleKey(s.endReason))),
          h('p', null, t(endBodyKey(s.endReason))),
          talked ? h('p', { class: 'muted' }, talked) : null,
          h('div', { class: 'actions center' }, closeButton()),
        ),
      );
      app.querySelector<HTMLElement>('h1')?.focus();
    } else if (s.phase === 'failed') {
      const code = s.errorCode ?? 'unknown';
      // No Try again for what trying again cannot fix (quiet time, no call time, consent ...).
      showProblem(t('call.problemTitle'), errorText(code), !(CALL_BLOCKS as readonly string[]).includes(code));
    }
  };
  session.subscribe(render);
  if (cameraOn) camera = await startCameraPreview(video);
  await session.start();
}

void main();

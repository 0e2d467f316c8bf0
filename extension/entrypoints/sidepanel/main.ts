import '../../components/base.css';
import './panel.css';
import type { Account, Policy, Profile } from '../../../shared/index.js';
import { h, mount } from '../../components/dom.js';
import { phoneIcon } from '../../components/icons.js';
import { focusHeading, messageArea } from '../../components/ui.js';
import { ApiClient } from '../../lib/api.js';
import { formatMinutes } from '../../lib/format.js';
import { initI18n, t } from '../../lib/i18n.js';
import { newestOnly } from '../../lib/newest.js';
import { heldSeconds } from '../../lib/readiness.js';
import { getServerUrl, tokenItem } from '../../lib/settings.js';
import { connectSocket, type SantaSocket } from '../../lib/socket.js';
import type { PanelContext, ViewName } from './context.js';
import { liveCallPanel, type LiveCallPanel } from './views/live-call.js';
import { authView } from './views/auth.js';
import { consentView, needsConsent } from './views/consent.js';
import { childrenView } from './views/children.js';
import { creditsView } from './views/credits.js';
import { privacyView } from './views/privacy.js';
import { settingsView } from './views/settings.js';
import { problemView } from './views/problem.js';

/**
 * The side panel: sign in, first-run consent, children, credits, privacy centre and
 * settings, with the live call on top while one runs.
 */
const root = document.querySelector<HTMLElement>('#app')!;

interface State {
  api: ApiClient;
  account: Account | null;
  policy: Policy | null;
  socket: SantaSocket | null;
  profiles: Profile[] | null;
  photos: Map<string, Promise<string | null>>;
  view: ViewName;
  live: LiveCallPanel | null;
  /** Why a signed-in panel could not load its account (the server could not be reached). */
  offline: unknown;
  cleanup: Array<() => void>;
}

let state: State;
const status = messageArea();
const header = h('header', { class: 'panel-header' });
const liveSlot = h('div', { class: 'live-slot' });
const nav = h('nav', { class: 'tabs', 'aria-label': '' });
const main = h('main', { id: 'view', class: 'view' });
/** A message for the parent that must survive the panel restarting (account deleted). */
let carryNotice: string | null = null;
/** Bumped on every render so a slow view does not paint over a newer one. */
let renderSeq = 0;
/** Aborted when the next render starts: ends what the shown view subscribed to (its live updates). */
let viewScope = new AbortController();
/** The signed-in account, read again; `state.api` at the time of each call (it changes on restart). */
const loadAccount = newestOnly(() => state.api.me());

const SIGNED_IN_TABS: ViewName[] = ['children', 'credits', 'privacy', 'settings'];
const SIGNED_OUT_TABS: ViewName[] = ['auth', 'settings'];
const OFFLINE_TABS: ViewName[] = ['offline', 'settings'];

const ctx: PanelContext = {
  get api() {
    return state.api;
  },
  get account() {
    return state.account;
  },
  get policy() {
    return state.policy;
  },
  get socket() {
    return state.socket;
  },
  async refreshAccount() {
    if (!state.account) return null;
    try {
      // A notice and a view may both refresh at once: the older answer must not land last.
      const answer = await loadAccount();
      if (answer.newest) state.account = answer.value;
    } catch {
      // 401 clears the token (ApiClient) and the watcher restarts the panel; other errors keep the old view.
    }
    renderHeader();
    return state.account;
  },
  async profiles(refresh = false) {
    if (!state.profiles || refresh) state.profiles = await state.api.profiles();
    return state.profiles;
  },
  photoUrl(profile) {
    if (!profile.photoId) return Promise.resolve(null);
    const key = `${profile.id}:${profile.photoId}`;
    let url = state.photos.get(key);
    if (!url) {
      url = state.api.profilePhoto(profile.id).then(
        (blob) => URL.createObjectURL(blob),
        () => null,
      );
      state.photos.set(key, url);
    }
    return url;
  },
  navigate(view) {
    state.view = view;
    void renderView(true);
  },
  async signedIn(token, account) {
    await tokenItem.setValue(token);
    state.account = account;
    // The token watcher restarts the panel with the new session.
  },
  async signOut(notice) {
    carryNotice = notice ?? null;
    try {
      await state.api.logout();
    } catch {
      // Signed out locally even if the server cannot be reached (or the account is closed); the session ends there anyway.
    }
    await tokenItem.setValue(null);
  },
  restart() {
    return restartSerially();
  },
  notify(message, kind = 'ok') {
    status.show(message, kind);
  },
};

function renderHeader(): void {
  const a = state.account;
  mount(
    header,
    h('h1', null, phoneIcon(22), t('extName')),
    // One credit figure everywhere: what a call may use now; what a live call holds beside it.
    a
      ? h(
          'p',
          { class: 'who' },
          h('span', null, a.name),
          ' · ',
          h(
            'span',
            { class: 'header-balance' },
            t('panel.balanceShort', { minutes: formatMinutes(a.availableSeconds) }),
          ),
          heldSeconds(a) > 0
            ? h(
                'span',
                { class: 'header-held' },
                ' · ',
                t('panel.heldShort', { minutes: formatMinutes(heldSeconds(a)) }),
              )
            : null,
        )
      : null,
    a?.restricted ? h('p', { class: 'notice' }, t('privacy.restrictedBanner')) : null,
    a?.deletion ? h('p', { class: 'notice' }, t('privacy.closedBanner')) : null,
  );
}

function tabLabel(view: ViewName): string {
  return t(`nav.${view}` as 'nav.children');
}

function renderNav(): void {
  const tabs = state.account ? SIGNED_IN_TABS : state.offline ? OFFLINE_TABS : SIGNED_OUT_TABS;
  nav.setAttribute('aria-label', t('nav.label'));
  mount(
    nav,
    h(
      'ul',
      null,
      tabs.map((v) =>
        h(
          'li',
          null,
          h(
            'button',
            {
              type: 'button',
              class: 'tab',
              'data-view': v,
              'aria-current': state.view === v ? 'page' : undefined,
              onclick: () => ctx.navigate(v),
            },
            tabLabel(v),
          ),
        ),
      ),
    ),
  );
  nav.hidden = state.view === 'consent';
}

async function renderView(moveFocus: boolean): Promise<void> {
  const seq = ++renderSeq;
  viewScope.abort();
  viewScope = new AbortController();
  const scope = viewScope.signal;
  status.clear();
  renderNav();
  let content: HTMLElement;
  try {
    switch (state.view) {
      case 'auth':
        content = authView(ctx);
        break;
      case 'consent':
        content = await consentView(ctx);
        break;
      case 'children':
        content = await childrenView(ctx, scope);
        break;
      case 'credits':
        content = await creditsView(ctx, scope);
        break;
      case 'privacy':
        content = await privacyView(ctx, scope);
        break;
      case 'settings':
        content = settingsView(ctx);
        break;
      case 'offline':
        // Signed in, but the server could not be asked who that is: not the sign-in form.
        content = problemView(state.offline, {
          retry: () => void restartSerially(),
          reachable: () => state.api.policy(),
          signal: scope,
        });
        break;
    }
  } catch (err) {
    // Translated words and a way out; back by itself once the server answers again.
    content = problemView(err, {
      retry: () => void renderView(true),
      reachable: () => state.api.policy(),
      signal: scope,
    });
  }
  if (seq !== renderSeq) return;
  main.dataset.view = state.view;
  mount(main, content);
  if (moveFocus) focusHeading(main);
}

async function start(): Promise<void> {
  // A live call shown now stays shown across the restart for the same account on the same server.
  const carried = state?.account
    ? { owner: `${state.account.id} ${state.api.baseUrl}`, call: state.live?.snapshot() }
    : null;
  for (const off of state?.cleanup ?? []) off();
  state?.socket?.close();
  for (const url of state?.photos.values() ?? []) void url.then((u) => u && URL.revokeObjectURL(u));
  await initI18n();
  document.title = t('extName');
  const [baseUrl, token] = await Promise.all([getServerUrl(), tokenItem.getValue()]);
  const api = new ApiClient({ baseUrl, token, onUnauthorized: () => void tokenItem.setValue(null) });
  state = {
    api,
    account: null,
    policy: null,
    socket: null,
    profiles: null,
    photos: new Map(),
    view: 'auth',
    live: null,
    offline: null,
    cleanup: [],
  };
  mount(root, header, liveSlot, nav, status.root, main);
  liveSlot.replaceChildren();
  if (token) {
    try {
      [state.account, state.policy] = await Promise.all([api.me(), api.policy()]);
    } catch (err) {
      state.account = null;
      // A server that cannot be reached keeps the token: the parent may fix the URL or wait.
      const code = (err as { code?: string }).code;
      if (code !== 'unauthorized') {
        status.show(t('panel.serverUnreachable', { url: baseUrl }), 'error');
        state.offline = err;
      }
    }
  }
  if (state.account && token) {
    state.view = needsConsent(state.account, state.policy) ? 'consent' : 'children';
    const socket = connectSocket(baseUrl, token);
    state.socket = socket;
    const mine = carried?.owner === `${state.account.id} ${api.baseUrl}` ? (carried.call ?? null) : null;
    state.live = liveCallPanel(ctx, socket, liveSlot, mine);
    state.cleanup.push(
      () => state.live?.dispose(),
      socket.on('credits:updated', (c) => {
        if (!state.account) return;
        state.account = { ...state.account, balanceSeconds: c.balanceSeconds, availableSeconds: c.availableSeconds };
        // The credits view refreshes itself in place (a re-render would drop keyboard focus).
        renderHeader();
      }),
      socket.on('notice', () => {
        // The header and the account; the privacy view refreshes itself in place (a re-render would drop focus and typed input).
        void ctx.refreshAccount();
        status.show(t('privacy.newNotice'));
      }),
    );
  } else {
    state.view = state.offline ? 'offline' : 'auth';
  }
  renderHeader();
  await renderView(false);
  if (carryNotice && !state.account) {
    status.show(carryNotice);
    carryNotice = null;
  }
}

/** Restarts never overlap: a sign-in and a server change in quick succession run one after the other. */
let chain: Promise<void> = Promise.resolve();
function restartSerially(): Promise<void> {
  chain = chain.then(start, start);
  return chain;
}

async function boot(): Promise<void> {
  await restartSerially();
  // Signing in or out anywhere (another panel, the popup, a 401) restarts the panel.
  tokenItem.watch(() => void restartSerially());
}

void boot();

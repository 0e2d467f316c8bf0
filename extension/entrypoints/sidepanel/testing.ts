import type { Account, Policy, Profile } from '../../../shared/index.js';
import { ApiClient, type FetchLike } from '../../lib/api.js';
import { connectSocket } from '../../lib/socket.js';
import { afterEach, beforeAll, beforeEach, vi } from 'vitest';
import { initI18n, type ChromeMessages } from '../../lib/i18n.js';
import { englishMessages, installDocument } from '../../lib/testing/dom.js';
import { FakeRawSocket } from '../../lib/testing/fakes.js';
import type { PanelContext } from './context.js';

/**
 * A PanelContext for view tests: the real ApiClient on the test's fetch, the real socket
 * client on a FakeRawSocket (so events go through the shared schemas), and the app actions
 * a view is not expected to call throwing, so a test notices when it does.
 */
export function panelContext(opts: {
  view: string;
  fetch: FetchLike;
  raw: FakeRawSocket;
  account?: Account | null;
  policy?: Policy | null;
  profiles?: () => Promise<Profile[]>;
  refreshAccount?: () => Promise<Account | null>;
}): PanelContext {
  const api = new ApiClient({ baseUrl: 'http://127.0.0.1:9', token: 'tok', fetch: opts.fetch });
  const socket = connectSocket('http://127.0.0.1:9', 'tok', () => opts.raw);
  const unused = (name: string) => () => {
    throw new Error(`the ${opts.view} view does not call ctx.${name}`);
  };
  return {
    api,
    account: opts.account ?? null,
    policy: opts.policy ?? null,
    socket,
    refreshAccount: opts.refreshAccount ?? unused('refreshAccount'),
    profiles: opts.profiles ?? (async (): Promise<Profile[]> => []),
    photoUrl: unused('photoUrl'),
    navigate: unused('navigate'),
    signedIn: unused('signedIn'),
    signOut: unused('signOut'),
    restart: unused('restart'),
    notify: unused('notify'),
  };
}

/**
 * The per-test frame of a view test: English messages, a fresh linkedom document, a fake
 * socket and the view's scope, aborted (and globals unstubbed) after each test. Read its
 * fields inside tests; they are replaced before each one.
 */
export function viewTestFrame(): { doc: TestDocument; raw: FakeRawSocket; scope: AbortController } {
  const frame = {} as { doc: TestDocument; raw: FakeRawSocket; scope: AbortController };
  let messages: ChromeMessages;
  beforeAll(async () => {
    messages = await englishMessages();
  });
  beforeEach(async () => {
    await initI18n({ setting: 'en', load: async () => messages });
    frame.doc = installDocument();
    frame.raw = new FakeRawSocket();
    frame.scope = new AbortController();
  });
  afterEach(() => {
    frame.scope.abort();
    vi.unstubAllGlobals();
  });
  return frame;
}

type TestDocument = ReturnType<typeof installDocument>;

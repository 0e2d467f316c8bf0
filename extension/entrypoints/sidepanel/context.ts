import type { Account, Policy, Profile } from '../../../shared/index.js';
import type { ApiClient } from '../../lib/api.js';
import type { SantaSocket } from '../../lib/socket.js';

export type ViewName = 'children' | 'credits' | 'privacy' | 'settings' | 'auth' | 'consent' | 'offline';

/** What every side panel view gets: the API, the signed-in account and a few app actions. */
export interface PanelContext {
  readonly api: ApiClient;
  readonly account: Account | null;
  readonly policy: Policy | null;
  readonly socket: SantaSocket | null;
  /** Reloads the account (balance, consent, flags) and re-renders the header. */
  refreshAccount(): Promise<Account | null>;
  /** The children, cached for the panel and refreshed after any change. */
  profiles(refresh?: boolean): Promise<Profile[]>;
  /** An object URL of a child's photo (cached; revoked when the panel re-renders). */
  photoUrl(profile: Profile): Promise<string | null>;
  navigate(view: ViewName): void;
  signedIn(token: string, account: Account): Promise<void>;
  /** Signs out; `notice` is shown on the signed-out panel (it outlives the restart). */
  signOut(notice?: string): Promise<void>;
  /** Re-creates the whole panel (after a server or language change). */
  restart(): Promise<void>;
  /** A short status line at the top of the panel. */
  notify(message: string, kind?: 'ok' | 'error'): void;
}

import type { TestServer } from '../../test/support/server.js';
import { RetentionService, type RetentionOptions } from './service.js';

/**
 * A retention sweep of its own over a test server's store and services, wired as the app
 * wires its own, but with `options` of the test's: a hook that stops the sweep part-way, as a
 * crash or a lost job lock would.
 */
export function retentionOn(server: TestServer, options: RetentionOptions): RetentionService {
  const svc = server.app.services;
  return new RetentionService({
    store: server.app.store,
    clock: server.clock,
    audit: svc.audit,
    purger: svc.purger,
    photos: svc.photos,
    mail: svc.mail,
    accounts: svc.accounts,
    passwordResets: svc.passwordResets,
    calls: svc.calls,
    credits: svc.credits,
    support: svc.support,
    options,
  });
}

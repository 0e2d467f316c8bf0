// `npm run migrate`: applies the pending PostgreSQL migrations to $DATABASE_URL without starting
// the server (the server also applies them at start-up). Exit 0: up to date; 2: bad usage; 3: refused.
import { migrateDatabase } from '../pg-store.js';
import { StoreOpenError } from '../errors.js';

const url = process.env.DATABASE_URL;
if (!url || !/^postgres(ql)?:\/\//.test(url)) {
  process.stderr.write('npm run migrate needs DATABASE_URL=postgres://user:password@host:port/database\n');
  process.exit(2);
}
try {
  const r = await migrateDatabase(url);
  process.stdout.write(
    r.applied.length
      ? `migrated from schema ${r.from} to ${r.to}: ${r.applied.join(', ')}\n`
      : `schema is up to date (version ${r.to}); nothing to do\n`,
  );
} catch (err) {
  process.stderr.write(`migrate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof StoreOpenError ? 3 : 1);
}

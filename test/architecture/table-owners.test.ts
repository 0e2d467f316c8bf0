import { join, relative } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

// Each table of the Store has one owning module (docs/ARCHITECTURE.md, "Who owns which
// table"): only its code reads or writes the table; every other module asks the owner. This
// test reads the server's sources with the TypeScript checker and finds every expression whose
// type is one of the store's tables (a `Table<…>` or the photo `BlobStore`), however it is
// reached: `store.accounts`, `this.deps.store.calls`, a `tables.ledger` inside `atomically`, a
// destructured `{ outbox }`, `store['support']`. A new reach into another module's table fails
// here, with its file and line.

const root = join(new URL('../..', import.meta.url).pathname);

/** The module (a folder, or one file) that owns each table. */
const OWNERS: Record<string, string[]> = {
  accounts: ['server/accounts/service.ts'],
  sessions: ['server/accounts/service.ts'],
  logins: ['server/accounts/service.ts'],
  passwordResets: ['server/accounts/password-reset.ts'],
  consents: ['server/consent/'],
  policies: ['server/consent/'],
  profiles: ['server/profiles/'],
  photos: ['server/photos/'],
  photoFiles: ['server/photos/'],
  ledger: ['server/credits/'],
  payments: ['server/payments/'],
  webhookEvents: ['server/payments/'],
  calls: ['server/calls/'],
  notices: ['server/notices/'],
  outbox: ['server/mail/'],
  support: ['server/support/'],
  audit: ['server/audit/'],
  // A key-value table shared by key: the audit chain's head is the audit module's row, a
  // policy fan-out's progress (`policy-fanout:<version>`) the notices module's.
  meta: ['server/audit/', 'server/notices/'],
};

/** The store itself implements every table, and `store:copy` moves them all. */
const STORE = 'server/store/';

/**
 * Known reaches not yet behind their owners, file by file. Empty: the retention sweeps, the
 * last ones, ask each owner now. Keep it empty.
 */
const NOT_YET_MOVED: Record<string, string[]> = {};

/** A file the checker sees beside the real ones: proves each way of reaching a table is found. */
const PROBE = join(root, 'server', '__table-owners-probe__.ts');
const PROBE_SOURCE = `
import type { Store, StoreTables } from './store/types.js';
export async function probe(store: Store, deps: { store: Store }) {
  await store.accounts.get('a');
  await deps.store.ledger.findBy('accountId', 'a');
  const { outbox } = store;
  await outbox.count();
  await store['support'].count();
  await store.atomically(async (tables: StoreTables) => tables.calls.count());
  await store.photoFiles.list();
}
`;

interface Reach {
  file: string;
  line: number;
  table: string;
}

const reaches: Reach[] = [];
/** The tables the Store declares (`Tables` in server/store/types.ts), and its photo files. */
let storeTables: string[] = [];

beforeAll(() => {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, 'tsconfig.node.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!config) throw new Error('tsconfig.node.json could not be read');
  const files = config.fileNames.filter((f) => relative(root, f).startsWith('server/'));
  const host = ts.createCompilerHost(config.options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, ...rest) =>
    name === PROBE ? ts.createSourceFile(name, PROBE_SOURCE, version) : getSourceFile(name, version, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === PROBE || fileExists(name);
  const program = ts.createProgram([...files, PROBE], config.options, host);
  const checker = program.getTypeChecker();
  const storeTypes = join(root, 'server', 'store', 'types.ts');

  const typesFile = program.getSourceFile(storeTypes);
  const tablesDecl = typesFile?.statements.find(
    (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'Tables',
  );
  if (!tablesDecl) throw new Error('interface Tables not found in server/store/types.ts');
  storeTables = [
    ...checker
      .getTypeAtLocation(tablesDecl)
      .getProperties()
      .map((p) => p.name),
    'photoFiles',
  ].sort();

  const tableOf = (node: ts.Node): boolean => {
    const symbol = checker.getTypeAtLocation(node).getSymbol();
    if (!symbol || (symbol.name !== 'Table' && symbol.name !== 'BlobStore')) return false;
    return (symbol.declarations ?? []).some((d) => d.getSourceFile().fileName === storeTypes);
  };

  for (const source of program.getSourceFiles()) {
    const file = relative(root, source.fileName);
    if (!file.startsWith('server/')) continue;
    const found = (node: ts.Node, table: string) =>
      reaches.push({ file, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, table });
    const visit = (node: ts.Node): void => {
      if (ts.isPropertyAccessExpression(node) && tableOf(node)) found(node, node.name.text);
      else if (ts.isElementAccessExpression(node) && ts.isStringLiteral(node.argumentExpression) && tableOf(node))
        found(node, node.argumentExpression.text);
      else if (ts.isBindingElement(node) && tableOf(node)) {
        const key = node.propertyName ?? node.name;
        found(node, ts.isIdentifier(key) || ts.isStringLiteral(key) ? key.text : key.getText());
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
}, 60_000);

const owns = (file: string, table: string) =>
  file.startsWith(STORE) || (OWNERS[table] ?? []).some((o) => (o.endsWith('/') ? file.startsWith(o) : file === o));

describe('every table has one owning module', () => {
  it('finds a table however it is reached (the probe file)', () => {
    const probe = relative(root, PROBE);
    expect(
      reaches
        .filter((r) => r.file === probe)
        .map((r) => r.table)
        .sort(),
    ).toEqual(['accounts', 'calls', 'ledger', 'outbox', 'photoFiles', 'support']);
  });

  it('every table the store has, and only those, has its owner listed', () => {
    expect(storeTables.length).toBeGreaterThan(10);
    expect(Object.keys(OWNERS).sort(), 'a new table needs its owner in OWNERS (and in docs/ARCHITECTURE.md)').toEqual(
      storeTables,
    );
  });

  it('only the owning module reads or writes a table (besides the known, listed exceptions)', () => {
    const probe = relative(root, PROBE);
    const strays = reaches
      .filter((r) => r.file !== probe && !owns(r.file, r.table) && !NOT_YET_MOVED[r.file]?.includes(r.table))
      .map((r) => `${r.file}:${r.line} reads or writes store.${r.table}, owned by ${OWNERS[r.table]?.join(' and ')}`);
    expect(strays, 'ask the owning service instead (docs/ARCHITECTURE.md, "Who owns which table")').toEqual([]);
  });
});

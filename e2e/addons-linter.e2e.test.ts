import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHROME_BUILD, FIREFOX_BUILD, ROOT } from './support/paths.js';

interface LinterMessage {
  code: string;
  message: string;
  file?: string;
}
interface LinterReport {
  summary: { errors: number; warnings: number; notices: number };
  errors: LinterMessage[];
  warnings: LinterMessage[];
}

/** Mozilla's addons-linter (10.13.0), as addons.mozilla.org runs it on upload. */
function lint(target: string): LinterReport {
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'addons-linter', 'bin', 'addons-linter'), '--output', 'json', target],
    {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 32 * 1024 * 1024,
    },
  );
  const start = r.stdout.indexOf('{');
  if (start < 0) throw new Error(`addons-linter printed no report: ${r.stderr}`);
  return JSON.parse(r.stdout.slice(start)) as LinterReport;
}

describe('addons-linter on the Firefox build', () => {
  it('reports no errors on the unpacked build', () => {
    const report = lint(FIREFOX_BUILD);
    expect(report.errors, JSON.stringify(report.errors, null, 2)).toEqual([]);
    // The only warnings allowed are zod's `new Function` probe, which jitless mode never runs.
    expect(
      report.warnings.filter((w) => w.code !== 'DANGEROUS_EVAL'),
      JSON.stringify(report.warnings, null, 2),
    ).toEqual([]);
  });

  it('reports no errors on the zip that would be uploaded', () => {
    const zip = readdirSync(join(ROOT, '.output')).find((f) => /-firefox\.zip$/.test(f));
    expect(zip).toBeDefined();
    expect(existsSync(join(ROOT, '.output', zip!))).toBe(true);
    const report = lint(join(ROOT, '.output', zip!));
    expect(report.errors, JSON.stringify(report.errors, null, 2)).toEqual([]);
  });
});

describe('the built manifests', () => {
  const manifest = (dir: string) =>
    JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;

  it('Firefox: a gecko id, the data it collects declared, the side panel as a sidebar', () => {
    const m = manifest(FIREFOX_BUILD);
    expect(m.browser_specific_settings).toMatchObject({
      gecko: {
        id: 'call-santa@callsanta.app',
        data_collection_permissions: {
          required: expect.arrayContaining(['personallyIdentifyingInfo', 'personalCommunications']),
        },
      },
    });
    expect(m.sidebar_action).toMatchObject({ default_panel: 'sidepanel.html' });
    expect(m.browser_action).toMatchObject({ default_popup: 'popup.html' });
    expect(m.permissions).toEqual(['storage']);
  });

  it('Chrome MV3: side panel, popup, and only the storage and sidePanel permissions', () => {
    const m = manifest(CHROME_BUILD);
    expect(m.manifest_version).toBe(3);
    expect(m.side_panel).toEqual({ default_path: 'sidepanel.html' });
    expect(m.action).toMatchObject({ default_popup: 'popup.html' });
    expect(m.permissions).toEqual(['storage', 'sidePanel']);
    expect(m).not.toHaveProperty('host_permissions');
    expect(m.default_locale).toBe('en');
  });

  it('store builds never contain the e2e-only code that opens the panel in a tab', () => {
    for (const dir of [CHROME_BUILD, FIREFOX_BUILD])
      expect(readFileSync(join(dir, 'background.js'), 'utf8')).not.toContain('sidepanel.html');
  });
});

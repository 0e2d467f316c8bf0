import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import {
  cameraPreviewItem,
  getLocaleSetting,
  getServerUrl,
  localeItem,
  pinItem,
  serverUrlItem,
  setServerUrl,
  tokenItem,
} from './settings.js';
import { DEFAULT_SERVER_URL } from './server-url.js';

describe('settings in wxt/storage', () => {
  beforeEach(() => {
    fakeBrowser.reset();
  });

  it('starts with safe defaults: local server, browser language, no token, no PIN, camera off', async () => {
    expect(await getServerUrl()).toBe(DEFAULT_SERVER_URL);
    expect(await getLocaleSetting()).toBe('auto');
    expect(await tokenItem.getValue()).toBeNull();
    expect(await pinItem.getValue()).toBeNull();
    expect(await cameraPreviewItem.getValue()).toBe(false);
  });

  it('keeps everything in storage.local under stable keys', async () => {
    await tokenItem.setValue('tok');
    await localeItem.setValue('da');
    expect(await fakeBrowser.storage.local.get(['token', 'locale'])).toEqual({ token: 'tok', locale: 'da' });
  });

  it('saves a valid server URL normalised to its origin', async () => {
    const result = await setServerUrl('https://santa.example.com/');
    expect(result).toEqual({ ok: true, url: 'https://santa.example.com' });
    expect(await getServerUrl()).toBe('https://santa.example.com');
  });

  it('refuses an insecure server URL and leaves the stored one alone', async () => {
    await setServerUrl('https://santa.example.com');
    expect(await setServerUrl('http://santa.example.com')).toEqual({ ok: false, problem: 'insecure' });
    expect(await getServerUrl()).toBe('https://santa.example.com');
  });

  it('signs out when the server changes: the token belongs to the old server', async () => {
    await tokenItem.setValue('token-for-old-server');
    await setServerUrl('https://other.example.com');
    expect(await tokenItem.getValue()).toBeNull();
  });

  it('keeps the session when the same server is saved again', async () => {
    await setServerUrl('https://santa.example.com');
    await tokenItem.setValue('tok');
    await setServerUrl('https://santa.example.com/');
    expect(await tokenItem.getValue()).toBe('tok');
  });

  it('falls back to the default when a stored URL no longer passes validation', async () => {
    await serverUrlItem.setValue('http://evil.example.com');
    expect(await getServerUrl()).toBe(DEFAULT_SERVER_URL);
  });

  it('treats an unknown stored language as the browser language', async () => {
    await fakeBrowser.storage.local.set({ locale: 'de' });
    expect(await getLocaleSetting()).toBe('auto');
  });
});

describe('the built-in server address', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('is the one the build was made for: a parent who never opens Settings reaches that server', async () => {
    fakeBrowser.reset();
    vi.stubEnv('WXT_DEFAULT_SERVER_URL', 'http://localhost:8811');
    vi.resetModules();
    const fresh = await import('./settings.js');
    expect(await fresh.getServerUrl()).toBe('http://localhost:8811');
  });
});

import { describe, expect, it } from 'vitest';
import { builtInServerUrl, FALLBACK_SERVER_URL, validateServerUrl } from './server-url.js';

describe('server URL validation', () => {
  it('accepts https anywhere and keeps only the origin', () => {
    expect(validateServerUrl(' https://santa.example.com/ ')).toEqual({ ok: true, url: 'https://santa.example.com' });
    expect(validateServerUrl('https://santa.example.com:8443')).toEqual({
      ok: true,
      url: 'https://santa.example.com:8443',
    });
  });

  it('accepts plain http only for this computer', () => {
    for (const url of ['http://localhost:8787', 'http://127.0.0.1:8787', 'http://[::1]:8787', 'http://app.localhost']) {
      expect(validateServerUrl(url).ok, url).toBe(true);
    }
  });

  it('refuses plain http to any other host, so passwords and child data never travel unencrypted', () => {
    for (const url of [
      'http://santa.example.com',
      'http://192.168.1.10:8787',
      'http://10.0.0.1',
      'http://localhost.evil.com',
      'http://127.0.0.1.nip.io',
    ]) {
      expect(validateServerUrl(url), url).toEqual({ ok: false, problem: 'insecure' });
    }
  });

  it('refuses what is not a web address', () => {
    expect(validateServerUrl('')).toEqual({ ok: false, problem: 'empty' });
    expect(validateServerUrl('ftp://santa.example.com')).toEqual({ ok: false, problem: 'invalid' });
    expect(validateServerUrl('javascript:alert(1)')).toEqual({ ok: false, problem: 'invalid' });
    expect(validateServerUrl('https://user:pw@santa.example.com')).toEqual({ ok: false, problem: 'invalid' });
  });

  it('refuses a path, query or fragment instead of silently dropping it', () => {
    expect(validateServerUrl('https://santa.example.com/api')).toEqual({ ok: false, problem: 'has_path' });
    expect(validateServerUrl('https://santa.example.com/?x=1')).toEqual({ ok: false, problem: 'has_path' });
    expect(validateServerUrl('https://santa.example.com/#top')).toEqual({ ok: false, problem: 'has_path' });
  });

  it('takes an address typed without a scheme: http for this computer, https for anything else', () => {
    expect(validateServerUrl('localhost:8811')).toEqual({ ok: true, url: 'http://localhost:8811' });
    expect(validateServerUrl('127.0.0.1:8811')).toEqual({ ok: true, url: 'http://127.0.0.1:8811' });
    expect(validateServerUrl('[::1]:8811')).toEqual({ ok: true, url: 'http://[::1]:8811' });
    expect(validateServerUrl('santa.example.com')).toEqual({ ok: true, url: 'https://santa.example.com' });
    // Still refused whatever the missing scheme would have been.
    expect(validateServerUrl('santa.example.com/api')).toEqual({ ok: false, problem: 'has_path' });
    expect(validateServerUrl('user:pw@santa.example.com')).toEqual({ ok: false, problem: 'invalid' });
    expect(validateServerUrl('localhost.evil.com:8811')).toEqual({ ok: true, url: 'https://localhost.evil.com:8811' });
  });

  it('defaults to the server the build was made for (npm start sets it), else the embedded one', () => {
    expect(builtInServerUrl('http://localhost:8811')).toBe('http://localhost:8811');
    expect(builtInServerUrl(undefined)).toBe(FALLBACK_SERVER_URL);
    expect(builtInServerUrl('')).toBe(FALLBACK_SERVER_URL);
    expect(builtInServerUrl('http://santa.example.com')).toBe(FALLBACK_SERVER_URL);
  });
});

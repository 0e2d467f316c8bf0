export function devServerUrl(env?: Record<string, string | undefined>): string;

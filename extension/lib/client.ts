import { ApiClient } from './api.js';
import { getServerUrl, tokenItem } from './settings.js';

/** An API client for the stored server and token; a 401 anywhere clears the token (signed out). */
export async function createApiClient(): Promise<ApiClient> {
  const [baseUrl, token] = await Promise.all([getServerUrl(), tokenItem.getValue()]);
  return new ApiClient({ baseUrl, token, onUnauthorized: () => void tokenItem.setValue(null) });
}

import type { Express } from 'express';

/** The parts of Express 5's router (router@2) layers that the enumeration reads. */
interface RouterLayer {
  rawPath?: string | string[];
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: RouterLayer[] };
}

function join(prefix: string, path: string): string {
  const joined = (prefix + (path === '/' ? '' : path)).replace(/\/{2,}/g, '/');
  return joined.length > 1 ? joined.replace(/\/$/, '') : joined || '/';
}

function walk(stack: RouterLayer[], prefix: string, out: Set<string>): void {
  for (const layer of stack) {
    if (layer.route) {
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
      for (const p of paths) {
        for (const [method, on] of Object.entries(layer.route.methods)) {
          // Express adds HEAD for every GET; it is the same handler.
          if (on && method !== '_all') out.add(`${method.toUpperCase()} ${join(prefix, p)}`);
        }
      }
      continue;
    }
    const nested = layer.handle?.stack;
    if (!Array.isArray(nested)) continue; // plain middleware
    const raw = layer.rawPath ?? '/';
    for (const p of Array.isArray(raw) ? raw : [raw]) walk(nested, join(prefix, p), out);
  }
}

/**
 * Every route the app answers, as "METHOD /path" with Express's :params, read from the
 * router stack itself: a route added anywhere shows up here without anyone listing it.
 */
export function listRoutes(app: Express): string[] {
  const router = (app as unknown as { router?: { stack: RouterLayer[] } }).router;
  if (!router) throw new Error('Express app has no router (not Express 5?)');
  const out = new Set<string>();
  walk(router.stack, '', out);
  return [...out].sort();
}

/** Fill `:param` segments from a map; a missing param is an error in the matrix. */
export function fillPath(pattern: string, params: Record<string, string>): string {
  return pattern.replace(/:([A-Za-z_]\w*)/g, (_, name: string) => {
    const v = params[name];
    if (v === undefined) throw new Error(`no value for :${name} in ${pattern}`);
    return encodeURIComponent(v);
  });
}

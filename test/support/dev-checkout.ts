/**
 * Pays a dev checkout as a parent's browser does: opens the page the checkout URL names, reads
 * its Pay form, and posts it from the page's own origin. Resolves with the Pay answer
 * (303 to the page once the signed webhook was accepted).
 */
export async function payDevCheckout(checkoutUrl: string, opts: { origin?: string } = {}): Promise<Response> {
  const url = new URL(checkoutUrl);
  const page = await fetch(url);
  const html = await page.text();
  const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1];
  const key = /<input type="hidden" name="key" value="([^"]*)">/.exec(html)?.[1];
  if (page.status !== 200 || !action || key === undefined)
    throw new Error(`no Pay form on the dev checkout page (${page.status})`);
  const unescape = (s: string) =>
    s
      .replace(/&amp;/g, '&')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>');
  return fetch(new URL(unescape(action), url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: opts.origin ?? url.origin },
    body: new URLSearchParams({ key: unescape(key) }).toString(),
    redirect: 'manual',
  });
}

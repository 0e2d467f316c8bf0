/** Login activity keeps the browser family only: enough for a parent to spot a stranger, nothing more. */
export function browserFamily(userAgent: string | undefined): string {
  const ua = userAgent ?? '';
  if (/Edg\//.test(ua)) return 'Edge';
  if (/OPR\//.test(ua)) return 'Opera';
  if (/Firefox\//.test(ua)) return 'Firefox';
  if (/Chrom(e|ium)\//.test(ua)) return 'Chrome';
  if (/Safari\//.test(ua)) return 'Safari';
  if (ua === '') return 'Unknown';
  return 'Other';
}

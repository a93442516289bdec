/**
 * A Content-Disposition value that cannot break out of its header: the ASCII fallback keeps only
 * safe characters, and the UTF-8 form is percent-encoded (RFC 6266 / RFC 8187).
 */
export function contentDisposition(filename: string | null, fallback: string, type: 'inline' | 'attachment' = 'inline'): string {
  const name = (filename ?? '').normalize('NFC').replace(/[\u0000-\u001f\u007f]/g, '').trim() || fallback;
  const ascii = name.replace(/[^A-Za-z0-9._ -]/g, '_').slice(0, 150) || fallback;
  const encoded = encodeURIComponent(name.slice(0, 150)).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${type}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

const MAX_NAME_CHARACTERS = 150;

/** Lone UTF-16 surrogates (from a hostile JSON `\ud800`) cannot be encoded: they become U+FFFD. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * A Content-Disposition value that cannot break out of its header: control characters go, the
 * ASCII fallback keeps only safe characters, and the UTF-8 form is percent-encoded (RFC 6266 /
 * RFC 8187). Never throws, whatever the name.
 */
export function contentDisposition(filename: string | null, fallback: string, type: 'inline' | 'attachment' = 'inline'): string {
  const cleaned = (filename ?? '')
    .replace(LONE_SURROGATE, '\uFFFD')
    .normalize('NFC')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes from a header
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '')
    .trim();
  // Cut by code point, so an emoji at the limit is kept or dropped whole, never split.
  const name = Array.from(cleaned || fallback)
    .slice(0, MAX_NAME_CHARACTERS)
    .join('');
  const ascii = name.replace(/[^A-Za-z0-9._ -]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*!]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${type}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

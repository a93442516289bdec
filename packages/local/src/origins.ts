/** Origin patterns as in S3 CORS rules: exact, or with one `*` (e.g. `http://localhost:*`). */
export function originMatcher(patterns: string[]): (origin: string) => boolean {
  const regexes = patterns.map(
    (p) =>
      new RegExp(
        `^${p
          .split('*')
          .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('[^/]*')}$`,
      ),
  );
  return (origin) => regexes.some((r) => r.test(origin));
}

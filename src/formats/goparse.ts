/** Small helpers reproducing Go's strconv parsing rules (used by ini and hocon). */

const DEC_FLOAT = /^[+-]?(?:[0-9](?:_?[0-9])*)?(?:\.(?:[0-9](?:_?[0-9])*)?)?(?:[eE][+-]?[0-9](?:_?[0-9])*)?$/;
const HEX_FLOAT = /^[+-]?0[xX](?:_?[0-9a-fA-F])*(?:\.(?:[0-9a-fA-F](?:_?[0-9a-fA-F])*)?)?[pP][+-]?[0-9](?:_?[0-9])*$/;

/** strconv.ParseFloat(s, 64) when it succeeds with a finite value; undefined otherwise. */
export function goParseFloat(s: string): number | undefined {
  if (s === '' || s.length > 400) return undefined;
  if (DEC_FLOAT.test(s)) {
    if (!/[0-9]/.test(s.replace(/[eE].*$/, ''))) return undefined;
    const t = s.replace(/_/g, '');
    // a leading '_' right after the sign or a '_' next to '.' is rejected by the regex
    const v = Number(t);
    return Number.isFinite(v) ? v : undefined;
  }
  if (HEX_FLOAT.test(s)) {
    const m = /^([+-]?)0[xX]([0-9a-fA-F_]*)(?:\.([0-9a-fA-F_]*))?[pP]([+-]?[0-9_]+)$/.exec(s)!;
    const intPart = m[2]!.replace(/_/g, '');
    const frac = (m[3] ?? '').replace(/_/g, '');
    if (intPart === '' && frac === '') return undefined;
    let mant = 0;
    for (const ch of intPart + frac) mant = mant * 16 + parseInt(ch, 16);
    const v = mant * Math.pow(2, Number(m[4]!.replace(/_/g, '')) - 4 * frac.length);
    if (!Number.isFinite(v)) return undefined;
    return m[1] === '-' ? -v : v;
  }
  return undefined;
}

/** strconv.ParseBool */
export function goParseBool(s: string): boolean | undefined {
  switch (s) {
    case '1': case 't': case 'T': case 'TRUE': case 'true': case 'True':
      return true;
    case '0': case 'f': case 'F': case 'FALSE': case 'false': case 'False':
      return false;
  }
  return undefined;
}

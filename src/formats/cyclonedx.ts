/**
 * CycloneDX SBOMs (`--parser cyclonedx`, `.cyclonedx`), in conftest's shape:
 * - JSON documents are returned as written (after checking the main BOM
 *   fields have the right types);
 * - XML documents are converted to the CycloneDX JSON layout: attributes
 *   become fields, list elements (components, hashes, licenses, ...) become
 *   arrays, `<hash alg="..">v</hash>` becomes {alg, content}, nested
 *   `<dependency ref>` elements become dependsOn; empty containers (`<hashes/>`)
 *   are left out and only the BOM's own fields are kept at the top. As conftest
 *   prints them, XML BOMs have bomFormat "" and specVersion "SpecVersion(0)".
 */
import { ParseError, lineColAt, type InputParser } from './types.ts';
import { jsonError } from './json.ts';
import { parseXml, XmlError, type XNode } from './xml.ts';
import { setOwn } from './limits.ts';

const ARRAY_FIELDS: Record<string, 'array' | 'object' | 'number' | 'string'> = {
  components: 'array',
  services: 'array',
  dependencies: 'array',
  vulnerabilities: 'array',
  externalReferences: 'array',
  compositions: 'array',
  properties: 'array',
  metadata: 'object',
  version: 'number',
  serialNumber: 'string',
  bomFormat: 'string',
  specVersion: 'string',
};

/** The fields of a decoded BOM (CycloneDX 1.6's top level): everything else on <bom> is dropped. */
const BOM_FIELDS = new Set([
  'bomFormat', 'specVersion', 'serialNumber', 'version', 'metadata', 'components', 'services', 'externalReferences',
  'dependencies', 'compositions', 'properties', 'vulnerabilities', 'annotations', 'formulation', 'declarations', 'definitions',
]);

/** Containers whose children form an array, with the JSON shape of each child. */
const CONTAINERS = new Set([
  'components', 'services', 'hashes', 'licenses', 'externalReferences', 'dependencies', 'properties',
  'tools', 'authors', 'vulnerabilities', 'compositions', 'endpoints', 'data', 'ratings', 'affects',
  'cwes', 'advisories', 'references', 'assemblies', 'frames', 'occurrences', 'identity', 'patches',
  'commits', 'ancestors', 'descendants', 'variants', 'contact', 'lifecycles', 'tags', 'urls',
]);

function text(n: XNode): string {
  return n.data;
}

function elementToJson(name: string, n: XNode): unknown {
  if (name === 'hash') return { alg: attr(n, 'alg'), content: text(n) };
  if (name === 'property') return { name: attr(n, 'name'), value: text(n) };
  if (name === 'dependency') {
    const out: Record<string, unknown> = { ref: attr(n, 'ref') };
    const deps = n.children.get('dependency');
    if (deps?.length) out.dependsOn = deps.map((d) => attr(d, 'ref'));
    return out;
  }
  if (n.attrs.length === 0 && n.children.size === 0) return text(n);
  const out: Record<string, unknown> = {};
  for (const [k, v] of n.attrs) setOwn(out, k, v);
  for (const [k, list] of n.children) {
    if (CONTAINERS.has(k)) {
      const items: unknown[] = [];
      for (const c of list) {
        for (const [ck, clist] of c.children) {
          for (const item of clist) {
            if (k === 'licenses') items.push(ck === 'expression' ? { expression: text(item) } : { license: elementToJson(ck, item) });
            else items.push(elementToJson(ck, item));
          }
        }
      }
      // Go reads `<hashes/>` into a nil slice, which the JSON encoding then omits
      if (items.length > 0) setOwn(out, k, items);
    } else {
      setOwn(out, k, list.length === 1 ? elementToJson(k, list[0]!) : list.map((x) => elementToJson(k, x)));
    }
  }
  return out;
}

function attr(n: XNode, name: string): string | undefined {
  for (const [k, v] of n.attrs) if (k === name) return v;
  return undefined;
}

/**
 * The version attribute as Go's encoding/xml reads it into an int: empty is 0, otherwise
 * strconv.ParseInt of the trimmed text (base 10, int64); conftest then hands it over as a float64.
 */
function xmlVersion(v: unknown, file: string): number {
  if (typeof v !== 'string') {
    throw new ParseError('decode CycloneDX BOM: version must be an attribute holding an integer', { file, parser: 'cyclonedx' });
  }
  if (v === '') return 0;
  const t = v.trim();
  if (!/^[+-]?[0-9]+$/.test(t)) {
    throw new ParseError(`decode CycloneDX BOM: strconv.ParseInt: parsing ${JSON.stringify(t)}: invalid syntax`, { file, parser: 'cyclonedx' });
  }
  const b = BigInt(t);
  if (b > 9223372036854775807n || b < -9223372036854775808n) {
    throw new ParseError(`decode CycloneDX BOM: strconv.ParseInt: parsing ${JSON.stringify(t)}: value out of range`, { file, parser: 'cyclonedx' });
  }
  return Number(b);
}

/** The first number literal (outside strings) whose value float64 cannot hold, or null. */
function hugeNumber(text: string): string | null {
  const num = /-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      i++;
      while (i < text.length) {
        const d = text.charCodeAt(i);
        if (d === 92) i += 2;
        else if (d === 34) { i++; break; }
        else i++;
      }
      continue;
    }
    if (c === 45 || (c >= 48 && c <= 57)) {
      num.lastIndex = i;
      const m = num.exec(text);
      if (m) {
        if (!Number.isFinite(Number(m[0]))) return m[0];
        i += m[0].length;
        continue;
      }
    }
    i++;
  }
  return null;
}

function parseXmlBom(content: string, file: string): unknown {
  let root: XNode;
  try {
    root = parseXml(content);
  } catch (e) {
    if (e instanceof XmlError) {
      const { line, column } = lineColAt(content, e.pos);
      throw new ParseError(`decode CycloneDX BOM: ${e.message}`, { file, parser: 'cyclonedx', line, column });
    }
    throw e;
  }
  const bom = root.children.get('bom')?.[0];
  if (!bom) throw new ParseError('decode CycloneDX BOM: no <bom> element', { file, parser: 'cyclonedx' });
  const out = elementToJson('bom', bom) as Record<string, unknown>;
  const result: Record<string, unknown> = { bomFormat: '', specVersion: 'SpecVersion(0)' };
  for (const [k, v] of Object.entries(out)) {
    // only what the BOM type holds: other attributes of <bom> (namespace declarations such as
    // xmlns:xsd, xsi:schemaLocation) are not fields of the decoded document
    if (!BOM_FIELDS.has(k)) continue;
    setOwn(result, k, k === 'version' ? xmlVersion(v, file) : v);
  }
  if (result.version === undefined) result.version = 0;
  return result;
}

function parse(content: string, file: string): unknown {
  const t = content.trimStart();
  if (t.startsWith('<')) return parseXmlBom(content, file);
  let doc: unknown;
  try {
    doc = JSON.parse(content);
  } catch (e) {
    const pe = jsonError(e, content, file, 'cyclonedx');
    throw new ParseError(`decode CycloneDX BOM: ${pe.reason}`, { file, parser: 'cyclonedx', line: pe.line, column: pe.column });
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ParseError('decode CycloneDX BOM: json: cannot unmarshal into Go value of type cyclonedx.BOM', { file, parser: 'cyclonedx' });
  }
  for (const [k, want] of Object.entries(ARRAY_FIELDS)) {
    const v = (doc as Record<string, unknown>)[k];
    if (v === undefined || v === null) continue;
    const ok =
      want === 'array' ? Array.isArray(v) : want === 'object' ? typeof v === 'object' && !Array.isArray(v) : typeof v === want;
    if (!ok) {
      throw new ParseError(`decode CycloneDX BOM: json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v} into Go struct field BOM.${k}`, {
        file,
        parser: 'cyclonedx',
      });
    }
  }
  const huge = /\d{309}|[eE][+-]?\d{3}/.test(content) ? hugeNumber(content) : null;
  if (huge !== null) {
    // Go decodes the BOM first (version is an int there), then the whole document as JSON values.
    const version = (doc as Record<string, unknown>).version;
    if (typeof version === 'number' && !Number.isFinite(version)) {
      throw new ParseError(`decode CycloneDX BOM: json: cannot unmarshal number ${huge} into Go struct field BOM.version of type int`, { file, parser: 'cyclonedx' });
    }
    throw new ParseError(`unmarshaling JSON error: json: cannot unmarshal number ${huge} into Go value of type float64`, { file, parser: 'cyclonedx' });
  }
  return doc;
}

export const cyclonedxParser: InputParser = { name: 'cyclonedx', parse };

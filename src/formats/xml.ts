/**
 * XML (`.xml`), in the goxml2json shape conftest prints:
 * - an element with neither attributes nor child elements is its text (trimmed);
 * - otherwise an object: attributes as `-name`, child elements by local name
 *   (repeated names become arrays), text as `#content` when non-empty;
 * - names lose their namespace prefix (`xmlns:x="u"` is `-x`);
 * - every value is a string; the document itself is an object of its
 *   top-level elements ("" for a document without elements).
 * As in Go's decoder, an element's text is the last text run it holds.
 *
 * Malformed XML throws a ParseError (conftest silently yields "").
 */
import { ParseError, lineColAt, type InputParser } from './types.ts';
import { DEPTH_REASON, MAX_DEPTH, setOwn } from './limits.ts';

export interface XNode {
  attrs: [string, string][];
  children: Map<string, XNode[]>;
  data: string;
}

const NAME = /[A-Za-z_:\u00C0-\uFFFF][-A-Za-z0-9_:.\u00B7\u00C0-\uFFFF]*/y;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export class XmlError extends Error {
  constructor(message: string, public pos: number) {
    super(message);
  }
}

function local(name: string): string {
  const i = name.indexOf(':');
  return i >= 0 ? name.slice(i + 1) : name;
}

/** XML's Char production (Go's isInCharacterRange), surrogates allowed (Go reads them as U+FFFD). */
function xmlChar(c: number): boolean {
  return c === 0x09 || c === 0x0a || c === 0x0d || (c >= 0x20 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

function decodeEntities(s: string, pos: number): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(/&([^;&\s]*);?/g, (m, body: string, off: number) => {
    if (!m.endsWith(';')) throw new XmlError('invalid character entity ' + m + ' (no semicolon)', pos + off);
    if (body[0] === '#') {
      // decimal or hexadecimal digits only (no sign, no trailing letters), a code point Go's
      // reader accepts (XML's Char range; surrogates read as U+FFFD)
      const digits = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(body);
      const code = digits ? (digits[1] !== undefined ? parseInt(digits[1], 16) : parseInt(digits[2]!, 10)) : NaN;
      if (!Number.isFinite(code) || code > 0x10ffff || !xmlChar(code)) throw new XmlError(`invalid character entity ${m}`, pos + off);
      return code >= 0xd800 && code <= 0xdfff ? '\ufffd' : String.fromCodePoint(code);
    }
    const v = ENTITIES[body];
    if (v === undefined) throw new XmlError(`invalid character entity ${m}`, pos + off);
    return v;
  });
}

export function parseXml(src: string): XNode {
  const root: XNode = { attrs: [], children: new Map(), data: '' };
  const stack: { name: string; node: XNode; pos: number }[] = [];
  let cur = root;
  let i = 0;
  const n = src.length;
  const setText = (raw: string, pos: number, decode: boolean) => {
    const t = decode ? decodeEntities(raw, pos) : raw;
    cur.data = t.trim();
  };
  while (i < n) {
    const lt = src.indexOf('<', i);
    if (lt < 0) {
      if (i < n) setText(src.slice(i), i, true);
      break;
    }
    if (lt > i) setText(src.slice(i, lt), i, true);
    if (src.startsWith('<!--', lt)) {
      const end = src.indexOf('-->', lt + 4);
      if (end < 0) throw new XmlError('unexpected EOF in comment', lt);
      i = end + 3;
    } else if (src.startsWith('<![CDATA[', lt)) {
      const end = src.indexOf(']]>', lt + 9);
      if (end < 0) throw new XmlError('unexpected EOF in CDATA section', lt);
      setText(src.slice(lt + 9, end), lt, false);
      i = end + 3;
    } else if (src.startsWith('<?', lt)) {
      const end = src.indexOf('?>', lt + 2);
      if (end < 0) throw new XmlError('unexpected EOF in processing instruction', lt);
      i = end + 2;
    } else if (src.startsWith('<!', lt)) {
      // DOCTYPE and other directives (may nest [ ... ])
      let depth = 0;
      let j = lt + 2;
      for (; j < n; j++) {
        const c = src[j];
        if (c === '[') depth++;
        else if (c === ']') depth--;
        else if (c === '>' && depth <= 0) break;
      }
      if (j >= n) throw new XmlError('unexpected EOF in directive', lt);
      i = j + 1;
    } else if (src[lt + 1] === '/') {
      NAME.lastIndex = lt + 2;
      const m = NAME.exec(src);
      if (!m) throw new XmlError('expected element name after </', lt);
      let j = lt + 2 + m[0].length;
      while (j < n && /\s/.test(src[j]!)) j++;
      if (src[j] !== '>') throw new XmlError(`invalid characters between </${m[0]} and >`, j);
      const top = stack.pop();
      if (!top) throw new XmlError(`unexpected end element </${m[0]}>`, lt);
      if (top.name !== m[0]) throw new XmlError(`element <${top.name}> closed by </${m[0]}>`, lt);
      cur = stack.length ? stack[stack.length - 1]!.node : root;
      i = j + 1;
    } else {
      NAME.lastIndex = lt + 1;
      const m = NAME.exec(src);
      if (!m) throw new XmlError('expected element name after <', lt);
      const name = m[0];
      let j = lt + 1 + name.length;
      const node: XNode = { attrs: [], children: new Map(), data: '' };
      let selfClose = false;
      for (;;) {
        while (j < n && /\s/.test(src[j]!)) j++;
        if (j >= n) throw new XmlError('unexpected EOF', j);
        if (src[j] === '>') {
          j++;
          break;
        }
        if (src[j] === '/' && src[j + 1] === '>') {
          selfClose = true;
          j += 2;
          break;
        }
        NAME.lastIndex = j;
        const a = NAME.exec(src);
        if (!a) throw new XmlError(`invalid attribute name in element <${name}>`, j);
        j += a[0].length;
        while (j < n && /\s/.test(src[j]!)) j++;
        if (src[j] !== '=') throw new XmlError(`attribute name without = in element <${name}>`, j);
        j++;
        while (j < n && /\s/.test(src[j]!)) j++;
        const q = src[j];
        if (q !== '"' && q !== "'") throw new XmlError(`unquoted or missing attribute value in element <${name}>`, j);
        const end = src.indexOf(q, j + 1);
        if (end < 0) throw new XmlError('unexpected EOF', j);
        const raw = src.slice(j + 1, end);
        if (raw.indexOf('<') >= 0) throw new XmlError(`unescaped < inside quoted string`, j);
        node.attrs.push([local(a[0]), decodeEntities(raw, j + 1)]);
        j = end + 1;
      }
      const key = local(name);
      const list = cur.children.get(key);
      if (list) list.push(node);
      else cur.children.set(key, [node]);
      if (!selfClose) {
        if (stack.length >= MAX_DEPTH) throw new XmlError(DEPTH_REASON, lt);
        stack.push({ name, node, pos: lt });
        cur = node;
      }
      i = j;
    }
  }
  if (stack.length) throw new XmlError(`unexpected EOF: element <${stack[stack.length - 1]!.name}> is not closed`, n);
  return root;
}

/**
 * An element in the goxml2json shape. Without recursion: every node is
 * listed parents first, then built children first.
 */
export function xmlToJson(root: XNode, element: (node: XNode, children: Map<string, unknown[]>) => unknown): unknown {
  const order: XNode[] = [root];
  for (let i = 0; i < order.length; i++) for (const list of order[i]!.children.values()) order.push(...list);
  const value = new Map<XNode, unknown>();
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i]!;
    const kids = new Map<string, unknown[]>();
    for (const [k, list] of node.children) kids.set(k, list.map((c) => value.get(c)));
    value.set(node, element(node, kids));
  }
  return value.get(root);
}

function toJson(root: XNode): unknown {
  return xmlToJson(root, (node, kids) => {
    if (node.attrs.length === 0 && node.children.size === 0) return node.data;
    const out: Record<string, unknown> = {};
    for (const [k, v] of node.attrs) setOwn(out, '-' + k, v);
    for (const [k, list] of kids) setOwn(out, k, list.length === 1 ? list[0] : list);
    if (node.data !== '') out['#content'] = node.data;
    return out;
  });
}

function parse(content: string, file: string): unknown {
  try {
    return toJson(parseXml(content));
  } catch (e) {
    if (e instanceof XmlError) {
      const { line, column } = lineColAt(content, e.pos);
      throw new ParseError(e.message, { file, parser: 'xml', line, column });
    }
    throw e;
  }
}

export const xmlParser: InputParser = { name: 'xml', parse };

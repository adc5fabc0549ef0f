import { isMap, isScalar, isSeq, type Document, type Node } from 'yaml';

export interface PathIssue {
  path: (string | number)[];
  message: string;
}

export type Interpolated = { ok: true; value: string } | { ok: false; message: string };

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/**
 * Replaces `${NAME}` and `${NAME:-default}` with environment values; `$${` is a literal `${`.
 * As in the shell, `:-` also applies when the variable is set but empty. References do not
 * nest. Messages name variables, never their values, which may be secrets.
 */
export function interpolate(text: string, env: NodeJS.ProcessEnv): Interpolated {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar === -1) break;
    out += text.slice(i, dollar);
    if (text.startsWith('$${', dollar)) {
      out += '${';
      i = dollar + 3;
    } else if (text.startsWith('${', dollar)) {
      const close = text.indexOf('}', dollar + 2);
      if (close === -1) return { ok: false, message: "has a '${' without a closing '}' (write $${ for a literal '${')" };
      const match = REFERENCE.exec(text.slice(dollar + 2, close));
      if (!match?.[1]) return { ok: false, message: "has a malformed reference: use ${NAME} or ${NAME:-default} with NAME made of letters, digits and '_'" };
      const [, name, fallback] = match;
      const value = env[name];
      if (fallback !== undefined && (value === undefined || value === '')) out += fallback;
      else if (value !== undefined) out += value;
      else return { ok: false, message: `uses environment variable ${name}, which is not set; set it or give a default with \${${name}:-value}` };
      i = close + 1;
    } else {
      out += '$';
      i = dollar + 1;
    }
  }
  return { ok: true, value: out + text.slice(i) };
}

// YAML 1.2 core schema spellings of numbers and booleans.
const CORE_NUMBER = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const CORE_TRUE = /^(?:true|True|TRUE)$/;
const CORE_FALSE = /^(?:false|False|FALSE)$/;

/**
 * An unquoted scalar is typed after substitution, so `max_batch: ${BATCH:-2048}` is a number
 * as it would be if written out; quoting keeps the result a string.
 */
function typed(text: string): string | number | boolean {
  if (CORE_NUMBER.test(text)) return Number(text);
  if (CORE_TRUE.test(text)) return true;
  if (CORE_FALSE.test(text)) return false;
  return text;
}

/** Interpolates every string value in the document in place. Keys are left as written. */
export function interpolateDocument(doc: Document, env: NodeJS.ProcessEnv): PathIssue[] {
  const issues: PathIssue[] = [];
  const visit = (node: unknown, path: (string | number)[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) visit(pair.value, [...path, keyName(pair.key)]);
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => visit(item, [...path, index]));
    } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('$')) {
      const result = interpolate(node.value, env);
      if (!result.ok) issues.push({ path, message: result.message });
      else if (result.value !== node.value) node.value = node.type === 'PLAIN' ? typed(result.value) : result.value;
    }
  };
  visit(doc.contents, []);
  return issues;
}

export function keyName(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key as Node | null);
}

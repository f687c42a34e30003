import { TextDecoder } from 'node:util';

// Just enough MIME (RFC 2045/2046) to turn a raw e-mail into readable body text: header stripping, multipart
// walking, quoted-printable and base64 transfer encodings, and charsets. Attachments that are not text are dropped.

const decoders = new Map<string, TextDecoder>();

/** A non-fatal decoder for a MIME charset label; unknown labels fall back to windows-1252 (a superset of latin1). */
export function decoderFor(charset: string | undefined): TextDecoder {
  const label = (charset ?? 'utf-8').trim().toLowerCase() || 'utf-8';
  let d = decoders.get(label);
  if (d === undefined) {
    try {
      d = new TextDecoder(label);
    } catch {
      d = new TextDecoder('windows-1252');
    }
    decoders.set(label, d);
  }
  return d;
}

/** Split a message or part at its first blank line. A part without headers is all body. */
export function splitHeaders(message: string): { headers: string; body: string } {
  const first = /^\r?\n/.exec(message);
  if (first !== null) return { headers: '', body: message.slice(first[0].length) };
  const m = /\r?\n\r?\n/.exec(message);
  if (m === null) {
    return /^[!-9;-~]+:/.test(message) ? { headers: message, body: '' } : { headers: '', body: message };
  }
  return { headers: message.slice(0, m.index), body: message.slice(m.index + m[0].length) };
}

/** The value of the first header called `name` (case-insensitive), with folded lines joined. */
export function headerValue(headers: string, name: string): string | undefined {
  const unfolded = headers.replace(/\r?\n[ \t]+/g, ' ');
  const re = new RegExp(`^${name}[ \\t]*:[ \\t]*(.*)$`, 'im');
  const m = re.exec(unfolded);
  return m === null ? undefined : (m[1] as string).trim();
}

function headerParam(value: string, param: string): string | undefined {
  const re = new RegExp(`;\\s*${param}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i');
  const m = re.exec(value);
  return m === null ? undefined : (m[1] ?? m[2]);
}

function decodeQuotedPrintable(body: string, charset: string | undefined): string {
  const d = decoderFor(charset);
  return body
    .replace(/=\r?\n/g, '')
    .replace(/(?:=[0-9A-Fa-f]{2})+/g, (run) => {
      const bytes = new Uint8Array(run.length / 3);
      for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(run.slice(i * 3 + 1, i * 3 + 3), 16);
      return d.decode(bytes);
    });
}

function decodeBase64(body: string, charset: string | undefined): string {
  return decoderFor(charset).decode(Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'));
}

function multipartParts(body: string, boundary: string): string[] {
  const open = `--${boundary}`;
  const close = `--${boundary}--`;
  const parts: string[] = [];
  let current: string[] | null = null;
  for (const line of body.split(/\r?\n/)) {
    const trimmed = line.trimEnd();
    if (trimmed === close) {
      if (current !== null) parts.push(current.join('\n'));
      current = null;
      break;
    }
    if (trimmed === open) {
      if (current !== null) parts.push(current.join('\n'));
      current = [];
    } else if (current !== null) {
      current.push(line);
    }
  }
  if (current !== null) parts.push(current.join('\n'));
  return parts;
}

function decodeEntity(headers: string, body: string, depth: number): string {
  const contentType = headerValue(headers, 'content-type') ?? 'text/plain';
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (depth < 8 && type.startsWith('multipart/')) {
    const boundary = headerParam(contentType, 'boundary');
    if (boundary !== undefined && boundary !== '') {
      const texts: string[] = [];
      for (const part of multipartParts(body, boundary)) {
        const p = splitHeaders(part);
        const t = decodeEntity(p.headers, p.body, depth + 1);
        if (t.trim() !== '') texts.push(t);
      }
      if (texts.length > 0) return texts.join('\n');
    }
    return body;
  }
  if (depth < 8 && type === 'message/rfc822') return emailBody(body, depth + 1);
  // Non-text attachments (images, archives) carry no words; the top level is kept whatever it claims to be.
  if (depth > 0 && type !== '' && !type.startsWith('text/')) return '';
  const charset = headerParam(contentType, 'charset');
  const encoding = (headerValue(headers, 'content-transfer-encoding') ?? '').toLowerCase();
  try {
    if (encoding === 'quoted-printable') return decodeQuotedPrintable(body, charset);
    if (encoding === 'base64') return decodeBase64(body, charset);
  } catch {
    return body;
  }
  return body;
}

/** The readable body of a raw e-mail: headers up to the first blank line removed, MIME parts decoded. */
export function emailBody(message: string, depth = 0): string {
  const { headers, body } = splitHeaders(message);
  const text = decodeEntity(headers, body, depth);
  const result = text.trim() === '' ? body : text;
  // Some mails (bounces, spam relayed by hand) carry a whole second message, headers first, as their body.
  if (depth < 8 && /^(From \S+ |(Return-Path|Received|Delivered-To)[ \t]*:)/.test(result)) return emailBody(result, depth + 1);
  return result;
}

// "Send as the route's mailbox": Microsoft 365 refuses mail whose From is not the signed-in
// mailbox (or one it may send as). The From header becomes the mailbox and the original From
// moves to Reply-To (unless the message has one), so replies still reach the sender. Only the
// header block changes; the body is passed on byte for byte.

/** The header block's end (the empty line) or -1. */
function headerEnd(message: Buffer): number {
  const crlf = message.indexOf('\r\n\r\n');
  return crlf < 0 ? -1 : crlf + 2;
}

export function rewriteFromToMailbox(message: Buffer, mailbox: string): Buffer {
  const end = headerEnd(message);
  if (end < 0) return message;
  const lines = message.subarray(0, end).toString('latin1').split('\r\n').filter((l, i, all) => i < all.length - 1 || l !== '');
  const kept: string[] = [];
  let originalFrom: string | null = null;
  let hasReplyTo = false;
  let skipping = false;
  for (const line of lines) {
    const continuation = /^[ \t]/.test(line);
    if (continuation) {
      if (skipping) originalFrom = `${originalFrom ?? ''}\r\n${line}`;
      else kept.push(line);
      continue;
    }
    skipping = /^from\s*:/i.test(line);
    if (skipping) {
      originalFrom = line.slice(line.indexOf(':') + 1).trim();
      continue;
    }
    if (/^reply-to\s*:/i.test(line)) hasReplyTo = true;
    kept.push(line);
  }
  const added = [`From: <${mailbox}>`, ...(originalFrom && !hasReplyTo ? [`Reply-To: ${originalFrom}`] : [])];
  return Buffer.concat([Buffer.from([...kept, ...added, ''].join('\r\n'), 'latin1'), message.subarray(end)]);
}

// CRAM-MD5 from stored HMAC-MD5 contexts: the MD5 continuation equals Node's MD5, and the digest
// from the contexts equals the HMAC-MD5 a client computes from the password (RFC 2195's example too).
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cramMd5Contexts, cramMd5Digest, isCramMd5Contexts, MD5_INITIAL_STATE, md5Continue, verifyCramMd5 } from '../../server/auth/cram-md5';

describe('CRAM-MD5 contexts', () => {
  it('continues MD5 exactly as Node computes it, at every padding boundary', () => {
    for (const length of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 1000]) {
      const data = crypto.randomBytes(length);
      expect(md5Continue(MD5_INITIAL_STATE, data, 0).toString('hex')).toBe(crypto.createHash('md5').update(data).digest('hex'));
    }
  });

  it('answers challenges like HMAC-MD5 of the password, for short, long (> 64 bytes) and non-ASCII passwords', () => {
    for (const password of ['tanstaaftanstaaf', 'p'.repeat(100), 'ünïcode passphrase']) {
      const contexts = cramMd5Contexts(password);
      expect(isCramMd5Contexts(contexts)).toBe(true);
      expect(contexts).not.toContain(password);
      for (const challenge of ['<1896.697170952@postoffice.reston.mci.net>', `<${crypto.randomBytes(16).toString('hex')}@relay>`]) {
        expect(cramMd5Digest(contexts, challenge)).toBe(crypto.createHmac('md5', password).update(challenge).digest('hex'));
      }
    }
  });

  it('verifies RFC 2195 section 2 example and refuses a wrong digest', () => {
    const contexts = cramMd5Contexts('tanstaaftanstaaf');
    const challenge = '<1896.697170952@postoffice.reston.mci.net>';
    expect(verifyCramMd5(contexts, challenge, 'b913a602c7eda7a495b4e6e7334d3890')).toBe(true);
    expect(verifyCramMd5(contexts, challenge, 'B913A602C7EDA7A495B4E6E7334D3890')).toBe(true);
    expect(verifyCramMd5(contexts, challenge, 'b913a602c7eda7a495b4e6e7334d3891')).toBe(false);
    expect(verifyCramMd5(contexts, challenge, '')).toBe(false);
  });
});

// `relaydesk cert ...`: the Certificates page from the command line (self-signed, CSR and the
// CA's answer, PEM or PFX import and export, assignment to a server, with SNI).
import fs from 'node:fs';
import { type CertificateService, parseKeySpec } from '../tls/certificate-service';

type CertificateDetails = Awaited<ReturnType<CertificateService['show']>>;
import { type CliContext, type CommandGroup, need, UsageError } from './shared';

export const CERT_COMMANDS: CommandGroup = {
  names: ['cert'],
  usage: `  cert create NAME --cn FQDN [--san NAME]... [--type rsa2048|rsa3072|rsa4096|p256|p384] [--days N] [--assign SERVER]
  cert request NAME --cn FQDN [--san NAME]... [--type TYPE] [--out FILE]   new key + CSR for a CA
  cert requests | cert cancel NAME                   pending requests
  cert complete NAME --cert FILE [--assign SERVER]   the CA's answer (PEM chain or PKCS#7)
  cert import NAME (--key FILE --cert FILE | --pfx FILE --password-stdin) [--assign SERVER] [--allow-expired]
  cert export NAME [--chain | --full | --private-key | --pfx FILE --password-stdin]
  cert assign NAME SERVER [--sni]                    the server's certificate, or (--sni) one more chosen by name
  cert list | cert show NAME | cert remove NAME`,
  options: {
    cn: { type: 'string' }, san: { type: 'string', multiple: true }, type: { type: 'string' }, days: { type: 'string' }, assign: { type: 'string' },
    out: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' }, pfx: { type: 'string' }, 'password-stdin': { type: 'boolean' },
    'allow-expired': { type: 'boolean' }, chain: { type: 'boolean' }, full: { type: 'boolean' }, 'private-key': { type: 'boolean' }, sni: { type: 'boolean' },
  },
  run: (_command, context) => certCommand(context),
};

async function certCommand(context: CliContext): Promise<number> {
  const { rest, values, io } = context;
  const sub = context.sub ?? '';
  const admin = context.admin();
  const { certificates } = admin.app;
  const assign = typeof values.assign === 'string' ? values.assign : undefined;
  const allowExpired = Boolean(values['allow-expired']);
  const spec = () => {
    if (typeof values.cn !== 'string') throw new UsageError(`cert ${sub} needs --cn, the server's FQDN`);
    return { commonName: values.cn, altNames: Array.isArray(values.san) ? values.san : [], key: parseKeySpec(typeof values.type === 'string' ? values.type : undefined) };
  };
  const describe = (c: CertificateDetails) => [
    `${c.name}: ${c.subject}`,
    `  names: ${c.altNames.join(', ') || '-'}`,
    `  issuer: ${c.selfSigned ? 'self-signed' : c.issuer}`,
    `  serial: ${c.serialNumber}`,
    `  valid: ${c.notBefore} to ${c.notAfter} (${c.daysLeft < 0 ? `expired ${-c.daysLeft} day(s) ago` : `${c.daysLeft} day(s) left`})`,
    `  key: ${c.keyType}`,
    `  SHA-256: ${c.fingerprintSha256}`,
    `  chain: ${c.chainLength} certificate(s), ${c.chain.ordered ? 'in order' : 'out of order'}, ${c.chain.complete ? 'complete to its root' : 'root not included'}${c.chain.coversFqdn === null ? '' : `, ${c.chain.coversFqdn ? 'covers' : 'does NOT cover'} the server's FQDN`}`,
    ...c.chain.problems.map((p) => `  note: ${p}`),
    `  used by: ${c.assignedTo.join(', ') || '-'}`,
  ].join('\n');
  const name = () => need(rest[0], 'a certificate name');
  switch (sub) {
    case 'create': {
      const days = typeof values.days === 'string' ? Number(values.days) : undefined;
      if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 3650)) throw new UsageError('--days takes 1 to 3650');
      io.out(describe(await certificates.create(name(), { ...spec(), ...(days ? { days } : {}) }, assign)));
      return 0;
    }
    case 'request': {
      const csr = await certificates.request(name(), spec());
      if (typeof values.out === 'string') {
        fs.writeFileSync(values.out, csr);
        io.out(`relaydesk: request ${rest[0]} saved to ${values.out}; send it to your CA, then: relaydesk cert complete ${rest[0]} --cert ANSWER`);
      } else io.out(csr.trimEnd());
      return 0;
    }
    case 'requests': {
      const pending = await admin.call('certificates.requests', {});
      if (pending.length === 0) io.out('No pending certificate requests.');
      for (const r of pending) io.out(`${r.name}\t${r.commonName}${r.altNames.length ? ` (${r.altNames.join(', ')})` : ''}\t${r.keySpec}\tsince ${r.createdAt}`);
      return 0;
    }
    case 'cancel':
      await admin.call('certificates.cancelRequest', { name: name() });
      io.out(`relaydesk: request ${rest[0]} cancelled (its key is deleted)`);
      return 0;
    case 'complete': {
      if (typeof values.cert !== 'string') throw new UsageError('cert complete needs --cert FILE (the CA\'s answer: PEM certificate, PEM chain or PKCS#7)');
      io.out(describe(await certificates.complete(name(), fs.readFileSync(values.cert), { assignTo: assign, allowExpired })));
      return 0;
    }
    case 'import': {
      let details;
      if (typeof values.pfx === 'string') {
        if (!values['password-stdin']) throw new UsageError('cert import --pfx reads the PFX password from standard input: add --password-stdin');
        details = await certificates.importPfx(name(), fs.readFileSync(values.pfx), await context.secretFromStdin(), { assignTo: assign, allowExpired });
      } else {
        if (typeof values.key !== 'string' || typeof values.cert !== 'string') throw new UsageError('cert import needs --key FILE and --cert FILE (PEM), or --pfx FILE --password-stdin');
        details = await certificates.importPem(name(), fs.readFileSync(values.key, 'utf8'), fs.readFileSync(values.cert, 'utf8'), { assignTo: assign, allowExpired });
      }
      io.out(describe(details));
      return 0;
    }
    case 'export': {
      if (typeof values.pfx === 'string') {
        if (!values['password-stdin']) throw new UsageError('cert export --pfx reads the password for the file from standard input: add --password-stdin');
        fs.writeFileSync(values.pfx, await certificates.exportPfx(name(), await context.secretFromStdin()), { mode: 0o600 });
        io.out(`relaydesk: ${rest[0]} exported with its private key to ${values.pfx}`);
      } else if (values['private-key']) {
        io.out(certificates.exportKeyPem(name()).trimEnd());
      } else {
        io.out(certificates.exportPem(name(), values.chain ? 'chain' : values.full ? 'full' : 'certificate').trimEnd());
      }
      return 0;
    }
    case 'assign': {
      const server = need(rest[1], 'a virtual server name');
      const details = await certificates.show(name());
      if (values.sni) {
        const current = await admin.call('servers.get', { name: server });
        await admin.call('servers.update', { name: current.name, patch: { access: { ...current.access, sniCertificates: [...new Set([...current.access.sniCertificates, details.name])] } } });
        io.out(`relaydesk: ${details.name} added to ${server} for clients asking for ${details.altNames.filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4)).join(', ')} (SNI)`);
      } else {
        await admin.call('servers.update', { name: server, patch: { certificate: details.name } });
        io.out(`relaydesk: ${details.name} assigned to ${server} (a running server uses it for new connections within a second)`);
      }
      return 0;
    }
    case 'list': {
      const list = await certificates.list();
      if (list.length === 0) io.out('No certificates.');
      for (const c of list) {
        const warn = c.daysLeft < 0 ? '  EXPIRED' : c.daysLeft <= 7 ? '  EXPIRES WITHIN 7 DAYS' : c.daysLeft <= 30 ? '  expires within 30 days' : '';
        io.out(`${c.name}\t${c.subject}\t${c.keyType}\tvalid until ${c.notAfter} (${c.daysLeft} days)\t${c.assignedTo.join(', ') || '-'}${warn}`);
      }
      return 0;
    }
    case 'show':
      io.out(describe(await certificates.show(name())));
      return 0;
    case 'remove':
      await admin.call('certificates.remove', { name: name() });
      io.out(`relaydesk: certificate ${rest[0]} removed`);
      return 0;
    default:
      throw new UsageError(`unknown command "cert ${sub}"`);
  }
}

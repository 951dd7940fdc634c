// Why a listener could not bind, in the admin's words: the SMTP servers' status and serve's console.

/** A listen() failure in the admin's words (the SMTP servers and the console). */
export function describeBindError(err: NodeJS.ErrnoException, port: number): string {
  switch (err.code) {
    case 'EADDRINUSE': return `port ${port} is already in use by another program`;
    case 'EACCES': return port < 1024
      ? `port ${port} needs privileges (Linux: setcap cap_net_bind_service, or use a port above 1023)`
      : `permission denied for port ${port}`;
    case 'EADDRNOTAVAIL': return 'the address does not belong to this machine';
    default: return err.message;
  }
}

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

/** retryable: the cause can go away by itself (a port held by a program that is exiting, an address the network brings up after boot). */
export interface BindFailure { address: string; port: number; message: string; retryable: boolean }

/** A listen() failure as the engine reports and retries it. */
export function bindFailureOf(err: NodeJS.ErrnoException, address: string, port: number): BindFailure {
  return { address, port, message: describeBindError(err, port), retryable: err.code === 'EADDRINUSE' || err.code === 'EADDRNOTAVAIL' };
}

// `relaydesk queue ...`: the Queues page from the command line, through the AdminApi.
import { QUEUE_STATUSES } from '../contract/admin-api';
import { type CommandGroup, integerOption, need, stringOption, UsageError } from './shared';

const STATES = ['queued', 'done', 'frozen'] as const;

export const QUEUE_COMMANDS: CommandGroup = {
  names: ['queue'],
  usage: `  queue list [--state queued|done|frozen] [--status ${QUEUE_STATUSES.join('|')}] [--destination DOMAIN|local|remote]
             [--limit N] [--after CURSOR | --offset POSITION]
                                           oldest first, N (200) at a time; the next page's CURSOR is printed;
                                           --offset starts at that position (0 is the oldest)
  queue show ID | queue retry ID | queue freeze ID | queue thaw ID
  queue delete ID [--ndr]                  remove a message (--ndr: tell the sender)`,
  options: { state: { type: 'string' }, status: { type: 'string' }, destination: { type: 'string' }, ndr: { type: 'boolean' }, limit: { type: 'string' }, after: { type: 'string' }, offset: { type: 'string' } },
  async run(_command, context) {
    const { sub, rest, io, values } = context;
    const admin = context.admin();
    const id = () => need(rest[0], 'a queue id');
    switch (sub) {
      case 'list': {
        const state = stringOption(values, 'state');
        if (state !== undefined && !(STATES as readonly string[]).includes(state)) throw new UsageError('--state takes queued, done or frozen');
        const status = stringOption(values, 'status');
        if (status !== undefined && !(QUEUE_STATUSES as readonly string[]).includes(status)) throw new UsageError(`--status takes ${QUEUE_STATUSES.join(', ')}`);
        const destination = stringOption(values, 'destination');
        const limit = integerOption(values, 'limit', 1, 1000) ?? 200;
        const after = stringOption(values, 'after');
        const offset = integerOption(values, 'offset', 0, 1_000_000_000);
        if (after !== undefined && offset !== undefined) throw new UsageError('give either --after or --offset, not both');
        const page = await admin.call('queue.list', {
          ...(state ? { state: state as (typeof STATES)[number] } : {}), ...(status ? { status: status as (typeof QUEUE_STATUSES)[number] } : {}), ...(destination ? { destination } : {}),
          limit, ...(after ? { after } : {}), ...(offset !== undefined ? { offset } : {}),
        });
        if (page.messages.length === 0) io.out(after || offset ? 'No more messages.' : 'The queue is empty.');
        for (const m of page.messages) {
          const rcpts = m.recipients.map((r) => `${r.address}=${r.state}`).join(' ');
          io.out(`${m.id}\t${m.status}\t${m.receivedAt}\t${m.size} bytes\tfrom <${m.from}>\t${rcpts}`);
        }
        const { queued, frozen, done } = page.counts;
        io.err(`relaydesk: in the queue: ${queued} queued, ${frozen} frozen, ${done} finished (history)${page.next ? `; more: relaydesk queue list --after "${page.next}"${limit === 200 ? '' : ` --limit ${limit}`}` : ''}`);
        return 0;
      }
      case 'show': {
        const m = await admin.call('queue.show', { id: id() });
        io.out([`${m.id} (${m.status}) on ${m.server}`, `  received ${m.receivedAt} from ${m.clientAddress}${m.authUser ? ` as ${m.authUser}` : ''}`,
          `  from <${m.from}>, ${m.size} bytes`,
          ...m.recipients.map((r) => `  to <${r.address}> ${r.route} ${r.state}, ${r.attempts} attempt(s)${m.nextAttempts[r.address] ? `, next ${m.nextAttempts[r.address]}` : ''}${r.lastReply ? `\n      last reply: ${r.lastReply}` : ''}${r.explanation ? `\n      why: ${r.explanation.problem}\n      fix: ${r.explanation.fix}` : ''}`),
          `  body: ${m.body === 'kept' ? 'a copy is kept' : m.body === 'removed' ? 'removed (delivered)' : 'in the spool'}`,
          '  headers:', ...m.headers.trimEnd().split(/\r?\n/).map((line) => `    ${line}`)].join('\n'));
        return 0;
      }
      case 'retry':
      case 'freeze':
      case 'thaw':
        await admin.call('queue.action', { id: id(), action: sub });
        io.out(`relaydesk: ${rest[0]} ${sub === 'retry' ? 'will be tried again now' : sub === 'freeze' ? 'frozen (no attempts until thawed)' : 'thawed'}`);
        return 0;
      case 'delete':
        await admin.call('queue.action', { id: id(), action: values.ndr ? 'delete-with-report' : 'delete' });
        io.out(`relaydesk: ${rest[0]} deleted${values.ndr ? ' (the sender was told)' : ''}`);
        return 0;
      default:
        throw new UsageError(`unknown command "queue ${sub ?? ''}"`);
    }
  },
};

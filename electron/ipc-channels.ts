// Channel names shared by the main process and the preload (no other code in common).
export const CALL_CHANNEL_PREFIX = 'relaydesk:call:';
export const EVENT_CHANNEL = 'relaydesk:event';

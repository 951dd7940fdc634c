// The virtual servers in the navigation, each with its state and a context menu:
// Start, Stop, Pause, Properties (as in Exchange System Manager).
import { Badge, Button, makeStyles, Menu, MenuItem, MenuList, MenuPopover, MenuTrigger, mergeClasses, tokens } from '@fluentui/react-components';
import { MoreHorizontalRegular, PauseRegular, PlayRegular, SettingsRegular, StopRegular } from '@fluentui/react-icons';
import { useState } from 'react';
import { navigate, type Route } from '../App';
import { serverState, setServerState, useServers } from '../api/servers';
import { ServerProperties } from '../sheets/ServerProperties';

const useStyles = makeStyles({
  item: { display: 'flex', alignItems: 'center', paddingLeft: tokens.spacingHorizontalL },
  name: { justifyContent: 'flex-start', flexGrow: 1, fontWeight: tokens.fontWeightRegular, minWidth: 0, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' },
  selected: { backgroundColor: tokens.colorNeutralBackground1Selected, fontWeight: tokens.fontWeightSemibold },
});

export const STATE_BADGE = {
  running: { color: 'success', label: 'Running' },
  paused: { color: 'warning', label: 'Paused' },
  stopped: { color: 'subtle', label: 'Stopped' },
  failed: { color: 'danger', label: 'Cannot listen' },
} as const;

export function ServerNav({ current }: { current: Route }) {
  const styles = useStyles();
  const { servers } = useServers();
  const [properties, setProperties] = useState<string | null>(null);
  return (
    <>
      {servers?.map((summary) => {
        const state = serverState(summary);
        const name = summary.config.name;
        const selected = current.page === 'server' && current.name === name;
        return (
          <div key={name} className={styles.item}>
            <Button appearance="subtle" size="small" className={mergeClasses(styles.name, selected && styles.selected)} aria-current={selected ? 'page' : undefined}
              onClick={() => navigate({ page: 'server', name })} title={name}>
              <Badge size="tiny" color={STATE_BADGE[state].color} aria-label={STATE_BADGE[state].label} style={{ marginRight: 8 }} />
              {name}
            </Button>
            <Menu>
              <MenuTrigger disableButtonEnhancement>
                <Button appearance="subtle" size="small" icon={<MoreHorizontalRegular />} aria-label={`Actions for ${name}`} />
              </MenuTrigger>
              <MenuPopover>
                <MenuList>
                  <MenuItem icon={<PlayRegular />} disabled={state === 'running'} onClick={() => void setServerState(name, 'started')}>Start</MenuItem>
                  <MenuItem icon={<StopRegular />} disabled={state === 'stopped'} onClick={() => void setServerState(name, 'stopped')}>Stop</MenuItem>
                  <MenuItem icon={<PauseRegular />} disabled={state !== 'running'} onClick={() => void setServerState(name, 'paused')}>Pause</MenuItem>
                  <MenuItem icon={<SettingsRegular />} onClick={() => setProperties(name)}>Properties</MenuItem>
                </MenuList>
              </MenuPopover>
            </Menu>
          </div>
        );
      })}
      {properties && <ServerProperties name={properties} onClose={() => setProperties(null)} />}
    </>
  );
}

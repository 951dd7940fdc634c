// The console shell: sign-in (web), left navigation like Exchange System Manager, the page, and a
// status bar. Pages are addressed by the URL hash (#/log, #/server/NAME) so links and reloads work.
import { Button, Caption1, Divider, makeStyles, mergeClasses, Text, tokens, Tooltip } from '@fluentui/react-components';
import {
  BeakerRegular, CertificateRegular, DocumentBulletListRegular, MailInboxRegular, PeopleRegular, PlugConnectedRegular,
  ServerRegular, SignOutRegular,
} from '@fluentui/react-icons';
import { type ReactElement, type ReactNode, useCallback, useEffect, useState } from 'react';
import { consoleSession, isDesktop, setCsrfToken, signOut } from './api/client';
import { SignInPage } from './pages/SignInPage';
import { ServersPage } from './pages/ServersPage';
import { ServerPage } from './pages/ServerPage';
import { UsersPage } from './pages/UsersPage';
import { CertificatesPage } from './pages/CertificatesPage';
import { QueuesPage } from './pages/QueuesPage';
import { LiveLogPage } from './log/LiveLogPage';
import { SessionsPage } from './pages/SessionsPage';
import { TestSettingsPage } from './test-settings/TestSettingsPage';
import { StatusBar } from './components/StatusBar';
import { ServerNav } from './components/ServerNav';
import { FirstRunGuide } from './components/FirstRunGuide';
import { SignInAlerts } from './components/SignInAlerts';

const useStyles = makeStyles({
  shell: { display: 'grid', gridTemplateColumns: '260px 1fr', gridTemplateRows: '48px 1fr 32px', height: '100vh', backgroundColor: tokens.colorNeutralBackground2 },
  top: { gridColumn: '1 / 3', display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalM, padding: `0 ${tokens.spacingHorizontalL}`, backgroundColor: tokens.colorBrandBackground, color: tokens.colorNeutralForegroundOnBrand },
  brand: { fontWeight: tokens.fontWeightSemibold, fontSize: tokens.fontSizeBase400, flexGrow: 1 },
  nav: { overflowY: 'auto', borderRight: `1px solid ${tokens.colorNeutralStroke2}`, backgroundColor: tokens.colorNeutralBackground1, padding: tokens.spacingVerticalS, display: 'flex', flexDirection: 'column', gap: '2px' },
  // A column, so a page that fills the window (the live log) can give its one scroll area the rest.
  main: { overflowY: 'auto', minWidth: 0, display: 'flex', flexDirection: 'column' },
  navItem: { justifyContent: 'flex-start', width: '100%', fontWeight: tokens.fontWeightRegular },
  navSelected: { backgroundColor: tokens.colorNeutralBackground1Selected, fontWeight: tokens.fontWeightSemibold },
  section: { padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalS} 2px`, color: tokens.colorNeutralForeground3 },
  status: { gridColumn: '1 / 3' },
  signOut: { color: tokens.colorNeutralForegroundOnBrand },
});

export type Route =
  | { page: 'servers' } | { page: 'server'; name: string } | { page: 'users' } | { page: 'certificates' }
  | { page: 'queues' } | { page: 'log' } | { page: 'sessions' } | { page: 'test' };

function parseRoute(hash: string): Route {
  const [, page, name] = /^#\/([a-z-]+)(?:\/(.+))?$/.exec(hash) ?? [];
  // Pages other than a server's may take a view in the rest of the hash (#/queues/failed): they read it themselves.
  switch (page) {
    case 'server': return name ? { page: 'server', name: decodeURIComponent(name) } : { page: 'servers' };
    case 'users': case 'certificates': case 'queues': case 'log': case 'sessions': case 'test': return { page };
    default: return { page: 'servers' };
  }
}

export function routeHref(route: Route): string {
  return route.page === 'server' ? `#/server/${encodeURIComponent(route.name)}` : `#/${route.page}`;
}

export function navigate(route: Route): void {
  window.location.hash = routeHref(route);
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const listener = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', listener);
    return () => window.removeEventListener('hashchange', listener);
  }, []);
  return route;
}

type Gate = { state: 'checking' } | { state: 'signed-out'; setupRequired: boolean } | { state: 'signed-in' };

export function App() {
  const [gate, setGate] = useState<Gate>(isDesktop() ? { state: 'signed-in' } : { state: 'checking' });
  const check = useCallback(() => {
    if (isDesktop()) return;
    consoleSession().then(
      (s) => {
        if (s.authenticated && s.csrf) {
          setCsrfToken(s.csrf);
          setGate({ state: 'signed-in' });
        } else setGate({ state: 'signed-out', setupRequired: s.setupRequired });
      },
      () => setGate({ state: 'signed-out', setupRequired: false }),
    );
  }, []);
  useEffect(check, [check]);

  if (gate.state === 'checking') return null;
  if (gate.state === 'signed-out') return <SignInPage setupRequired={gate.setupRequired} onSignedIn={() => setGate({ state: 'signed-in' })} />;
  return <Shell onSignOut={() => { void signOut().then(() => setGate({ state: 'signed-out', setupRequired: false })); }} />;
}

function NavButton({ route, current, icon, children }: { route: Route; current: Route; icon: ReactElement; children: ReactNode }) {
  const styles = useStyles();
  const selected = route.page === current.page && (route.page !== 'server' || (current.page === 'server' && current.name === route.name));
  return (
    <Button appearance="subtle" icon={icon} className={mergeClasses(styles.navItem, selected && styles.navSelected)} aria-current={selected ? 'page' : undefined} onClick={() => navigate(route)}>
      {children}
    </Button>
  );
}

function Shell({ onSignOut }: { onSignOut: () => void }) {
  const styles = useStyles();
  const route = useRoute();
  return (
    <div className={styles.shell}>
      <header className={styles.top}>
        <img src="./favicon.svg" alt="" width={24} height={24} />
        <Text className={styles.brand}>Relaydesk</Text>
        {!isDesktop() && (
          <Tooltip content="Sign out of the console" relationship="label">
            <Button appearance="transparent" className={styles.signOut} icon={<SignOutRegular />} onClick={onSignOut} />
          </Tooltip>
        )}
      </header>
      <nav className={styles.nav} aria-label="Relaydesk">
        <Caption1 className={styles.section}>SMTP</Caption1>
        <NavButton route={{ page: 'servers' }} current={route} icon={<ServerRegular />}>Virtual servers</NavButton>
        <ServerNav current={route} />
        <Divider style={{ flexGrow: 0, margin: '6px 0' }} />
        <NavButton route={{ page: 'users' }} current={route} icon={<PeopleRegular />}>Users</NavButton>
        <NavButton route={{ page: 'certificates' }} current={route} icon={<CertificateRegular />}>Certificates</NavButton>
        <NavButton route={{ page: 'queues' }} current={route} icon={<MailInboxRegular />}>Queues</NavButton>
        <Caption1 className={styles.section}>Monitoring</Caption1>
        <NavButton route={{ page: 'log' }} current={route} icon={<DocumentBulletListRegular />}>Live log</NavButton>
        <NavButton route={{ page: 'sessions' }} current={route} icon={<PlugConnectedRegular />}>Current sessions</NavButton>
        <NavButton route={{ page: 'test' }} current={route} icon={<BeakerRegular />}>Test settings</NavButton>
      </nav>
      <main className={styles.main}>
        <FirstRunGuide />
        <SignInAlerts />
        {route.page === 'servers' && <ServersPage />}
        {route.page === 'server' && <ServerPage name={route.name} />}
        {route.page === 'users' && <UsersPage />}
        {route.page === 'certificates' && <CertificatesPage />}
        {route.page === 'queues' && <QueuesPage />}
        {route.page === 'log' && <LiveLogPage />}
        {route.page === 'sessions' && <SessionsPage />}
        {route.page === 'test' && <TestSettingsPage />}
      </main>
      <div className={styles.status}><StatusBar /></div>
    </div>
  );
}

// Entry point of the console UI: theme following the system, then the sign-in gate and the shell.
import { FluentProvider, webDarkTheme, webLightTheme } from '@fluentui/react-components';
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';

function useSystemDark(): boolean {
  const query = window.matchMedia('(prefers-color-scheme: dark)');
  const [dark, setDark] = useState(query.matches);
  useEffect(() => {
    const listener = (e: MediaQueryListEvent) => setDark(e.matches);
    query.addEventListener('change', listener);
    return () => query.removeEventListener('change', listener);
  }, [query]);
  return dark;
}

function Root() {
  const dark = useSystemDark();
  return (
    <FluentProvider theme={dark ? webDarkTheme : webLightTheme} style={{ height: '100vh' }}>
      <App />
    </FluentProvider>
  );
}

const style = document.createElement('style');
document.head.append(style);
style.sheet?.insertRule('html, body { margin: 0; height: 100%; }');
// Host names, addresses and replies have no spaces: a table cell wraps them anywhere rather than
// letting them run into the next column; a status pill may wrap too.
style.sheet?.insertRule('main td, main th, main [role=cell] { overflow-wrap: anywhere; }');
style.sheet?.insertRule('main td .fui-Badge { white-space: normal; height: auto; max-width: 100%; }');
createRoot(document.getElementById('root') as HTMLElement).render(<StrictMode><Root /></StrictMode>);

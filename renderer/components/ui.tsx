// Small building blocks shared by the pages and sheets.
import {
  Button, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, makeStyles, MessageBar, MessageBarBody,
  MessageBarTitle, Spinner, Subtitle1, Text, tokens,
} from '@fluentui/react-components';
import { type ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import { FolderOpenRegular } from '@fluentui/react-icons';

export const useUiStyles = makeStyles({
  page: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM, padding: `${tokens.spacingVerticalL} ${tokens.spacingHorizontalXL}`, minWidth: 0 },
  header: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalM, flexWrap: 'wrap' },
  grow: { flexGrow: 1 },
  row: { display: 'flex', gap: tokens.spacingHorizontalM, alignItems: 'flex-end', flexWrap: 'wrap' },
  stack: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS, maxWidth: '560px', '& > button': { alignSelf: 'flex-start' } },
  muted: { color: tokens.colorNeutralForeground3 },
  mono: { fontFamily: tokens.fontFamilyMonospace, fontSize: tokens.fontSizeBase200, wordBreak: 'break-all' },
  tableWrap: { overflowX: 'auto', border: `1px solid ${tokens.colorNeutralStroke2}`, borderRadius: tokens.borderRadiusMedium, backgroundColor: tokens.colorNeutralBackground1 },
  pager: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalS, flexWrap: 'wrap', marginBottom: tokens.spacingVerticalS },
  card: { padding: tokens.spacingHorizontalL, border: `1px solid ${tokens.colorNeutralStroke2}`, borderRadius: tokens.borderRadiusLarge, backgroundColor: tokens.colorNeutralBackground1, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS, '& > button': { alignSelf: 'flex-start' } },
});

export function PageHeader({ title, description, children }: { title: string; description?: string; children?: ReactNode }) {
  const styles = useUiStyles();
  return (
    <div className={styles.header}>
      <div className={styles.grow}>
        <Subtitle1 as="h1" block>{title}</Subtitle1>
        {description && <Text className={styles.muted}>{description}</Text>}
      </div>
      {children}
    </div>
  );
}

export function ErrorBar({ error, title = 'Something went wrong' }: { error: string | null | undefined; title?: string }) {
  if (!error) return null;
  return (
    <MessageBar intent="error">
      <MessageBarBody><MessageBarTitle>{title}</MessageBarTitle>{error}</MessageBarBody>
    </MessageBar>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return <Spinner size="small" label={label} />;
}

/** A confirmation that says why it asks. */
/**
 * A dialog opened from another dialog dims what is behind it, like a standalone one (Fluent leaves
 * nested dialogs' backdrops transparent, so the outer dialog looked as live as the inner one).
 */
/** Read by screen readers, not shown: names a column of buttons ("Actions") without a visible header. */
export const VISUALLY_HIDDEN = { position: 'absolute', width: 1, height: 1, overflow: 'hidden', clip: 'rect(0 0 0 0)', whiteSpace: 'nowrap' } as const;

export const STACKED_BACKDROP = { appearance: 'dimmed' } as const;

export function ConfirmDialog(props: { open: boolean; title: string; children: ReactNode; confirmLabel: string; onConfirm: () => void; onCancel: () => void; danger?: boolean }) {
  return (
    <Dialog open={props.open} onOpenChange={(_e, data) => { if (!data.open) props.onCancel(); }}>
      <DialogSurface backdrop={STACKED_BACKDROP}>
        <DialogBody>
          <DialogTitle>{props.title}</DialogTitle>
          <DialogContent>{props.children}</DialogContent>
          <DialogActions>
            <Button appearance="secondary" onClick={props.onCancel}>Cancel</Button>
            <Button appearance="primary" onClick={props.onConfirm} style={props.danger ? { backgroundColor: tokens.colorPaletteRedBackground3 } : undefined}>{props.confirmLabel}</Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** Trigger a download of text the API returned (log exports). */
export function downloadText(filename: string, text: string, type = 'text/plain'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/**
 * State for which nested dialog is open that hands focus back to the control that opened it when
 * the dialog closes. A nested dialog that unmounts leaves focus on the page body (Fluent restores
 * focus only for a DialogTrigger), and then Escape no longer reaches the outer dialog.
 */
export function useNestedDialog<T extends string>(): [T | null, (next: T | null) => void] {
  const [open, setOpen] = useState<T | null>(null);
  const opener = useRef<HTMLElement | null>(null);
  const change = useCallback((next: T | null) => {
    if (next !== null && document.activeElement instanceof HTMLElement) opener.current = document.activeElement;
    setOpen(next);
  }, []);
  useEffect(() => {
    if (open !== null || !opener.current) return;
    const element = opener.current;
    opener.current = null;
    // After Fluent's own focus handling for the closing dialog has run.
    const frame = requestAnimationFrame(() => { if (element.isConnected) element.focus(); });
    return () => cancelAnimationFrame(frame);
  }, [open]);
  return [open, change];
}

/**
 * A file chooser in Fluent's look: a button that names the chosen file (the native input is kept
 * for the browser's file dialog and for assistive technology, but not shown).
 */
export function FileButton({ accept, label, onFile }: { accept: string; label: string; onFile(file: File): void }) {
  const input = useRef<HTMLInputElement>(null);
  const [chosen, setChosen] = useState<string | null>(null);
  return (
    <span>
      <input ref={input} type="file" accept={accept} aria-label={label} tabIndex={-1}
        style={{ position: 'absolute', width: 1, height: 1, overflow: 'hidden', clip: 'rect(0 0 0 0)' }}
        onChange={(e) => { const file = e.target.files?.[0]; if (file) { setChosen(file.name); onFile(file); } }} />
      <Button icon={<FolderOpenRegular />} onClick={() => input.current?.click()}>{chosen ? `${chosen} (change…)` : `${label}…`}</Button>
    </span>
  );
}

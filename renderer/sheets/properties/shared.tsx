// What the Properties tabs and dialogs share: styles, number fields, the OK/Cancel sub-dialog.
import {
  Button, Checkbox, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, Field, Input, makeStyles, tokens,
} from '@fluentui/react-components';
import { type ReactNode } from 'react';
import { STACKED_BACKDROP } from '../../components/ui';

export const usePropertyStyles = makeStyles({
  surface: { width: 'min(720px, 96vw)', maxWidth: '96vw' },
  body: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM, minHeight: '440px' },
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  row: { display: 'flex', gap: tokens.spacingHorizontalM, alignItems: 'flex-end', flexWrap: 'wrap' },
  group: { border: `1px solid ${tokens.colorNeutralStroke2}`, borderRadius: tokens.borderRadiusMedium, padding: tokens.spacingHorizontalM, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS },
  groupTitle: { fontWeight: tokens.fontWeightSemibold },
  accessRow: { display: 'flex', alignItems: 'center', gap: tokens.spacingHorizontalM, justifyContent: 'space-between' },
  indent: { marginLeft: tokens.spacingHorizontalXXL },
  muted: { color: tokens.colorNeutralForeground3 },
});

export const KB = 1024;

export function numberOrNull(text: string): number | null {
  return text.trim() === '' ? null : Number(text);
}

export type FieldError = (...fields: string[]) => string | undefined;

export function SubDialog({ title, children, onOk, onCancel }: { title: string; children: ReactNode; onOk(): void; onCancel(): void }) {
  const styles = usePropertyStyles();
  return (
    <Dialog open onOpenChange={(_e, d) => { if (!d.open) onCancel(); }}>
      <DialogSurface backdrop={STACKED_BACKDROP}>
        <DialogBody>
          <DialogTitle>{title}</DialogTitle>
          <DialogContent className={styles.form}>{children}</DialogContent>
          <DialogActions>
            <Button onClick={onCancel}>Cancel</Button>
            <Button appearance="primary" onClick={onOk}>OK</Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}

export function LimitRow({ label, value, unit, onChange, defaultValue, error }: { label: string; value: number | null; unit?: 'KB'; onChange(v: number | null): void; defaultValue: number; error?: string }) {
  const styles = usePropertyStyles();
  const shown = value === null ? '' : unit === 'KB' ? String(Math.round(value / KB)) : String(value);
  return (
    <div className={styles.row}>
      <Checkbox label={label} checked={value !== null} onChange={(_e, d) => onChange(d.checked ? defaultValue : null)} style={{ minWidth: 330 }} />
      {value !== null && (
        <Field validationMessage={error}>
          <Input type="number" aria-label={label} value={shown} contentAfter={unit} style={{ width: 150 }}
            onChange={(_e, d) => onChange(d.value === '' ? 0 : unit === 'KB' ? Number(d.value) * KB : Number(d.value))} />
        </Field>
      )}
    </div>
  );
}

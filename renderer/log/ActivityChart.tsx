// Sessions and refusals per minute for the last hour, as bars: a glance beats a table.
import { makeStyles, Text, tokens } from '@fluentui/react-components';
import type { Counters } from '../../server/contract/admin-api';

const useStyles = makeStyles({
  wrap: { display: 'flex', flexDirection: 'column', gap: '4px' },
  legend: { display: 'flex', gap: tokens.spacingHorizontalL, fontSize: tokens.fontSizeBase200 },
  swatch: { display: 'inline-block', width: '10px', height: '10px', borderRadius: '2px', marginRight: '4px' },
});

export function ActivityChart({ perMinute }: { perMinute: Counters['perMinute'] }) {
  const styles = useStyles();
  const width = 600;
  const height = 56;
  const max = Math.max(1, ...perMinute.map((m) => m.sessions + m.refusals));
  const bar = width / Math.max(perMinute.length, 1);
  const total = perMinute.reduce((s, m) => s + m.sessions, 0);
  const refusals = perMinute.reduce((s, m) => s + m.refusals, 0);
  return (
    <figure className={styles.wrap} style={{ margin: 0 }}>
      <svg viewBox={`0 0 ${width} ${height}`} width="100%" height={height} role="img" aria-label={`Last hour: ${total} sessions, ${refusals} refusals`} preserveAspectRatio="none">
        <line x1={0} y1={height - 0.5} x2={width} y2={height - 0.5} stroke={tokens.colorNeutralStroke1} strokeWidth={1} />
        {perMinute.map((m, i) => {
          const sessionsHeight = (m.sessions / max) * (height - 2);
          const refusalHeight = (m.refusals / max) * (height - 2);
          return (
            <g key={m.minute}>
              <rect x={i * bar + 1} y={height - sessionsHeight} width={bar - 2} height={sessionsHeight} fill={tokens.colorBrandBackground} />
              <rect x={i * bar + 1} y={height - sessionsHeight - refusalHeight} width={bar - 2} height={refusalHeight} fill={tokens.colorPaletteRedBackground3} />
            </g>
          );
        })}
      </svg>
      <figcaption className={styles.legend}>
        <Text size={200}><span className={styles.swatch} style={{ background: tokens.colorBrandBackground }} />Sessions per minute ({total} in the last hour)</Text>
        <Text size={200}><span className={styles.swatch} style={{ background: tokens.colorPaletteRedBackground3 }} />Refusals ({refusals})</Text>
      </figcaption>
    </figure>
  );
}

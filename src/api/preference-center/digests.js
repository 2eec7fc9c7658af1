// The preference page's digest control: how each category's notifications from a flow's digest step
// come (each as it comes, hourly, or daily at a local hour), as PUT /preferences/api/preferences takes it.

const hourText = (hour) => `${String(hour).padStart(2, '0')}:00`;

/** A category's digest: its own choice, else the one for every category (*), else each as it comes. */
export function digestOf(digests, category) {
  return (
    digests.find((d) => d.category === category) ??
    digests.find((d) => d.category === '*') ?? { category, mode: 'off' }
  );
}

/** The digests with one category's set; off drops its own choice unless * says otherwise. */
export function withDigest(digests, category, choice) {
  const rest = digests.filter((d) => d.category !== category);
  const inherited = rest.find((d) => d.category === '*');
  if (choice.mode === 'off' && (!inherited || inherited.mode === 'off')) return rest;
  return [...rest, { category, ...choice }];
}

/** The select's value for a choice: `off`, `hourly`, `daily:8`. */
export const digestValue = (d) => (d.mode === 'daily' ? `daily:${d.hour}` : d.mode);

export const describeDigest = (d) =>
  d.mode === 'daily'
    ? `a daily digest at ${hourText(d.hour)}`
    : d.mode === 'hourly'
      ? 'an hourly digest'
      : 'each as it comes';

/** A labelled select for one category; `onChoose` gets `{mode}` or `{mode: 'daily', hour}`. */
export function digestSelect(category, onChoose) {
  const wrap = document.createElement('div');
  wrap.className = 'field digest';
  const label = document.createElement('label');
  label.htmlFor = `digest-${category}`;
  label.textContent = `How “${category}” notifications come`;
  const select = document.createElement('select');
  select.id = `digest-${category}`;
  select.dataset.category = category;
  select.setAttribute('aria-describedby', 'digest-hint');
  const options = [
    ['off', 'Each as it comes'],
    ['hourly', 'Hourly digest'],
    ...Array.from({ length: 24 }, (_, hour) => [`daily:${hour}`, `Daily digest at ${hourText(hour)}`]),
  ];
  for (const [value, text] of options) {
    const option = document.createElement('option');
    option.value = value;
    option.textContent = text;
    select.append(option);
  }
  select.addEventListener('change', () => {
    const [mode, hour] = select.value.split(':');
    onChoose(mode === 'daily' ? { mode, hour: Number(hour) } : { mode });
  });
  wrap.append(label, select);
  return wrap;
}

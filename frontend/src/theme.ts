import { definePreset } from '@primeuix/themes';
import Aura from '@primeuix/themes/aura';

/**
 * Aura with a primary and focus ring that meet WCAG 2.2 AA on the light surfaces: Aura's
 * emerald-500 (#10b981) is 2.5:1 against white, emerald-700 (#047857) is 5.5:1, enough for
 * white button text, links and active tabs (4.5:1) as well as borders and icons (3:1). Focus
 * shows as a 2 px ring in that colour, 2 px off the element, on every control and form field
 * (Aura's is 1 px, and none on fields beyond a border colour).
 */
/** Aura's severities (500s) are 2.2–3.8:1 against white: buttons use the 700s (5–7:1). */
const SEVERITIES = { success: 'green', info: 'sky', warn: 'orange', help: 'purple', danger: 'red' };
const solid = (hue: string) => ({
  background: `{${hue}.700}`,
  hoverBackground: `{${hue}.800}`,
  activeBackground: `{${hue}.900}`,
  borderColor: `{${hue}.700}`,
  hoverBorderColor: `{${hue}.800}`,
  activeBorderColor: `{${hue}.900}`,
  focusRing: { color: `{${hue}.700}` },
});
const bySeverity = <T>(make: (hue: string) => T) =>
  Object.fromEntries(Object.entries(SEVERITIES).map(([severity, hue]) => [severity, make(hue)]));

export const FieldstationPreset = definePreset(Aura, {
  components: {
    // An unselected option's label: surface-500 is 4.3:1 on its surface-100 background.
    togglebutton: {
      colorScheme: {
        light: { root: { color: '{surface.600}' }, icon: { color: '{surface.600}' } },
      },
    },
    // Message text: Aura's 600s are 2.9–4.4:1 on their tinted backgrounds (warn, success, error).
    message: {
      colorScheme: {
        light: {
          info: { color: '{blue.700}' },
          success: { color: '{green.800}' },
          warn: { color: '{yellow.800}' },
          error: { color: '{red.700}' },
        },
      },
    },
    button: {
      colorScheme: {
        light: {
          root: bySeverity(solid),
          // Secondary outlined (Cancel in confirmations): Aura's surface-500 is 4.6:1 on white
          // and under 4.5:1 on its hover background.
          outlined: {
            ...bySeverity((hue) => ({ color: `{${hue}.700}` })),
            secondary: { color: '{surface.600}' },
          },
          text: bySeverity((hue) => ({ color: `{${hue}.700}` })),
        },
      },
    },
  },
  semantic: {
    focusRing: { width: '2px', style: 'solid', color: '{primary.color}', offset: '2px' },
    formField: {
      focusRing: { width: '2px', style: 'solid', color: '{primary.color}', offset: '1px' },
    },
    colorScheme: {
      light: {
        primary: {
          color: '{primary.700}',
          contrastColor: '#ffffff',
          hoverColor: '{primary.800}',
          activeColor: '{primary.900}',
        },
      },
    },
  },
});

import AxeBuilder from '@axe-core/playwright';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { SCREENSHOTS } from './ui-harness';

/** The narrowest phone width the UI supports without horizontal scrolling. */
export const NARROW_WIDTH = 360;

interface PageAudit {
  page: string;
  violations: { rule: string; impact: string; nodes: number; where: string[] }[];
  /** document.documentElement.scrollWidth at NARROW_WIDTH px, and the elements sticking out. */
  narrowScrollWidth: number;
  overflowing: string[];
  /** Fixed elements (toasts, dialogs) cut off at NARROW_WIDTH px: they never widen the page. */
  cutOff: string[];
}

/**
 * Runs axe-core (every rule it has, WCAG 2.x A/AA and best practices) on the page as it is and
 * measures it at NARROW_WIDTH px; the findings of a suite go to test-results/ui/a11y-<suite>.json.
 * `problems()` lists what breaks the bar: any axe violation, a horizontal scroll at 360 px, or a
 * toast or dialog cut off there.
 */
export class AccessibilityAudit {
  private readonly audits: PageAudit[] = [];

  constructor(private readonly suite: string) {}

  async check(page: Page, name: string): Promise<void> {
    // A toast times out after 3–8 s and fades away: if that starts while axe runs, axe measures
    // its colours half blended with the page (CI saw `.p-toast-summary` at a contrast no one
    // sees). The page is measured once its toasts are gone.
    await page.locator('.p-toast-message').last().waitFor({ state: 'detached', timeout: 20_000 });
    // A dialog still fading in blends its colours with the page: axe would measure a contrast
    // that no one sees. Finite animations and transitions end first (spinners run forever).
    await page.evaluate(() =>
      Promise.all(
        document
          .getAnimations()
          .filter((animation) => animation.effect?.getComputedTiming().iterations !== Infinity)
          .map((animation) => animation.finished.catch(() => undefined)),
      ),
    );
    const result = await new AxeBuilder({ page }).analyze();
    const viewport = page.viewportSize() ?? { width: 1280, height: 800 };
    await page.setViewportSize({ width: NARROW_WIDTH, height: 740 });
    const narrow = await page.evaluate(
      (width) =>
        new Promise<{ scrollWidth: number; overflowing: string[]; cutOff: string[] }>((resolve) =>
          // Two frames: the layout at the new width, then its result.
          requestAnimationFrame(() =>
            requestAnimationFrame(() => {
              const describe = (element: Element) => {
                const classes = [...element.classList].slice(0, 2).join('.');
                const { left, right } = element.getBoundingClientRect();
                return `${element.tagName.toLowerCase()}${classes ? '.' + classes : ''} (${Math.round(left)}–${Math.round(right)} px)`;
              };
              const outside = [...document.querySelectorAll('body *')].filter((element) => {
                const { left, right } = element.getBoundingClientRect();
                return (right > width + 0.5 || left < -0.5) && element.checkVisibility();
              });
              resolve({
                scrollWidth: document.documentElement.scrollWidth,
                overflowing: outside.slice(0, 5).map(describe),
                cutOff: outside
                  .filter((element) => getComputedStyle(element).position === 'fixed')
                  .map(describe),
              });
            }),
          ),
        ),
      NARROW_WIDTH,
    );
    await page.setViewportSize(viewport);
    this.audits.push({
      page: name,
      violations: result.violations.map((violation) => ({
        rule: violation.id,
        impact: violation.impact ?? 'unknown',
        nodes: violation.nodes.length,
        where: violation.nodes.slice(0, 3).map((node) => node.target.join(' ')),
      })),
      narrowScrollWidth: narrow.scrollWidth,
      overflowing: narrow.scrollWidth > NARROW_WIDTH ? narrow.overflowing : [],
      cutOff: narrow.cutOff,
    });
    mkdirSync(SCREENSHOTS, { recursive: true });
    writeFileSync(
      join(SCREENSHOTS, `a11y-${this.suite}.json`),
      JSON.stringify(this.audits, null, 2),
    );
  }

  problems(): string[] {
    return this.audits.flatMap((audit) => [
      ...audit.violations.map(
        (violation) =>
          `${audit.page}: ${violation.impact} ${violation.rule} (${violation.nodes}×: ${violation.where.join(' | ')})`,
      ),
      ...(audit.narrowScrollWidth > NARROW_WIDTH
        ? [
            `${audit.page}: ${audit.narrowScrollWidth} px wide at ${NARROW_WIDTH} px (${audit.overflowing.join(', ')})`,
          ]
        : []),
      ...audit.cutOff.map((element) => `${audit.page}: cut off at ${NARROW_WIDTH} px: ${element}`),
    ]);
  }
}

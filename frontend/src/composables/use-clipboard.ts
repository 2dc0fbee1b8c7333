import { onScopeDispose, ref } from 'vue';

/** Writes text to the clipboard, with a fallback for pages served over plain HTTP. */
export async function writeClipboard(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  const done = document.execCommand('copy');
  area.remove();
  if (!done) throw new Error('The browser refused to copy: select the text and copy it by hand');
}

/** `copy(text)` plus a `copied` flag that shows "Copied" for two seconds. */
export function useClipboard() {
  const copied = ref(false);
  let timer: ReturnType<typeof setTimeout> | undefined;
  onScopeDispose(() => clearTimeout(timer));
  async function copy(text: string): Promise<void> {
    await writeClipboard(text);
    copied.value = true;
    clearTimeout(timer);
    timer = setTimeout(() => (copied.value = false), 2000);
  }
  return { copied, copy };
}

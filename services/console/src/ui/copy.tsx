import { useState } from 'preact/hooks';

/** Copies `text` to the clipboard and says so (to screen readers too). */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState<'yes' | 'no'>();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied('yes');
    } catch {
      setCopied('no');
    }
  };
  return (
    <>
      <button type="button" onClick={() => void copy()}>
        {label}
      </button>
      <span role="status" class="muted">
        {copied === 'yes' ? 'Copied.' : copied === 'no' ? 'Could not copy: select the text and copy it.' : ''}
      </span>
    </>
  );
}

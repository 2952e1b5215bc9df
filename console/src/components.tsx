import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef } from 'preact/hooks';
import { asGatewayError, GatewayError } from './lib/gateway';
import { navigate } from './lib/router';

/** An error as a support person can quote it: its code, its message and the request id. */
export function ErrorNote({ error, role = 'alert' }: { error: unknown; role?: 'alert' | 'none' }) {
  if (error === undefined || error === null) return null;
  const gatewayError = asGatewayError(error);
  return (
    <div class="error" role={role === 'alert' ? 'alert' : undefined}>
      <ErrorText error={gatewayError} />
    </div>
  );
}

export function ErrorText({ error }: { error: GatewayError }) {
  return (
    <>
      <strong class="code">{error.code}</strong> {error.message.startsWith(`${error.code}: `) ? error.message.slice(error.code.length + 2) : error.message}
      <span class="request-id">
        {' '}
        (request id <code>{error.requestId ?? 'none: no request was answered'}</code>)
      </span>
    </>
  );
}

/** An in-app link: a real href (open in a new tab, copy), followed with the history API on a plain click. */
export function Link({ href, children, current }: { href: string; children: ComponentChildren; current?: boolean }) {
  const onClick = (event: MouseEvent) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} onClick={onClick} aria-current={current ? 'page' : undefined}>
      {children}
    </a>
  );
}

/** A modal <dialog>: focus is trapped by the browser, Escape closes it. */
export function Dialog({ title, onClose, children }: { title: string; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useMemo(() => `dialog-${Math.random().toString(36).slice(2)}`, []);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onClose={onClose} class="dialog">
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  );
}

/** A table body's own notice while its rows load (and nothing failed), or when there are none. */
export function TableNotice({ rows, failed, columns, empty }: { rows: readonly unknown[] | undefined; failed: boolean; columns: number; empty: ComponentChildren }) {
  if (rows === undefined && failed) return null;
  if (rows !== undefined && rows.length > 0) return null;
  return (
    <tr>
      <td colSpan={columns}>{rows === undefined ? 'Loading…' : empty}</td>
    </tr>
  );
}

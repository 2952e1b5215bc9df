import { useEffect, useState } from 'preact/hooks';

/** Every view has its own URL under the base, so a link can be pasted into a ticket. */
export type Route =
  { view: 'customer'; userId?: string } | { view: 'approvals' } | { view: 'bulk'; id?: string } | { view: 'operators' } | { view: 'not-found'; path: string };

/** Where the gateway serves the console: vite.config.mts `base`. */
export const BASE = '/console/';

export function parseRoute(pathname: string): Route {
  const path = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname.replace(/^\//, '');
  const [head = '', id, ...rest] = path.replace(/\/+$/, '').split('/');
  const param = id === undefined || id === '' ? undefined : safeDecode(id);
  if (rest.length > 0) return { view: 'not-found', path: pathname };
  switch (head) {
    case '':
      return { view: 'customer' };
    case 'customers':
      return { view: 'customer', userId: param };
    case 'approvals':
      return param === undefined ? { view: 'approvals' } : { view: 'not-found', path: pathname };
    case 'bulk':
      return { view: 'bulk', id: param };
    case 'operators':
      return param === undefined ? { view: 'operators' } : { view: 'not-found', path: pathname };
    default:
      return { view: 'not-found', path: pathname };
  }
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export function hrefOf(route: Route): string {
  switch (route.view) {
    case 'customer':
      return route.userId === undefined ? `${BASE}customers` : `${BASE}customers/${encodeURIComponent(route.userId)}`;
    case 'approvals':
      return `${BASE}approvals`;
    case 'bulk':
      return route.id === undefined ? `${BASE}bulk` : `${BASE}bulk/${encodeURIComponent(route.id)}`;
    case 'operators':
      return `${BASE}operators`;
    case 'not-found':
      return route.path;
  }
}

const listeners = new Set<() => void>();

export function navigate(href: string): void {
  if (href === window.location.pathname + window.location.search) return;
  window.history.pushState(null, '', href);
  listeners.forEach((listener) => listener());
}

/** The current route, following pushState (navigate) and the back and forward buttons. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.pathname));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.pathname));
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return route;
}

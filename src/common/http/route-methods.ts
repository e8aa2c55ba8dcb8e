/**
 * The methods each registered route pattern answers, collected from Fastify's onRoute hook, so that
 * a known path with another method is 405 (CONTRACT section 4) rather than 404.
 */
export class RouteMethods {
  private readonly routes: { pattern: RegExp; methods: Set<string> }[] = [];

  add(url: string, methods: string | string[]): void {
    const pattern = toRegExp(url);
    let route = this.routes.find((r) => r.pattern.source === pattern.source);
    if (!route) {
      route = { pattern, methods: new Set() };
      this.routes.push(route);
    }
    for (const method of [methods].flat()) route.methods.add(method.toUpperCase());
  }

  /** The methods allowed on this concrete path, empty when no route matches it. */
  allowedOn(path: string): string[] {
    const methods = new Set<string>();
    for (const route of this.routes) {
      if (route.pattern.test(path)) route.methods.forEach((m) => methods.add(m));
    }
    return [...methods].sort();
  }
}

function toRegExp(url: string): RegExp {
  const source = url
    .split('/')
    .map((segment) =>
      segment.startsWith(':')
        ? '[^/]+'
        : segment === '*'
          ? '.*'
          : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  // Case-sensitive like the router: `/V1/Customers` is unknown (404), not a 405 on a known path.
  return new RegExp(`^${source}/?$`);
}

/**
 * The appliance's command bus: services register the commands they answer (`vm.list`, `status`, ...)
 * and the control socket, or anything else in the process, calls them by name. A service registers in
 * start() and its registrations end when it closes.
 */
import { BeError } from '../../src/errors.js';

export type CommandHandler = (params: Record<string, unknown>) => unknown | Promise<unknown>;

export class CommandBus {
  private readonly handlers = new Map<string, CommandHandler>();

  /** Registers a command; returns the function that removes it. */
  register(method: string, handler: CommandHandler): () => void {
    if (this.handlers.has(method)) throw new Error(`command ${method} is already registered`);
    this.handlers.set(method, handler);
    return () => {
      if (this.handlers.get(method) === handler) this.handlers.delete(method);
    };
  }

  has(method: string): boolean {
    return this.handlers.has(method);
  }

  get methods(): string[] {
    return [...this.handlers.keys()].sort();
  }

  async call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const handler = this.handlers.get(method);
    if (!handler) {
      throw new BeError('E_USAGE', `the running appliance has no command ${method} (is the service that answers it enabled?)`);
    }
    return handler(params);
  }
}

/**
 * Following a server-side job by polling its GET until it is done. A lost answer (NetworkError: offline, a
 * restart) is retried at the next tick; an error answer (ApiError: gone, forbidden) stops, since asking again
 * would get the same.
 */
import { NetworkError } from "../api/client";

export interface PollOptions<T> {
  readonly load: () => Promise<T>;
  readonly isDone: (value: T) => boolean;
  /** Every answer, the last (done) one included. */
  readonly onUpdate: (value: T) => void;
  /** Polling has stopped on an error answer. */
  readonly onError: (error: unknown) => void;
  readonly intervalMs: number;
}

export interface Polling {
  /** Stops asking; an answer already on its way is dropped. */
  stop(): void;
}

export function pollUntilDone<T>(options: PollOptions<T>): Polling {
  let isStopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = async (): Promise<void> => {
    let value: T;
    try {
      value = await options.load();
    } catch (error) {
      if (isStopped) return;
      if (error instanceof NetworkError) timer = setTimeout(() => void tick(), options.intervalMs);
      else options.onError(error);
      return;
    }
    if (isStopped) return;
    options.onUpdate(value);
    if (!options.isDone(value)) timer = setTimeout(() => void tick(), options.intervalMs);
  };
  void tick();
  return {
    stop(): void {
      isStopped = true;
      clearTimeout(timer);
    },
  };
}

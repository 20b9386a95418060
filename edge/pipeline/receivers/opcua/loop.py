"""An asyncio event loop on a thread of its own, owned by one opcua receiver.

asyncua needs its loop running all the time, not only while the scheduler is in a pass: the
session's keep-alive, the secure channel's renewal and the publish requests that bring
subscription changes all run on it. The receiver's thread hands it coroutines and waits for
their results with a deadline.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any


class LoopThread:
    def __init__(self, name: str):
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coroutine: Coroutine[Any, Any, Any]) -> concurrent.futures.Future:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def call(self, coroutine: Coroutine[Any, Any, Any], timeout: float) -> Any:
        """Runs `coroutine` on the loop and returns its result; TimeoutError after `timeout` s
        (the coroutine is then cancelled)."""
        future = self.submit(coroutine)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"no answer within {timeout:g} s") from None

    def stop(self, timeout: float) -> bool:
        """Stops the loop (its tasks cancelled) and joins the thread; False if it did not end in time."""
        if not self._thread.is_alive():
            return True

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=timeout / 2)

        try:
            self.submit(cancel_all()).result(timeout / 2)
        except (concurrent.futures.TimeoutError, RuntimeError):
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout / 2)
        if self._thread.is_alive():
            return False
        self.loop.close()
        return True

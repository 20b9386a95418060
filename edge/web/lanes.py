"""Two lanes over one pool of HTTP workers, so slow queries cannot take every worker.

A historian read (a `/machbase` statement, any GET on `/machiot`) may run until
REQUEST_TIMEOUT_MS. With every worker in such reads, `/v1/status`, control, appends and
`/health` would wait behind them. So reads run on at most HTTP_QUERY_THREADS workers at once;
more wait their turn in the queue, holding no worker, and everything else may use any worker:
at least HTTP_THREADS - HTTP_QUERY_THREADS are always free for it.

A waitress task is the channel whose first request is complete; its lane is decided from that
request (method, path, query string, content type) before the application sees it.
"""

from __future__ import annotations

from collections import deque
from urllib.parse import parse_qs

from waitress.task import ThreadedTaskDispatcher

from edge.web.request_text import FORM_TYPE
from edge.web.wake_cpu import WakeCpu

QUERY_METHODS = ("GET", "HEAD")


def is_query(request, dispatcher) -> bool:
    """Whether a parsed waitress request is a historian read (the query lane)."""
    if request.error:  # answered by waitress's error task at once, never a query
        return False
    mount = dispatcher.mount_for(request.path or "/")
    if mount is None or not mount.queries:
        return False
    if request.command in QUERY_METHODS:
        return True
    if request.command != "POST":
        return False
    # POST /machbase is a statement when it carries q (query string or form); else an append.
    content_type = request.headers.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    return content_type == FORM_TYPE or "q" in parse_qs(request.query or "", keep_blank_values=True)


class LaneDispatcher(ThreadedTaskDispatcher):
    """waitress's thread pool with a second queue for queries, served by at most
    `query_threads` of the threads at a time."""

    def __init__(self, dispatcher, query_threads: int, wake: WakeCpu):
        super().__init__()
        self._wsgi = dispatcher
        self._wake = wake  # idle workers and queries on the loop's CPU; other work runs anywhere
        self.query_threads = query_threads
        self.query_queue: deque = deque()
        self.running_queries = 0

    def add_task(self, task):
        request = task.requests[0] if getattr(task, "requests", None) else None
        query = request is not None and is_query(request, self._wsgi)
        with self.lock:
            (self.query_queue if query else self.queue).append(task)
            self._wake_one()

    def _wake_one(self) -> None:
        """Under the lock: wakes one idle thread if an idle thread could take a task now.

        One, not all: every thread woken takes the GIL in turn, which cost a loaded two-core
        box more than the request itself. No task sleeps through a wake-up another thread used:
        whoever takes a task wakes the next idle thread while more can be taken, and a query
        that ends wakes one for a query kept waiting by the full lane."""
        if self.queue or (self.query_queue and self.running_queries < self.query_threads):
            self.queue_cv.notify()

    def _next_task(self):
        """Under the lock: (task, is_query), None to stop this thread, or waits for work."""
        while True:
            if self.stop_count > 0:
                return None
            if self.queue:
                picked = self.queue.popleft(), False
            elif self.query_queue and self.running_queries < self.query_threads:
                self.running_queries += 1
                picked = self.query_queue.popleft(), True
            else:
                self.active_count -= 1  # idle while waiting, as waitress counts it
                self.queue_cv.wait()
                self.active_count += 1
                continue
            self._wake_one()
            return picked

    def handler_thread(self, thread_no):
        self._wake.wait_here()
        while True:
            with self.lock:
                picked = self._next_task()
                if picked is None:
                    self.active_count -= 1
                    self.stop_count -= 1
                    self.threads.discard(thread_no)
                    self.thread_exit_cv.notify()
                    return
            task, query = picked
            if not query:  # an append or control may run long, or start threads (a reload's receivers)
                self._wake.run_anywhere()
            try:
                task.service()
            except BaseException:
                self.logger.exception("Exception when servicing %r", task)
            finally:
                if query:
                    with self.lock:
                        self.running_queries -= 1
                        self._wake_one()
                else:
                    self._wake.wait_here()

    def shutdown(self, cancel_pending=True, timeout=5):
        if cancel_pending:
            with self.lock:
                queries, self.query_queue = list(self.query_queue), deque()
            for task in queries:
                task.cancel()
        return super().shutdown(cancel_pending, timeout)


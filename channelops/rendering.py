"""Render outbox messages just ahead of their delivery, in order.

``send_pending`` hands the mailer an iterator rather than a list: a message is
rendered shortly before it is sent, and only a few rendered messages (each
with its workbook and PDF) are held at any time, however many partners the
outbox holds.

Rendering a statement costs several times what sending it does (the PDF most
of all, then the workbook). With more than one core and enough messages to
repay starting them, worker processes render the next messages while this
process sends; messages still come out in the order of the rows, and only
this process talks to the SMTP server and records outcomes.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import traceback
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

logger = logging.getLogger(__name__)

Row = TypeVar("Row")
Rendered = TypeVar("Rendered")

# Below this many messages rendering stays in this process: a spawned worker
# needs about two seconds (imports, fonts) before its first message, about
# what rendering 100 statements takes.
PARALLEL_RENDER_MESSAGES = 100
# Workers beyond the cores only compete with the sending process.
MAX_RENDER_WORKERS = 4
# Rows handed to a worker at once: few enough to keep little in memory, enough
# that passing them between processes costs little next to rendering them.
CHUNK_ROWS = 8
# Chunks each worker may have rendered before the sender takes them.
CHUNKS_AHEAD_PER_WORKER = 2


def render_workers(configured: int | None, messages: int) -> int:
    """How many worker processes render ``messages``; 0 renders in this one.

    ``configured`` (``CHANNELOPS_RENDER_WORKERS``) wins when set; otherwise
    one worker per core, up to ``MAX_RENDER_WORKERS``, for a batch big
    enough to repay starting them.
    """
    if configured is not None:
        return configured
    cores = os.cpu_count() or 1
    if cores < 2 or messages < PARALLEL_RENDER_MESSAGES:
        return 0
    return min(cores, MAX_RENDER_WORKERS)


def rendered(
    render: Callable[[Row], Rendered], rows: Sequence[Row], workers: int
) -> Generator[Rendered]:
    """``render(row)`` for each row, in order, produced as they are taken.

    With ``workers`` processes, at most ``CHUNKS_AHEAD_PER_WORKER`` chunks
    of ``CHUNK_ROWS`` per worker are rendered ahead. ``render`` must be a
    module-level function (workers import it by name). An exception raised
    by ``render`` comes out where its row's message would have, after the
    messages of the rows before it, in a worker as in this process. Close the
    iterator (``contextlib.closing``) when stopping early: rendering ahead
    is then cancelled.
    """
    if workers == 0:
        yield from map(render, rows)
        return
    logger.info(
        "Rendering %d message(s) in %d worker process(es) while sending",
        len(rows),
        workers,
    )
    # Spawned, not forked: this process holds an open warehouse connection.
    context = multiprocessing.get_context("spawn")
    waiting: deque[Future[list[Rendered | _Failed]]] = deque()
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        try:
            for start in range(0, len(rows), CHUNK_ROWS):
                chunk = rows[start : start + CHUNK_ROWS]
                waiting.append(pool.submit(_render_chunk, render, chunk))
                if len(waiting) >= workers * CHUNKS_AHEAD_PER_WORKER:
                    yield from _taken(waiting.popleft())
            while waiting:
                yield from _taken(waiting.popleft())
        finally:
            for future in waiting:
                future.cancel()


@dataclass(frozen=True)
class _Failed:
    """A row ``render`` raised on, in a worker; the rows before it stand."""

    error: Exception


def _render_chunk(
    render: Callable[[Row], Rendered], chunk: Sequence[Row]
) -> list[Rendered | _Failed]:
    results: list[Rendered | _Failed] = []
    for row in chunk:
        try:
            results.append(render(row))
        except Exception as error:
            # The traceback stays in the worker; its text travels as a note.
            error.add_note(traceback.format_exc())
            results.append(_Failed(error))
            break
    return results


def _taken(future: Future[list[Rendered | _Failed]]) -> Iterator[Rendered]:
    for result in future.result():
        if isinstance(result, _Failed):
            raise result.error
        yield result

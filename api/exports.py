"""Exports streamed in chunks: CSV and JSON lines written as rows arrive from the database, so an export of a
million entries holds one chunk of rows and about 64 kB of text at a time, never the whole file."""

import csv
import io
from collections.abc import Iterable, Iterator

EXPORT_CHUNK = 2_000  # rows read from the database at a time
CHUNK_CHARS = 64_000  # characters of text sent at a time


def csv_chunks(columns: list[str], rows: Iterable[list]) -> Iterator[str]:
    """The CSV text of `rows` under the header `columns`, in chunks of about CHUNK_CHARS characters."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def line_chunks(lines: Iterable[str]) -> Iterator[str]:
    """`lines` (each ending in a newline) joined into chunks of about CHUNK_CHARS characters."""
    chunk: list[str] = []
    size = 0
    for line in lines:
        chunk.append(line)
        size += len(line)
        if size > CHUNK_CHARS:
            yield "".join(chunk)
            chunk, size = [], 0
    if chunk:
        yield "".join(chunk)

"""What a command prints, turned into log events: lines, progress bars and long lines.

The command's stdout and stderr are one pipe (fds 1 and 2 of the command both point at it,
process.py), so their lines interleave in exactly the order the command wrote them. Bytes go in
(``feed``) as the reader gets them; events come out through ``emit(timestamp_ms, messages,
sizes)``, ``sizes`` being each message's length in UTF-8 bytes, the unit of every PutLogEvents
limit. The rules:

- A line ends at ``\\n``; a ``\\r`` right before it (CRLF) is not part of it.
- An empty line is no event. PutLogEvents refuses an empty message (botocore logs model:
  ``EventMessage`` has ``min: 1``), and Docker's ``awslogs`` driver, the path a SageMaker
  container's output took, skips them too (moby ``daemon/logger/awslogs/cloudwatchlogs.go``,
  ``processEvent``: ``for len(bytes) > 0``).
- Bytes that are not UTF-8 become U+FFFD, as the ``awslogs`` driver does.
- A line longer than ``MAX_MESSAGE_BYTES`` becomes several events, cut on character
  boundaries (as the driver's ``findValidSplit``), so no event passes the 1,048,576-byte event
  limit, which counts 26 bytes of overhead (aws-behaviour.md §6.2; the botocore documentation
  of ``InputLogEvent.message``: "Each log event can be no larger than 1 MB").
- **Progress bars** (``\\r``, as tqdm draws them): within a line, each ``\\r`` starts a new
  *state* that replaces the one before, as it does on a terminal. The line's current state is
  its text after the last ``\\r`` (or, when that is still empty, the last non-empty text
  between two ``\\r``). Once a line has drawn with ``\\r``, its current state is emitted at most
  once a second (``PROGRESS_INTERVAL_SECONDS``; the first one second after the first ``\\r``,
  then whenever a second has passed and the state changed, also while the command prints
  nothing else: ``tick``). When ``\\n`` ends the line its final state is emitted, unless it is
  exactly the state emitted last. So a bar that finishes within a second is one event (its
  final state), and a ten-minute bar about 600 however often it redraws. A terminal's partial
  overwrites ("abc\\rxy" shows "xyc") are not emulated: the state is "xy".
- Timestamps are the time the agent read the bytes, in milliseconds, never decreasing, since
  PutLogEvents refuses a batch out of chronological order (§6.2).
"""

from __future__ import annotations

# The largest message of one event: the event limit less the 26 bytes PutLogEvents counts per
# event (aws-behaviour.md §6.2; services/logs/service.py MAX_EVENT_BYTES, EVENT_OVERHEAD_BYTES).
EVENT_OVERHEAD_BYTES = 26
MAX_MESSAGE_BYTES = 1_048_576 - EVENT_OVERHEAD_BYTES
PROGRESS_INTERVAL_SECONDS = 1.0


def utf8_pieces(text: str, limit: int = MAX_MESSAGE_BYTES) -> list[str]:
    """``text`` cut into pieces of at most ``limit`` UTF-8 bytes, on character boundaries."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return [text]
    pieces = []
    start = 0
    while len(encoded) - start > limit:
        end = _character_cut(encoded, start, start + limit)
        pieces.append(encoded[start:end].decode("utf-8"))
        start = end
    pieces.append(encoded[start:].decode("utf-8"))
    return pieces


def _character_cut(data: bytes | bytearray, start: int, end: int) -> int:
    """The largest cut in ``(start, end]`` (``end < len(data)``) that does not split a UTF-8
    sequence, backing up over at most three continuation bytes (0b10xxxxxx); ``end`` itself
    when the bytes there are not UTF-8 anyway."""
    for cut in range(end, max(end - 3, start + 1) - 1, -1):
        if (data[cut] & 0xC0) != 0x80:
            return cut
    return end


class LineAssembler:
    def __init__(self, emit,  # emit(timestamp_ms, messages, sizes)
                  max_message_bytes: int = MAX_MESSAGE_BYTES,
                 progress_interval: float = PROGRESS_INTERVAL_SECONDS) -> None:
        self.emit = emit
        self.max_bytes = max_message_bytes
        self.progress_interval = progress_interval
        self.last_ms = 0
        # The open line: ``tail`` is its raw bytes since its last \r (all of it without \r);
        # ``shown`` the last non-empty state a \r ended; ``drawing`` whether it had a \r.
        self.tail = bytearray()
        self.shown = b""
        self.drawing = False
        self.snapshot_due = 0.0          # when the next progress state may be emitted
        self.last_snapshot: bytes | None = None
        self.lines = 0                   # events emitted (for the agent's own report)

    # -- input ----------------------------------------------------------------------------

    def feed(self, data: bytes, now: float) -> None:
        """Bytes the command printed, read at ``now`` (epoch seconds)."""
        if not data:
            return
        ms = self._stamp(now)
        if self.drawing or b"\r" in data:
            self._feed_drawing(data, ms, now)
        else:
            self._feed_plain(data, ms)
        self._bound_tail(ms)

    def tick(self, now: float) -> float | None:
        """Emit the open line's progress state if one is due; the time of the next one, if any."""
        if not self.drawing:
            return None
        if now >= self.snapshot_due:
            state = self._state()
            if state and state != self.last_snapshot:
                self._emit_raw(self._stamp(now), state)
                self.last_snapshot = state
            self.snapshot_due = now + self.progress_interval
        return self.snapshot_due

    def finish(self, now: float) -> None:
        """End of output: whatever is left of the last line (no ``\\n`` after it) is emitted."""
        if self.tail or self.drawing:
            self._end_line(self._stamp(now))

    # -- the two paths --------------------------------------------------------------------

    def _feed_plain(self, data: bytes, ms: int) -> None:
        """No \\r anywhere: split on \\n in C, decode all complete lines at once."""
        end = data.rfind(b"\n")
        if end < 0:
            self.tail += data
            return
        if self.tail:
            first = data.find(b"\n")
            self.tail += data[:first]
            self._end_line(ms)
            if first == end:
                self.tail += data[end + 1:]
                return
            complete = data[first + 1:end]
        else:
            complete = data[:end]
        self.tail += data[end + 1:]
        text = complete.decode("utf-8", "replace")
        messages = text.split("\n")
        if "" in messages:
            messages = [m for m in messages if m]
            if not messages:
                return
        if text.isascii():
            sizes = list(map(len, messages))
        else:
            sizes = [len(m.encode("utf-8")) for m in messages]
        if max(sizes) > self.max_bytes:
            for message in messages:
                self._emit_text(ms, message)
            return
        self.lines += len(messages)
        self.emit(ms, messages, sizes)

    def _feed_drawing(self, data: bytes, ms: int, now: float) -> None:
        pieces = data.split(b"\n")
        for piece in pieces[:-1]:
            self._extend(piece, now)
            self._end_line(ms)
        self._extend(pieces[-1], now)

    def _extend(self, piece: bytes, now: float) -> None:
        if b"\r" not in piece:
            self.tail += piece
            return
        states = piece.split(b"\r")
        self.tail += states[0]
        ended = [bytes(self.tail), *states[1:-1]]
        for state in reversed(ended):
            if state:
                self.shown = state
                break
        self.tail = bytearray(states[-1])
        if not self.drawing:
            self.drawing = True
            self.snapshot_due = now + self.progress_interval

    # -- lines ----------------------------------------------------------------------------

    def _state(self) -> bytes:
        return bytes(self.tail) if self.tail else self.shown

    def _end_line(self, ms: int) -> None:
        if self.drawing:
            state = self._state()
            if state and state != self.last_snapshot:
                self._emit_raw(ms, state)
        elif self.tail:
            self._emit_raw(ms, bytes(self.tail))
        self.tail = bytearray()
        self.shown = b""
        self.drawing = False
        self.last_snapshot = None

    def _bound_tail(self, ms: int) -> None:
        """A line still open past the event limit: emit its full-size pieces now, so the open
        line holds less than one event's worth of bytes."""
        while len(self.tail) > self.max_bytes:
            cut = _character_cut(self.tail, 0, self.max_bytes)
            self._emit_raw(ms, bytes(self.tail[:cut]))
            del self.tail[:cut]

    def _emit_raw(self, ms: int, raw: bytes) -> None:
        self._emit_text(ms, raw.decode("utf-8", "replace"))

    def _emit_text(self, ms: int, text: str) -> None:
        if not text:
            return
        pieces = utf8_pieces(text, self.max_bytes)
        self.lines += len(pieces)
        self.emit(ms, pieces, [len(p.encode("utf-8")) for p in pieces])

    def _stamp(self, now: float) -> int:
        ms = max(int(now * 1000), self.last_ms)
        self.last_ms = ms
        return ms

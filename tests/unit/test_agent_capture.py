"""The agent's line assembly (sagewatch.agent.capture): bytes the command printed -> events."""

from __future__ import annotations

from sagewatch.agent.capture import EVENT_OVERHEAD_BYTES, MAX_MESSAGE_BYTES, LineAssembler, utf8_pieces


class Events:
    def __init__(self) -> None:
        self.events: list[tuple[int, str, int]] = []

    def __call__(self, ms, messages, sizes):
        assert len(messages) == len(sizes)
        for message, size in zip(messages, sizes):
            assert size == len(message.encode("utf-8"))
            self.events.append((ms, message, size))

    @property
    def messages(self) -> list[str]:
        return [m for _, m, _ in self.events]


def assembler(**options) -> tuple[LineAssembler, Events]:
    events = Events()
    return LineAssembler(events, **options), events


def test_lines_split_across_reads_come_out_whole_and_in_order():
    lines, out = assembler()
    lines.feed(b"first li", 1.0)
    lines.feed(b"ne\nsecond\nthi", 1.1)
    lines.feed(b"rd\n", 1.2)
    assert out.messages == ["first line", "second", "third"]
    assert [ms for ms, _, _ in out.events] == [1100, 1100, 1200]


def test_empty_lines_are_not_events_and_crlf_loses_its_cr():
    lines, out = assembler()
    lines.feed(b"a\n\n\nb\r\n\r\nc\n", 1.0)
    assert out.messages == ["a", "b", "c"]


def test_the_last_line_without_newline_comes_out_at_the_end():
    lines, out = assembler()
    lines.feed(b"done\nno newline", 1.0)
    assert out.messages == ["done"]
    lines.finish(2.0)
    assert out.messages == ["done", "no newline"]


def test_invalid_utf8_becomes_replacement_characters_and_split_characters_survive():
    lines, out = assembler()
    snowman = "☃".encode()
    lines.feed(b"bad \xff byte\nsnow" + snowman[:1], 1.0)
    lines.feed(snowman[1:] + b"man\n", 1.0)
    assert out.messages == ["bad \ufffd byte", "snow☃man"]


def test_timestamps_never_go_back():
    lines, out = assembler()
    lines.feed(b"later\n", 10.0)
    lines.feed(b"clock went back\n", 5.0)
    assert [ms for ms, _, _ in out.events] == [10000, 10000]


def test_a_long_line_is_cut_into_events_within_the_limit_on_character_boundaries():
    lines, out = assembler(max_message_bytes=10)
    lines.feed(("é" * 12 + "\n").encode(), 1.0)          # 24 bytes
    assert out.messages == ["é" * 5, "é" * 5, "é" * 2]
    assert all(size <= 10 for _, _, size in out.events)


def test_an_open_line_past_the_limit_is_emitted_before_its_newline():
    lines, out = assembler(max_message_bytes=10)
    lines.feed(b"x" * 25, 1.0)
    assert out.messages == ["x" * 10, "x" * 10]
    lines.feed(b"yy\n", 2.0)
    assert out.messages == ["x" * 10, "x" * 10, "xxxxxyy"]


def test_the_real_limit_is_the_event_limit_less_its_overhead():
    assert MAX_MESSAGE_BYTES + EVENT_OVERHEAD_BYTES == 1_048_576
    pieces = utf8_pieces("a" * (MAX_MESSAGE_BYTES + 1))
    assert [len(p) for p in pieces] == [MAX_MESSAGE_BYTES, 1]


def test_a_progress_bar_that_finishes_within_a_second_is_one_event():
    lines, out = assembler()
    for i in range(0, 101, 10):
        lines.feed(f"\r{i:3d}%|{'#' * (i // 10):10s}|".encode(), 1.0 + i / 1000)
        lines.tick(1.0 + i / 1000)
    lines.feed(b"\n", 1.2)
    lines.feed(b"after\n", 1.3)
    assert out.messages == ["100%|##########|", "after"]


def test_a_slow_progress_bar_shows_its_state_at_most_once_a_second():
    lines, out = assembler()
    for step in range(50):                       # 5 seconds at 10 redraws a second
        now = 100.0 + step * 0.1
        lines.feed(f"\rstep {step}".encode(), now)
        lines.tick(now)
    lines.feed(b"\n", 105.0)
    assert out.messages == ["step 10", "step 20", "step 30", "step 40", "step 49"]


def test_a_progress_state_is_shown_even_when_the_command_goes_quiet():
    lines, out = assembler()
    lines.feed(b"\rloading 1/3", 0.0)
    assert lines.tick(0.5) == 1.0
    assert out.messages == []
    lines.tick(1.0)
    assert out.messages == ["loading 1/3"]
    lines.tick(5.0)                              # unchanged: not repeated
    assert out.messages == ["loading 1/3"]


def test_the_final_state_equal_to_the_last_shown_one_is_not_repeated():
    lines, out = assembler()
    lines.feed(b"\r100%", 0.0)
    lines.tick(1.0)
    lines.feed(b"\n", 2.0)
    assert out.messages == ["100%"]


def test_trailing_carriage_returns_keep_the_last_drawn_state():
    lines, out = assembler()
    lines.feed(b"epoch 1 50%\r", 0.0)
    lines.feed(b"epoch 1 100%\r", 0.1)
    lines.feed(b"\nnext line\n", 0.2)
    assert out.messages == ["epoch 1 100%", "next line"]


def test_plain_lines_after_a_progress_bar_in_the_same_read():
    lines, out = assembler()
    lines.feed(b"\r1/2\r2/2\ndone\nmore\n", 0.0)
    assert out.messages == ["2/2", "done", "more"]

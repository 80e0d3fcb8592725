"""Messages between a command and its helper process: framing, and a pipe closed mid-way."""

import io

from custseg.io.pipes import receive_message, send_message


def test_messages_come_back_whole_and_in_order():
    stream = io.BytesIO()
    for payload in (b"", b"spec", bytes(range(256)) * 300):
        send_message(stream, payload)
    stream.seek(0)
    assert receive_message(stream) == b""
    assert receive_message(stream) == b"spec"
    assert receive_message(stream) == bytes(range(256)) * 300
    assert receive_message(stream) is None


def test_a_message_cut_short_reads_as_a_closed_pipe():
    stream = io.BytesIO()
    send_message(stream, b"0123456789")
    for cut in (2, 4, 9):
        assert receive_message(io.BytesIO(stream.getvalue()[:cut])) is None

"""The kept-alive transport to Rasa and Twilio: a connection the other end closed costs no request, and
no answer is an error the caller can act on, never a hang."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from bot.adapters.http import HttpFailed, KeepAliveClient


class TinyServer:
    """Answers each request with a JSON body; close_after: shut the connection after this many answers."""

    def __init__(self, close_after: int | None = None, answer: bool = True):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.close_after, self.answer = close_after, answer
        self.requests: list[bytes] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        stream, served = conn.makefile("rb"), 0
        while True:
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                line = stream.readline()
                if not line:
                    return
                head += line
            length = next((int(h.split(b":")[1]) for h in head.split(b"\r\n")
                           if h.lower().startswith(b"content-length:")), 0)
            self.requests.append(head + stream.read(length))
            if not self.answer:
                continue
            body = b'{"n": %d}' % len(self.requests)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                         % (len(body), body))
            served += 1
            if self.close_after is not None and served >= self.close_after:
                time.sleep(0.05)
                conn.close()  # idle timeout on the server: no "Connection: close" was ever said
                return

    def close(self):
        self.listener.close()


def test_a_connection_closed_while_idle_costs_no_request_and_no_duplicate():
    server = TinyServer(close_after=1)
    client = KeepAliveClient(timeout=5)
    try:
        first = client.request("POST", server.url + "/webhooks/rest/webhook", json={"message": "one"})
        time.sleep(0.2)  # the server has closed the kept-alive connection by now
        second = client.request("POST", server.url + "/webhooks/rest/webhook", json={"message": "two"})
    finally:
        server.close()
    assert (first.json(), second.json()) == ({"n": 1}, {"n": 2})
    assert [r.count(b'"message"') for r in server.requests] == [1, 1]
    assert b'"one"' in server.requests[0] and b'"two"' in server.requests[1]


def test_one_connection_is_kept_for_many_requests():
    server = TinyServer()
    client = KeepAliveClient(timeout=5)
    accepted = []
    original = server._serve
    server._serve = lambda conn: (accepted.append(conn), original(conn))
    try:
        for n in range(5):
            assert client.request("GET", server.url + "/status").json() == {"n": n + 1}
    finally:
        server.close()
    assert len(accepted) == 1


def test_a_form_with_basic_auth_and_query_is_sent_as_twilio_expects():
    server = TinyServer()
    client = KeepAliveClient(timeout=5)
    try:
        client.request("POST", server.url + "/2010-04-01/Accounts/AC1/Messages.json", params={"PageSize": 2},
                       data={"To": "+447700900123", "Body": "Hi & bye"}, auth=("AC1", "secret"))
    finally:
        server.close()
    sent = server.requests[0]
    assert sent.startswith(b"POST /2010-04-01/Accounts/AC1/Messages.json?PageSize=2 HTTP/1.1\r\n")
    assert b"Authorization: Basic QUMxOnNlY3JldA==\r\n" in sent
    assert b"Content-Type: application/x-www-form-urlencoded\r\n" in sent
    assert sent.endswith(b"To=%2B447700900123&Body=Hi+%26+bye")


def test_no_answer_in_time_is_a_failure_that_says_the_request_went():
    server = TinyServer(answer=False)
    client = KeepAliveClient(timeout=0.3)
    started = time.monotonic()
    with pytest.raises(HttpFailed) as failed:
        client.request("POST", server.url + "/x", json={})
    server.close()
    assert failed.value.sent is True
    assert time.monotonic() - started < 3


def test_nobody_listening_is_a_failure_that_says_nothing_went():
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    with pytest.raises(HttpFailed) as failed:
        KeepAliveClient(timeout=1).request("POST", f"http://127.0.0.1:{port}/x", json={})
    assert failed.value.sent is False

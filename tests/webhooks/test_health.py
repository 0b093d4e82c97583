"""GET /healthz tells an operator which part is down."""


def test_healthz_reports_each_part(client, rasa):
    ok = client.get("/healthz")
    assert ok.status_code == 200
    assert ok.get_json() == {"gateway": "ok", "database": "ok", "rasa": "ok"}
    rasa.down = True
    down = client.get("/healthz")
    assert down.status_code == 503
    assert down.get_json()["rasa"] == "down"

"""The scale-out tests: several processes against the real PostgreSQL (marker `scale`)."""


def pytest_configure(config):
    config.addinivalue_line("markers", "scale: several gateway and worker processes against the real PostgreSQL")
